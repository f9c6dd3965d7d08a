from __future__ import annotations

from django import forms

from applications.models import Application
from applications.redirects import RedirectUriError, parse_redirect_uris


class ApplicationForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)
    description = forms.CharField(
        required=False, max_length=2000, strip=True, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(
        label="Type", choices=Application.KINDS, widget=forms.RadioSelect, initial="web"
    )
    redirect_uris = forms.CharField(
        label="Redirect URIs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One a line, exact: https, or http on 127.0.0.1, [::1] or localhost only. "
        "No wildcards, no fragments. Leave empty for a machine client.",
    )

    def clean_redirect_uris(self) -> list[str]:
        try:
            return parse_redirect_uris(self.cleaned_data["redirect_uris"])
        except RedirectUriError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        kind, uris = data.get("kind"), data.get("redirect_uris")
        if uris is not None and kind == Application.MACHINE and uris:
            self.add_error("redirect_uris", "A machine client signs in no one: leave this empty.")
        if uris is not None and kind in (Application.WEB, Application.SPA) and not uris:
            self.add_error("redirect_uris", "Give at least one redirect URI.")
        return data

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator

from applications.models import Application
from applications.redirects import RedirectUriError, parse_redirect_uris
from console.models import AuthorizationServer


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

    server = forms.ModelChoiceField(
        label="Register at",
        queryset=AuthorizationServer.objects.none(),
        required=False,
        empty_label="This portal's provider",
        to_field_name="slug",
        help_text="An external authorization server registers the client through RFC 7591.",
    )
    keep_for_console = forms.BooleanField(
        label="Keep the secret for the console",
        required=False,
        help_text="Stored encrypted, so the try-it console can get tokens as this application. "
        "Without it, paste the secret in the console when you need it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        servers = AuthorizationServer.objects.filter(developer_registration=True)
        if servers.exists():
            self.fields["server"].queryset = servers  # type: ignore[attr-defined]
        else:
            del self.fields["server"]  # one provider: nothing to choose

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


class ApplicationEditForm(ApplicationForm):
    """Name, description and redirect URIs of an existing application; its kind is fixed."""

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The kind is fixed, the server is where the client lives, and the secret is no longer
        # held to keep: an edit changes the name, the description and the redirect URIs.
        for fixed in ("kind", "server", "keep_for_console"):
            self.fields.pop(fixed, None)
        self.fixed_kind = kind

    def clean(self) -> dict[str, object]:
        self.cleaned_data["kind"] = self.fixed_kind
        return super().clean()


class RotateForm(forms.Form):
    """How long the old secret keeps working after a rotation, within the configured limit."""

    keep_old_hours = forms.IntegerField(
        label="Keep the old secret working for (hours)",
        min_value=0,
        required=False,  # left out: the old secret stops at once, the safe choice
        help_text="0 stops it at once.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        from applications.flows import grace_limit

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        most = int(grace_limit().total_seconds() // 3600)
        field = self.fields["keep_old_hours"]
        assert isinstance(field, forms.IntegerField)
        field.max_value = most
        field.validators.append(MaxValueValidator(most))
        field.widget.attrs["max"] = most
        field.initial = min(24, most)
        field.help_text = f"0 stops it at once; at most {most}."

    def clean_keep_old_hours(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["keep_old_hours"] or 0)

"""Input parsers for /api/v1/ (JSON objects, read with Django forms like the pages' input)."""

from __future__ import annotations

from typing import Any

from django import forms

from applications.models import Application
from applications.redirects import MAX_URIS, RedirectUriError, check_redirect_uri


class ApplicationInput(forms.Form):
    name = forms.CharField(max_length=100, strip=True)
    description = forms.CharField(required=False, max_length=2000, strip=True)
    kind = forms.ChoiceField(choices=Application.KINDS)
    redirect_uris = forms.Field(required=False)
    keep_for_console = forms.BooleanField(required=False)
    server = forms.SlugField(required=False, max_length=100)

    def clean_redirect_uris(self) -> list[str]:
        raw = self.cleaned_data.get("redirect_uris") or []
        if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
            raise forms.ValidationError("A list of URI strings.")
        uris = list(dict.fromkeys(raw))
        if len(uris) > MAX_URIS:
            raise forms.ValidationError(f"At most {MAX_URIS} redirect URIs.")
        try:
            return [check_redirect_uri(uri) for uri in uris]
        except RedirectUriError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ApplicationChange(forms.Form):
    """PATCH: what is not given stays as it is."""

    name = forms.CharField(required=False, max_length=100, strip=True)
    description = forms.CharField(required=False, max_length=2000, strip=True)
    redirect_uris = forms.Field(required=False)

    clean_redirect_uris = ApplicationInput.clean_redirect_uris


class SubscriptionInput(forms.Form):
    product = forms.SlugField(max_length=100)
    application = forms.UUIDField(required=False)
    name = forms.CharField(required=False, max_length=100, strip=True)
    accept_terms = forms.BooleanField(required=False)


def errors_of(form: forms.Form) -> dict[str, Any]:
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}

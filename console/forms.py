"""Input parsers for the console's POSTs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from console.calls import LOCATIONS, ConsoleInput, Upload
from console.models import GRANT_LABELS
from console.tokens import split_scopes
from console.uploads import MAX_UPLOAD_BYTES

# Never copied into a saved form state (restored after a redirect, or kept in history).
_PRIVATE_FIELDS = {"csrfmiddlewaretoken", "password", "username", "grant_choice", "next"}


class OperationRef(forms.Form):
    """Which operation a console POST is about."""

    api = forms.SlugField(max_length=100)
    version = forms.CharField(max_length=100)
    operation = forms.CharField(max_length=300)


class SendForm(OperationRef):
    server = forms.CharField(max_length=2000, required=False)
    token = forms.CharField(max_length=100, required=False)
    media_type = forms.CharField(max_length=200, required=False)
    force = forms.BooleanField(required=False)

    def console_input(self, media_types: list[str]) -> ConsoleInput:
        """The console form as plain data; dynamic fields are read by their prefixes."""
        data: QueryDict = self.data  # type: ignore[assignment]
        if any("\x00" in text for key, values in data.lists() for text in (key, *values)):
            # Multipart, so past the portal's NUL middleware; PostgreSQL cannot keep it in the
            # call's history (DataError, a 500).
            raise forms.ValidationError("A field contains a NUL character; remove it.")
        media = self.cleaned_data["media_type"]
        index = str(media_types.index(media)) if media in media_types else ""
        params: dict[str, dict[str, str]] = {loc: {} for loc in LOCATIONS}
        fields: dict[str, str] = {}
        for key in data:
            value = str(data.get(key, ""))
            prefix, _, rest = key.partition(".")
            if prefix == "param":
                loc, _, name = rest.partition(".")
                if loc in params and name:
                    params[loc][name] = value
            elif prefix == "field" and index:
                owner, _, name = rest.partition(".")
                if owner == index and name:
                    fields[name] = value
        body = str(data.get(f"body.{index}", "")) if index else ""
        uploads = _uploads(self.files, index) if index else []
        return ConsoleInput(
            server=self.cleaned_data["server"],
            params={loc: values for loc, values in params.items() if values},
            media_type=media if media in media_types else "",
            body=body,
            fields=fields,
            token=self.cleaned_data["token"],
            force=self.cleaned_data["force"],
            uploads=uploads,
        )


def _uploads(files: MultiValueDict[str, UploadedFile], index: str) -> list[Upload]:
    found: list[Upload] = []
    for key in files:
        prefix, _, rest = key.partition(".")
        owner, _, name = rest.partition(".")
        if prefix != "file" or owner != index or not name:
            continue
        # An array of files (an `<input multiple>`): each file is a part of its own.
        for upload in files.getlist(key):
            if upload.size and upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(f"{upload.name} is larger than 2 MiB.")
            found.append(
                Upload(
                    field=name,
                    filename=upload.name or name,
                    content_type=upload.content_type or "application/octet-stream",
                    data=upload.read(),
                )
            )
    return found


def saved_state(data: QueryDict) -> dict[str, Any]:
    """The console form's values to restore after a redirect (no CSRF token, no password,
    no pasted credential)."""
    return {
        k: v
        for k, v in data.items()
        if k not in _PRIVATE_FIELDS and not k.startswith((CREDENTIAL_PREFIX, APP_SECRET_PREFIX))
    }


# `app_secret.<app slug>`: an application's client secret pasted for the session.
APP_SECRET_PREFIX = "app_secret."
# `credential.<scheme>.value`, `.username`, `.password`: what the user pastes for a scheme.
CREDENTIAL_PREFIX = "credential."


class CredentialForm(OperationRef):
    """Keep (`credential=<scheme>`) or forget (`forget_credential=<scheme>`) a pasted
    credential for one of the operation's security schemes."""

    credential = forms.CharField(max_length=200, required=False)
    forget_credential = forms.CharField(max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("credential") and not data.get("forget_credential"):
            raise forms.ValidationError("Choose a security scheme.")
        return data

    def secret(self, scheme: str, part: str) -> str:
        return str(self.data.get(f"{CREDENTIAL_PREFIX}{scheme}.{part}", ""))


class TokenForm(OperationRef):
    """The "Get token" buttons: `grant_choice` is `<server slug>:<grant>`, and each server's
    scopes field is `scopes.<server slug>`."""

    grant_choice = forms.CharField(max_length=200)
    username = forms.CharField(max_length=200, required=False)
    password = forms.CharField(max_length=500, required=False, strip=False)

    def clean_grant_choice(self) -> tuple[str, str]:
        slug, _, grant = self.cleaned_data["grant_choice"].partition(":")
        if not slug or grant not in GRANT_LABELS:
            raise forms.ValidationError("Choose an authorization server and a grant.")
        return slug, grant

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("grant_choice")
        if choice:
            raw = str(self.data.get(f"scopes.{choice[0]}", ""))
            scopes = split_scopes(raw)
            for scope in scopes:
                if len(scope) > 200 or not all(
                    33 <= ord(c) <= 126 and c not in '"\\' for c in scope
                ):
                    self.add_error(None, f"{scope[:40]!r} is not a valid scope.")
            data["scopes"] = scopes
        return data


class RevealForm(forms.Form):
    token = forms.CharField(max_length=100, required=False)

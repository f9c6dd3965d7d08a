"""Who calls /api/v1/: a bearer access token from the built-in provider with the `portal`
scope, and nothing else.

No session cookie counts here: a cookie is sent by the browser to any site's form, a bearer
token only by code that holds it, so these endpoints need no CSRF token. The token is looked
up by its SHA-256 (DOT keeps no clear copy); a revoked token's row is gone, so revocation
applies to the next call. A token acts for its user; a client-credentials token of a
developer's own application acts for that application's owner. A token that also names an
API's audience is refused: it travels to that API's backend, which could replay it here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from oauth2_provider.models import get_access_token_model

from applications.models import Application
from identity.grants import AUDIENCE_PREFIX

PORTAL_SCOPE = "portal"
MAX_TOKEN = 8000


class AuthError(Exception):
    """401 (no usable token) or 403 (a token without the `portal` scope), RFC 6750 style."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    @property
    def challenge(self) -> str:
        params = f'realm="portal", error="{self.error}", error_description="{self.description}"'
        if self.error == "insufficient_scope":
            params += f', scope="{PORTAL_SCOPE}"'
        return "Bearer " + params if self.error else 'Bearer realm="portal"'


@dataclass(frozen=True)
class Caller:
    user: Any
    application: Application | None  # the developer application whose token this is, if any


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return ""
    return value.strip()


def _for_an_api(token: str) -> bool:
    """Whether the token names an API's audience (`api://<slug>`). Such a token goes to that
    API's backend with each call, so the backend could replay it here: it is not ours. The
    token is one the provider issued (its row was found), so its payload is read unverified."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return False
    aud = claims.get("aud") if isinstance(claims, dict) else None
    audiences = aud if isinstance(aud, list) else [aud]
    return any(isinstance(a, str) and a.startswith(AUDIENCE_PREFIX) for a in audiences)


def caller(
    authorization: str,
    token_url: str = "/idp/token/",
    register_url: str = "/applications/new/",
) -> Caller:
    """The developer an Authorization header speaks for; AuthError otherwise. The URLs are
    the ones a 401 without a token names (whole addresses from a request)."""
    token = _bearer(authorization)
    if not token:
        raise AuthError(
            401,
            "",
            f"A bearer token with the portal scope is required: get one from {token_url} with "
            "client credentials and scope=portal as one of your machine applications (register "
            f"one at {register_url}; its page then shows the command).",
        )
    if len(token) > MAX_TOKEN:
        raise AuthError(401, "invalid_token", "The token is too long.")
    checksum = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    row = (
        get_access_token_model()
        .objects.select_related("user", "application")
        .filter(token_checksum=checksum)
        .first()
    )
    if row is None or row.is_expired():
        raise AuthError(401, "invalid_token", "The token is unknown, revoked or expired.")
    if not row.allow_scopes([PORTAL_SCOPE]):
        raise AuthError(403, "insufficient_scope", "The token lacks the portal scope.")
    if _for_an_api(token):
        raise AuthError(401, "invalid_token", "The token is for an API's audience, not the portal.")
    application = (
        Application.objects.select_related("owner")
        .filter(provider_client_id=row.application_id)
        .first()
        if row.application_id
        else None
    )
    user = row.user or (application.owner if application is not None else None)
    if user is None or not user.is_active:
        raise AuthError(403, "insufficient_scope", "The token acts for no developer here.")
    return Caller(user=user, application=application)

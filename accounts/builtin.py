"""The built-in provider as an allauth app, built from settings at call time."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def builtin_app_config(request: HttpRequest | None) -> dict[str, Any] | None:
    """The portal's sign-in app at its own provider; the issuer follows IDENTITY_ISSUER, or
    the request's (allowed) host when that is unset, like the provider itself."""
    if not settings.IDENTITY_BUILTIN or not settings.IDENTITY_PORTAL_CLIENT_SECRET:
        return None
    issuer = str(settings.IDENTITY_ISSUER or "").rstrip("/")
    if not issuer:
        if request is None:
            return None
        issuer = request.build_absolute_uri("/idp").rstrip("/")
    return {
        "provider_id": settings.IDENTITY_PORTAL_PROVIDER_ID,
        "name": settings.IDENTITY_PORTAL_PROVIDER_NAME,
        "client_id": settings.IDENTITY_PORTAL_CLIENT_ID,
        "secret": settings.IDENTITY_PORTAL_CLIENT_SECRET,
        "settings": {
            "server_url": issuer,
            "expected_issuer": issuer,
            "oauth_pkce_enabled": True,
            "scope": ["openid", "profile", "email"],
            "fetch_userinfo": True,
            "token_auth_method": "client_secret_basic",
            "builtin": True,
        },
    }

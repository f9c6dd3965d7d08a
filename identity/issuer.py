"""The built-in provider's issuer URL and the endpoint URLs derived from it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


def issuer(request: HttpRequest | None = None) -> str:
    """IDENTITY_ISSUER, else derived from the request's scheme and (allowed) host."""
    configured = str(getattr(settings, "IDENTITY_ISSUER", "") or "").rstrip("/")
    if configured:
        return configured
    if request is None:
        raise ImproperlyConfigured(
            "IDENTITY_ISSUER is not set and there is no request to derive it"
        )
    return request.build_absolute_uri("/idp").rstrip("/")


def issuer_for_oauthlib(request: Any) -> str:
    """The issuer for an oauthlib request (token endpoint), which carries no Django request."""
    configured = str(getattr(settings, "IDENTITY_ISSUER", "") or "").rstrip("/")
    if configured:
        return configured
    from oauth2_provider.settings import oauth2_settings

    return str(oauth2_settings.oidc_issuer(request)).rstrip("/")


def endpoints(base: str) -> dict[str, str]:
    return {
        "authorization_endpoint": f"{base}/authorize/",
        "token_endpoint": f"{base}/token/",
        "userinfo_endpoint": f"{base}/userinfo/",
        "jwks_uri": f"{base}/jwks/",
        "revocation_endpoint": f"{base}/revoke/",
        "introspection_endpoint": f"{base}/introspect/",
        "end_session_endpoint": f"{base}/logout/",
    }

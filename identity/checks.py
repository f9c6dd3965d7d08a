"""Configuration mistakes of the built-in provider, as system checks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.http.request import validate_host


def _builtin_on() -> bool:
    return bool(getattr(settings, "IDENTITY_BUILTIN", False))


@register(Tags.security, deploy=True)
def check_issuer(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not _builtin_on() or settings.DEBUG:
        return []
    issuer = str(getattr(settings, "IDENTITY_ISSUER", "") or "")
    problems: list[CheckMessage] = []
    if not getattr(settings, "IDENTITY_PORTAL_CLIENT_SECRET", ""):
        problems.append(
            Error(
                "IDENTITY_PORTAL_CLIENT_SECRET is not set while the built-in OpenID provider is on.",
                hint="Without it the portal offers no way to sign in. Set a long random value "
                "and run `manage.py setup_portal_client`.",
                id="identity.E003",
            )
        )
    if not issuer:
        return problems + [
            Error(
                "IDENTITY_ISSUER is not set while the built-in OpenID provider is on.",
                hint="Set IDENTITY_ISSUER to the provider's public URL, e.g. "
                "https://portal.example.com/idp, or configure an external provider (OIDC_ISSUER).",
                id="identity.E001",
            )
        ]
    host = urlsplit(issuer).hostname or ""
    host = f"[{host}]" if ":" in host else host  # as ALLOWED_HOSTS writes an IPv6 address
    if host and not validate_host(host, list(settings.ALLOWED_HOSTS)):
        problems.append(
            Warning(
                f"IDENTITY_ISSUER's host {host!r} is not in ALLOWED_HOSTS.",
                hint="Sign-in sends browsers to the issuer, and the portal answers 400 to a "
                "host it does not allow: add it to ALLOWED_HOSTS, or correct IDENTITY_ISSUER.",
                id="identity.W002",
            )
        )
    if not issuer.startswith("https://"):
        return problems + [
            Warning(
                f"IDENTITY_ISSUER={issuer!r} is not an https URL.",
                hint="Tokens and sign-in must travel over TLS in production.",
                id="identity.W001",
            )
        ]
    return problems


@register(Tags.database)
def check_demo_credentials(
    app_configs: Any, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Production must not start the built-in provider with the demo seed's credentials."""
    if not databases or not _builtin_on() or settings.DEBUG:
        return []
    from identity.demo import demo_credentials_present

    try:
        present = demo_credentials_present()
    except Exception:  # tables not created yet: migrate runs this check first
        return []
    if not present:
        return []
    return [
        Error(
            "The built-in OpenID provider holds the demo credentials (" + ", ".join(present) + ").",
            hint="Delete the demo user and demo clients, or change their password and secrets, "
            "before running with DEBUG off.",
            id="identity.E002",
        )
    ]

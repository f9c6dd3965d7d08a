"""Configuration mistakes of the built-in provider, as system checks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


def _builtin_on() -> bool:
    return bool(getattr(settings, "IDENTITY_BUILTIN", False))


@register(Tags.security, deploy=True)
def check_issuer(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not _builtin_on() or settings.DEBUG:
        return []
    issuer = str(getattr(settings, "IDENTITY_ISSUER", "") or "")
    if not issuer:
        return [
            Error(
                "IDENTITY_ISSUER is not set while the built-in OpenID provider is on.",
                hint="Set IDENTITY_ISSUER to the provider's public URL, e.g. "
                "https://portal.example.com/idp, or configure an external provider (OIDC_ISSUER).",
                id="identity.E001",
            )
        ]
    if not issuer.startswith("https://"):
        return [
            Warning(
                f"IDENTITY_ISSUER={issuer!r} is not an https URL.",
                hint="Tokens and sign-in must travel over TLS in production.",
                id="identity.W001",
            )
        ]
    return []


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

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

"""Refuse to serve in production without the secrets every replica must share.

settings.py lets tooling (tests, migrate, collectstatic at build time) run without them;
the serving entry points (portal/asgi.py, portal/wsgi.py, `manage.py serve`) call
`require_production_secrets()` first, so a missing secret stops start-up with its name
instead of a per-machine stand-in that logs users out whenever a request changes replica.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def missing_secrets() -> list[str]:
    if settings.DEBUG:
        return []
    missing = []
    if not getattr(settings, "SECRET_KEY_FROM_ENV", True):
        missing.append("SECRET_KEY")
    if settings.IDENTITY_BUILTIN and not settings.IDENTITY_PORTAL_CLIENT_SECRET:
        missing.append("IDENTITY_PORTAL_CLIENT_SECRET")
    return missing


def require_production_secrets() -> None:
    missing = missing_secrets()
    if missing:
        names = ", ".join(f"{name} (or {name}_FILE)" for name in missing)
        raise ImproperlyConfigured(
            f"Not set with DEBUG off: {names}. Every portal process must be given the same "
            "value; see .env.example."
        )

"""Configuration mistakes in the console's settings, as system checks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError


def _is_origin(value: str) -> bool:
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.username
        and parts.path in ("", "/")
        and not parts.query
    )


@register()
def check_console_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    for value in getattr(settings, "CONSOLE_ALLOWED_ORIGINS", []):
        if not _is_origin(str(value)):
            problems.append(
                Error(
                    f"CONSOLE_ALLOWED_ORIGINS has {value!r}, which is not an origin.",
                    hint="Use scheme://host[:port], e.g. https://api.example.com",
                    id="console.E001",
                )
            )
    gateway = str(getattr(settings, "CONSOLE_GATEWAY_URL", "") or "")
    if not gateway:
        problems.append(
            Warning(
                "CONSOLE_GATEWAY_URL is empty: the console cannot send calls through the gateway.",
                hint="Set it to where the gateway answers, e.g. http://127.0.0.1:8000/gateway",
                id="console.W001",
            )
        )
    else:
        parts = urlsplit(gateway)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
            problems.append(
                Error(
                    f"CONSOLE_GATEWAY_URL={gateway!r} is not an http(s) URL.",
                    id="console.E002",
                )
            )
    return problems


@register(Tags.database)
def check_shared_clients(
    app_configs: Any, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """A console client at the built-in provider that mints every API's scopes (issue 10)."""
    if not databases:
        return []
    from console import offered

    try:
        loose = offered.servers_minting_every_scope()
    except DatabaseError:  # tables not created yet: migrate runs this check first
        return []
    return [
        Warning(
            f"The console's authorization server {server.slug!r} uses the built-in provider's "
            f"client {server.client_id!r}, which every developer shares, without \u201cAPI "
            "scopes from the developer's subscriptions\u201d: anyone signed in gets every "
            "published API's scopes through it.",
            hint="Tick it on that client in the admin (Built-in OpenID provider \u203a OAuth "
            "clients).",
            id="console.W002",
        )
        for server in loose
    ]

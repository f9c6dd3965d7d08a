"""The console's settings, read at call time so tests can override them."""

from __future__ import annotations

from django.conf import settings


def connect_timeout() -> float:
    return float(getattr(settings, "CONSOLE_CONNECT_TIMEOUT", 3.0))


def read_timeout() -> float:
    return float(getattr(settings, "CONSOLE_READ_TIMEOUT", 10.0))


def max_response_bytes() -> int:
    return int(getattr(settings, "CONSOLE_MAX_RESPONSE_BYTES", 2 * 1024 * 1024))


def history_limit() -> int:
    return int(getattr(settings, "CONSOLE_HISTORY_LIMIT", 50))


def history_entry_bytes() -> int:
    """At most this much of a call's form and URL is kept in its history entry (the body cut
    first): a request may be 2.5 MB, and each user has history_limit() entries."""
    return int(getattr(settings, "CONSOLE_HISTORY_ENTRY_BYTES", 64 * 1024))


def refresh_margin() -> int:
    """Seconds before expiry at which a token is refreshed before a call."""
    return int(getattr(settings, "CONSOLE_REFRESH_MARGIN", 30))


def discovery_ttl() -> int:
    return int(getattr(settings, "CONSOLE_DISCOVERY_TTL", 3600))


def allowed_origins() -> list[str]:
    """Extra server origins (scheme://host[:port]) the console may call besides gateways."""
    return list(getattr(settings, "CONSOLE_ALLOWED_ORIGINS", []))


def private_origins() -> list[str]:
    """Loopback or private origins the configuration names: the built-in gateway's.

    The built-in provider answers on the same origin in the default run, so its token
    endpoint is reachable too; any other private address stays refused by the wrapper.
    """
    gateway = str(getattr(settings, "CONSOLE_GATEWAY_URL", "") or "")
    return [gateway] if gateway else []

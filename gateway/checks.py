"""System checks for gateway configuration mistakes (ids gateway.E001...)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_gateway_settings(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    for name in ("GATEWAY_JWKS_TTL", "GATEWAY_JWKS_REFETCH_COOLDOWN", "GATEWAY_CONFIG_REFRESH"):
        value = getattr(settings, name, 1)
        if not isinstance(value, int | float) or value <= 0:
            problems.append(
                Error(f"{name} must be a positive number of seconds.", id="gateway.E001")
            )
    return problems


@register(deploy=True)
def check_shared_cache(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if "locmem" in backend.lower():
        return [
            Warning(
                "The gateway's key cache and rate-limit counters are per process.",
                hint="Set REDIS_URL so several gateway processes share keys and counters.",
                id="gateway.W001",
            )
        ]
    return []


@register()
def check_key_fetch_private_hosts(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    from portal.checks import private_hosts_problems

    return private_hosts_problems("GATEWAY_KEY_FETCH_PRIVATE_HOSTS", "gateway")


@register()
def check_public_host(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    """GATEWAY_PUBLIC_HOST goes into every forwarded call's X-Forwarded-Host as it is."""
    from django.http.request import split_domain_port

    value = getattr(settings, "GATEWAY_PUBLIC_HOST", "") or ""
    domain, _ = split_domain_port(value) if value.isascii() else ("", "")
    if value and not domain:
        return [
            Error(
                f"GATEWAY_PUBLIC_HOST {value!r} is not a host name with an optional port.",
                hint="Write it as a Host header is written: api.example.com or api.example.com:8443.",
                id="gateway.E002",
            )
        ]
    return []

"""Failed-login counters on the shared cache (SECURITY.md case 57).

Keyed by REMOTE_ADDR, never by a forwarding header a client can rotate, and by account.
Each counter is a window that opens at the first failure and lasts its period.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    period: int


def _limits() -> tuple[Limit, Limit]:
    return (
        Limit("ip", settings.IDENTITY_LOGIN_FAILURES_PER_IP, settings.IDENTITY_LOGIN_IP_PERIOD),
        Limit(
            "account",
            settings.IDENTITY_LOGIN_FAILURES_PER_ACCOUNT,
            settings.IDENTITY_LOGIN_ACCOUNT_PERIOD,
        ),
    )


def _key(limit: Limit, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"identity:login-fail:{limit.name}:{digest}"


def _subjects(ip: str, username: str) -> list[tuple[Limit, str]]:
    ip_limit, account_limit = _limits()
    subjects = [(ip_limit, ip)] if ip else []
    if username:
        subjects.append((account_limit, username.strip().lower()))
    return subjects


def blocked(ip: str, username: str) -> int | None:
    """Seconds to wait if any counter is exhausted, else None."""
    for limit, value in _subjects(ip, username):
        count = cache.get(_key(limit, value), 0)
        if count >= limit.attempts:
            return limit.period
    return None


def record_failure(ip: str, username: str) -> None:
    for limit, value in _subjects(ip, username):
        key = _key(limit, value)
        cache.add(key, 0, timeout=limit.period)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=limit.period)


def clear_account(username: str) -> None:
    _ip, account_limit = _limits()
    cache.delete(_key(account_limit, username.strip().lower()))

"""Failed-login counters on the shared cache (SECURITY.md case 57).

Keyed by the client address (REMOTE_ADDR, which portal.middleware.TrustedProxyMiddleware
sets to the real client behind TRUSTED_PROXIES, never a header a client can rotate) and by
account. Each counter is a window that opens at the first failure and lasts its period.

Three counters, so that nobody can lock an account out for everyone:
- per address: too many failures from one address block that address;
- per account and address: too many failures for one account block that account from
  that address only;
- per account, from anywhere: past a higher threshold every attempt on the account is
  slowed (IDENTITY_LOGIN_SLOW_SECONDS), never refused, so the right password from another
  address still signs in while a distributed guesser is held to a crawl.
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


def _ip_limit() -> Limit:
    return Limit("ip", settings.IDENTITY_LOGIN_FAILURES_PER_IP, settings.IDENTITY_LOGIN_IP_PERIOD)


def _account_ip_limit() -> Limit:
    return Limit(
        "account-ip",
        settings.IDENTITY_LOGIN_FAILURES_PER_ACCOUNT,
        settings.IDENTITY_LOGIN_ACCOUNT_PERIOD,
    )


def _account_limit() -> Limit:
    return Limit(
        "account",
        settings.IDENTITY_LOGIN_ACCOUNT_SLOW_AFTER,
        settings.IDENTITY_LOGIN_ACCOUNT_PERIOD,
    )


def _key(limit: Limit, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"identity:login-fail:{limit.name}:{digest}"


def _account(username: str) -> str:
    return username.strip().lower()


def _blocking(ip: str, username: str) -> list[tuple[Limit, str]]:
    subjects = [(_ip_limit(), ip)] if ip else []
    if username:
        subjects.append((_account_ip_limit(), f"{_account(username)}\n{ip}"))
    return subjects


def blocked(ip: str, username: str) -> int | None:
    """Seconds to wait if this address, or this account from this address, is blocked."""
    for limit, value in _blocking(ip, username):
        count = cache.get(_key(limit, value), 0)
        if count >= limit.attempts:
            return limit.period
    return None


def delay(username: str) -> float:
    """Seconds to hold an attempt on an account that failed too often from anywhere."""
    if not username:
        return 0.0
    limit = _account_limit()
    if cache.get(_key(limit, _account(username)), 0) >= limit.attempts:
        return float(settings.IDENTITY_LOGIN_SLOW_SECONDS)
    return 0.0


def record_failure(ip: str, username: str) -> None:
    subjects = _blocking(ip, username)
    if username:
        subjects.append((_account_limit(), _account(username)))
    for limit, value in subjects:
        key = _key(limit, value)
        cache.add(key, 0, timeout=limit.period)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=limit.period)


def clear_account(ip: str, username: str) -> None:
    """A successful sign-in forgets this address's failures for the account. The account's
    count from everywhere stays: someone else may still be guessing."""
    cache.delete(_key(_account_ip_limit(), f"{_account(username)}\n{ip}"))


# --- Client authentication at the token, revocation and introspection endpoints --------
# Per address, and per client id from one address: a guesser is stopped without letting
# anyone lock a client out for everyone. Per client id from anywhere, a higher threshold
# stops a distributed guesser too, at the price of that client waiting out the period.


def _client_limits(ip: str, client_id: str) -> list[tuple[Limit, str]]:
    period = settings.IDENTITY_CLIENT_AUTH_PERIOD
    subjects = [(Limit("client-ip", settings.IDENTITY_CLIENT_AUTH_FAILURES_PER_IP, period), ip)]
    if client_id:
        subjects.append(
            (
                Limit("client-id-ip", settings.IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT, period),
                f"{client_id}\n{ip}",
            )
        )
        subjects.append(
            (
                Limit(
                    "client-id", settings.IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT_ANYWHERE, period
                ),
                client_id,
            )
        )
    return subjects


def client_blocked(ip: str, client_id: str) -> int | None:
    """Seconds to wait before this address (or anyone, for this client id) may try again."""
    for limit, value in _client_limits(ip, client_id):
        if cache.get(_key(limit, value), 0) >= limit.attempts:
            return limit.period
    return None


def record_client_failure(ip: str, client_id: str) -> None:
    for limit, value in _client_limits(ip, client_id):
        key = _key(limit, value)
        cache.add(key, 0, timeout=limit.period)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=limit.period)

"""The version key `gateway:config:version`: how every gateway process learns, with Redis,
that something it serves from changed.

The portal bumps it after every committed change to a route, policy, required claim, API,
product, subscription, key names, application or revoked token (gateway/signals.py), and after
writes that send no signal (`bump()` beside a queryset `.update()` or `bulk_create`). Each
gateway worker reads it on the refresh cadence (gateway/refreshed.py: how it is used, and the
fingerprint that replaces it without Redis or while Redis does not answer).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import transaction

from portal.lib.throttledlog import ThrottledLog

log = logging.getLogger("gateway")
_throttled = ThrottledLog(log)

KEY = "gateway:config:version"
_RETRY_AFTER = 2.0  # seconds between attempts while Redis does not answer


def redis_url() -> str:
    return str(getattr(settings, "REDIS_URL", "") or "")


def url_problems() -> list[str]:
    """What is wrong with REDIS_URL and GATEWAY_REDIS_URL, one sentence each naming the
    variable: checked once at start, since a URL the client cannot parse would otherwise
    fail every call, and a database that is not a number would quietly be database 0."""
    from urllib.parse import parse_qs, urlsplit

    from redis.connection import parse_url

    problems = []
    for name in ("REDIS_URL", "GATEWAY_REDIS_URL"):
        url = str(getattr(settings, name, "") or "")
        if not url:
            continue
        try:
            parse_url(url)
            parts = urlsplit(url)
            db = parse_qs(parts.query).get("db", [""])[0]
            if parts.scheme in ("redis", "rediss") and parts.path.strip("/"):
                db = parts.path.strip("/")
            if db and not db.isdigit():
                raise ValueError(f"the database {db!r} is not a number")
        except ValueError as exc:
            problems.append(
                f"{name} is not a Redis URL (redis://[:password@]host[:port][/db], rediss://..."
                f" or unix:///path.sock[?db=n]): {exc}"
            )
    return problems


def _start_value() -> int:
    # A random start, so a Redis that lost the key (restarted without persistence) never
    # hands out a version some gateway already holds.
    return secrets.randbits(62)


# --- the portal's side ---------------------------------------------------------------

_sync_clients: dict[str, Any] = {}


def bump() -> None:
    """Tell every gateway process that its configuration changed, once the current
    transaction commits (at once outside one). Without Redis there is nothing to do: the
    gateways' fingerprint query sees the change."""
    if redis_url():
        transaction.on_commit(_incr, robust=True)


def _incr() -> None:
    url = redis_url()
    if not url:
        return
    try:
        client = _sync_clients.get(url)
        if client is None:
            import redis

            client = _sync_clients[url] = redis.Redis.from_url(
                url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
        client.set(KEY, _start_value(), nx=True)
        client.incr(KEY)
    except Exception as exc:  # the safety-net fingerprint check covers a lost bump
        _throttled.warning(
            "bump",
            "could not bump %s (gateways apply the change within GATEWAY_CONFIG_FULL_CHECK "
            "seconds): %s",
            KEY,
            exc,
        )


# --- the gateway's side --------------------------------------------------------------


class VersionSource:
    """One worker's reader of the version key (shared by its routes and its key map)."""

    def __init__(self) -> None:
        self._client: Any = None
        self._url = ""
        self._loop: Any = None  # the client belongs to one event loop
        self._down_until = 0.0
        # Checks by what answered them: "redis" (the key) or "database" (the fingerprint).
        self.checks: Counter[str] = Counter()

    async def read(self) -> bytes | None:
        """The version, or None when there is no Redis or it does not answer (the caller
        then checks the database)."""
        url = redis_url()
        if not url or time.monotonic() < self._down_until:
            return None
        loop = asyncio.get_running_loop()
        if self._client is None or url != self._url or loop is not self._loop:
            import redis.asyncio as redis

            self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            self._url, self._loop = url, loop
        try:
            value = await self._client.get(KEY)
            if value is None:
                # A new or flushed Redis: start a version that every process then shares.
                await self._client.set(KEY, _start_value(), nx=True)
                value = await self._client.get(KEY)
        except Exception as exc:
            self._down_until = time.monotonic() + _RETRY_AFTER
            _throttled.warning(
                "read", "cannot read %s, checking the database instead: %s", KEY, exc
            )
            return None
        self.checks["redis"] += 1
        return value if isinstance(value, bytes) else None

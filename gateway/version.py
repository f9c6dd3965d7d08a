"""How every gateway process learns, before serving, that its configuration changed.

Without Redis, each worker queries a fingerprint of the tables (`config_fingerprint`,
`keys_fingerprint`: seven small queries) once per GATEWAY_CONFIG_REFRESH seconds. With Redis
(REDIS_URL), the portal bumps one key, `gateway:config:version`, after every committed change to
a route, policy, required claim, API, product, subscription or key names (gateway/signals.py
and the applyconfig sections), and each worker reads that key instead: one GET, no thread, no
database. The fingerprint still runs

- every GATEWAY_CONFIG_FULL_CHECK seconds (default 30), a safety net for a bump that was never
  written (Redis down at that moment, a bulk update that sends no signal), and
- on every check while Redis does not answer, so a change still applies within the refresh
  time when Redis is down.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable
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


class Watcher:
    """For one in-memory copy (the routes, or the subscription keys): when to reload it.

    `quick()` runs in the event loop and says when nothing can have changed; `check()` runs
    in the loader's thread and queries the fingerprint only when Redis cannot tell."""

    def __init__(self, source: VersionSource, fingerprint: Callable[[], Any]) -> None:
        self.source = source
        self._fingerprint = fingerprint
        self._version: bytes | None = None
        self._fp: Any = None
        self._next_full = 0.0
        self._pending: tuple[bytes | None, Any, bool] = (None, None, False)

    def quick(self, version: bytes | None, loaded: bool) -> bool:
        """True when the copy is current: the version key is unchanged and no fingerprint
        check is due."""
        return (
            loaded
            and version is not None
            and version == self._version
            and time.monotonic() < self._next_full
        )

    def check(self, version: bytes | None, loaded: bool) -> bool:
        """Whether to reload (call `done()` after a successful check or reload)."""
        if loaded and version is not None and version != self._version:
            # The portal bumped the version: reload, no fingerprint query needed.
            self._pending = (version, None, False)
            return True
        fp = self._fingerprint()
        self.source.checks["database"] += 1
        self._pending = (version, fp, True)
        return not loaded or fp != self._fp

    def done(self) -> None:
        version, fp, queried = self._pending
        if version is not None:
            self._version = version
        if queried:
            self._fp = fp
            self._next_full = time.monotonic() + float(
                getattr(settings, "GATEWAY_CONFIG_FULL_CHECK", 30)
            )
        else:
            # Reloaded on a bump: the stored fingerprint is older than the copy, so the next
            # full check reloads once more rather than trusting it.
            self._fp = None

"""The one way the gateway keeps a value built from the database current: the routes and
policies, the subscription keys, the revoked tokens and the subscribed clients.

Every GATEWAY_CONFIG_REFRESH seconds the first call starts a check and waits for it; calls
arriving meanwhile wait for the same check, so no call is served with a value older than the
refresh interval (issue 8, case 63). A check asks, cheapest first:

1. With Redis (REDIS_URL), the version key `gateway:config:version` (gateway/version.py), which
   the portal bumps after every committed change the gateway serves from. Unchanged, and no
   safety-net check due: nothing changed; one GET, no thread, no database.
2. Otherwise the value's fingerprint (a few aggregate queries, in a thread), and a rebuild only
   when it changed. This runs on every check without Redis or while Redis does not answer, once
   per bump with Redis, and every GATEWAY_CONFIG_FULL_CHECK seconds (default 30) as the safety
   net for a bump never written (Redis down at that moment, a write that sent no signal).

A failing database keeps the last value (an empty one before the first load; `loaded` says
which), and is asked again at the next refresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from gateway import knobs
from gateway.version import VersionSource

log = logging.getLogger("gateway")

_UNSET = object()  # no fingerprint seen yet: compares unequal to any


class Refreshed[T]:
    def __init__(
        self,
        what: str,
        loader: Callable[[], T],
        fingerprint: Callable[[], Any],
        empty: T,
        version: VersionSource | None = None,
    ) -> None:
        self.what = what
        self._loader, self._fingerprint_fn = loader, fingerprint
        self.version = version or VersionSource()
        self.value: T = empty
        self.loaded = False
        self._next_check = 0.0
        self._checking: asyncio.Task[bool] | None = None
        self._seen: bytes | None = None  # the version key at the last fingerprint check
        self._fingerprint: Any = _UNSET
        self._full_at = 0.0  # when the fingerprint was last asked

    def due(self) -> bool:
        """Whether a call must wait for a check (one is due, or one is under way)."""
        return self._checking is not None or time.monotonic() >= self._next_check

    async def current(self) -> T:
        if self.due():
            await self.refresh()
        return self.value

    async def refresh(self) -> bool:
        """Check when due, or wait for the check under way; True when the value was rebuilt."""
        if self._checking is None:
            now = time.monotonic()
            if now < self._next_check:
                return False
            self._next_check = now + float(knobs.setting("GATEWAY_CONFIG_REFRESH", 1))
            self._checking = asyncio.get_running_loop().create_task(self._check())
            self._checking.add_done_callback(self._checked)
        # Shielded: a caller that goes away (client disconnect) does not cancel the others'.
        return await asyncio.shield(self._checking)

    def _checked(self, task: asyncio.Task[bool]) -> None:
        self._checking = None

    async def _check(self) -> bool:
        version = await self.version.read()
        if (
            self.loaded
            and version is not None
            and version == self._seen
            and time.monotonic() - self._full_at
            < float(knobs.setting("GATEWAY_CONFIG_FULL_CHECK", 30))
        ):
            return False
        known = self._fingerprint if self.loaded else _UNSET

        def work() -> tuple[Any, tuple[T] | None]:
            from django.db import close_old_connections

            close_old_connections()
            try:
                fp = self._fingerprint_fn()
                if known is not _UNSET and fp == known:
                    return fp, None
                return fp, (self._loader(),)
            finally:
                close_old_connections()

        try:
            fp, loaded = await asyncio.to_thread(work)
        except Exception:
            log.exception("could not load the %s", self.what)
            return False
        self.version.checks["database"] += 1
        # The version was read before the fingerprint: a bump written meanwhile differs from
        # `_seen` at the next check, which then asks the fingerprint again.
        self._seen, self._fingerprint = version, fp
        self._full_at = time.monotonic()
        if loaded is None:
            return False
        self.value = loaded[0]
        self.loaded = True
        return True

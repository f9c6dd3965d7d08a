"""A value the gateway builds from the database and rebuilds when a fingerprint changes.

The routes and the subscription keys follow this pattern in their own modules; revoked tokens
(gateway/revocations.py) and subscribed clients (gateway/clients.py) share this class. Every
GATEWAY_CONFIG_REFRESH seconds the first call awaits the cheap fingerprint (and a rebuild when
it changed): a revocation or a cancelled subscription must not pass after the refresh, so the
check is never left to a background task. A failing database keeps the last value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

log = logging.getLogger("gateway")


class Refreshed[T]:
    def __init__(
        self,
        what: str,
        loader: Callable[[], T],
        fingerprint: Callable[[], Any],
        empty: T,
    ) -> None:
        self.what = what
        self._loader, self._fingerprint_fn = loader, fingerprint
        self._fingerprint: Any = None
        self.value: T = empty
        self.loaded = False
        self._next_check = 0.0
        self._lock: asyncio.Lock | None = None

    def due(self) -> bool:
        return time.monotonic() >= self._next_check

    async def refresh(self) -> bool:
        """Check the fingerprint when due; True when the value was rebuilt."""
        if not self.due():
            return False
        self._next_check = time.monotonic() + float(getattr(settings, "GATEWAY_CONFIG_REFRESH", 1))
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self._load()

    async def _load(self) -> bool:
        known = self._fingerprint if self.loaded else None

        def work() -> tuple[Any, tuple[T] | None]:
            from django.db import close_old_connections

            close_old_connections()
            try:
                fp = self._fingerprint_fn()
                if self.loaded and fp == known:
                    return fp, None
                return fp, (self._loader(),)
            finally:
                close_old_connections()

        try:
            fp, loaded = await asyncio.to_thread(work)
        except Exception:
            log.exception("could not load the %s", self.what)
            return False
        self._fingerprint = fp
        if loaded is None:
            return False
        self.value = loaded[0]
        self.loaded = True
        return True

"""rate-limit-by-key: fixed windows of `period` seconds, counters in a shared store.

With REDIS_URL (or GATEWAY_REDIS_URL) set, counters live in Redis (INCR + EXPIRE in one
round trip) so every gateway process shares them; otherwise in process memory, which is
exact for the single-process default run.
"""

from __future__ import annotations

import time
from typing import Any, Protocol


class CounterStore(Protocol):
    async def hit(self, key: str, period: int) -> tuple[int, float]:
        """Count one call; return (calls in the current window, seconds until it resets)."""
        ...


class MemoryCounters:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._counts: dict[str, int] = {}
        self._window: dict[int, int] = {}
        self.max_keys = max_keys

    async def hit(self, key: str, period: int) -> tuple[int, float]:
        now = time.time()
        window = int(now // period)
        if self._window.get(period) != window:
            # A new window for this period: drop the old counters of that period.
            suffix = f"|{period}"
            self._counts = {k: v for k, v in self._counts.items() if not k.endswith(suffix)}
            self._window[period] = window
        if len(self._counts) >= self.max_keys:
            self._counts.clear()
        full = f"{key}|{period}"
        count = self._counts.get(full, 0) + 1
        self._counts[full] = count
        return count, (window + 1) * period - now


class RedisCounters:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    async def hit(self, key: str, period: int) -> tuple[int, float]:
        now = time.time()
        window = int(now // period)
        name = f"gateway:rl:{key}:{period}:{window}"
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, period + 1)
            count, _ = await pipe.execute()
        return int(count), (window + 1) * period - now

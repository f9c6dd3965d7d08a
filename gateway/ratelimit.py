"""rate-limit-by-key: fixed windows of `period` seconds, counters in a shared store.

With REDIS_URL (or GATEWAY_REDIS_URL) set, counters live in Redis (INCR + EXPIRE in one
round trip) so every gateway process shares them; otherwise in process memory, which is
exact for the single-process default run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any, Protocol

from gateway.config import RouteConfig
from gateway.jwt import Verdict
from gateway.problems import Headers, problem

log = logging.getLogger("gateway")


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


async def check(
    counters: CounterStore,
    route: RouteConfig,
    verdict: Verdict | None,
    scope: MutableMapping[str, Any],
    extra: Headers,
) -> tuple[int, Headers, bytes] | None:
    """Count the call against the route's limit: None to go on, else the 429 answer.

    Adds the X-RateLimit headers to `extra`."""
    limit = route.rate_limit
    assert limit is not None
    if limit.key == "subject" and verdict is not None and verdict.subject:
        who = "sub:" + verdict.subject
    elif limit.key == "client_id" and verdict is not None and verdict.client_id:
        who = "client:" + verdict.client_id
    else:
        client = scope.get("client") or ("-", 0)
        who = "addr:" + str(client[0])
    try:
        count, reset = await counters.hit(f"{route.suffix}|{who}", limit.period)
    except Exception as exc:  # the shared store is down: fail open, loudly
        log.warning("rate-limit store unavailable: %s", exc)
        return None
    remaining = max(0, limit.calls - count)
    extra += [
        (b"x-ratelimit-limit", str(limit.calls).encode()),
        (b"x-ratelimit-remaining", str(remaining).encode()),
    ]
    if count > limit.calls:
        retry = max(1, int(reset + 0.999))
        status, headers, body = problem(
            429,
            f"Rate limit of {limit.calls} calls per {limit.period} s exceeded; retry in {retry} s.",
            "rate-limit",
        )
        return status, [*headers, (b"retry-after", str(retry).encode())], body
    return None

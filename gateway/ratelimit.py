"""rate-limit-by-key: at most `calls` in any `period` seconds (a sliding window log).

With REDIS_URL set, the window lives in Redis (one Lua script: atomic, and timed by Redis's
own clock), so every worker of every gateway process shares it; otherwise in process memory,
which is exact for one process and holds up to 100,000 keys (when full it forgets the keys
whose window has emptied, then those holding the fewest calls: never a busy key's count). A sliding window has no double burst at a window edge, as
fixed windows have (`calls` at the end of one window and `calls` at the start of the next).

When the shared store is down, each route's `on-store-unavailable` decides: `allow` (the
default) lets calls through unlimited, `deny` answers 503. Either way one warning per 10 s,
a failure counter in the metrics, and a retry every few seconds, so limits come back without
a restart when Redis does.

`add` keeps a total per fixed window instead (a subscription's call and kilobyte quotas,
which renew at each period's end as APIM's quota does), in the same store: one counter, where
a sliding log keeps an entry per call of its period.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import time
import uuid
from collections import deque
from collections.abc import MutableMapping
from typing import Any, Protocol

from gateway.config import RouteConfig
from gateway.jwt import Verdict
from gateway.problems import Headers, problem
from portal.lib.throttledlog import ThrottledLog

log = logging.getLogger("gateway")


def counted_address(address: str) -> str:
    """The part of a client's address that per-address counts go by: an IPv4 address whole,
    an IPv6 address by its /64. A host is given at least a /64 (a home line, a cloud VM) and
    may send from any of its 2^64 addresses, so counted per address each call could come from
    a fresh one and no limit would ever be reached. An IPv4 address mapped into IPv6 (a
    dual-stack socket's IPv4 client) is that IPv4 address, not the /64 of every such client.
    IPv4, the common case, costs one scan for a ':'."""
    if address.find(":") < 0:
        return address
    try:
        ip = ipaddress.IPv6Address(address.partition("%")[0])
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return f"{ipaddress.IPv6Address(int(ip) >> 64 << 64)}/64"


class StoreUnavailable(Exception):
    """The shared counter store cannot answer now."""


class CounterStore(Protocol):
    async def hit(self, key: str, calls: int, period: int) -> tuple[bool, int, float]:
        """Count one call if the window has room: (allowed, calls in the window, seconds
        until the oldest call leaves the window)."""
        ...

    async def add(self, key: str, amount: int, period: int) -> tuple[int, float]:
        """Add `amount` (0: only read) to a fixed window of `period` seconds counted from the
        Unix epoch, as APIM's quota renews: (the window's total, seconds until it ends)."""
        ...


class MemoryCounters:
    """The sliding window log in process memory (one process, or no Redis)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._log: dict[str, deque[float]] = {}
        self._periods: dict[str, int] = {}  # each key's window, for making room (_evict)
        # key -> (window number, total, period): the period to tell whether it is current
        self._totals: dict[str, tuple[int, int, int]] = {}
        self.max_keys = max_keys

    async def hit(self, key: str, calls: int, period: int) -> tuple[bool, int, float]:
        now = time.monotonic()
        window = self._log.get(key)
        if window is None:
            if len(self._log) >= self.max_keys:
                self._evict(now)
            window = self._log[key] = deque()
            self._periods[key] = period
        while window and window[0] <= now - period:
            window.popleft()
        if len(window) < calls:
            window.append(now)
            return True, len(window), 0.0
        return False, len(window) + 1, window[0] + period - now

    async def add(self, key: str, amount: int, period: int) -> tuple[int, float]:
        now = time.time()
        window = int(now // period)
        seen, total, _ = self._totals.get(key, (window, 0, period))
        total = (total if seen == window else 0) + amount
        if amount:
            if key not in self._totals and len(self._totals) >= self.max_keys:
                # Room from totals whose own window has ended, each read in its own period (a
                # daily quota's window is no minute's: judged by the new key's, every current
                # total of another period was forgotten and its quota started again).
                self._totals = {k: v for k, v in self._totals.items() if v[0] == now // v[2]}
            self._totals[key] = (window, total, period)
        return total, (window + 1) * period - now

    def _evict(self, now: float) -> None:
        periods = self._periods
        # Keys whose own window has emptied carry no state worth keeping.
        log = {k: w for k, w in self._log.items() if w and w[-1] > now - periods[k]}
        if len(log) >= self.max_keys:
            # Still full: a client with many addresses (or /64s) makes keys of its own. Forget
            # a tenth, those holding the fewest calls and, among them, the longest idle, so a
            # busy key at its limit stays refused (forgetting every key let it through again).
            ranked = sorted(log, key=lambda k: (len(log[k]), log[k][-1]))
            for k in ranked[: len(log) - self.max_keys * 9 // 10]:
                del log[k]
        self._log = log
        self._periods = {k: periods[k] for k in log}


# KEYS[1] window; ARGV: period ms, calls, member. Returns {allowed, count, retry ms}.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[1])
local calls = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])
if count < calls then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
  return {1, count + 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, count + 1, tonumber(oldest[2]) + period - now}
"""


# KEYS[1] the counter's name; ARGV: period s, amount (0: read). Returns {total, ms to the end}.
_FIXED_WINDOW_ADD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[1]) * 1000
local window = math.floor(now / period)
local key = KEYS[1] .. ':' .. window
local total
if tonumber(ARGV[2]) > 0 then
  total = redis.call('INCRBY', key, ARGV[2])
  redis.call('PEXPIRE', key, period + 1000)
else
  total = tonumber(redis.call('GET', key) or '0')
end
return {total, (window + 1) * period - now}
"""


class RedisCounters:
    """The sliding window in Redis, shared by every process; backs off while Redis is down."""

    RETRY_AFTER_FAILURE = 2.0

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._script: Any = self._client.register_script(_SLIDING_WINDOW)
        self._add_script: Any = self._client.register_script(_FIXED_WINDOW_ADD)
        self._members = itertools.count()
        self._prefix = uuid.uuid4().hex[:12]
        self._down_until = 0.0
        self.failures = 0
        self._warn = ThrottledLog(log, 10.0)

    async def hit(self, key: str, calls: int, period: int) -> tuple[bool, int, float]:
        member = f"{self._prefix}:{next(self._members)}"
        allowed, count, retry_ms = await self._run(
            self._script, f"gateway:rl:{key}:{period}", [period * 1000, calls, member]
        )
        return bool(allowed), int(count), int(retry_ms) / 1000

    async def add(self, key: str, amount: int, period: int) -> tuple[int, float]:
        total, left_ms = await self._run(
            self._add_script, f"gateway:fw:{key}:{period}", [period, amount]
        )
        return int(total), int(left_ms) / 1000

    async def _run(self, script: Any, key: str, args: list[Any]) -> Any:
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("the rate-limit store is down (retrying shortly)")
        try:
            return await script(keys=[key], args=args)
        except Exception as exc:
            self.failures += 1
            self._down_until = time.monotonic() + self.RETRY_AFTER_FAILURE
            self._warn.warning(
                "down",
                "rate-limit store unavailable (%s): rate limits are off, except on routes with "
                "on-store-unavailable: deny, which answer 503; retrying every %s s",
                exc,
                self.RETRY_AFTER_FAILURE,
            )
            raise StoreUnavailable(f"the rate-limit store failed: {exc}") from None


async def check(
    counters: CounterStore,
    route: RouteConfig,
    verdict: Verdict | None,
    scope: MutableMapping[str, Any],
    extra: Headers,
) -> tuple[int, Headers, bytes] | None:
    """Count the call against the route's limit: None to go on, else the 429 (or 503) answer.

    Adds the X-RateLimit headers to `extra`."""
    limit = route.rate_limit
    assert limit is not None
    # A sub or client_id is unique within its issuer only (RFC 7519 4.1.2): counted with it,
    # length first so that no issuer and id can spell another pair's key.
    if limit.key == "subject" and verdict is not None and verdict.subject:
        who = f"sub:{len(verdict.issuer)}:{verdict.issuer}{verdict.subject}"
    elif limit.key == "client_id" and verdict is not None and verdict.client_id:
        who = f"client:{len(verdict.issuer)}:{verdict.issuer}{verdict.client_id}"
    else:
        client = scope.get("client") or ("-", 0)
        who = "addr:" + counted_address(str(client[0]))
    try:
        allowed, count, reset = await counters.hit(
            f"{route.suffix}|{who}", limit.calls, limit.period
        )
    except StoreUnavailable:
        if limit.on_store_unavailable == "deny":
            status, headers, body = problem(
                503, "The rate-limit store is unavailable; try again shortly.", "rate-limit-store"
            )
            return status, [*headers, (b"retry-after", b"5")], body
        return None
    extra += [
        (b"x-ratelimit-limit", str(limit.calls).encode()),
        (b"x-ratelimit-remaining", str(max(0, limit.calls - count)).encode()),
    ]
    if not allowed:
        retry = max(1, int(reset + 0.999))
        status, headers, body = problem(
            429,
            f"Rate limit of {limit.calls} calls per {limit.period} s exceeded; retry in {retry} s.",
            "rate-limit",
        )
        return status, [*headers, (b"retry-after", str(retry).encode())], body
    return None

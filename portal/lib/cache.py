"""A Redis cache that keeps answering while Redis is down.

The shared cache holds things a request can do without for a while: the login failure
counters, allauth's rate limits, memoised lookups. When Redis cannot be reached, a request
must not fail with a 500 (sign-in above all), so each operation falls back to this process's
local memory, with a warning at most once per CACHE_REDIS_WARN_INTERVAL. Limits then count
per process instead of across processes: weaker, never absent.

After an error the cache stays on local memory for CACHE_REDIS_RETRY seconds (no connect
timeout paid on every call), then tries Redis again: it recovers on its own when Redis is
back, without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# The operations of Django's cache API that reach the server. Helpers such as get_or_set,
# decr and incr_version are built on these in BaseCache, so they fall back too.
_OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


class TolerantRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        # redis-py retries a failed command with backoff by default (seconds per call while
        # Redis is down); this cache's answer to an error is the fallback, not a retry.
        options.setdefault("retry", Retry(NoBackoff(), 0))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._fallback = LocMemCache(f"tolerant-redis-{id(self)}", params)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._warned_at: float | None = None

    @property
    def redis_up(self) -> bool:
        """False while this process serves from local memory after a Redis error."""
        return time.monotonic() >= self._down_until

    def _failed(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self._down_until = now + settings.CACHE_REDIS_RETRY
            warn = self._warned_at is None or now - self._warned_at >= (
                settings.CACHE_REDIS_WARN_INTERVAL
            )
            if warn:
                self._warned_at = now
        if warn:
            logger.warning(
                "Redis cache unreachable (%s on %s: %s); using this process's memory "
                "(rate limits count per process) and retrying in %ss",
                type(error).__name__,
                operation,
                error,
                settings.CACHE_REDIS_RETRY,
            )

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        if self.redis_up:
            try:
                return getattr(RedisCache, operation)(self, *args, **kwargs)
            except RedisError as error:
                self._failed(operation, error)
        return getattr(self._fallback, operation)(*args, **kwargs)


def _tolerant(operation: str) -> Callable[..., Any]:
    def method(self: TolerantRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._call(operation, *args, **kwargs)

    method.__name__ = operation
    method.__doc__ = f"RedisCache.{operation}, on local memory while Redis is unreachable."
    return method


for _operation in _OPERATIONS:
    setattr(TolerantRedisCache, _operation, _tolerant(_operation))

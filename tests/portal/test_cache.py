"""portal/lib/cache.py: the shared cache keeps answering while Redis is down, warns once,
and goes back to Redis on its own when Redis returns."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from django.core.cache import cache

from tests.portal.services import redis_server

RETRY = 1


@pytest.fixture
def on_redis(settings: Any, tmp_path: Path) -> Any:
    with redis_server(tmp_path) as server:
        settings.CACHE_REDIS_RETRY = RETRY
        settings.CACHE_REDIS_WARN_INTERVAL = 3600
        settings.CACHES = {
            "default": {
                "BACKEND": "portal.lib.cache.TolerantRedisCache",
                "LOCATION": server.url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        yield server


def in_redis(server: Any, key: str) -> bool:
    return bool(redis_lib.Redis.from_url(server.url).exists(cache.make_key(key)))


def test_values_are_shared_through_redis(on_redis: Any) -> None:
    cache.set("greeting", "hello", 60)
    assert in_redis(on_redis, "greeting") and cache.get("greeting") == "hello"


def test_redis_down_means_local_memory_and_one_warning(
    on_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    on_redis.stop()
    with caplog.at_level(logging.WARNING, logger="portal.lib.cache"):
        assert cache.get("missing", "default") == "default"
        assert cache.add("failures", 0, 60) is True
        for _ in range(3):
            cache.incr("failures")
        assert cache.get("failures") == 3
        cache.set_many({"a": 1, "b": 2}, 60)
        assert cache.get_many(["a", "b"]) == {"a": 1, "b": 2}
        cache.delete("a")
        assert cache.get("a") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis cache unreachable" in warnings[0].getMessage()


def test_redis_returning_is_used_again_without_a_restart(on_redis: Any) -> None:
    on_redis.stop()
    cache.set("during-outage", 1, 60)
    on_redis.start()
    time.sleep(RETRY + 0.2)  # the cache tries Redis again after CACHE_REDIS_RETRY seconds
    cache.set("after-outage", 1, 60)
    assert in_redis(on_redis, "after-outage")

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# 2026-03-04 10:20:30 UTC: inside a minute, hour and day that tests can name.
T0 = datetime(2026, 3, 4, 10, 20, 30, tzinfo=UTC).timestamp()


def event(**fields: Any) -> dict[str, Any]:
    """One gateway event with the contract's field names (usage/events.py)."""
    ev: dict[str, Any] = {
        "ts": T0,
        "api_id": 1,
        "operation": "get-pet",
        "product_id": 2,
        "subscription_id": None,
        "client_id": "",
        "user_id": None,
        "status": 200,
        "outcome": "success",
        "check": "",
        "total_ms": 12.0,
        "backend_ms": 10.0,
        "bytes_in": 100,
        "bytes_out": 1000,
        "client_net": "127.0.0.0/24",
    }
    ev.update(fields)
    return ev


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make redis)")
    from tests.services import redis

    with redis(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()

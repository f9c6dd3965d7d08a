"""Fixtures for usage: events with the contract's fields and a Redis for the aggregator
(usage-data); the gateway's harness and loopback servers (from tests/gateway), and a gateway
whose recorder writes into a list a test can read (usage recording)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config import RouteConfig
from tests.gateway.conftest import (  # noqa: F401  (fixtures used by tests here)
    Harness,
    _gateway_settings,
    backend,
    harness_for,
    http_server,
    provider,
)
from tests.gateway.processes import migrated_db, operator, redis_server  # noqa: F401
from usage import cells
from usage.cells import CellKey, Vector, merge_into
from usage.events import Event
from usage.recorder import Recorder

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


class ListSink:
    """A store that keeps what it is given (raw events, or summed cells), or fails (down) or
    waits (slow) when told."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.cells: dict[CellKey, Vector] = {}
        self.down = False
        self.release = threading.Event()
        self.release.set()
        self.waiting = threading.Event()

    def prepare(self, events: Sequence[Event]) -> Sequence[Event]:
        return events

    def write(self, events: Sequence[Event]) -> None:
        self.waiting.set()
        self.release.wait(10)
        if self.down:
            raise ConnectionError("the usage store is down")
        self.events.extend(events)

    def prepare_cells(self, cells: dict[CellKey, Vector]) -> dict[CellKey, Vector]:
        return cells

    def write_cells(self, cells: dict[CellKey, Vector]) -> bool:
        self.waiting.set()
        self.release.wait(10)
        if self.down:
            raise ConnectionError("the usage store is down")
        for key, vec in cells.items():
            merge_into(self.cells, key, vec)
        return True

    def close(self) -> None:
        pass


@dataclass(frozen=True, order=True)
class Counted:
    """One cell: its key's ids and its calls per outcome, bytes and times."""

    api: int
    operation: str
    product: int
    subscription: int
    client: str
    user: int
    outcomes: tuple[int, int, int, int]  # success, blocked, failed, other
    bytes_in: int
    bytes_out: int
    total_ms_max: float
    backend_count: int
    backend_ms_max: float | None

    @classmethod
    def of(cls, key: CellKey, vec: Vector) -> Counted:
        minute, sub, client, user, api, op, product = key
        assert minute % 60 == 0 and abs(minute - time.time()) < 120
        return cls(
            api, op, product, sub, client, user, tuple(vec[:4]),  # type: ignore[arg-type]
            vec[cells.BYTES_IN], vec[cells.BYTES_OUT], vec[cells.T_MAX],
            vec[cells.B_COUNT], None if vec[cells.B_COUNT] == 0 else vec[cells.B_MAX],
        )  # fmt: skip

    @property
    def calls(self) -> int:
        return sum(self.outcomes)


class Recording:
    def __init__(self, build: Callable[..., Harness]) -> None:
        self.sink = ListSink()
        self._build = build
        self.harnesses: list[Harness] = []

    def gateway(self, *routes: RouteConfig) -> Harness:
        harness = self._build(*routes)
        harness.app.usage = harness.app.metrics.usage = Recorder(lambda: self.sink)
        self.harnesses.append(harness)
        return harness

    def events(self) -> list[Event]:
        """Every raw event recorded so far (USAGE_RAW_EVENTS), written out now."""
        for harness in self.harnesses:
            harness.app.usage.flush()
        return list(self.sink.events)

    def cells(self) -> dict[CellKey, Vector]:
        """Every call summed so far (the default: no raw events), written out now."""
        for harness in self.harnesses:
            harness.app.usage.flush()
        return dict(self.sink.cells)

    def counted(self) -> list[Counted]:
        """The cells as a reader of the rollups sees them, one per key, sorted."""
        return sorted(Counted.of(key, vec) for key, vec in self.cells().items())


@pytest.fixture
def recording(settings: Any, harness_for: Callable[..., Harness]) -> Iterator[Recording]:  # noqa: F811
    settings.USAGE_RECORDING = True
    settings.USAGE_RAW_EVENTS = False  # the default; tests of the raw event itself turn it on
    settings.GATEWAY_METRICS_ALLOW = ["203.0.113.0/24"]  # the harness's client
    rec = Recording(harness_for)
    yield rec
    rec.sink.release.set()
    for harness in rec.harnesses:
        harness.app.usage.close()

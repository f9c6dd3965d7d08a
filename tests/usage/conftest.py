"""Fixtures for usage recording: the gateway's harness and loopback servers (from
tests/gateway), and a gateway whose recorder writes into a list a test can read."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
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
from usage.events import Event
from usage.recorder import Recorder


class ListSink:
    """A store that keeps what it is given, or fails (down) or waits (slow) when told."""

    def __init__(self) -> None:
        self.events: list[Event] = []
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

    def close(self) -> None:
        pass


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
        """Everything recorded so far, written out now."""
        for harness in self.harnesses:
            harness.app.usage.flush()
        return list(self.sink.events)


@pytest.fixture
def recording(settings: Any, harness_for: Callable[..., Harness]) -> Iterator[Recording]:  # noqa: F811
    settings.USAGE_RECORDING = True
    settings.GATEWAY_METRICS_ALLOW = ["203.0.113.0/24"]  # the harness's client
    rec = Recording(harness_for)
    yield rec
    rec.sink.release.set()
    for harness in rec.harnesses:
        harness.app.usage.close()

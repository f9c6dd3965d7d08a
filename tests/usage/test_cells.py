"""Calls summed in the gateway (usage/cells.py) reach the rollups exactly as raw events did:
without Redis the gateway writes them itself; with Redis an aggregator merges the gateway's
cell entries, beside raw event entries of gateways not yet upgraded."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from tests.usage.conftest import event
from tests.usage.test_aggregate import _xadd, totals
from usage import aggregate, cells, stream
from usage.models import (
    DAY,
    HOUR,
    MINUTE,
    ApiRollup,
    ClosedDaysVersion,
    ConsumerOperationRollup,
    ConsumerRollup,
    UsageEvent,
)
from usage.recorder import DatabaseSink, Recorder, RedisSink
from usage.stream import StreamAggregator

pytestmark = pytest.mark.django_db


class Entry:
    """The parts of a subscription's KeyEntry the recorder reads."""

    subscription_id, product_id, user_id, client_id = 9, 4, None, "app-9"


class Route:
    api_id = 3


class Op:
    slug = "get-pet"


def _call(status: int = 200, check: str = "", backend: bool = True, **state: Any) -> dict:
    now = time.perf_counter()
    return {"status": status, "check": check, "client": "-", "in": 10, "out": 100,
            "route": Route(), "op": Op(), **({"b0": now - 0.001} if backend else {}),
            **state}  # fmt: skip


def _record(recorder: Recorder, *calls: dict[str, Any]) -> None:
    """The calls recorded on a loop, then written from this thread (the test's database)."""

    async def serve() -> None:
        for state in calls:
            recorder.record({"type": "http"}, state, time.perf_counter() - 0.002, 0.002)
        assert isinstance(recorder._task, asyncio.Task)
        recorder._task.cancel()  # the flusher: the write is this thread's

    asyncio.run(serve())
    recorder.flush()


@pytest.fixture
def no_redis(settings: Any) -> None:
    settings.USAGE_RECORDING = True
    settings.USAGE_RAW_EVENTS = False
    settings.REDIS_URL = settings.GATEWAY_REDIS_URL = ""


def test_without_redis_the_gateway_writes_its_cells_into_every_rollup_table_and_level(
    no_redis: None, django_user_model: Any
) -> None:
    from applications.models import Application

    owner = django_user_model.objects.create_user("ada")
    Application.objects.create(owner=owner, name="App", kind="machine", client_id="app-9")
    recorder = Recorder(DatabaseSink)
    _record(
        recorder,
        _call(), _call(), _call(status=502), _call(status=404, check="operation", backend=False),
        _call(status=404, check="route", backend=False, route=None, op=None, entry=None),
        *[_call(entry=Entry())] * 2,
    )  # fmt: skip
    assert recorder.written == 7 and recorder.dropped == 0
    for level in (MINUTE, HOUR, DAY):
        pet = ApiRollup.objects.get(level=level, api_id=3, operation="get-pet", product_id=0)
        assert (pet.success, pet.blocked, pet.failed, pet.other) == (2, 1, 1, 0)
        assert (pet.bytes_in, pet.bytes_out, pet.backend_count) == (40, 400, 3)
        assert pet.total_ms_min == pet.total_ms_max == pytest.approx(2.0)
        assert ApiRollup.objects.get(level=level, product_id=4).success == 2
        unmatched = ApiRollup.objects.get(level=level, api_id=0)
        assert (unmatched.blocked, unmatched.backend_ms_min) == (1, None)
        # The subscription's calls carry its product and its application's client; the
        # developer is filled from the application, as the aggregator does.
        mine = ConsumerRollup.objects.get(level=level, subscription_id=9)
        assert (mine.success, mine.product_id, mine.client_id, mine.user_id) == (
            2,
            4,
            "app-9",
            owner.pk,
        )
    assert totals(ConsumerOperationRollup, level=DAY)["success"] == 4
    assert not UsageEvent.objects.exists()  # no raw events unless asked for


def test_a_cell_of_a_day_before_today_makes_the_closed_days_totals_obsolete(
    no_redis: None,
) -> None:
    yesterday = int(time.time()) // 86400 * 86400 - 3600
    vec = cells.empty()
    cells.add(vec, 0, 5.0, None, 0, 10)
    DatabaseSink().write_cells({(yesterday, 0, "", 0, 1, "", 0): vec})
    first = ClosedDaysVersion.objects.get(pk=1).token
    today = int(time.time()) // 60 * 60
    DatabaseSink().write_cells({(today, 0, "", 0, 1, "", 0): cells.from_row(vec)})
    assert ClosedDaysVersion.objects.get(pk=1).token == first  # today's rows: still valid
    DatabaseSink().write_cells({(yesterday, 0, "", 0, 1, "", 0): cells.from_row(vec)})
    assert ClosedDaysVersion.objects.get(pk=1).token != first
    day = ApiRollup.objects.get(
        level=DAY, start=datetime.fromtimestamp(yesterday - yesterday % 86400, UTC)
    )
    assert day.success == 2


def test_the_store_down_drops_the_flushs_calls_and_counts_them(
    no_redis: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(cells: Any) -> int:
        raise ConnectionError("database is down")

    monkeypatch.setattr(aggregate, "write_rollups", down)
    recorder = Recorder(DatabaseSink)
    _record(recorder, _call(), _call(), _call(status=500))
    assert (recorder.dropped_failed, recorder.written) == (3, 0)
    assert not ApiRollup.objects.exists()


def test_the_aggregator_merges_cell_entries_and_event_entries_of_older_gateways(
    settings: Any, redis_url: str, redis_client: Any
) -> None:
    settings.USAGE_RECORDING, settings.USAGE_RAW_EVENTS = True, False
    recorder = Recorder(lambda: RedisSink(redis_url))
    _record(recorder, *[_call()] * 5, _call(status=401, check="exp", backend=False))
    _xadd(redis_client, [event(api_id=3, operation="get-pet")] * 4)  # a gateway of before
    assert redis_client.xlen(stream.STREAM) == 2  # one entry per flush, one per batch
    agg = StreamAggregator(redis_client, consumer="agg")
    assert agg.run_once() == 10
    assert agg.run_once() == 0  # each entry once
    for level in (MINUTE, HOUR, DAY):
        rows = ApiRollup.objects.filter(level=level, api_id=3, operation="get-pet")
        assert sum(r.success for r in rows) == 9 and sum(r.blocked for r in rows) == 1


def test_cells_a_reader_cannot_read_are_skipped_and_the_rest_count(redis_client: Any) -> None:
    vec = cells.empty()
    cells.add(vec, 0, 3.0, 1.0, 5, 50)
    good = [int(time.time()) // 60 * 60, 0, "", 0, 7, "op", 0, *vec]
    bad = [good[:5], [*good[:7], "x", *vec[1:]], "junk", {"a": 1}]
    redis_client.xadd(stream.STREAM, {"c": orjson.dumps([*bad, good])})
    redis_client.xadd(stream.STREAM, {"c": b"not json"})
    assert StreamAggregator(redis_client, consumer="agg").run_once() == 1
    row = ApiRollup.objects.get(level=MINUTE, api_id=7)
    assert (row.success, row.bytes_out, row.backend_ms_max, row.total_ms_min) == (1, 50, 1.0, 3.0)
    assert ConsumerRollup.objects.get(level=DAY).success == 1

"""The Redis stream's bound never loses an event uncounted: when the stream holds
USAGE_STREAM_MAXLEN entries the gateway drops (and counts) new events instead of trimming
entries no aggregator has read, and aggregators trim only what every consumer group has
acknowledged, so the bound frees up as they count."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.usage.conftest import event
from tests.usage.test_aggregate import _xadd, totals
from usage import stream
from usage.models import DAY, ApiRollup
from usage.recorder import Recorder, RedisSink
from usage.stream import StreamAggregator

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["cells", "raw-events"])
def gateway(
    request: pytest.FixtureRequest, settings: Any, redis_url: str, redis_client: Any
) -> Recorder:
    """A gateway's recorder writing to a stream bounded to 50 entries: summed cells, one
    entry per write (the default), or raw events, one entry per event (USAGE_BATCH=1)."""
    settings.USAGE_RECORDING = True
    settings.USAGE_RAW_EVENTS = request.param
    settings.USAGE_BATCH = 1
    settings.USAGE_STREAM_MAXLEN = 50
    settings.GATEWAY_REDIS_URL = redis_url
    return Recorder(lambda: RedisSink(redis_url))


def _calls(recorder: Recorder, n: int) -> None:
    """`n` answered calls recorded by the gateway, each written to the stream on its own (one
    entry each, as if each came in a flush interval of its own)."""

    async def serve() -> None:
        for _ in range(n):
            recorder.record({"type": "http", "client": ("10.0.0.7", 1)}, {"status": 200},
                            time.perf_counter(), 0.002)  # fmt: skip
            recorder.flush()
        await recorder.aclose()  # stops the flusher task; nothing is left to write

    asyncio.run(serve())


def _drain(agg: StreamAggregator) -> None:
    while agg.run_once():
        pass


def _counted() -> int:
    return totals(ApiRollup, level=DAY)["success"]


def test_events_past_the_bound_are_dropped_and_counted_never_lost(
    gateway: Recorder, redis_client: Any
) -> None:
    # No aggregator is running: 300 calls meet a stream bounded to 50 entries.
    _calls(gateway, 300)
    StreamAggregator(redis_client, consumer="late").ensure_group()
    _drain(StreamAggregator(redis_client, consumer="late"))
    # Every call is either in the rollups or in the gateway's dropped counter.
    assert _counted() + gateway.dropped == 300
    assert _counted() == 50 and gateway.written == 50


def test_the_aggregator_trims_what_it_counted_so_the_gateway_can_write_again(
    gateway: Recorder, redis_client: Any
) -> None:
    agg = StreamAggregator(redis_client, consumer="agg")
    agg.ensure_group()
    for _ in range(4):  # 4 x 40 calls: more than the bound in all, never at once
        _calls(gateway, 40)
        _drain(agg)
    assert gateway.dropped == 0
    assert _counted() == 160
    assert redis_client.xlen(stream.STREAM) == 0


def test_the_aggregator_keeps_entries_another_group_or_a_dead_consumer_has_not_acknowledged(
    redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    agg = StreamAggregator(redis_client, consumer="agg", count=1)
    agg.ensure_group()
    # A second group (another deployment's aggregators) created at the stream's start.
    redis_client.xgroup_create(stream.STREAM, "other-group", id="0")
    for _ in range(3):
        _xadd(redis_client, [event()] * 2)
    # A dead consumer of our group holds the first entry unacknowledged.
    redis_client.xreadgroup(stream.GROUP, "dead", {stream.STREAM: ">"}, count=1)
    _drain(agg)
    assert _counted() == 4
    assert redis_client.xlen(stream.STREAM) == 3  # the other group has read none
    # The other group acknowledges everything: the dead consumer's entry, the oldest,
    # still holds the stream (trimming removes only a prefix).
    read = redis_client.xreadgroup("other-group", "o", {stream.STREAM: ">"})
    redis_client.xack(stream.STREAM, "other-group", *[eid for eid, _ in read[0][1]])
    agg.trim()
    assert redis_client.xlen(stream.STREAM) == 3
    # Claimed once its consumer is presumed dead, it is counted, and then nothing is left.
    monkeypatch.setattr(stream, "CLAIM_IDLE_MS", 0)
    _drain(agg)
    assert _counted() == 6
    assert redis_client.xlen(stream.STREAM) == 0

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.usage.conftest import T0, event
from usage import stream
from usage.aggregate import aggregate_events, aggregate_pending
from usage.models import (
    DAY,
    HOUR,
    MINUTE,
    ApiRollup,
    ConsumerOperationRollup,
    ConsumerRollup,
    UsageEvent,
)
from usage.stream import StreamAggregator

pytestmark = pytest.mark.django_db


def at(level: int) -> datetime:
    """The start of T0's minute, hour or day."""
    seconds = {MINUTE: 60, HOUR: 3600, DAY: 86400}[level]
    return datetime.fromtimestamp(T0 - T0 % seconds, UTC)


def totals(model: Any, **filters: Any) -> dict[str, Any]:
    rows = list(model.objects.filter(**filters))
    return {
        "rows": len(rows),
        "success": sum(r.success for r in rows),
        "blocked": sum(r.blocked for r in rows),
        "failed": sum(r.failed for r in rows),
        "other": sum(r.other for r in rows),
        "bytes_out": sum(r.bytes_out for r in rows),
    }


def test_every_outcome_is_counted_at_every_level_in_every_table() -> None:
    aggregate_events(
        [
            event(outcome="success"),
            event(outcome="success", total_ms=3.0),
            event(outcome="blocked", status=401, check="jwt", backend_ms=None),
            event(outcome="failed", status=502),
            event(outcome="other", status=404),
            # Refused before any API matched: no API, operation or product.
            event(api_id=None, operation="", product_id=None, outcome="blocked", check="path",
                  status=404, backend_ms=None),
        ]
    )  # fmt: skip
    for level in (MINUTE, HOUR, DAY):
        api = ApiRollup.objects.get(level=level, start=at(level), api_id=1, operation="get-pet")
        assert (api.success, api.blocked, api.failed, api.other) == (2, 1, 1, 1)
        assert api.bytes_out == 5000 and api.backend_count == 4
        assert (api.total_ms_min, api.total_ms_max, api.total_ms_sum) == (3.0, 12.0, 51.0)
        unmatched = ApiRollup.objects.get(level=level, api_id=0)
        assert (unmatched.blocked, unmatched.operation, unmatched.product_id) == (1, "", 0)
        assert unmatched.backend_ms_min is None
        assert totals(ConsumerRollup, level=level)["blocked"] == 2
    for level in (HOUR, DAY):
        assert totals(ConsumerOperationRollup, level=level)["success"] == 2
    # Operations are not kept per consumer by the minute (the widest table).
    assert not ConsumerOperationRollup.objects.filter(level=MINUTE).exists()


def test_batches_add_into_the_same_rows_and_split_at_bucket_edges() -> None:
    aggregate_events([event(), event(ts=T0 + 60)])  # the next minute, same hour
    aggregate_events([event(total_ms=700.0, backend_ms=None)])
    assert totals(ApiRollup, level=MINUTE) == {
        "rows": 2, "success": 3, "blocked": 0, "failed": 0, "other": 0, "bytes_out": 3000,
    }  # fmt: skip
    hour = ApiRollup.objects.get(level=HOUR)
    assert (hour.success, hour.total_ms_max, hour.backend_ms_max) == (3, 700.0, 10.0)
    # Two calls of 12 ms in the 10-20 ms bucket, one of 700 ms in the 500-1000 ms one.
    assert (hour.h4, hour.h12) == (2, 1)


def test_the_developer_is_filled_from_the_subscription_or_the_application(
    django_user_model: Any,
) -> None:
    from applications.models import Application
    from products.models import Product, Subscription

    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    product = Product.objects.create(slug="p", name="P")
    sub = Subscription.objects.create(
        owner=alice, product=product, primary_hash="a", secondary_hash="b"
    )
    Application.objects.create(owner=bob, name="App", kind="machine", client_id="bob-app")
    aggregate_events(
        [event(subscription_id=sub.pk), event(client_id="bob-app"), event(client_id="gone")]
    )
    by_user = {r.user_id: r.success for r in ConsumerRollup.objects.filter(level=DAY)}
    assert by_user == {alice.pk: 1, bob.pk: 1, 0: 1}


def test_raw_events_are_aggregated_once_and_marked() -> None:
    when = datetime.fromtimestamp(T0, UTC)
    UsageEvent.objects.bulk_create(
        [UsageEvent(ts=when, api_id=1, operation="op", status=200, outcome="success",
                    total_ms=5.0, bytes_out=10) for _ in range(7)]
    )  # fmt: skip
    assert aggregate_pending(limit=5) == 5
    assert aggregate_pending(limit=5) == 2
    assert aggregate_pending(limit=5) == 0
    assert not UsageEvent.objects.filter(aggregated=False).exists()
    row = ApiRollup.objects.get(level=MINUTE)
    assert (row.success, row.bytes_out, row.start) == (7, 70, at(MINUTE))


def _xadd(client: Any, events: list[dict[str, Any]]) -> None:
    client.xadd(stream.STREAM, {"e": json.dumps(events)})


def test_two_gateways_and_two_aggregators_count_each_event_once(redis_client: Any) -> None:
    # Two gateway processes write batches to the stream, interleaved with two aggregators.
    first = StreamAggregator(redis_client, consumer="agg-1", count=2)
    second = StreamAggregator(redis_client, consumer="agg-2", count=2)
    sent = 0
    for round_ in range(5):
        for gateway in ("gw-1", "gw-2"):
            batch = [event(client_id=gateway, bytes_out=round_) for _ in range(10)]
            _xadd(redis_client, batch)
            sent += len(batch)
        first.run_once()
        second.run_once()
    while first.run_once() + second.run_once():
        pass
    assert totals(ApiRollup, level=HOUR)["success"] == sent == 100
    assert totals(ConsumerRollup, level=DAY)["success"] == 100
    assert redis_client.xpending(stream.STREAM, stream.GROUP)["pending"] == 0


def test_an_entry_left_by_a_dead_aggregator_is_claimed_and_not_counted_twice(
    redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "CLAIM_IDLE_MS", 0)
    _xadd(redis_client, [event()] * 3)
    _xadd(redis_client, [event()] * 4)
    dying = StreamAggregator(redis_client, consumer="dying", count=1)
    # It commits the rollups of the first entry, then dies before XACK.
    monkeypatch.setattr(dying.redis, "xack", lambda *a: (_ for _ in ()).throw(ConnectionError))
    with pytest.raises(ConnectionError):
        dying.run_once()
    monkeypatch.undo()
    monkeypatch.setattr(stream, "CLAIM_IDLE_MS", 0)
    survivor = StreamAggregator(redis_client, consumer="survivor", count=10)
    survivor.run_once()
    assert totals(ApiRollup, level=DAY)["success"] == 7
    assert redis_client.xpending(stream.STREAM, stream.GROUP)["pending"] == 0


def test_an_entry_whose_transaction_failed_is_counted_by_the_next_aggregator(
    redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _xadd(redis_client, [event()] * 3)
    dying = StreamAggregator(redis_client, consumer="dying")
    monkeypatch.setattr(stream, "write_rollups", lambda cells: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        dying.run_once()
    monkeypatch.undo()
    monkeypatch.setattr(stream, "CLAIM_IDLE_MS", 0)
    StreamAggregator(redis_client, consumer="next").run_once()
    assert totals(ApiRollup, level=DAY)["success"] == 3


def _concurrently(*works: Any) -> list[Any]:
    """Run each callable in its own thread (own database connection) at once."""
    import threading

    from django.db import connection

    results: list[Any] = [None] * len(works)
    errors: list[BaseException] = []

    def run(i: int, work: Any) -> None:
        try:
            results[i] = work()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def _drain_table() -> int:
    total = 0
    while n := aggregate_pending(limit=40):
        total += n
    return total


@pytest.mark.django_db(transaction=True)
def test_two_aggregators_at_once_on_the_raw_table_count_each_event_once(tmp_path: Any) -> None:
    from tests.products.realdb import on_a_database_file

    when = datetime.fromtimestamp(T0, UTC)
    with on_a_database_file(tmp_path):

        def gateway(name: str) -> None:
            for _ in range(5):
                UsageEvent.objects.bulk_create(
                    [UsageEvent(ts=when, client_id=name, status=200, outcome="success",
                                total_ms=1.0) for _ in range(60)]
                )  # fmt: skip

        _concurrently(lambda: gateway("gw-1"), lambda: gateway("gw-2"))
        counted = _concurrently(_drain_table, _drain_table)
        assert sum(counted) == 600
        rows = _concurrently(lambda: list(ApiRollup.objects.filter(level=DAY)))[0]
        assert [r.success for r in rows] == [600]
        by_client = _concurrently(
            lambda: {r.client_id: r.success for r in ConsumerRollup.objects.filter(level=HOUR)}
        )[0]
        assert by_client == {"gw-1": 300, "gw-2": 300}


@pytest.mark.django_db(transaction=True)
def test_two_aggregators_at_once_on_the_stream_count_each_event_once(
    redis_client: Any, redis_url: str, tmp_path: Any, settings: Any
) -> None:
    import redis

    settings.USAGE_AGGREGATE_BATCH = 30  # small transactions, so both aggregators take some

    from tests.products.realdb import on_a_database_file

    with on_a_database_file(tmp_path):

        def gateway(name: str) -> None:
            client = redis.Redis.from_url(redis_url)
            for _ in range(20):
                _xadd(client, [event(client_id=name)] * 15)

        def aggregator(name: str) -> int:
            agg = StreamAggregator(redis.Redis.from_url(redis_url), consumer=name, count=3)
            total = idle = 0
            while idle < 3:  # until the stream stays empty for three reads in a row
                n = agg.run_once(block_ms=100)
                total, idle = total + n, 0 if n else idle + 1
            return total

        counted = _concurrently(
            lambda: gateway("gw-1"), lambda: gateway("gw-2"),
            lambda: aggregator("agg-1"), lambda: aggregator("agg-2"),
        )  # fmt: skip
        assert counted[2] + counted[3] == 600
        assert counted[2] and counted[3]  # both took a share
        rows = _concurrently(lambda: list(ApiRollup.objects.filter(level=MINUTE)))[0]
        assert [r.success for r in rows] == [600]


def test_an_aggregator_makes_its_group_again_after_redis_lost_it(redis_client: Any) -> None:
    import redis

    agg = StreamAggregator(redis_client, consumer="agg")
    agg.run_once()
    redis_client.flushdb()  # a Redis restarted without persistence
    _xadd(redis_client, [event()] * 2)
    with pytest.raises(redis.ResponseError):
        agg.run_once()
    assert agg.run_once() == 2


def test_a_batch_of_more_rollup_rows_than_one_statement_carries_counts_each_once() -> None:
    # 1,234 subscriptions: more rows per table than one upsert statement carries (500), and
    # a remainder; sent twice, so the second batch adds into the rows the first wrote.
    events = [event(subscription_id=s, total_ms=float(s % 7)) for s in range(1, 1235)]
    aggregate_events(events)
    aggregate_events(events + [event(subscription_id=1, outcome="blocked", backend_ms=None)])
    assert totals(ApiRollup, level=MINUTE)["success"] == 2468
    by_sub = {r.subscription_id: r for r in ConsumerRollup.objects.filter(level=DAY)}
    assert len(by_sub) == 1234
    assert {r.success for r in by_sub.values()} == {2}
    assert (by_sub[1].blocked, by_sub[6].total_ms_max, by_sub[7].total_ms_min) == (1, 6.0, 0.0)


def test_the_longest_operation_slug_and_an_overlong_client_id_fit_the_rollups() -> None:
    """A slug the importer makes is up to 300 characters (apis.Operation.slug) and a token's
    client id any length: the rollups held 200 and 100. PostgreSQL refused such a row, and
    with it the whole batch (every call of the flush or of the aggregator's transaction);
    SQLite stored it whole, past the column. Operations are kept whole now; a client id past
    100 characters (no application has one) is cut there, its calls summed under it."""
    from apis.models import Operation

    longest = Operation._meta.get_field("slug").max_length
    assert longest == 300
    op = "o" * longest
    aggregate_events(
        [
            event(operation=op, client_id="c" * 150),
            event(operation=op, client_id="c" * 100 + "d"),  # the same first 100 characters
            event(operation="get-pet", client_id="app-1"),
        ]
    )
    assert totals(ApiRollup, level=MINUTE, operation=op)["success"] == 2
    for model in (ConsumerRollup, ConsumerOperationRollup):
        rows = {r.client_id: r.calls for r in model.objects.filter(level=DAY)}
        assert rows == {"c" * 100: 2, "app-1": 1}
    assert ConsumerOperationRollup.objects.get(level=HOUR, client_id="c" * 100).operation == op


def test_an_entry_with_times_or_counts_no_table_can_hold_is_skipped_not_retried_forever(
    redis_client: Any,
) -> None:
    """A cell or event whose minute is past datetime's years (a writer with a broken clock,
    or a broken writer) or whose count is past BIGINT failed the whole transaction: its
    entry, and every entry read with it, went back pending and failed again at each claim,
    so usage stopped being counted. Such a cell or event is skipped; the rest count."""
    from usage.cells import FIELD, empty

    def cell(minute: int, calls: int) -> list[Any]:
        vec = [None if v in (float("inf"), float("-inf")) else v for v in empty()]
        vec[0] = calls
        return [minute, 0, "", 0, 1, "get-pet", 2, *vec]

    minute = int(T0) // 60 * 60
    cells = [cell(minute, 2), cell(10**13, 2), cell(minute + 60, 2**70)]
    redis_client.xadd(stream.STREAM, {FIELD: json.dumps(cells)})
    _xadd(redis_client, [event(), event(ts=1e15), event(bytes_out=2**70), event(ts=-1e15)])
    _xadd(redis_client, [event()])
    agg = StreamAggregator(redis_client, consumer="agg", count=10)
    while agg.run_once():
        pass
    assert totals(ApiRollup, level=MINUTE)["success"] == 4
    assert redis_client.xpending(stream.STREAM, stream.GROUP)["pending"] == 0

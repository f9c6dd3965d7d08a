"""The reports' plain-SQL sums (usage/rollup_sql.py) give what the ORM's aggregates gave:
the same numbers, as int for counts and bytes, float for times, None where no row is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import Max, Min, Q, Sum

from tests.usage.conftest import T0, event
from usage import rollup_sql
from usage.aggregate import aggregate_events
from usage.models import DAY, HOUR, MINUTE, ConsumerRollup

pytestmark = pytest.mark.django_db

HOUR0 = int(T0) // 3600 * 3600
DAY0 = int(T0) // 86400 * 86400
SPANS = [(DAY, DAY0 - 86400, DAY0), (HOUR, DAY0, HOUR0), (MINUTE, HOUR0, HOUR0 + 3600)]


@pytest.fixture
def traffic() -> None:
    aggregate_events(
        [event(ts=T0, subscription_id=7, user_id=70, total_ms=float(ms)) for ms in range(1, 40)]
        + [event(ts=T0 - 7200, subscription_id=8, user_id=80, outcome="failed", status=502,
                 total_ms=900.5, backend_ms=None, bytes_out=3_000_000_000)] * 3
        + [event(ts=T0 - 86400, subscription_id=7, user_id=70, api_id=2, outcome="blocked",
                 check="quota", backend_ms=None)] * 4
        + [event(ts=T0 - 3 * 86400, subscription_id=9, user_id=90)]  # outside the spans
    )  # fmt: skip


def _orm(where: Q, group: tuple[str, ...]) -> dict[tuple[Any, ...], dict[str, Any]]:
    spans = Q()
    for level, a, b in SPANS:
        spans |= Q(
            level=level,
            start__gte=datetime.fromtimestamp(a, UTC),
            start__lt=datetime.fromtimestamp(b, UTC),
        )
    aggregates: dict[str, Any] = {
        name: Sum(name) for name in (*rollup_sql.INTEGERS, *rollup_sql.FLOAT_SUMS)
    }
    aggregates |= {name: Min(name) for name in rollup_sql.MINIMA}
    aggregates |= {name: Max(name) for name in rollup_sql.MAXIMA}
    qs = ConsumerRollup.objects.filter(spans).filter(where)
    if not group:
        return {(): qs.aggregate(**aggregates)}
    return {tuple(r[g] for g in group): r for r in qs.values(*group).annotate(**aggregates)}


def _plain(where: dict[str, Any], group: tuple[str, ...], **kw: Any) -> dict[Any, Any]:
    select = rollup_sql.measures()
    rows = rollup_sql.grouped(ConsumerRollup, SPANS, where, group, select, **kw)
    n = len(group)
    return {tuple(r[:n]): dict(zip((*group, *select), r, strict=True)) for r in rows}


def _typed(answer: dict[Any, Any]) -> dict[Any, Any]:
    return {key: {k: (v, type(v)) for k, v in row.items()} for key, row in answer.items()}


@pytest.mark.parametrize(
    ("where", "orm_where", "group"),
    [
        ({}, Q(), ()),
        ({}, Q(), ("subscription_id",)),
        ({"api_id": frozenset({1})}, Q(api_id__in=[1]), ("user_id", "api_id")),
        ({"subscription_id": 8}, Q(subscription_id=8), ()),
        ({"subscription_id": 404}, Q(subscription_id=404), ()),  # no row: every sum None
    ],
)
def test_plain_sums_equal_the_orms(
    traffic: None, where: dict[str, Any], orm_where: Q, group: tuple[str, ...]
) -> None:
    assert _typed(_plain(where, group)) == _typed(_orm(orm_where, group))


def test_counts_come_as_int_and_times_as_float(traffic: None) -> None:
    (row,) = _plain({}, ()).values()
    assert row["success"] == 39 and type(row["success"]) is int
    assert row["bytes_out"] == 9_000_000_000 + 43 * 1000  # past 32 bits
    assert row["failed"] == 3 and row["blocked"] == 4
    assert row["total_ms_max"] == 900.5 and type(row["total_ms_sum"]) is float


def test_only_the_winners_are_read(traffic: None) -> None:
    assert set(_plain({}, ("subscription_id",), keys=[(8,)])) == {(8,)}
    both = _plain({}, ("user_id", "api_id"), keys=[(70, 2), (80, 1)])
    assert set(both) == {(70, 2), (80, 1)}


def test_no_visible_api_and_no_span_read_nothing(traffic: None) -> None:
    assert _plain({"api_id": frozenset()}, ()) == {}
    assert rollup_sql.grouped(ConsumerRollup, [], {}, (), rollup_sql.measures()) == []


def test_one_products_winners_are_read_through_the_products_index(traffic: None) -> None:
    """Most calls may have no application (client "") or no subscription (0): SQLite, which
    knows no value's frequency, must not walk those winners' index beside a product filter."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    where = {"product_id": 2}
    with CaptureQueriesContext(connection) as queries:
        rows = _plain(where, ("subscription_id",), keys=[(7,), (8,)])
    assert set(rows) == {(7,), (8,)} and rows[(8,)]["failed"] == 3
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + queries[-1]["sql"])
        plan = [row[3] for row in cursor.fetchall()]
    assert any("usage_cons_product" in step for step in plan), plan


@pytest.mark.parametrize("column", ["product_id", "subscription_id", "client_id", "user_id"])
def test_one_keys_rows_are_read_only_within_the_spans(traffic: None, column: str) -> None:
    """A 30-day chart in local days ORs some 60 spans (a day and an edge hour each). With
    the product (or consumer) outside the OR, SQLite searched that key's index on the key
    alone and read every row it ever had, minutes and all: 70 to 90 ms of a product's
    30-day report, against 2 to 4 ms reading each span through the index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    value: Any = "" if column == "client_id" else 8
    with CaptureQueriesContext(connection) as queries:
        rows = _plain({column: value}, ())
    if column == "subscription_id":
        assert rows[()]["failed"] == 3  # the same sums as before
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + queries[-1]["sql"])
        plan = [row[3] for row in cursor.fetchall()]
    searches = [step for step in plan if step.startswith("SEARCH")]
    assert searches and all(f"{column}=? AND level=? AND start>" in step for step in searches), plan

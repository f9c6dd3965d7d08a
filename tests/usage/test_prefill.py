"""The aggregator pre-fills the reports' past days (usage/prefill.py): a portal's first
request of a default report then sums only today, with the same numbers, and a late event
in a past day still shows at once."""

from __future__ import annotations

import pickle
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from products.visibility import DRAFT_PERMISSION
from tests.usage.conftest import event
from usage import closed, pages, prefill, reports, windows
from usage.aggregate import aggregate_events
from usage.models import KeptTotal

pytestmark = pytest.mark.django_db


def _new_portal_process() -> None:
    """What a portal process that never saw these totals has: no cache, no answers of its own."""
    cache.clear()
    closed.forget_local()


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    _new_portal_process()
    prefill._last.update(at=0.0, failed=0.0)
    prefill._done.clear()
    yield
    prefill._last.update(at=0.0, failed=0.0)
    prefill._done.clear()


@pytest.fixture
def reader(django_user_model: Any) -> Any:
    """Staff who may read the reports and see every API (the made-up ids name none)."""
    user = django_user_model.objects.create(username="reader", is_staff=True)
    for codename in ("view_reports", DRAFT_PERMISSION.split(".")[1]):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def traffic() -> None:
    past = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    aggregate_events(
        [event(ts=past, subscription_id=7, user_id=70, total_ms=30.0)] * 6
        + [event(ts=past, subscription_id=8, user_id=80)] * 2
        + [event(ts=datetime.now(UTC).timestamp(), subscription_id=8, user_id=80)] * 3
    )


def _week(reader: Any) -> reports.UsageFilter:
    window = windows.preset_window("7d", timezone.now(), UTC)
    return pages.usage_filter(window, api_ids=pages.viewer_api_ids(reader))


def _rollup_reads(work: Any) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        answer = work()
    return answer, sum("rollup" in q["sql"] for q in queries)


def test_a_first_request_after_the_prefill_reads_only_today(reader: Any, traffic: None) -> None:
    f = _week(reader)
    cold, cold_reads = _rollup_reads(lambda: reports.ranked(f, "subscription", "calls"))
    _new_portal_process()
    assert prefill.prefill() > 0
    _new_portal_process()
    first, first_reads = _rollup_reads(lambda: reports.ranked(f, "subscription", "calls"))
    assert [(r.key, r.calls, r.p50_ms, r.bytes_out) for r in first] == [
        (r.key, r.calls, r.p50_ms, r.bytes_out) for r in cold
    ]
    assert [(r.key, r.calls) for r in first] == [(7, 6), (8, 5)]
    # Today's sums and the winners' today, and the same of the week's first hour (its start
    # moves every minute: never pre-filled), no other past hour or day. Asked in a UTC day's
    # last minute, the week is seven whole days from a midnight: no first hour to read.
    whole_days = f.start.timestamp() % 86400 == 0
    assert first_reads == (2 if whole_days else 4) < cold_reads


@pytest.mark.parametrize(
    ("range_key", "by"),
    [("30d", "developer"), ("7d", "subscription"), ("7d", "operation"), ("24h", "developer")],
    # the past traffic is 3 days old: the 24-hour page shows today's 3 calls only
)
def test_the_first_report_page_after_the_prefill_shows_the_same(
    client: Any, reader: Any, traffic: None, range_key: str, by: str
) -> None:
    """The page a new portal process builds from the pre-filled past days is the one built
    from the rollups: the same figures, table rows and chart buckets."""
    client.force_login(reader)
    url = f"/usage/reports/?range={range_key}&by={by}"

    def shown() -> Any:
        page = client.get(url).context["page"]
        return page.stats, page.ranked, [b.total for b in page.buckets]

    before, before_reads = _rollup_reads(shown)
    _new_portal_process()
    prefill.prefill()
    _new_portal_process()
    after, after_reads = _rollup_reads(shown)
    assert after == before
    if by == "developer" and range_key == "30d":
        assert [(row.label, row.cells[0]) for row in before[1]] == [
            ("70 (deleted)", "6"),
            ("80 (deleted)", "5"),
        ]
    assert before[1] and sum(before[2]) == (11 if range_key != "24h" else 3)
    if range_key == "24h":
        # A 24-hour window holds at most part of yesterday, which no kept day total answers:
        # fewer reads or (late in the day, yesterday's last hour alone) the same.
        assert after_reads <= before_reads
    else:
        assert after_reads < before_reads
    assert KeptTotal.objects.exists()


def test_a_late_event_after_the_prefill_shows_at_once(reader: Any, traffic: None) -> None:
    prefill.prefill()
    _new_portal_process()
    past = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    aggregate_events([event(ts=past, subscription_id=8, user_id=80)] * 4)  # a new token
    assert [(r.key, r.calls) for r in reports.ranked(_week(reader), "subscription", "calls")] == [
        (8, 9),
        (7, 6),
    ]


def test_requests_never_write_the_stored_totals(reader: Any, traffic: None) -> None:
    reports.ranked(_week(reader), "subscription", "calls")
    assert not KeptTotal.objects.exists()


def test_the_aggregator_prefills_once_an_hour_and_after_a_new_token(reader: Any,
                                                                    traffic: None) -> None:  # fmt: skip
    hour = int(datetime.now(UTC).timestamp()) // 3600 * 3600
    prefill.when_due(hour + 60)
    assert KeptTotal.objects.exists()
    KeptTotal.objects.all().delete()
    prefill.when_due(hour + 120)  # the same hour and token: nothing to do
    assert not KeptTotal.objects.exists()
    closed.bump()
    prefill.when_due(hour + 180)  # a new token, but the last pre-fill was moments ago
    assert not KeptTotal.objects.exists()
    prefill.when_due(hour + 180 + prefill.RETRY_AFTER_SECONDS)
    assert KeptTotal.objects.exists()


def test_the_next_hour_is_prefilled_before_it_starts(
    reader: Any, traffic: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten minutes before the hour, the aggregator pre-fills what that hour's first requests
    will ask: a 24-hour ranking asked in the new hour then reads only today's rows."""
    now = datetime.now(UTC)
    hour = int(now.timestamp()) // 3600 * 3600
    if (hour + 3600) % 86400 == 0:
        pytest.skip("the next hour starts a day: its totals wait for the day to close")
    # Which days are closed follows the clock (closed.GRACE_SECONDS after midnight yesterday
    # is still open), so the pre-fill and the request each see it at the time they play.
    clock = [float(hour + 3600 - prefill.AHEAD_SECONDS + 1)]
    monkeypatch.setattr(closed, "time", types.SimpleNamespace(time=lambda: clock[0]))
    prefill.when_due(clock[0])
    _new_portal_process()
    clock[0] = hour + 3600 + 1
    window = windows.preset_window("24h", datetime.fromtimestamp(hour + 3600, UTC), UTC)
    f = pages.usage_filter(window, api_ids=None)
    _, reads = _rollup_reads(lambda: reports.ranked(f, "subscription", "calls"))
    assert reads == 4  # today's sums and the winners' today, and of the first partial hour


def test_stored_totals_no_request_asks_for_go(reader: Any, traffic: None) -> None:
    prefill.prefill()
    n = KeptTotal.objects.count()
    assert closed.forget_stale(datetime.now(UTC).timestamp() + 1) == 0
    later = datetime.now(UTC).timestamp() + closed.STORED_SECONDS + 1
    assert closed.forget_stale(later) == n


def test_an_unknown_prefill_zone_is_a_configuration_error(settings: Any) -> None:
    from usage.checks import check_settings

    settings.USAGE_PREFILL_ZONES = ["Europe/Paris", "Mars/Olympus"]
    assert [e.id for e in check_settings()] == ["usage.E003"]
    settings.USAGE_PREFILL_ZONES = ["Europe/Paris"]
    assert check_settings() == []


def test_an_anonymised_developer_leaves_no_stored_totals(reader: Any, traffic: None,
                                                         django_user_model: Any) -> None:  # fmt: skip
    """Rankings by developer are stored under the developer's id: a new token (here, the
    developer deleted and anonymised) deletes every stored total in the same transaction."""
    from usage.anonymise import forget_user

    ada = django_user_model.objects.create(username="ada")
    past = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    aggregate_events([event(ts=past, user_id=ada.pk)] * 4)
    prefill.prefill()
    stored = [pickle.loads(t.value) for t in KeptTotal.objects.all()]
    assert any(isinstance(v, dict) and (ada.pk,) in v for v in stored)  # ranked by developer
    forget_user(ada, "anonymise")
    assert not KeptTotal.objects.exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's autovacuum analyzes")
def test_the_prefill_gives_sqlite_the_rollup_tables_statistics(reader: Any, traffic: None) -> None:
    """Without them SQLite picks an index by its first column: a product's report ranked by
    application then read every row of the calls made without an application."""
    prefill.prefill()
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        analyzed = {row[0] for row in cursor.fetchall()}
    assert {"usage_apirollup", "usage_consumerrollup", "usage_consumeroperationrollup"} <= analyzed

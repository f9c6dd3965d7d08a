from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache

from tests.usage.conftest import T0, event
from usage.aggregate import aggregate_events
from usage.reports import UsageFilter, ranked, series, step_for, summary

pytestmark = pytest.mark.django_db

START = datetime.fromtimestamp(T0, UTC).replace(minute=0, second=0)


def day(**fields: Any) -> UsageFilter:
    return UsageFilter(start=START - timedelta(hours=12), end=START + timedelta(hours=12), **fields)


@pytest.fixture
def traffic() -> None:
    aggregate_events(
        [event(total_ms=float(ms), subscription_id=7, client_id="app-7", user_id=70)
         for ms in range(1, 101)]
        + [event(api_id=2, operation="list", outcome="failed", status=502, total_ms=900.0,
                 subscription_id=8, user_id=80, ts=T0 + 3600)] * 10
        + [event(api_id=None, operation="", product_id=None, outcome="blocked", check="path",
                 backend_ms=None, ts=T0 - 7200)] * 5
    )  # fmt: skip


def test_step_follows_the_range() -> None:
    assert step_for(START, START + timedelta(hours=1)) == "minute"
    assert step_for(START, START + timedelta(hours=24)) == "hour"
    assert step_for(START, START + timedelta(days=7)) == "hour"
    assert step_for(START, START + timedelta(days=30)) == "day"


def test_series_has_every_bucket_split_by_outcome(traffic: None) -> None:
    points = series(day(), "hour")
    assert len(points) == 24 and points[0].start == START - timedelta(hours=12)
    by_hour = {p.start: p for p in points}
    assert by_hour[START].success == 100
    assert by_hour[START + timedelta(hours=1)].failed == 10
    assert by_hour[START - timedelta(hours=2)].blocked == 5
    assert sum(p.calls for p in points) == 115
    minutes = series(UsageFilter(START, START + timedelta(hours=1)), "minute")
    assert len(minutes) == 60 and minutes[20].success == 100


def test_summary_counts_rates_and_percentiles(traffic: None) -> None:
    s = summary(day())
    assert (s.calls, s.success, s.failed, s.blocked) == (115, 100, 10, 5)
    assert s.error_rate == pytest.approx(15 / 115)
    assert (s.total_ms_min, s.total_ms_max) == (1.0, 900.0)
    # 100 calls of 1..100 ms plus 10 of 900 ms and 5 of 12 ms: the median is near 55 ms.
    assert s.p50_ms is not None and 40 <= s.p50_ms <= 75
    assert s.p95_ms is not None and s.p95_ms > 500
    mine = summary(day(subscription_id=7))
    assert (mine.calls, mine.failed) == (100, 0)
    assert mine.p95_ms is not None and 75 <= mine.p95_ms <= 100


def test_hidden_apis_never_count(traffic: None) -> None:
    assert summary(day(api_ids=frozenset({2}))).calls == 10
    assert summary(day(api_ids=frozenset())).calls == 0
    assert ranked(day(api_ids=frozenset({2})), "api", "calls")[0].key == 2


def test_rankings(traffic: None) -> None:
    by_calls = ranked(day(), "api", "calls")
    assert [(r.key, r.calls) for r in by_calls] == [(1, 100), (2, 10), (0, 5)]
    assert by_calls[2].label == "(none)"
    assert [r.key for r in ranked(day(), "api", "errors")][:2] == [2, 0]
    assert ranked(day(), "api", "time")[0].key == 2
    ops = ranked(day(subscription_id=7), "operation", "calls")
    assert [(r.key, r.calls) for r in ops] == [("get-pet", 100)]
    devs = ranked(day(), "developer", "calls", limit=2)
    assert [(r.key, r.calls) for r in devs] == [(70, 100), (80, 10)]
    assert devs[0].label == "70 (deleted)"
    apps = ranked(day(), "application", "errors")
    assert {r.key for r in apps} == {"app-7", ""}


@pytest.mark.parametrize("span", [timedelta(hours=3), timedelta(days=7), timedelta(days=30)])
def test_totals_read_from_coarser_rows_match_the_chart(span: timedelta) -> None:
    # Calls every 5 hours over 40 days, some at the range's edges.
    aggregate_events(
        [event(ts=T0 - k * 5 * 3600 - 7 * 60, subscription_id=3) for k in range(200)]
        + [event(ts=T0 - k * 60, subscription_id=3) for k in range(200)]
    )
    for f in (
        UsageFilter(START + timedelta(minutes=20) - span, START + timedelta(minutes=20)),
        UsageFilter(START - span, START + timedelta(minutes=21), subscription_id=3),
        UsageFilter(START - span, START, subscription_id=3, operation="get-pet"),
    ):
        step = step_for(f.start, f.end)
        charted = sum(p.calls for p in series(f, step))
        assert charted > 0
        assert summary(f).calls == charted
        assert sum(r.calls for r in ranked(f, "operation", "calls")) == charted


@pytest.mark.parametrize("span", [timedelta(hours=5), timedelta(hours=24), timedelta(days=7)])
def test_totals_of_a_range_ending_now_match_the_chart(span: timedelta) -> None:
    """Ranges that end after now read today from its day row: the same numbers as the
    chart's hours, whatever the hour of the day."""
    now = datetime.now(UTC)
    aggregate_events(
        [event(ts=(now - timedelta(minutes=k * 23)).timestamp(), subscription_id=3 + k % 2)
         for k in range(500)]
    )  # fmt: skip
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for f in (UsageFilter(end - span, end), UsageFilter(end - span, end, subscription_id=3)):
        step = step_for(f.start, f.end)
        charted = sum(p.calls for p in series(f, step))
        assert charted > 0
        assert summary(f).calls == charted
        assert sum(r.calls for r in ranked(f, "subscription", "calls")) == charted


def _week_ending_now() -> UsageFilter:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return UsageFilter(end - timedelta(days=7), end)


def _calls_by(by: str) -> dict[Any, int]:
    return {r.key: r.calls for r in ranked(_week_ending_now(), by, "calls")}  # type: ignore[arg-type]


def test_rankings_keep_closed_days_and_see_late_events_in_them() -> None:
    """Past days' sums are kept between requests (the second ranking reads only today's
    rows and the winners' details), and a late event in a past day shows at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    aggregate_events(
        [event(ts=three_days_ago, subscription_id=7)] * 3
        + [event(ts=three_days_ago, subscription_id=8)] * 2
        + [event(ts=datetime.now(UTC).timestamp(), subscription_id=8)]
    )
    assert _calls_by("subscription") == {7: 3, 8: 3}
    f = _week_ending_now()
    assert summary(f).calls == sum(p.calls for p in series(f, "hour")) == 6
    with CaptureQueriesContext(connection) as queries:
        assert _calls_by("subscription") == {7: 3, 8: 3}
    grouped = [q["sql"] for q in queries if "usage_consumerrollup" in q["sql"]]
    assert len(grouped) == 2  # today's sums, the winners' details: no past day summed again
    aggregate_events([event(ts=three_days_ago, subscription_id=8, total_ms=400.0)] * 5)
    assert _calls_by("subscription") == {8: 8, 7: 3}
    # The summary and the chart's buckets of past days, kept too, see it as well.
    assert summary(f).calls == sum(p.calls for p in series(f, "hour")) == 11
    # The winners' details add past days (kept) and today: bytes, and 5 slow calls in 8.
    top = ranked(_week_ending_now(), "subscription", "calls")[0]
    assert top.bytes_out == 8 * 1000
    assert top.p50_ms is not None and 250 < top.p50_ms <= 500


def test_rankings_forget_a_deleted_developer_at_once(django_user_model: Any) -> None:
    from usage.anonymise import forget_user

    cache.clear()
    ada = django_user_model.objects.create(username="ada")
    aggregate_events(
        [event(ts=(datetime.now(UTC) - timedelta(days=2)).timestamp(), user_id=ada.pk)] * 4
    )
    assert _calls_by("developer") == {ada.pk: 4}
    forget_user(ada, "anonymise")
    assert _calls_by("developer") == {0: 4}


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"])
def test_local_days_from_day_rows_equal_the_summed_hours(zone: str) -> None:
    """Local days composed from UTC day rows and edge hours give every bucket the counts,
    bytes and latency histogram of its hours summed, across both 2026 DST changes."""
    from zoneinfo import ZoneInfo

    from usage import windows
    from usage.reports import local_day_series

    aggregate_events(
        [event(ts=T0 + k * (7 * 3600 + 13 * 60), subscription_id=3, total_ms=float(k % 300),
               outcome="failed" if k % 5 == 0 else "success", bytes_out=k)
         for k in range(130)]
    )  # fmt: skip
    first = datetime.fromtimestamp(T0, UTC)
    window = windows.custom_window(first, first + timedelta(days=40), ZoneInfo(zone))
    assert window.bucket == "local-day"
    for f in (
        UsageFilter(window.start, window.end),
        UsageFilter(window.start, window.end, subscription_id=3),
        UsageFilter(window.start, window.end, subscription_id=3, operation="get-pet"),
    ):
        days = local_day_series(f, windows.bucket_starts(window), window.end)
        assert days is not None
        by_day = windows.buckets(days, window)
        by_hour = windows.buckets(series(f, "hour"), window)
        assert sum(b.total for b in by_day) == 130
        for d, h in zip(by_day, by_hour, strict=True):
            assert (d.start, d.success, d.failed, d.bytes_out) == (
                h.start, h.success, h.failed, h.bytes_out
            )  # fmt: skip
            assert d.hist == h.hist


def test_zones_off_the_hour_sum_hours() -> None:
    from zoneinfo import ZoneInfo

    from usage import windows
    from usage.reports import local_day_series

    first = datetime.fromtimestamp(T0, UTC)
    window = windows.custom_window(first, first + timedelta(days=20), ZoneInfo("Asia/Kolkata"))
    f = UsageFilter(window.start, window.end)
    assert local_day_series(f, windows.bucket_starts(window), window.end) is None


def test_a_viewer_who_sees_no_api_ranks_nothing() -> None:
    aggregate_events([event(subscription_id=3)])
    f = UsageFilter(START - timedelta(hours=12), START + timedelta(hours=12), api_ids=frozenset())
    assert ranked(f, "subscription", "calls") == []
    assert summary(f).calls == 0


@pytest.mark.parametrize("minute", [0, 20, 59])
def test_the_last_24_hours_are_24_hours_ending_now_on_the_pages_charts_and_api(minute: int) -> None:
    """The range named "last 24 hours" counts the calls of the 24 hours that end now, to the
    minute, on the figures, the chart and the JSON; it ended at the end of the current hour
    (up to an hour ahead) and began with the hour after the one 24 hours ago, so a call made
    23 h 50 min ago was not counted."""
    from usage import pages, windows

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    now = hour + timedelta(minutes=minute, seconds=30)
    calls = {
        "24 h 10 min ago": now - timedelta(hours=24, minutes=10),
        "23 h 50 min ago": now - timedelta(hours=23, minutes=50),
        "5 min ago": now - timedelta(minutes=5),
        "in 30 min": now + timedelta(minutes=30),  # after now: past the window's end
    }
    aggregate_events(
        [event(ts=t.timestamp(), subscription_id=9, user_id=90) for t in calls.values()]
    )
    window = windows.preset_window("24h", now, UTC)
    # Through the current minute, the rollups' finest bucket (nothing is counted after now).
    assert window.end == now.replace(second=0) + timedelta(minutes=1)
    assert window.end - window.start == timedelta(hours=24)
    for f in (UsageFilter(window.start, window.end, subscription_id=9),
              UsageFilter(window.start, window.end)):  # fmt: skip
        page = pages.build(window, f)
        assert page.total_calls == 2, f
        assert sum(b.total for b in page.buckets) == 2
        assert page.buckets[0].start == window.start and page.buckets[-1].end == window.end
        assert summary(f).calls == 2
        assert sum(r.calls for r in ranked(f, "api", "calls")) == 2


def test_the_30_days_figures_are_the_viewers_30_days_as_the_chart() -> None:
    """The 30-day range is the viewer's calendar days; its figures summed whole UTC days,
    so in Paris (midnight is 23:00 UTC) they counted a call of the evening before the first
    day that the chart, drawn in Paris days, left out."""
    from zoneinfo import ZoneInfo

    from usage import pages, windows

    window = windows.preset_window("30d", datetime.now(UTC), ZoneInfo("Europe/Paris"))
    aggregate_events(
        [event(ts=(window.start + timedelta(minutes=m)).timestamp(), subscription_id=5)
         for m in (-30, 30)]
    )  # fmt: skip
    for f in (UsageFilter(window.start, window.end, subscription_id=5),
              UsageFilter(window.start, window.end)):  # fmt: skip
        page = pages.build(window, f, by="subscription")
        assert sum(b.total for b in page.buckets) == 1
        assert page.total_calls == 1
        assert [r.raw[0] for r in page.ranked] == [1]


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Paris", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns"]
)
def test_figures_charts_and_rankings_agree_for_every_range_in_any_zone(zone: str) -> None:
    """The figures, the chart's buckets and a ranking count the same calls, for the preset
    ranges (ending now, their first hour partial) and custom days, in zones on and off the
    hour. (A consumer's top operations read their first partial hour whole: the table that
    holds consumers and operations together keeps no minutes.)"""
    from zoneinfo import ZoneInfo

    from usage import pages, windows

    now = datetime.now(UTC)
    aggregate_events(
        [event(ts=(now - timedelta(minutes=37 * k)).timestamp(), subscription_id=1 + k % 3,
               user_id=10 + k % 3) for k in range(70 * 24 * 60 // 37)]
    )  # fmt: skip
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    days = [(0, 0), (2, 0), (8, 0), (62, 0), (63, 1)]
    for window in [
        *(windows.preset_window(key, now, tz) for key in windows.RANGES),
        *(windows.custom_window(windows.local_midnight(today - timedelta(days=a), tz),
                                windows.local_midnight(today - timedelta(days=b - 1), tz), tz)
          for a, b in days),
    ]:  # fmt: skip
        for f in (pages.usage_filter(window), pages.usage_filter(window, subscription_id=1)):
            for by in ("api", "subscription"):
                page = pages.build(window, f, by=by)
                charted = sum(b.total for b in page.buckets)
                ranked_calls = sum(r.raw[0] for r in page.ranked)
                assert page.total_calls == charted == ranked_calls > 0, (window, f, by)


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Australia/Adelaide", "Asia/Kathmandu"])
def test_a_custom_day_in_a_zone_off_the_hour_counts_that_day_only(zone: str) -> None:
    """A day picked in the reports' form, in a zone 30 or 45 minutes off UTC: its window was
    rounded out to whole UTC hours, so the day counted the last minutes of the day before
    and the first of the day after, on the figures and the chart alike."""
    from zoneinfo import ZoneInfo

    from usage import pages, windows

    tz = ZoneInfo(zone)
    day_ = datetime.now(UTC).astimezone(tz).date() - timedelta(days=3)  # minutes still kept
    midnight = windows.local_midnight(day_, tz)
    next_midnight = windows.local_midnight(day_ + timedelta(days=1), tz)
    aggregate_events(
        [event(ts=(edge + timedelta(minutes=m)).timestamp(), subscription_id=4)
         for edge in (midnight, next_midnight) for m in (-10, 10)]
    )  # fmt: skip
    window = windows.custom_window(midnight, next_midnight, tz)  # as ReportFilterForm asks
    assert (window.start, window.end) == (midnight, next_midnight)
    for f in (pages.usage_filter(window), pages.usage_filter(window, subscription_id=4)):
        page = pages.build(window, f)
        assert page.total_calls == sum(b.total for b in page.buckets) == 2, f


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Australia/Adelaide"])
def test_the_days_of_a_long_range_in_a_zone_off_the_hour_part_at_midnight(zone: str) -> None:
    """Ten days or more are drawn in the viewer's days, from hours where a midnight is not
    on the hour: the calls of a day's first half hour (the hour that holds its midnight)
    were drawn on the day before."""
    from zoneinfo import ZoneInfo

    from usage import pages, windows

    tz = ZoneInfo(zone)
    today = datetime.now(UTC).astimezone(tz).date()
    first = today - timedelta(days=10)  # the range's fifth midnight: minutes still kept
    midnight = windows.local_midnight(first + timedelta(days=5), tz)
    aggregate_events(
        [event(ts=(midnight + timedelta(minutes=m)).timestamp(), subscription_id=6)
         for m in (-10, 10, 10)]
    )  # fmt: skip
    window = windows.custom_window(
        windows.local_midnight(first, tz), windows.local_midnight(today, tz), tz
    )
    assert window.bucket == "local-day"
    for f in (pages.usage_filter(window), pages.usage_filter(window, subscription_id=6)):
        by_day = {b.start: b.total for b in pages.build(window, f).buckets}
        assert by_day[windows.local_midnight(first + timedelta(days=4), tz)] == 1, f
        assert by_day[midnight] == 2, f

"""usage/charts.py: buckets in the viewer's zone, scales, the drawings' geometry, the quota bar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from usage import charts, windows

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


@dataclass
class P:
    start: datetime
    success: int = 0
    blocked: int = 0
    failed: int = 0
    other: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


def test_24_hours_end_with_the_current_minute_and_label_local_times() -> None:
    window = windows.preset_window("24h", NOW, PARIS)
    assert window.end == datetime(2026, 12, 2, 8, 31, tzinfo=UTC)
    assert window.start == datetime(2026, 12, 1, 8, 31, tzinfo=UTC)
    bs = windows.buckets([], window)
    # The hours of the clock, the first and the last partial: 08:31-09:00 ... 08:00-08:31.
    assert len(bs) == 25
    assert (bs[0].start, bs[0].end) == (window.start, datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert (bs[-1].start, bs[-1].end) == (datetime(2026, 12, 2, 8, tzinfo=UTC), window.end)
    chart = charts.calls_chart(bs, window)
    # 23:00 UTC is midnight in Paris: the tick there names the day, the others Paris hours.
    labels = [t.label for t in chart.x_ticks]
    assert "Wed 2" in labels
    assert "12:00" in labels  # 11:00 UTC
    assert chart.x_title == "Time (Europe/Paris)"
    assert chart.y_title == "Calls per hour"
    assert len(labels) <= charts.MAX_X_LABELS


def test_30_days_are_the_viewers_calendar_days_across_a_dst_change() -> None:
    # New York leaves daylight saving time on Sunday 1 November 2026: that day has 25 hours.
    window = windows.preset_window("30d", datetime(2026, 11, 20, 3, tzinfo=UTC), NEW_YORK)
    assert window.step == "hour" and window.bucket == "local-day"
    bs = windows.buckets([], window)
    assert len(bs) == 30
    # 03:00 UTC on the 20th is still the 19th in New York: the 19th is the last day.
    assert bs[-1].start == datetime(2026, 11, 19, 5, tzinfo=UTC)  # midnight in New York
    sunday = next(b for b in bs if b.start.astimezone(NEW_YORK).date().isoformat() == "2026-11-01")
    assert sunday.end - sunday.start == timedelta(hours=25)
    hourly = [P(sunday.start + timedelta(hours=h), success=1) for h in range(25)]
    # An hour just before New York's midnight belongs to the day before, not to the UTC date.
    hourly.append(P(sunday.start - timedelta(hours=1), failed=7))
    bs = windows.buckets(hourly, window)
    by_day = {b.start.astimezone(NEW_YORK).date().isoformat(): b for b in bs}
    assert by_day["2026-11-01"].total == 25
    assert by_day["2026-10-31"].failed == 7
    chart = charts.calls_chart(bs, window)
    assert chart.y_title == "Calls per day"
    assert [r.label for r in chart.table.rows] == ["Sat 31 Oct", "Sun 1 Nov"]


def test_the_hour_a_dst_change_repeats_is_labelled_with_its_zone() -> None:
    # Paris leaves summer time at 01:00 UTC on Sunday 25 October 2026: 02:00-03:00 comes
    # twice, 00:00-01:00 UTC in CEST and 01:00-02:00 UTC in CET.
    window = windows.preset_window("24h", datetime(2026, 10, 25, 12, tzinfo=UTC), PARIS)
    points = [P(datetime(2026, 10, 25, h, tzinfo=UTC), success=1 + h) for h in (0, 1, 2)]
    chart = charts.calls_chart(windows.buckets(points, window), window)
    assert [r.label for r in chart.table.rows] == [
        "Sun 25 Oct 02:00 CEST",
        "Sun 25 Oct 02:00 CET",
        "Sun 25 Oct 03:00",
    ]
    tips = [h.title for h in chart.hits if h.title.startswith("Sun 25 Oct 02:00")]
    assert [t[: t.index(": ")] for t in tips] == [
        "Sun 25 Oct 02:00 CEST–02:00 CET",
        "Sun 25 Oct 02:00 CET–03:00",
    ]


def test_empty_buckets_are_drawn_as_zero_and_left_out_of_the_table() -> None:
    window = windows.preset_window("24h", NOW, UTC)
    points = [P(datetime(2026, 12, 1, 12, tzinfo=UTC), success=5, failed=1)]
    chart = charts.calls_chart(windows.buckets(points, window), window)
    assert len(chart.hits) == 25  # one tooltip column per hour (two partial), calls or not
    assert [row.cells for row in chart.table.rows] == [["5", "0", "0", "1", "6"]]
    assert chart.table.rows[0].label == "Tue 1 Dec 12:00"
    assert "6 calls" in chart.desc and "1 failed" in chart.desc
    assert not chart.empty
    nothing = charts.calls_chart(windows.buckets([], window), window)
    assert nothing.empty and nothing.rects == [] and nothing.table.rows == []


def test_points_outside_the_window_are_ignored() -> None:
    window = windows.preset_window("24h", NOW, UTC)
    points = [P(window.start - timedelta(hours=1), success=9), P(window.end, success=9)]
    assert sum(b.total for b in windows.buckets(points, window)) == 0


def test_stacked_bars_scale_to_the_axis_and_stack_success_at_the_bottom() -> None:
    window = windows.preset_window("24h", NOW, UTC)
    points = [P(window.start, success=60, other=0, blocked=10, failed=10)]  # 80 calls
    chart = charts.calls_chart(windows.buckets(points, window), window)
    assert [t.label for t in chart.y_ticks] == ["0", "20", "40", "60", "80"]
    success, blocked, failed = chart.rects
    assert (success.css, blocked.css, failed.css) == ("s-success", "s-blocked", "s-failed")
    bottom = charts.TOP + charts.PLOT_H
    assert success.y + success.h == pytest.approx(bottom)
    assert failed.y == pytest.approx(charts.TOP)  # 80 of 80: the top of the plot
    assert success.h == pytest.approx(charts.PLOT_H * 60 / 80)
    assert "80 calls (60 success, 0 other, 10 blocked, 10 failed)" in chart.hits[0].title


@pytest.mark.parametrize(
    ("peak", "top", "step"),
    [(0, 4, 1), (1, 1, 1), (67, 80, 20), (1234, 1500, 500), (9, 10, 5), (3, 3, 1)],
)
def test_nice_scale(peak: float, top: float, step: float) -> None:
    assert charts.nice_scale(peak) == (top, step)


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (950, "950"), (1500, "1.5k"), (2_000_000, "2M")]
)
def test_compact_axis_labels(value: float, text: str) -> None:
    assert charts.compact(value) == text


def test_bandwidth_picks_a_unit_and_draws_two_lines() -> None:
    window = windows.preset_window("24h", NOW, UTC)
    points = [P(window.start + timedelta(hours=h), bytes_in=100, bytes_out=835_000) for h in (1, 2)]
    chart = charts.bandwidth_chart(windows.buckets(points, window), window)
    assert chart.y_title == "MB per hour"
    assert chart.y_ticks[-1].label == "1"
    assert [line.css for line in chart.lines] == ["s-out", "s-in"]
    assert chart.lines[1].dashed  # not told apart by colour alone
    assert chart.table.rows[0].cells == ["835 kB", "100 B"]
    assert "1.67 MB sent" in chart.desc


def test_latency_chart_only_when_points_carry_percentiles() -> None:
    window = windows.preset_window("24h", NOW, UTC)
    assert (
        charts.latency_chart(windows.buckets([P(window.start, success=1)], window), window) is None
    )

    @dataclass
    class Timed(P):
        p50_ms: float | None = None
        p95_ms: float | None = None

    bs = windows.buckets([Timed(window.start, success=1, p50_ms=12.0, p95_ms=140.0)], window)
    chart = charts.latency_chart(bs, window)
    assert chart is not None
    assert chart.table.rows[0].cells == ["12 ms", "140 ms"]


@dataclass
class Timed(P):
    p50_ms: float | None = None
    p95_ms: float | None = None


def test_a_lone_hour_of_times_is_drawn_and_gaps_are_not_bridged() -> None:
    """One hour with calls made a one-point polyline, which draws nothing: the time chart of
    a day with a single busy hour looked empty. Hours without calls have no time: a line
    across them claimed times nobody measured."""
    window = windows.preset_window("24h", NOW, UTC)
    lone = windows.buckets([Timed(window.start + timedelta(hours=5), success=2, p50_ms=35.0,
                                  p95_ms=39.0)], window)  # fmt: skip
    chart = charts.latency_chart(lone, window)
    assert chart is not None
    root = ElementTree.fromstring(str(chart.svg))
    ns = "{http://www.w3.org/2000/svg}"
    dots = [c for c in root.iter() if c.tag in ("circle", f"{ns}circle")]
    assert sorted(d.get("class", "") for d in dots) == ["dot s-p50", "dot s-p95"]
    # Two runs of hours (1-2 and 6) with none between: two segments per series, not one.
    bs = windows.buckets(
        [Timed(window.start + timedelta(hours=h), success=1, p50_ms=10.0 * h, p95_ms=20.0 * h)
         for h in (1, 2, 6)],
        window,
    )  # fmt: skip
    chart = charts.latency_chart(bs, window)
    assert chart is not None
    p50 = [line for line in chart.lines if line.css == "s-p50"]
    assert [len(line.points.split()) for line in p50] == [2, 1]


def test_custom_windows_pick_a_step() -> None:
    start = datetime(2026, 11, 1, 10, 7, tzinfo=UTC)
    assert windows.custom_window(start, start + timedelta(hours=2), UTC).step == "minute"
    assert windows.custom_window(start, start + timedelta(days=3), UTC).bucket == "hour"
    assert windows.custom_window(start, start + timedelta(days=20), PARIS).bucket == "local-day"
    far = windows.custom_window(start, start + timedelta(days=200), PARIS)
    assert (far.step, far.bucket) == ("day", "day")
    assert charts.calls_chart(windows.buckets([], far), far).x_title == "Date (UTC days)"


@dataclass
class Quota:
    used: int
    limit: int
    period: str
    resets_at: datetime


@pytest.mark.parametrize(
    ("used", "level", "percent"), [(1234, "ok", 12.3), (8000, "warn", 80.0), (12000, "bad", 100.0)]
)
def test_quota_bar(used: int, level: str, percent: float) -> None:
    quota = Quota(
        used, 10_000, "in the current period of 30 days", datetime(2027, 1, 1, tzinfo=UTC)
    )
    bar = charts.quota_bar(quota, PARIS)
    assert bar is not None
    assert bar.label == f"{used:,} of 10,000 calls in the current period of 30 days"
    assert (bar.level, bar.percent) == (level, percent)
    assert bar.resets_label == "Fri 1 Jan 2027, 01:00 (Europe/Paris)"


def test_no_quota_no_bar() -> None:
    assert charts.quota_bar(None, UTC) is None


def test_the_drawing_is_well_formed_svg_with_a_title_and_tooltips() -> None:
    window = windows.preset_window("24h", NOW, PARIS)
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    chart = charts.calls_chart(windows.buckets([P(at, success=2)], window), window)
    root = ElementTree.fromstring(str(chart.svg))
    assert root.tag == "svg" and root.get("role") == "img"
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    titles = [t.text or "" for t in root.iter("title")]
    assert titles[0] == "Calls per hour, by outcome"
    assert "Tue 1 Dec 10:00–11:00: 2 calls (2 success, 0 other, 0 blocked, 0 failed)" in titles
    rows = ElementTree.fromstring(f"<tbody>{chart.table_html}</tbody>")
    assert [td.text for td in rows.iter("td")] == ["2", "0", "0", "0", "2"]
    assert rows.find("tr/th/time").get("datetime") == "2026-12-01T09:00:00+00:00"  # type: ignore[union-attr]

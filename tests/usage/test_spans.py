from __future__ import annotations

from usage.models import DAY, HOUR, MINUTE
from usage.spans import spans_of


def test_a_span_within_an_hour_whose_minutes_are_gone_reads_that_hour() -> None:
    """The partial first hour of an off-hour zone's 30 days (India's midnight is 18:30 UTC)
    read minutes the retention had deleted: nothing, where the figures read the hour."""
    hour = 1_000 * 3600
    assert spans_of(hour + 1800, hour + 3600, hour + 7200) == [(HOUR, hour, hour + 3600)]
    assert spans_of(hour, hour + 1800, hour + 7200) == [(HOUR, hour, hour + 3600)]
    assert spans_of(hour + 1800, hour + 3600, 0) == [(MINUTE, hour + 1800, hour + 3600)]


def test_a_range_over_days_reads_whole_days_and_its_edges_in_hours_and_minutes() -> None:
    day = 20_000 * 86400
    start, end = day - 3600 - 600, day + 2 * 86400 + 7200 + 300  # 22:50 the day before .. 02:05
    assert spans_of(start, end, 0) == [
        (MINUTE, start, day - 3600),
        (HOUR, day - 3600, day),
        (DAY, day, day + 2 * 86400),
        (HOUR, day + 2 * 86400, day + 2 * 86400 + 7200),
        (MINUTE, day + 2 * 86400 + 7200, end),
    ]

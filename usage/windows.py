"""The time a usage chart covers, and its buckets, in the viewer's zone.

Minutes and hours are the rollups' own buckets. A day in the viewer's zone rarely starts at
a UTC midnight, so windows of a week or more are drawn in local days (`local-day`,
DST-correct: a day may have 23 or 25 hours), each its UTC day row plus or minus the hours at
its edges (usage.reports.local_day_series; hourly points summed for zones off the hour,
the minutes after each midnight moved to their day, usage.reports.midnight_minutes);
only windows beyond the hourly retention fall back to UTC days, and the charts then say so.
Zones 30 or 45 minutes off UTC are exact to the minute where minutes are kept
(USAGE_RETENTION_MINUTE_DAYS); before that the hour that holds a midnight counts whole.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal, Protocol

from usage import histogram

Step = Literal["minute", "hour", "day"]
BucketKind = Literal["minute", "hour", "local-day", "day"]
RangeKey = Literal["24h", "7d", "30d"]

RANGES: dict[str, str] = {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}
DEFAULT_RANGE: RangeKey = "24h"

# Beyond this the hourly rollups are gone (their default retention is 90 days): UTC days.
LOCAL_DAYS_UP_TO = timedelta(days=62)


class Point(Protocol):
    """What `usage.reports.series()` returns for one bucket (p50/p95 optional)."""

    start: datetime
    success: int
    blocked: int
    failed: int
    other: int
    bytes_in: int
    bytes_out: int


@dataclass(frozen=True)
class Window:
    """The time a chart covers: [start, end) in UTC, the reports' step to query, how to group."""

    start: datetime
    end: datetime
    step: Step
    bucket: BucketKind
    tz: tzinfo

    @property
    def tz_name(self) -> str:
        return str(getattr(self.tz, "key", None) or self.tz.tzname(None) or "UTC")

    @property
    def per(self) -> str:
        """'per hour', 'per day' ... for axis titles."""
        return {"minute": "minute", "hour": "hour", "local-day": "day", "day": "day (UTC)"}[
            self.bucket
        ]


@dataclass
class Bucket:
    start: datetime
    end: datetime
    success: int = 0
    blocked: int = 0
    failed: int = 0
    other: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    points: int = 0
    hist: list[int] = field(default_factory=list)  # summed latency histograms of the points
    max_ms: float | None = None

    @property
    def total(self) -> int:
        return self.success + self.blocked + self.failed + self.other

    @property
    def errors(self) -> int:
        return self.blocked + self.failed


# --- windows and buckets -------------------------------------------------------------------


def _floor(moment: datetime, unit: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment.astimezone(UTC) - epoch) // unit) * unit


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def preset_window(key: str, now: datetime, tz: tzinfo) -> Window:
    """The developer pages' ranges: the last 24 hours or 7 days by hour, through the current
    minute (the rollups' finest bucket; nothing is counted after now), the first and last
    hours partial: usage.reports counts their minutes, so the range is what its name says,
    to the minute. Or the last 30 days of the viewer's calendar (today last)."""
    if key == "30d":
        today = now.astimezone(tz).date()
        return Window(
            start=local_midnight(today - timedelta(days=29), tz),
            end=local_midnight(today + timedelta(days=1), tz),
            step="hour",
            bucket="local-day",
            tz=tz,
        )
    hours = 24 * 7 if key == "7d" else 24
    end = _floor(now, timedelta(minutes=1)) + timedelta(minutes=1)  # through this minute
    return Window(end - timedelta(hours=hours), end, "hour", "hour", tz)


def local_days_up_to() -> timedelta:
    """The longest window drawn in local days: LOCAL_DAYS_UP_TO, or less when the hours at
    its days' edges are kept for less (USAGE_RETENTION_HOUR_DAYS; a day's margin for zones
    up to 14 hours off UTC)."""
    from django.conf import settings

    kept = timedelta(days=settings.USAGE_RETENTION_HOUR_DAYS - 2)
    return min(LOCAL_DAYS_UP_TO, kept)


def custom_window(start: datetime, end: datetime, tz: tzinfo) -> Window:
    """Any [start, end) a staff filter asks for, on the finest step that keeps bars legible."""
    span = end - start
    if span <= timedelta(hours=3):
        unit = timedelta(minutes=1)
        return Window(_floor(start, unit), _ceil(end, unit), "minute", "minute", tz)
    if span <= timedelta(days=7):
        # Bounds to the minute, not the hour: a day in a zone 30 or 45 minutes off UTC
        # starts between two UTC hours, and rounded out it took in the neighbouring days'
        # edge minutes. Its first and last hours are partial buckets, counted by the
        # minute as the last 24 hours' are (usage.reports.series).
        unit = timedelta(minutes=1)
        return Window(_floor(start, unit), _ceil(end, unit), "hour", "hour", tz)
    if span <= local_days_up_to():
        first = start.astimezone(tz).date()
        last = (end - timedelta(microseconds=1)).astimezone(tz).date()
        return Window(
            local_midnight(first, tz),
            local_midnight(last + timedelta(days=1), tz),
            "hour",
            "local-day",
            tz,
        )
    unit = timedelta(days=1)
    return Window(_floor(start, unit), _ceil(end, unit), "day", "day", tz)


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment.astimezone(UTC) else floor + unit


def bucket_starts(window: Window) -> list[datetime]:
    if window.bucket == "local-day":
        first = window.start.astimezone(window.tz).date()
        starts = []
        day = first
        while (moment := local_midnight(day, window.tz)) < window.end:
            starts.append(moment)
            day += timedelta(days=1)
        return starts
    unit = {
        "minute": timedelta(minutes=1),
        "hour": timedelta(hours=1),
        "day": timedelta(days=1),
    }[window.bucket]
    # On the clock's minutes, hours or days; a window that starts between two (the last 24
    # hours) has a partial first bucket, from its start.
    first = _floor(window.start, unit)
    count = max(0, math.ceil((window.end - first) / unit))
    return [max(first + i * unit, window.start) for i in range(count)]


def buckets(points: Iterable[Any], window: Window) -> list[Bucket]:
    """The window's buckets, every one present (empty ones zero), the points summed in.

    Percentiles do not add up, latency histograms do: a bucket's p50/p95 come from the
    summed histograms of its points (`hist`, as usage.reports.series() gives them), so a
    local day summed from 24 hours has its own. Points without a histogram keep their
    p50/p95 only when exactly one point fell in the bucket.
    """
    starts = bucket_starts(window)
    out = [
        Bucket(start, starts[i + 1] if i + 1 < len(starts) else window.end)
        for i, start in enumerate(starts)
    ]
    for point in points:
        moment = point.start.astimezone(UTC)
        index = bisect_right(starts, moment) - 1
        if index < 0 or moment >= window.end:
            continue
        b = out[index]
        b.success += point.success
        b.blocked += point.blocked
        b.failed += point.failed
        b.other += point.other
        b.bytes_in += point.bytes_in
        b.bytes_out += point.bytes_out
        b.points += 1
        hist = getattr(point, "hist", ())
        if hist:
            b.hist = [a + n for a, n in zip(b.hist, hist, strict=True)] if b.hist else list(hist)
            top = getattr(point, "total_ms_max", None)
            if top is not None:
                b.max_ms = top if b.max_ms is None else max(b.max_ms, top)
        else:
            b.p50_ms = getattr(point, "p50_ms", None) if b.points == 1 else None
            b.p95_ms = getattr(point, "p95_ms", None) if b.points == 1 else None
    for b in out:
        if b.hist:
            b.p50_ms = histogram.percentile(b.hist, 0.5, b.max_ms)
            b.p95_ms = histogram.percentile(b.hist, 0.95, b.max_ms)
    return out

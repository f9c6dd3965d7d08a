"""Usage charts drawn on the server as SVG, each with the table of its numbers.

Plain data in, geometry out: a view passes the points `usage.reports.series()` returns, the
window they cover and the viewer's time zone; `templates/usage/_chart.html` draws the SVG and
the table from what this module computes. Nothing here sees a request, and no script runs in
the browser:

- colours are classes whose fills and strokes are the theme's CSS variables
  (static/css/usage.css), so one drawing is right in the light and the dark theme;
- the SVG scales with its viewBox; on a phone the stylesheet enlarges the labels and hides
  every other tick label (those marked `minor`);
- every number drawn is also in the chart's table, and the SVG's title and description say
  what it shows, for screen readers;
- times on the axis and in the table are in the viewer's zone, which the axis title names.

Which buckets a window has, in the viewer's zone, is usage/windows.py's job.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from django.utils import dateformat
from django.utils.safestring import SafeString

from usage.windows import Bucket, Window

# The drawing's own coordinates (the viewBox); the browser scales them to the page.
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 52, 66
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 8

# Outcomes bottom to top in the stack, with the CSS class that colours them.
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("success", "Success"),
    ("other", "Other"),
    ("blocked", "Blocked"),
    ("failed", "Failed"),
)


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str
    minor: bool = False


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    css: str
    title: str = ""


@dataclass(frozen=True)
class Line:
    points: str  # SVG polyline points
    area: str  # SVG path closing the line down to the axis
    css: str
    dashed: bool = False

    @property
    def lone(self) -> bool:
        """One point: a polyline of one point draws nothing, so it is drawn as a dot."""
        return " " not in self.points


@dataclass(frozen=True)
class LegendItem:
    css: str
    label: str
    dashed: bool = False


@dataclass(frozen=True)
class TableRow:
    iso: str
    label: str
    cells: list[str]


@dataclass(frozen=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[TableRow]
    note: str = ""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    y_title: str
    x_title: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    table: Table
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    hits: list[Rect] = field(default_factory=list)  # one per bucket, carrying its tooltip
    legend: list[LegendItem] = field(default_factory=list)
    empty: bool = False
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT

    @property
    def svg(self) -> SafeString:
        from usage import svg

        return svg.svg(self)

    @property
    def table_html(self) -> SafeString:
        from usage import svg

        return svg.table_rows(self)

    @property
    def mid_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def mid_y(self) -> float:
        return (self.top + self.bottom) / 2


# --- numbers and labels --------------------------------------------------------------------


def nice_scale(top_value: float, ticks: int = 4, whole: bool = True) -> tuple[float, float]:
    """(axis maximum, tick step): the step 1, 2, 2.5 or 5 times a power of ten."""
    if top_value <= 0:
        return float(ticks), 1.0
    raw = top_value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    candidates = [m * magnitude for m in (1, 2, 2.5, 5, 10)]
    if whole:  # counts: whole steps only (2.5 calls is no tick)
        candidates = [max(1.0, c) for c in candidates if c >= 1 and float(c).is_integer()] or [1.0]
    step = next((c for c in candidates if c >= raw), candidates[-1])
    return step * math.ceil(top_value / step), step


def _trim(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def compact(value: float) -> str:
    """Short axis labels: 950, 1.5k, 2M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return _trim(value / limit) + suffix
    return _trim(value)


def count(value: int) -> str:
    """1,234"""
    return f"{value:,}"


BYTE_UNITS = (("GB", 1e9), ("MB", 1e6), ("kB", 1e3), ("B", 1.0))


def byte_unit(top_value: float) -> tuple[str, float]:
    return next(((n, d) for n, d in BYTE_UNITS if top_value >= d), ("B", 1.0))


def _three_digits(value: float) -> str:
    """2.7, 25.3, 252: three significant digits at most, for figures people read."""
    if value >= 100:
        return f"{value:.0f}"
    return (
        f"{value:.2f}".rstrip("0").rstrip(".")
        if value < 10
        else f"{value:.1f}".rstrip("0").rstrip(".")
    )


def human_bytes(value: int) -> str:
    name, divisor = byte_unit(value)
    return f"{value} B" if divisor == 1 else f"{_three_digits(value / divisor)} {name}"


def milliseconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{_three_digits(value / 1000)} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


@functools.lru_cache(maxsize=8192)
def local(moment: datetime, tz: tzinfo, fmt: str) -> str:
    """A time in the viewer's zone. Cached: each bucket's start is labelled by every chart,
    table row and tooltip, and Django's dateformat costs ~0.2 ms a call (the portal speaks
    one language, so the cache needs no language in its key)."""
    return dateformat.format(moment.astimezone(tz), fmt)


def wall_time(moment: datetime, tz: tzinfo, fmt: str) -> str:
    """local(), with the zone's abbreviation after a time the clock shows twice: the hour
    a DST change repeats (02:00-03:00 in Paris on the last Sunday of October) would else
    have two table rows of the same name and a tooltip '02:00–02:00'."""
    at = moment.astimezone(tz)
    if at.replace(fold=1 - at.fold).utcoffset() != at.utcoffset():
        # (Django's "T" gives nothing for such a time: it will not guess the fold.)
        return f"{local(moment, tz, fmt)} {at.tzname()}"
    return local(moment, tz, fmt)


def bucket_label(b: Bucket, window: Window) -> str:
    """The table's first column: when the bucket starts, in the viewer's zone."""
    fmt = {"minute": "D j M H:i", "hour": "D j M H:i", "local-day": "D j M", "day": "D j M"}
    if window.bucket == "day":
        return local(b.start, UTC, fmt["day"])
    if window.bucket == "local-day":
        return local(b.start, window.tz, fmt["local-day"])
    return wall_time(b.start, window.tz, fmt[window.bucket])


def _span_label(b: Bucket, window: Window) -> str:
    if window.bucket in ("local-day", "day"):
        return bucket_label(b, window)
    return f"{bucket_label(b, window)}–{wall_time(b.end, window.tz, 'H:i')}"


def x_ticks(bs: Sequence[Bucket], window: Window) -> list[Tick]:
    """At most MAX_X_LABELS labels at local round times; every other one is `minor`."""
    n = len(bs)
    if not n:
        return []
    slot = PLOT_W / n
    local_starts = [b.start.astimezone(window.tz) for b in bs]
    # Which buckets get a label is decided first; only those few are formatted.
    chosen: list[tuple[int, str]] = []
    if window.bucket == "minute":
        for every in (1, 5, 10, 15, 30, 60, 120, 180):
            picked = [
                i for i, t in enumerate(local_starts) if (t.hour * 60 + t.minute) % every == 0
            ]
            if len(picked) <= MAX_X_LABELS:
                break
        chosen = [(i, local(local_starts[i], window.tz, "H:i")) for i in picked]
    elif window.bucket == "hour":
        for every in (1, 2, 3, 6, 12, 24, 48):
            picked = [
                i
                for i, t in enumerate(local_starts)
                if t.hour % every == 0 and (every < 48 or t.toordinal() % 2 == 0)
            ]
            if len(picked) <= MAX_X_LABELS:
                break
        chosen = [
            (i, local(t, window.tz, "D j" if t.hour == 0 or every >= 24 else "H:i"))
            for i, t in ((i, local_starts[i]) for i in picked)
        ]
    else:
        days = [b.start.astimezone(UTC) for b in bs] if window.bucket == "day" else local_starts
        for every in (1, 2, 5, 7, 14, 30, 61, 122, 365):
            picked = [i for i, t in enumerate(days) if t.toordinal() % every == 0]
            if len(picked) <= MAX_X_LABELS:
                break
        zone = UTC if window.bucket == "day" else window.tz
        chosen = [(i, local(days[i], zone, "M j")) for i in picked]
    return [
        Tick(round(LEFT + (i + 0.5) * slot, 1), label, minor=k % 2 == 1)
        for k, (i, label) in enumerate(chosen)
    ]


def y_ticks(top: float, step: float, fmt: Any) -> list[Tick]:
    ticks = []
    value = 0.0
    while value <= top + step / 1000:
        ticks.append(Tick(round(_y(value, top), 1), fmt(value)))
        value += step
    return ticks


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - (value / top) * PLOT_H if top else TOP + PLOT_H


def _x_title(window: Window) -> str:
    if window.bucket == "day":
        return "Date (UTC days)"
    return f"Time ({window.tz_name})"


def range_text(bs: Sequence[Bucket], window: Window) -> str:
    """'from Tue 1 Dec 09:00 to Wed 2 Dec 09:00 (Europe/Paris)'; whole days name the last."""
    if not bs:
        return ""
    if window.bucket in ("local-day", "day"):
        last = bucket_label(bs[-1], window)
    else:
        last = wall_time(bs[-1].end, window.tz, "D j M H:i")
    return f"from {bucket_label(bs[0], window)} to {last} ({window.tz_name})"


# --- the charts ----------------------------------------------------------------------------


def calls_chart(bs: Sequence[Bucket], window: Window) -> Chart:
    """Calls per bucket, stacked by outcome."""
    n = len(bs)
    slot = PLOT_W / n if n else PLOT_W
    gap = min(2.0, slot * 0.2)
    top, step = nice_scale(max((b.total for b in bs), default=0))
    rects: list[Rect] = []
    hits: list[Rect] = []
    for i, b in enumerate(bs):
        x = round(LEFT + i * slot + gap / 2, 2)
        w = round(max(slot - gap, 0.5), 2)
        base = 0
        for name, _label in OUTCOMES:
            value = getattr(b, name)
            if value:
                y0, y1 = _y(base, top), _y(base + value, top)
                rects.append(Rect(x, round(y1, 2), w, round(y0 - y1, 2), f"s-{name}"))
                base += value
        parts = ", ".join(f"{count(getattr(b, n_))} {lbl.lower()}" for n_, lbl in OUTCOMES)
        hits.append(
            Rect(
                round(LEFT + i * slot, 2),
                TOP,
                round(slot, 2),
                PLOT_H,
                "hit",
                f"{_span_label(b, window)}: {count(b.total)} calls ({parts})",
            )
        )
    total = sum(b.total for b in bs)
    failed = sum(b.failed for b in bs)
    blocked = sum(b.blocked for b in bs)
    rows = [
        TableRow(
            b.start.isoformat(),
            bucket_label(b, window),
            [count(getattr(b, name)) for name, _ in OUTCOMES] + [count(b.total)],
        )
        for b in bs
        if b.total
    ]
    return Chart(
        id="calls",
        title=f"Calls per {window.per}, by outcome",
        desc=(
            f"{count(total)} calls {range_text(bs, window)}: {count(failed)} failed, "
            f"{count(blocked)} blocked. The table below the chart gives every number."
        ),
        y_title=f"Calls per {window.per}",
        x_title=_x_title(window),
        y_ticks=y_ticks(top, step, compact),
        x_ticks=x_ticks(bs, window),
        rects=rects,
        hits=hits,
        legend=[LegendItem(f"s-{name}", label) for name, label in OUTCOMES],
        empty=total == 0,
        table=Table(
            caption=f"Calls per {window.per} by outcome, times in {window.tz_name}",
            headers=[_when_header(window)] + [label for _, label in OUTCOMES] + ["Total"],
            rows=rows,
            note=f"{_bucket_noun(window).capitalize()}s without calls are left out.",
        ),
    )


def _bucket_noun(window: Window) -> str:
    return {"minute": "minute", "hour": "hour", "local-day": "day", "day": "day"}[window.bucket]


def _when_header(window: Window) -> str:
    return f"{_bucket_noun(window).capitalize()} starting"


def _lines(
    bs: Sequence[Bucket], series: Sequence[tuple[str, Any]], top: float, scale: float
) -> list[Line]:
    """Each series as lines through its buckets' values. A bucket without a value (no call,
    so no time) breaks the line: joining its neighbours would draw times nobody measured."""
    n = len(bs)
    slot = PLOT_W / n if n else PLOT_W
    lines = []
    for k, (css, value_of) in enumerate(series):
        runs: list[list[tuple[float, float]]] = [[]]
        for i, b in enumerate(bs):
            value = value_of(b)
            if value is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((round(LEFT + (i + 0.5) * slot, 2), round(_y(value / scale, top), 2)))
        for coords in runs:
            if not coords:
                continue
            points = " ".join(f"{x},{y}" for x, y in coords)
            base = TOP + PLOT_H
            area = f"M{coords[0][0]},{base} L" + " L".join(f"{x},{y}" for x, y in coords)
            area += f" L{coords[-1][0]},{base} Z"
            lines.append(Line(points, area, css, dashed=k == 1))
    return lines


def _line_hits(bs: Sequence[Bucket], window: Window, text: Any) -> list[Rect]:
    n = len(bs)
    slot = PLOT_W / n if n else PLOT_W
    return [
        Rect(
            round(LEFT + i * slot, 2),
            TOP,
            round(slot, 2),
            PLOT_H,
            "hit",
            f"{_span_label(b, window)}: {text(b)}",
        )  # fmt: skip
        for i, b in enumerate(bs)
    ]


def bandwidth_chart(bs: Sequence[Bucket], window: Window) -> Chart:
    """Bytes out (responses) and in (requests) per bucket, as two lines."""
    peak = max((max(b.bytes_in, b.bytes_out) for b in bs), default=0)
    top_bytes, step_bytes = nice_scale(peak)
    unit, divisor = byte_unit(top_bytes)
    top, step = top_bytes / divisor, step_bytes / divisor
    lines = _lines(
        bs, [("s-out", lambda b: b.bytes_out), ("s-in", lambda b: b.bytes_in)], top, divisor
    )
    total_in = sum(b.bytes_in for b in bs)
    total_out = sum(b.bytes_out for b in bs)
    rows = [
        TableRow(
            b.start.isoformat(),
            bucket_label(b, window),
            [human_bytes(b.bytes_out), human_bytes(b.bytes_in)],
        )
        for b in bs
        if b.bytes_in or b.bytes_out
    ]
    return Chart(
        id="bandwidth",
        title=f"Bandwidth per {window.per}",
        desc=(
            f"{human_bytes(total_out)} sent to callers and {human_bytes(total_in)} received "
            f"{range_text(bs, window)}. The table below the chart gives every number."
        ),
        y_title=f"{unit} per {window.per}",
        x_title=_x_title(window),
        y_ticks=y_ticks(top, step, _trim),
        x_ticks=x_ticks(bs, window),
        lines=lines,
        hits=_line_hits(
            bs, window, lambda b: f"{human_bytes(b.bytes_out)} out, {human_bytes(b.bytes_in)} in"
        ),
        legend=[
            LegendItem("s-out", "Out (responses)"),
            LegendItem("s-in", "In (requests)", dashed=True),
        ],
        empty=not (total_in or total_out),
        table=Table(
            caption=f"Bandwidth per {window.per}, times in {window.tz_name}",
            headers=[_when_header(window), "Out (responses)", "In (requests)"],
            rows=rows,
            note=f"{_bucket_noun(window).capitalize()}s without traffic are left out.",
        ),
    )


def latency_chart(bs: Sequence[Bucket], window: Window) -> Chart | None:
    """p50 and p95 total time per bucket, when the points carry them (None otherwise)."""
    if not any(b.p50_ms is not None or b.p95_ms is not None for b in bs):
        return None
    peak = max((v for b in bs for v in (b.p50_ms, b.p95_ms) if v is not None), default=0.0)
    top, step = nice_scale(peak, whole=False)
    lines = _lines(bs, [("s-p50", lambda b: b.p50_ms), ("s-p95", lambda b: b.p95_ms)], top, 1)
    rows = [
        TableRow(
            b.start.isoformat(),
            bucket_label(b, window),
            [milliseconds(b.p50_ms), milliseconds(b.p95_ms)],
        )
        for b in bs
        if b.p50_ms is not None or b.p95_ms is not None
    ]
    return Chart(
        id="latency",
        title=f"Total time per {window.per}, median and 95th percentile",
        desc=f"Response times {range_text(bs, window)}. The table below gives every number.",
        y_title="Milliseconds",
        x_title=_x_title(window),
        y_ticks=y_ticks(top, step, _trim),
        x_ticks=x_ticks(bs, window),
        lines=lines,
        hits=_line_hits(
            bs,
            window,
            lambda b: f"p50 {milliseconds(b.p50_ms)}, p95 {milliseconds(b.p95_ms)}",
        ),
        legend=[LegendItem("s-p50", "p50"), LegendItem("s-p95", "p95", dashed=True)],
        table=Table(
            caption=f"Total time per {window.per}, times in {window.tz_name}",
            headers=[_when_header(window), "p50", "p95"],
            rows=rows,
        ),
    )


# --- the quota bar -------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaBar:
    used: int
    limit: int
    percent: float  # 0..100, for the bar's width
    level: Literal["ok", "warn", "bad"]
    label: str  # "1,234 of 10,000 calls this month"
    resets_iso: str
    resets_label: str


def quota_bar(quota: Any, tz: tzinfo) -> QuotaBar | None:
    """The bar for `usage.quotas.quota_use()`'s answer (None: the product has no quota)."""
    if quota is None or not quota.limit:
        return None
    used, limit = int(quota.used), int(quota.limit)
    period = str(getattr(quota, "period", "") or "")  # "in the last 30 days"
    label = f"{count(used)} of {count(limit)} calls" + (f" {period}" if period else "")
    return _bar(used, limit, label, quota.resets_at, tz)


def _bar(used: int, limit: int, label: str, resets: datetime, tz: tzinfo) -> QuotaBar:
    percent = min(100.0, 100.0 * used / limit)
    level: Literal["ok", "warn", "bad"] = (
        "bad" if percent >= 90 else "warn" if percent >= 75 else "ok"
    )
    return QuotaBar(
        used=used,
        limit=limit,
        percent=round(percent, 1),
        level=level,
        label=label,
        resets_iso=resets.isoformat(),
        resets_label=f"{local(resets, tz, 'D j M Y, H:i')} ({getattr(tz, 'key', 'UTC')})",
    )


def _period_length(seconds: int) -> str:
    """86400 -> "1 day", 2592000 -> "30 days"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}" if n == 1 else f"{count(n)} {unit}s"
    return f"{count(seconds)} seconds"


def volume_bar(volume: Any, tz: tzinfo) -> QuotaBar | None:
    """The bar for `usage.quotas.volume_use()`'s answer (None: no kilobyte quota). In whole
    kilobytes rounded down, as the gateway's 403 says them."""
    if volume is None or not volume.kilobytes:
        return None
    used, allowed = int(volume.used), int(volume.kilobytes) * 1024
    label = (
        f"{count(used // 1024)} of {count(int(volume.kilobytes))} KB in the current period of "
        f"{_period_length(int(volume.seconds))}"
    )
    return _bar(used, allowed, label, volume.resets_at, tz)

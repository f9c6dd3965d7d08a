"""The queries the usage pages call (usage/views.py): series, summary and rankings (quota use:
usage/quotas.py).

Each query reads the narrowest rollup table that holds its dimensions (usage/models.py):
ApiRollup when no consumer is involved, ConsumerRollup when one is (as a filter or as what
is ranked), ConsumerOperationRollup when a consumer and an operation both are (hours and
days only). Series, summary and rankings of one range read the same buckets: those of the
range's natural step (step_for), from the one holding `start` to the last before `end`, so
the numbers beside a chart add up to the chart. Percentiles come from the summed latency
histograms (usage/histogram.py).

"Errors" are calls that did not succeed: blocked, failed and other.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from usage import closed, histogram, rollup_sql
from usage.models import (
    DAY,
    HOUR,
    LEVEL_SECONDS,
    MINUTE,
    ApiRollup,
    ConsumerOperationRollup,
    ConsumerRollup,
    Rollup,
)
from usage.spans import spans_of

Step = Literal["minute", "hour", "day"]
By = Literal["api", "operation", "product", "subscription", "application", "developer"]
Order = Literal["calls", "errors", "time"]

_STEP_LEVEL: dict[str, int] = {"minute": MINUTE, "hour": HOUR, "day": DAY}
_LEVEL_STEP: dict[int, Step] = {MINUTE: "minute", HOUR: "hour", DAY: "day"}
_CONSUMER_BY = ("subscription", "application", "developer")
_GROUP: dict[str, tuple[str, ...]] = {
    "api": ("api_id",),
    "operation": ("api_id", "operation"),
    "product": ("product_id",),
    "subscription": ("subscription_id",),
    "application": ("client_id",),
    "developer": ("user_id",),
}


@dataclass(frozen=True)
class UsageFilter:
    start: datetime  # aware
    end: datetime
    api_ids: frozenset[int] | None = None  # None: all; callers pass the APIs the viewer sees
    operation: str | None = None
    product_id: int | None = None
    # One subscription or application, or (a frozenset) any of several: My usage ranks a
    # developer's own in one query rather than a summary each.
    subscription_id: int | frozenset[int] | None = None
    client_id: str | frozenset[str] | None = None
    user_id: int | None = None
    # Products whose names the viewer may read (None: all). A ranking by product or
    # subscription names others as unnamed: their calls count, their names stay hidden.
    named_products: frozenset[int] | None = None


@dataclass(frozen=True)
class Point:
    start: datetime  # aware, UTC
    success: int
    blocked: int
    failed: int
    other: int
    bytes_in: int
    bytes_out: int
    # The bucket's latency histogram (histogram.FIELDS) and slowest call: buckets of a chart
    # sum the histograms of their points for p50/p95 (percentiles themselves do not add up).
    hist: tuple[int, ...] = ()
    total_ms_max: float | None = None

    @property
    def calls(self) -> int:
        return self.success + self.blocked + self.failed + self.other


@dataclass(frozen=True)
class Summary:
    calls: int
    success: int
    blocked: int
    failed: int
    other: int
    error_rate: float  # 0..1
    p50_ms: float | None  # None: no calls
    p95_ms: float | None
    total_ms_avg: float | None
    total_ms_min: float | None
    total_ms_max: float | None
    backend_ms_avg: float | None  # None: no call reached a backend
    backend_ms_min: float | None
    backend_ms_max: float | None
    bytes_in: int
    bytes_out: int


@dataclass(frozen=True)
class Row:
    key: int | str  # an id, or an operation's slug, or a client id; 0 / "" for none
    label: str
    calls: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    avg_ms: float | None
    bytes_in: int
    bytes_out: int


def step_for(start: datetime, end: datetime) -> Step:
    """The chart's natural step: minutes up to 6 hours, hours up to 8 days, else days."""
    span = end - start
    if span <= timedelta(hours=6):
        return "minute"
    if span <= timedelta(days=8):
        return "hour"
    return "day"


def _floor(t: datetime, level: int) -> datetime:
    seconds = LEVEL_SECONDS[level]
    epoch = int(t.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _table(f: UsageFilter, by: str | None = None) -> type[Rollup]:
    consumer = (
        f.subscription_id is not None
        or f.client_id is not None
        or f.user_id is not None
        or by in _CONSUMER_BY
    )
    operation = f.operation is not None or by == "operation"
    if consumer and operation:
        return ConsumerOperationRollup
    return ConsumerRollup if consumer else ApiRollup


def _minute_floor(model: type[Rollup]) -> int:
    """The epoch before which `model` has no minute rows: its minutes' retention, or never
    for ConsumerOperationRollup, which keeps hours and days only."""
    from django.conf import settings

    if model is ConsumerOperationRollup:
        return 2**62
    now = int(datetime.now(UTC).timestamp())
    return now - settings.USAGE_RETENTION_MINUTE_DAYS * 86400


def _bounds(f: UsageFilter, level: int, model: type[Rollup]) -> tuple[int, int, int]:
    """The filter's range as epochs the table can count exactly: from the minute that holds
    its start through the one that holds its end (the hours for a table without minutes,
    or where minutes are no longer kept), and the epoch before which minutes are gone."""
    edge = LEVEL_SECONDS[HOUR if model is ConsumerOperationRollup else MINUTE]
    start = int(f.start.timestamp()) // edge * edge
    end = -(-int(f.end.timestamp()) // edge) * edge
    # A range of minutes (up to 6 hours) reads its own minutes; a longer one reads minutes
    # at its edges only while they are kept.
    minute_floor = 0 if level == MINUTE else _minute_floor(model)
    if end % 3600 and end - end % 3600 < minute_floor:
        end += 3600 - end % 3600  # its minutes are gone: the hour whole
    return start, end, minute_floor


def _coarse_spans(
    f: UsageFilter, level: int, by: str | None
) -> tuple[type[Rollup], int, list[tuple[int, int, int]]]:
    """The table, the level, and the filter's range as (level, from, to) spans of whole
    days where they fit, hours and minutes at the edges: a range that starts or ends
    between two hours (the last 24 hours end now) counts the minutes of its partial hours,
    where the table keeps minutes (else that hour whole), as series() does."""
    model = _table(f, by)
    if model is ConsumerOperationRollup:
        level = max(level, HOUR)
    start, end_epoch, minute_floor = _bounds(f, level, model)
    now = int(datetime.now(UTC).timestamp())
    if end_epoch >= now:
        # Nothing is counted after now, so today's day row holds exactly the calls of
        # today's hours so far: a range ending now reads one row per key for today
        # instead of one per hour (a 24-hour ranking reads about half the rows).
        end_epoch = max(end_epoch, -(-now // 86400) * 86400)
    return model, level, spans_of(start, end_epoch, minute_floor)


def _split(
    f: UsageFilter, spans: list[tuple[int, int, int]]
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """The spans whose sums are kept between requests (closed days, usage/closed.py), those
    read afresh, and the range's first hour, read afresh on its own: a range ending now
    starts at a new minute every minute, and its kept part must stay the same through the
    hour (the aggregator pre-fills it once an hour, usage/prefill.py). The first hour's
    minutes go in a query of their own: ORed with the day rows of today, SQLite read them
    several times slower than alone (7 -> 16 ms for 24 hours by API, the bench's data)."""
    kept, fresh = closed.split(spans, closed.closed_before())
    cut = int(_floor(f.start, HOUR).timestamp()) + 3600
    stable: list[tuple[int, int, int]] = []
    edge: list[tuple[int, int, int]] = []
    for level, a, b in kept:
        if level == DAY or a >= cut:
            stable.append((level, a, b))
        elif b <= cut:
            edge.append((level, a, b))
        else:
            edge.append((level, a, cut))
            stable.append((level, cut, b))
    return stable, fresh, edge


def _where(f: UsageFilter) -> dict[str, Any]:
    """The rows of the filter's APIs, operation, product and consumer, as conditions for
    usage/rollup_sql.py: column -> value (a set: one of them)."""
    where: dict[str, Any] = {}
    if f.api_ids is not None:
        where["api_id"] = frozenset(f.api_ids)
    for name in ("operation", "product_id", "subscription_id", "client_id", "user_id"):
        value = getattr(f, name)
        if value is not None:
            where[name] = value
    return where


# Every measure of the summary and of a ranking's winners, summed (then merged by _merged).
_SUMS = (*rollup_sql.INTEGERS, *rollup_sql.FLOAT_SUMS)
_EXTREMES = (*rollup_sql.MINIMA, *rollup_sql.MAXIMA)
_MEASURES = rollup_sql.measures()


def series(f: UsageFilter, step: Step) -> list[Point]:
    """Calls per bucket by outcome, bytes and latency histograms, one point per bucket
    (empty ones included). Buckets of closed days are kept between requests (closed.py).

    A range that starts or ends between two buckets (the last 24 hours start at a minute
    of the hour 24 hours ago and end now) has a partial first or last point, counted from
    finer rows as summary() counts it (usage/windows.py's bucket_starts gives it its
    partial bucket)."""
    level = _STEP_LEVEL[step]
    model = _table(f)
    if model is ConsumerOperationRollup:
        level = max(level, HOUR)
    size = LEVEL_SECONDS[level]
    exact, exact_end, minute_floor = _bounds(f, level, model)
    start = exact - exact % size
    end = exact_end if exact_end % size == 0 else exact_end + size - exact_end % size
    first: tuple[dict[str, Any] | None] | None = None
    if exact > start or level == HOUR:
        # The first bucket, partial or not, read afresh: a range ending now starts at a new
        # minute every minute, and what is kept of the rest must not change within the hour.
        edge = min(start + size, exact_end)
        spans = spans_of(exact, edge, minute_floor)

        def first_bucket(spans: list[tuple[int, int, int]] = spans) -> dict[str, Any] | None:
            return _sum_points(_buckets(model, f, spans).values())

        if edge <= closed.closed_before():  # a closed day's: kept through its minute
            question = ("series", model.__name__, _filter_key(f), spans)
            first = closed.kept_briefly(question, lambda: (first_bucket(),))  # None kept too
        else:
            first = (first_bucket(),)
        start = edge
        if start >= exact_end:  # the whole range is in that bucket
            end = start
    last: tuple[int, dict[str, Any] | None] | None = None
    if exact_end % size and start < exact_end < datetime.now(UTC).timestamp():
        # (A range that ends now reads its last bucket whole: nothing is counted after now.)
        tail = exact_end - exact_end % size
        last = (tail, _sum_points(_buckets(model, f, spans_of(tail, exact_end, 0)).values()))
        end = tail
    boundary = max(start, min(end, closed.closed_before()))
    found = _buckets(model, f, [(level, boundary, end)])
    if start < boundary:
        spans = [(level, start, boundary)]
        found |= closed.kept(
            ("series", model.__name__, _filter_key(f), spans),
            lambda: _buckets(model, f, spans),
        )
    points = [] if first is None else [_point(f.start, first[0])]
    for t in range(start, end, size):
        points.append(_point(max(datetime.fromtimestamp(t, UTC), f.start), found.get((level, t))))
    if last is not None:
        points.append(_point(max(datetime.fromtimestamp(last[0], UTC), f.start), last[1]))
    return points


def _point(moment: datetime, r: dict[str, Any] | None) -> Point:
    if r is None:
        return Point(moment, 0, 0, 0, 0, 0, 0)
    hist = tuple(int(r[name] or 0) for name in histogram.FIELDS)
    return Point(moment, r["s"], r["b"], r["fa"], r["o"], r["bi"], r["bo"], hist, r["top"])


def _sum_points(rows: Any) -> dict[str, Any] | None:
    """Bucket sums (as _buckets gives them) added into one; None for none."""
    out: dict[str, Any] | None = None
    for r in rows:
        if out is None:
            out = dict(r)
            continue
        for name in _POINT_FIELDS:
            out[name] = int(out[name] or 0) + int(r[name] or 0)
        tops = [v for v in (out["top"], r["top"]) if v is not None]
        out["top"] = max(tops) if tops else None
    return out


def _buckets(
    model: type[Rollup], f: UsageFilter, spans: list[tuple[int, int, int]]
) -> dict[tuple[int, int], dict[str, Any]]:
    """The filter's rows over the spans summed per bucket: (level, start epoch) -> sums."""
    spans = [(level, a, b) for level, a, b in spans if a < b]
    rows = rollup_sql.grouped(model, spans, _where(f), ("level", "start"), _POINT_SUMS)
    names = ("level", "start", *_POINT_SUMS)
    return {(r[0], rollup_sql.epoch_of(r[1])): dict(zip(names, r, strict=True)) for r in rows}


_POINT_SUMS = {
    "top": f"MAX({rollup_sql.q('total_ms_max')})",
    **{
        alias: rollup_sql.integer_sum(name)
        for alias, name in (
            ("s", "success"), ("b", "blocked"), ("fa", "failed"), ("o", "other"),
            ("bi", "bytes_in"), ("bo", "bytes_out"),
            *((name, name) for name in histogram.FIELDS),
        )
    },
}  # fmt: skip
_POINT_FIELDS = ("s", "b", "fa", "o", "bi", "bo", *histogram.FIELDS)


def local_day_series(f: UsageFilter, starts: list[datetime], end: datetime) -> list[Point] | None:
    """One point per day of the viewer's zone ([starts[i], starts[i + 1]), the last to
    `end`), each the UTC day it mostly covers, plus the hours of the previous or next UTC
    day it takes in, minus those it leaves out: counts, bytes and histograms add and
    subtract exactly. 30 local days read 30 day rows and their edge hours per key instead
    of 720 hours. The slowest call (for the p95's open bucket) is the day's, an upper
    bound. None when a bound is not on the hour (zones 30 or 45 minutes off UTC): the
    caller then sums the hours."""
    bounds = [int(moment.timestamp()) for moment in (*starts, end)]
    if any(b % 3600 for b in bounds):
        return None
    plans: list[tuple[int, list[tuple[int, int, int]]]] = []  # (start, [(sign, level, at)])
    for a, b in zip(bounds, bounds[1:], strict=False):
        day = (a + b) // 2 // 86400 * 86400
        terms = [(1, DAY, day)]
        terms += [(1 if a < day else -1, HOUR, h) for h in range(min(a, day), max(a, day), 3600)]
        after = day + 86400
        terms += [
            (1 if b > after else -1, HOUR, h) for h in range(min(b, after), max(b, after), 3600)
        ]
        plans.append((a, terms))
    when = {level: sorted({at for _, terms in plans for _, lvl, at in terms if lvl == level})
            for level in (DAY, HOUR)}  # fmt: skip
    model = _table(f)
    boundary = closed.closed_before()
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for is_closed in (True, False):
        spans = [
            (level, at, at + LEVEL_SECONDS[level])
            for level in (DAY, HOUR)
            for at in when[level]
            if (at + LEVEL_SECONDS[level] <= boundary) == is_closed
        ]
        if is_closed and spans:
            found |= closed.kept(
                ("local days", model.__name__, _filter_key(f), spans),
                lambda spans=spans: _buckets(model, f, spans),  # type: ignore[misc]
            )
        else:
            found |= _buckets(model, f, spans)
    points = []
    for a, terms in plans:
        sums = [0] * len(_POINT_FIELDS)
        top: float | None = None
        for sign, level, at in terms:
            r = found.get((level, at))
            if r is None:
                continue
            for i, name in enumerate(_POINT_FIELDS):
                sums[i] += sign * int(r[name] or 0)
            if sign > 0 and r["top"] is not None:
                top = r["top"] if top is None else max(top, r["top"])
        s, b, fa, o, bi, bo = sums[:6]
        hist = tuple(sums[6:]) if any(sums[6:]) else ()
        points.append(Point(datetime.fromtimestamp(a, UTC), s, b, fa, o, bi, bo, hist, top))
    return points


def midnight_minutes(f: UsageFilter, starts: list[datetime]) -> list[Point]:
    """What moves the calls of each day's first minutes to that day, for local days summed
    from hours (series() at "hour") where a midnight is not on the hour (zones 30 or 45
    minutes off UTC): the hour that holds the midnight is drawn on the day before, so the
    minutes from the midnight to the hour's end are taken from it (a point at the hour, of
    negative counts) and added to the day (a point at the midnight). Where those minutes
    are not kept (past USAGE_RETENTION_MINUTE_DAYS; a consumer's operations keep none) the
    hour stays whole on the day before, the finest the rollups can tell."""
    model = _table(f)
    minute_floor = _minute_floor(model)
    spans = []
    for moment in starts[1:]:  # the first is the range's start: series() cuts it itself
        at = int(moment.timestamp())
        if at % 3600 and at >= minute_floor:
            spans.append((MINUTE, at, at - at % 3600 + 3600))
    if not spans:
        return []
    found = _buckets(model, f, spans)
    points = []
    for _, at, hour_end in spans:
        r = _sum_points(v for (_, t), v in found.items() if at <= t < hour_end)
        if r is None:
            continue
        moved = _point(datetime.fromtimestamp(at, UTC), r)
        s, b, fa, o, bi, bo, *hist = (-int(r[name] or 0) for name in _POINT_FIELDS)
        hour = datetime.fromtimestamp(hour_end - 3600, UTC)
        points += [Point(hour, s, b, fa, o, bi, bo, tuple(hist)), moved]
    return points


def _percentiles(r: dict[str, Any]) -> tuple[float | None, float | None]:
    counts = [r[name] or 0 for name in histogram.FIELDS]
    top = r.get("total_ms_max")
    return histogram.percentile(counts, 0.5, top), histogram.percentile(counts, 0.95, top)


def summary(f: UsageFilter) -> Summary:
    """Totals of the range at its natural step (those of closed days kept, closed.py)."""
    model, _, spans = _coarse_spans(f, _STEP_LEVEL[step_for(f.start, f.end)], None)
    closed_spans, open_spans, edge = _split(f, spans)

    def totals(spans: list[tuple[int, int, int]]) -> dict[str, Any]:
        if not spans:
            return {}
        rows = rollup_sql.grouped(model, spans, _where(f), (), _MEASURES)
        return dict(zip(_MEASURES, rows[0], strict=True)) if rows else {}

    r = totals(open_spans)
    if edge:
        question = ("summary", model.__name__, _filter_key(f), edge)
        r = _merged(closed.kept_briefly(question, lambda: totals(edge)), r)
    if closed_spans:
        question = ("summary", model.__name__, _filter_key(f), closed_spans)
        r = _merged(closed.kept(question, lambda: totals(closed_spans)), r)
    r = {name: r.get(name) for name in (*_SUMS, *_EXTREMES)}
    counts = {k: int(r[k] or 0) for k in ("success", "blocked", "failed", "other")}
    calls = sum(counts.values())
    backend = int(r["backend_count"] or 0)
    p50, p95 = _percentiles(r)
    return Summary(
        calls=calls,
        **counts,
        error_rate=(calls - counts["success"]) / calls if calls else 0.0,
        p50_ms=p50,
        p95_ms=p95,
        total_ms_avg=(r["total_ms_sum"] or 0.0) / calls if calls else None,
        total_ms_min=r["total_ms_min"],
        total_ms_max=r["total_ms_max"],
        backend_ms_avg=(r["backend_ms_sum"] or 0.0) / backend if backend else None,
        backend_ms_min=r["backend_ms_min"],
        backend_ms_max=r["backend_ms_max"],
        bytes_in=int(r["bytes_in"] or 0),
        bytes_out=int(r["bytes_out"] or 0),
    )


def ranked(f: UsageFilter, by: By, order: Order, limit: int = 20) -> list[Row]:
    """The top `limit` APIs, operations, products or consumers of the range by calls, errors
    or average time. Ranks with narrow sums first (those of closed days kept between
    requests, usage/closed.py, today's added), then reads the histograms of the winners
    only: a ranking over thousands of subscriptions is today's rows and a merge."""
    model, level, spans = _coarse_spans(f, _STEP_LEVEL[step_for(f.start, f.end)], by)
    group = _GROUP[by]
    closed_spans, open_spans, edge = _split(f, spans)
    question = (model.__name__, group, _filter_key(f), closed_spans)
    sums: closed.Sums = {}
    if closed_spans:
        sums = dict(closed.kept(question, lambda: _sums(model, f, closed_spans, group)))
    first: closed.Sums = {}
    if edge:
        edge_question = (model.__name__, group, _filter_key(f), edge)
        first = closed.kept_briefly(edge_question, lambda: _sums(model, f, edge, group))
    for part in (first, _sums(model, f, open_spans, group)):
        for key, (calls, errors, time) in part.items():
            had = sums.get(key)
            sums[key] = [had[0] + calls, had[1] + errors, had[2] + time] if had else [
                calls, errors, time
            ]  # fmt: skip
    sort_key = {
        "calls": lambda item: (-item[1][0], item[0]),
        "errors": lambda item: (-item[1][1], item[0]),
        "time": lambda item: (-item[1][2] / item[1][0], item[0]),
    }[order]
    # The same as sorted(...)[:limit], without sorting thousands of keys for 20 of them.
    top = heapq.nsmallest(limit, ((k, v) for k, v in sums.items() if v[0] > 0), key=sort_key)
    if not top:
        return []
    winners = [key for key, _ in top]
    details = _details(model, f, open_spans, group, winners)
    if edge:
        at_first = closed.kept_briefly(
            (*edge_question, "details", winners),
            lambda: _details(model, f, edge, group, winners),
        )
        details = {key: _merged(at_first.get(key), details.get(key)) for key in winners}
    if closed_spans:
        # The winners' histograms of past days are kept too: a winner can be huge (the
        # calls made without any application, say) and its rows many.
        kept = closed.kept(
            (*question, "details", winners),
            lambda: _details(model, f, closed_spans, group, winners),
        )
        details = {key: _merged(kept.get(key), details.get(key)) for key in winners}
    labels = _labels(by, [key for key, _ in top], f.named_products)
    rows = []
    for key, (calls_sum, errors_sum, time) in top:
        d = details.get(key, {})
        p50, p95 = _percentiles(d) if d else (None, None)
        calls, errors = int(calls_sum), int(errors_sum)
        rows.append(
            Row(
                key=key[-1],
                label=labels.get(key, str(key[-1])),
                calls=calls,
                errors=errors,
                error_rate=errors / calls if calls else 0.0,
                p50_ms=p50,
                p95_ms=p95,
                avg_ms=float(time or 0.0) / calls if calls else None,
                bytes_in=int(d.get("bytes_in") or 0),
                bytes_out=int(d.get("bytes_out") or 0),
            )
        )
    return rows


def _details(
    model: type[Rollup],
    f: UsageFilter,
    spans: list[tuple[int, int, int]],
    group: tuple[str, ...],
    winners: list[tuple[Any, ...]],
) -> dict[tuple[Any, ...], Any]:
    """Every measure (sums, histograms, extremes) of the winners over the spans."""
    rows = rollup_sql.grouped(model, spans, _where(f), group, _MEASURES, keys=winners)
    names = (*group, *_MEASURES)
    n = len(group)
    return {tuple(r[:n]): dict(zip(names, r, strict=True)) for r in rows}


def _merged(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    """Two winners' details added up: sums add, minima and maxima keep the extreme."""
    if not a or not b:
        return dict(a or b or {})
    out = dict(a)
    for name in _SUMS:
        out[name] = (a[name] or 0) + (b[name] or 0)
    for name in _EXTREMES:
        values = [v for v in (a[name], b[name]) if v is not None]
        pick = min if name.endswith("_min") else max
        out[name] = pick(values) if values else None
    return out


def _filter_key(f: UsageFilter) -> tuple[Any, ...]:
    """What of the filter decides a ranking's sums besides its time."""
    apis = None if f.api_ids is None else tuple(sorted(f.api_ids))
    subs, clients = (
        tuple(sorted(v)) if isinstance(v, frozenset) else v
        for v in (f.subscription_id, f.client_id)
    )  # a set's repr follows hashing, which differs between processes
    return (apis, f.operation, f.product_id, subs, clients, f.user_id)


def _sums(
    model: type[Rollup], f: UsageFilter, spans: list[tuple[int, int, int]], group: tuple[str, ...]
) -> closed.Sums:
    """Calls, errors and total time by ranked key over the spans: one narrow GROUP BY."""
    rows = rollup_sql.grouped(model, spans, _where(f), group, _RANKED_SUMS)
    n = len(group)
    return {
        tuple(row[:n]): [row[n] or 0, row[n + 1] or 0, row[n + 2] or 0.0]  # None: no rows
        for row in rows
    }


_RANKED_SUMS = {
    "calls": rollup_sql.integer_sum(*rollup_sql.COUNTS),
    "errors": rollup_sql.integer_sum("blocked", "failed", "other"),
    "time": f"SUM({rollup_sql.q('total_ms_sum')})",
}


HIDDEN_PRODUCT = "(a product not offered to you)"


def _labels(
    by: str, keys: list[tuple[Any, ...]], named_products: frozenset[int] | None = None
) -> dict[tuple[Any, ...], str]:
    """What a person reads for each key; "(none)" for calls without one (e.g. refused
    before any API matched, or made without a subscription). A product outside
    `named_products` (None: all) is not named (SECURITY.md case 67)."""

    def named(product_id: int) -> bool:
        return named_products is None or product_id in named_products

    from django.contrib.auth import get_user_model

    from apis.models import Api
    from applications.models import Application
    from products.models import Product, Subscription

    ids = [k[-1] for k in keys]
    names: dict[Any, str]
    if by == "api":
        names = dict(Api.objects.filter(pk__in=ids).values_list("pk", "name"))
    elif by == "operation":
        apis = dict(Api.objects.filter(pk__in=[k[0] for k in keys]).values_list("pk", "name"))
        return {k: f"{k[1] or '(none)'} ({apis.get(k[0], '(no API)')})" for k in keys}
    elif by == "product":
        names = {
            pk: name if named(pk) else HIDDEN_PRODUCT
            for pk, name in Product.objects.filter(pk__in=ids).values_list("pk", "name")
        }
    elif by == "subscription":
        names = {
            s.pk: f"{s.label if named(s.product_id) else s.name or HIDDEN_PRODUCT} "
            f"({s.owner.get_username()})"
            for s in Subscription.objects.filter(pk__in=ids).select_related("product", "owner")
        }
    elif by == "application":
        names = dict(Application.objects.filter(client_id__in=ids).values_list("client_id", "name"))
    else:
        names = {
            u.pk: u.get_full_name() or u.get_username()
            for u in get_user_model().objects.filter(pk__in=ids)
        }
    return {k: names.get(k[-1]) or ("(none)" if not k[-1] else f"{k[-1]} (deleted)") for k in keys}

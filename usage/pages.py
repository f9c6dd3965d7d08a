"""What the usage pages show, gathered from usage/reports.py: no request in here.

A developer's page and the staff reports page ask the same questions (the summary, the
series, ranked rows) of a filter the view has already narrowed to what the viewer may see;
this module turns the answers into charts and table rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from usage import charts, closed, quotas, reports, windows


@dataclass(frozen=True)
class Stat:
    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class RankedRow:
    key: Any
    label: str
    cells: list[str]
    raw: list[Any]
    query: str = ""  # the reports page's filter for this row ("api=petstore"), staff only


RANKED_HEADERS = [
    "Calls",
    "Errors",
    "Error rate",
    "p50",
    "p95",
    "Average",
    "Out (responses)",
    "In (requests)",
]


@dataclass(frozen=True)
class UsagePage:
    window: windows.Window
    stats: list[Stat]
    calls: charts.Chart
    bandwidth: charts.Chart
    latency: charts.Chart | None
    ranked: list[RankedRow] = field(default_factory=list)
    total_calls: int = 0
    buckets: list[windows.Bucket] = field(default_factory=list)  # for CSV exports

    @property
    def period(self) -> str:
        """ "From Tue 1 Dec 09:00 to Wed 2 Dec 08:00 (Europe/Paris)": what the figures cover."""
        if not self.buckets:
            return ""
        text = charts.range_text(self.buckets, self.window)
        return text[:1].upper() + text[1:]


def viewer_api_ids(user: Any, apis: Any = None) -> frozenset[int] | None:
    """The APIs whose use the viewer may see; None (all) for those who see every API.
    `apis`: visible_apis(user) when the caller has it already (its queries are made)."""
    from products.visibility import sees_everything, visible_apis

    if sees_everything(user):
        return None
    return frozenset(
        (apis if apis is not None else visible_apis(user)).values_list("pk", flat=True)
    )


def application_dimensions(app: Any) -> dict[str, Any]:
    """What of the rollups is an application's: its client id's calls made by its owner. A
    client id can be issued again (an external server's) to another developer's new
    application, which must not show the deleted one's calls (they name its owner, or
    nobody: usage/aggregate.py finds no owner for a client id no application has)."""
    return {"client_id": app.client_id, "user_id": app.owner_id}


def usage_filter(window: windows.Window, **dimensions: Any) -> reports.UsageFilter:
    return reports.UsageFilter(start=window.start, end=window.end, **dimensions)


def percent(rate: float) -> str:
    value = 100 * rate
    if value == 0:
        return "0%"
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def _spread(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"min {charts.milliseconds(low)}, max {charts.milliseconds(high)}"


def stats_of(summary: Any) -> list[Stat]:
    """The figures above the charts: calls, errors, percentiles, API and backend time
    (average, min, max: APIM's report columns) and bandwidth."""
    return [
        Stat("Calls", charts.count(summary.calls)),
        Stat(
            "Error rate",
            percent(summary.error_rate) if summary.calls else "–",  # 0 of 0 is no rate
            f"{charts.count(summary.failed)} failed, {charts.count(summary.blocked)} blocked, "
            f"{charts.count(summary.other)} other",
        ),
        Stat("p50 total time", charts.milliseconds(summary.p50_ms)),
        Stat("p95 total time", charts.milliseconds(summary.p95_ms)),
        Stat(
            "Average total time",
            charts.milliseconds(summary.total_ms_avg),
            _spread(summary.total_ms_min, summary.total_ms_max),
        ),
        Stat(
            "Average backend time",
            charts.milliseconds(summary.backend_ms_avg),
            _spread(summary.backend_ms_min, summary.backend_ms_max),
        ),
        Stat(
            "Bandwidth",
            charts.human_bytes(summary.bytes_out),
            f"out; {charts.human_bytes(summary.bytes_in)} in",
        ),
    ]


def ranked_rows(rows: Sequence[Any], queries: dict[Any, str] | None = None) -> list[RankedRow]:
    queries = queries or {}
    return [
        RankedRow(
            key=row.key,
            label=str(row.label),
            cells=[
                charts.count(row.calls),
                charts.count(row.errors),
                percent(row.error_rate),
                charts.milliseconds(row.p50_ms),
                charts.milliseconds(row.p95_ms),
                charts.milliseconds(row.avg_ms),
                charts.human_bytes(row.bytes_out),
                charts.human_bytes(row.bytes_in),
            ],
            raw=[
                row.calls,
                row.errors,
                round(row.error_rate, 4),
                _num(row.p50_ms),
                _num(row.p95_ms),
                _num(row.avg_ms),
                row.bytes_out,
                row.bytes_in,
            ],
            query=queries.get(row.key, ""),
        )
        for row in rows
    ]


def _num(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)


def answers(
    window: windows.Window, f: reports.UsageFilter, *, by: str, order: str, limit: int
) -> tuple[reports.Summary, Sequence[Any], list[reports.Row]]:
    """What a page asks of usage/reports.py for filter `f` over `window`: the summary, the
    series' points and the ranked rows (usage/prefill.py asks the same, off any request)."""
    with closed.one_token():  # the page's past days under one version, read once
        summary = reports.summary(f)
        points: Sequence[Any] | None = None
        if window.bucket == "local-day":
            points = reports.local_day_series(f, windows.bucket_starts(window), window.end)
        if points is None:
            points = reports.series(f, window.step)
            if window.bucket == "local-day":
                starts = windows.bucket_starts(window)
                points = [*points, *reports.midnight_minutes(f, starts)]
        rows = reports.ranked(f, by, order, limit)  # type: ignore[arg-type]
    return summary, points, rows


def build(
    window: windows.Window,
    f: reports.UsageFilter,
    *,
    by: str = "operation",
    order: str = "calls",
    limit: int = 10,
    queries_for: Any = None,
) -> UsagePage:
    """The summary, the three charts and one ranked table for filter `f` over `window`."""
    summary, points, rows = answers(window, f, by=by, order=order, limit=limit)
    bs = windows.buckets(points, window)
    queries = queries_for(by, rows) if queries_for else None
    return UsagePage(
        window=window,
        stats=stats_of(summary),
        calls=charts.calls_chart(bs, window),
        bandwidth=charts.bandwidth_chart(bs, window),
        latency=charts.latency_chart(bs, window),
        ranked=ranked_rows(rows, queries),
        total_calls=summary.calls,
        buckets=bs,
    )


@dataclass(frozen=True)
class Glance:
    """One line of a developer's overview: a subscription or application over the range."""

    calls: str
    error_rate: str
    p50: str


def _glance(row: reports.Row | None) -> Glance:
    if row is None or not row.calls:
        return Glance(calls="0", error_rate="–", p50=charts.milliseconds(None))  # 0 of 0: no rate
    return Glance(
        calls=charts.count(row.calls),
        error_rate=percent(row.error_rate),
        p50=charts.milliseconds(row.p50_ms),
    )


def glances(
    window: windows.Window,
    api_ids: frozenset[int] | None,
    sub_ids: Sequence[int],
    client_ids: Sequence[str],
    owner_id: int | None = None,
) -> tuple[list[Glance], list[Glance]]:
    """Calls, error rate and p50 of each of a developer's subscriptions (`sub_ids`) and
    applications (`client_ids`, their calls made by `owner_id`, application_dimensions)
    over `window`: one ranking of each kind, whatever their number (a summary each made
    hundreds of queries for a developer with many)."""
    found: dict[str, dict[Any, reports.Row]] = {"subscription": {}, "application": {}}
    with closed.one_token():
        kinds: list[tuple[reports.By, Sequence[Any], str]] = [
            ("subscription", sub_ids, "subscription_id"),
            ("application", client_ids, "client_id"),
        ]
        for by, ids, dimension in kinds:
            if not ids:
                continue
            owner = {"user_id": owner_id} if by == "application" else {}
            f = usage_filter(window, api_ids=api_ids, **{dimension: frozenset(ids)}, **owner)
            rows = reports.ranked(f, by, "calls", len(set(ids)))
            found[by] = {row.key: row for row in rows}
    return (
        [_glance(found["subscription"].get(pk)) for pk in sub_ids],
        [_glance(found["application"].get(cid)) for cid in client_ids],
    )


def overview(
    window: windows.Window,
    api_ids: frozenset[int] | None,
    subs: Sequence[Any],
    apps: Sequence[Any],
    tz: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """My usage's rows: each subscription with its glance and quota bars (calls, kilobytes), each application
    with its glance."""
    sub_looks, app_looks = glances(
        window, api_ids, [sub.pk for sub in subs], [app.client_id for app in apps],
        apps[0].owner_id if apps else None,  # one developer's applications
    )  # fmt: skip
    calls, volumes = quotas.quota_uses(subs), quotas.volume_uses(subs)
    sub_rows = [
        {
            "sub": sub,
            "glance": look,
            "quota": charts.quota_bar(calls.get(sub.pk), tz),
            "volume": charts.volume_bar(volumes.get(sub.pk), tz),
        }
        for sub, look in zip(subs, sub_looks, strict=True)
    ]
    app_rows = [{"app": app, "glance": look} for app, look in zip(apps, app_looks, strict=True)]
    return sub_rows, app_rows


def figures(f: reports.UsageFilter, *, top: int = 10) -> tuple[reports.Summary, list[reports.Row]]:
    """The totals of filter `f` and its `top` operations by calls: what a developer's page
    shows, without its charts (the /api/v1/ usage answers)."""
    with closed.one_token():
        return reports.summary(f), reports.ranked(f, "operation", "calls", top)


def drill_queries(
    by: str, rows: Sequence[Any], named_products: frozenset[int] | None = None
) -> dict[Any, str]:
    """For each ranked row, the reports page's filter that narrows to it ("api=petstore").

    Rows name objects by primary key; URLs use slugs, UUIDs, client ids and user names. A
    product outside `named_products` (None: all) gets none: its slug is a name too.
    """
    from urllib.parse import urlencode

    from django.contrib.auth import get_user_model

    from apis.models import Api
    from products.models import Product, Subscription

    keys = [row.key for row in rows if row.key]  # 0 and "": calls without one
    lookup: dict[Any, str] = {}
    if by == "api":
        lookup = dict(Api.objects.filter(pk__in=keys).values_list("pk", "slug"))
    elif by == "product":
        products = Product.objects.filter(pk__in=keys)
        if named_products is not None:
            products = products.filter(pk__in=sorted(named_products))
        lookup = dict(products.values_list("pk", "slug"))
    elif by == "subscription":
        subs = Subscription.objects.filter(pk__in=keys).values_list("pk", "uuid")
        lookup = {pk: str(uuid) for pk, uuid in subs}
    elif by == "developer":
        users = get_user_model().objects.filter(pk__in=keys).values_list("pk", "username")
        lookup = dict(users)
    elif by in ("operation", "application"):
        lookup = {key: str(key) for key in keys}
    return {key: urlencode({by: value}) for key, value in lookup.items()}

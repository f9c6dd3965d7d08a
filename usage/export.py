"""CSV exports of the usage tables.

Labels come from developers (application names, subscription names, user names) and specs
(operation ids): a cell that starts with =, +, -, @, a tab or a carriage return would be read
as a formula by a spreadsheet (CSV injection), so such a cell gets a leading apostrophe; so
does one where such a character follows leading spaces, which an import may trim.
Numbers are written raw, unformatted, for the spreadsheet to sum.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.utils import timezone

if TYPE_CHECKING:
    from usage import pages

TABLES = ("ranked", "calls", "bandwidth", "latency")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would take for a formula made inert."""
    if isinstance(value, str) and (
        value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START)
    ):
        return "'" + value
    return value


def query_without(query: Any, *names: str) -> str:
    """The query string minus some parameters (to add them back changed in links)."""
    pairs = [(k, v) for k, values in query.lists() if k not in names for v in values if v]
    return urlencode(pairs)


def rows_of(page: pages.UsagePage, table: str, by: str) -> tuple[list[str], Iterable[list[Any]]]:
    tz = page.window.tz
    if table == "ranked":
        headers = [by, "calls", "errors", "error_rate", "p50_ms", "p95_ms", "avg_ms",
                   "bytes_out", "bytes_in"]  # fmt: skip
        return headers, ([row.label, *row.raw] for row in page.ranked)
    when = f"start ({page.window.tz_name})"
    if table == "calls":
        return [when, "success", "blocked", "failed", "other", "total"], (
            [b.start.astimezone(tz).isoformat(), b.success, b.blocked, b.failed, b.other, b.total]
            for b in page.buckets
        )
    if table == "bandwidth":
        return [when, "bytes_out", "bytes_in"], (
            [b.start.astimezone(tz).isoformat(), b.bytes_out, b.bytes_in] for b in page.buckets
        )
    return [when, "p50_ms", "p95_ms"], (
        [b.start.astimezone(tz).isoformat(), b.p50_ms if b.p50_ms is not None else "",
         b.p95_ms if b.p95_ms is not None else ""]
        for b in page.buckets
    )  # fmt: skip


def csv_response(page: pages.UsagePage, table: str, *, by: str, order: str) -> HttpResponse:
    headers, rows = rows_of(page, table, by)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    name = (
        f"usage-{by}-by-{order}-{stamp}.csv" if table == "ranked" else f"usage-{table}-{stamp}.csv"
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return response

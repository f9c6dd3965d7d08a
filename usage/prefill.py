"""The closed days of the reports staff open most, computed in the aggregator, off any request.

A report's past days are kept between requests (usage/closed.py), but someone has to sum
them first: 30 days ranked by subscription is about 150,000 day rows, hundreds of
milliseconds that the first viewer of each hour (the 24-hour and 7-day ranges move by the
hour) or of a restarted portal would wait. So the aggregator (usage/aggregate.py's loop)
asks the reports page's own questions (usage/pages.answers) once an hour, and whenever the version token of
closed days changes: every preset range, every ranking by calls, for each distinct set of
APIs that the holders of the reports permission may see, in UTC and USAGE_PREFILL_ZONES.
The answers go to the database (usage.models.KeptTotal), where every portal process finds
them on its first request. Filters nobody can predict (one API, one developer ...) are
still summed by their first request: they read far fewer rows.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from usage import closed, pages, windows
from usage.models import ROLLUPS, ClosedDaysVersion

log = logging.getLogger(__name__)

RANKINGS = ("api", "operation", "product", "subscription", "application", "developer")
REPORTS_LIMIT = 20  # the reports page's table (usage/views.py)
# A new token (a late event, an anonymised developer) pre-fills again, at most this often;
# after a failure, the next try waits as long.
RETRY_AFTER_SECONDS = 300

# Pre-fill the next hour's pages this long before it starts.
AHEAD_SECONDS = 600

_last: dict[str, float] = {"at": 0.0, "failed": 0.0}
_done: set[tuple[int, int, str | None]] = set()  # (hour, closed days' boundary, token) done


def staff_api_sets() -> set[frozenset[int] | None]:
    """The distinct sets of APIs the readers of the reports may see (None: every API)."""
    from django.contrib.auth import get_user_model

    readers = get_user_model().objects.with_perm(  # type: ignore[attr-defined]
        "usage.view_reports", backend="django.contrib.auth.backends.ModelBackend"
    )
    return {pages.viewer_api_ids(user) for user in readers}


def zones() -> list[Any]:
    names = dict.fromkeys(["UTC", *settings.USAGE_PREFILL_ZONES])
    return [ZoneInfo(name) for name in names]


def prefill(now: datetime | None = None) -> int:
    """Compute and store the closed days of every default report page; how many pages."""
    now = now or timezone.now()
    refresh_statistics()
    count = 0
    with closed.storing():
        for api_ids in staff_api_sets():
            for tz in zones():
                for key in windows.RANGES:
                    window = windows.preset_window(key, now, tz)
                    f = pages.usage_filter(window, api_ids=api_ids)
                    for by in RANKINGS:
                        # The page's questions without its charts: the summary and series
                        # are the same for every ranking, and stored after the first.
                        pages.answers(window, f, by=by, order="calls", limit=REPORTS_LIMIT)
                        count += 1
    closed.forget_stale()
    return count


def refresh_statistics() -> None:
    """On SQLite, the query planner's statistics of the rollup tables (ANALYZE, sampled:
    about 25 ms for 1.6 million rows). SQLite keeps none unless asked, and without them it
    picks an index by its leading column alone: a product's report ranked by application
    read every row of the calls made without an application (104 ms for 7 days of the bench's
    data, 33 ms with statistics). PostgreSQL's autovacuum analyzes the tables as they grow."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 1000")
        for model in ROLLUPS:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def when_due(now: float | None = None) -> None:
    """Pre-fill what the hour's requests will ask, unless done: at the latest when the hour,
    the closed days or their token change (a new token at most every RETRY_AFTER_SECONDS),
    and AHEAD_SECONDS before the next hour for that hour, so that its first requests find
    their totals ready. Called by the aggregator's loop; a failure is logged and never stops
    aggregation."""
    now = time.time() if now is None else now
    if now - _last["failed"] < RETRY_AFTER_SECONDS:
        return
    try:
        token = ClosedDaysVersion.objects.filter(pk=1).values_list("token", flat=True).first()
        boundary = closed.closed_before(now)
        hour = int(now) // 3600 * 3600
        hours = [hour, hour + 3600] if now - hour >= 3600 - AHEAD_SECONDS else [hour]
        for at in hours:
            due = (at, boundary, token)
            if due in _done:
                continue
            if any(d[:2] == due[:2] for d in _done) and now - _last["at"] < RETRY_AFTER_SECONDS:
                continue  # only the token changed, and the last pre-fill is recent
            started = time.perf_counter()
            count = prefill(datetime.fromtimestamp(max(now, at), UTC))
            _done.add(due)
            _last["at"] = now
            log.info(
                "usage: pre-filled %d report pages for %s in %.1f s",
                count,
                datetime.fromtimestamp(at, UTC).strftime("%H:00"),
                time.perf_counter() - started,
            )
        for done in [d for d in _done if d[0] < hour]:
            _done.discard(done)
    except Exception:
        log.exception("usage: pre-filling the reports failed; retrying later")
        _last["failed"] = time.time()

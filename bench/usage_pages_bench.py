"""Server time of each usage/reports.py query the usage pages make, on 30 days of rollups for
1,000,000 calls a day across 50 APIs and 5,000 subscriptions (`manage.py generate_usage`).

    python -m bench usage_pages_bench                                  # SQLite
    python -m tests.services -- python -m bench usage_pages_bench      # PostgreSQL

The SQLite database is kept in bench/results/ and reused (BENCH_USAGE_FRESH=1 makes it
again); on PostgreSQL the data is made in the database DATABASE_URL names when it has none.
For each page and range (24 h, 7 d, 30 d) it times every query the page makes: the first
run (`first_ms`, cold: nothing is pre-filled here, see bench/usage_views_bench.py), then
warm (what the pages keep of closed days, usage/closed.py, is then in the cache: only today
is read), the median of BENCH_ROUNDS runs (wall and this process's CPU time), and the
page's sum:
- developer, per subscription and per application: series, summary, top operations,
  quota use (subscription page), for the busiest subscription (the worst case) and a
  typical one;
- administrators' reports: series, summary, and the six rankings, unfiltered and filtered by
  API, by product and by developer, always with the 40 APIs a viewer may see.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from bench.django_setup import REPO, RESULTS

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def setup() -> str:
    import sys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(REPO))
    url = os.environ.get("DATABASE_URL", "")
    vendor = "postgresql" if url.startswith("postgres") else "sqlite"
    if vendor == "sqlite":
        db = RESULTS / "usage_pages_bench.sqlite3"
        RESULTS.mkdir(exist_ok=True)
        if os.environ.get("BENCH_USAGE_FRESH"):
            db.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    import django

    django.setup()
    from django.core.management import call_command

    from usage.models import ApiRollup

    call_command("migrate", verbosity=0)
    if not ApiRollup.objects.exists():
        started = time.perf_counter()
        call_command("generate_usage")
        print(f"generate_usage: {time.perf_counter() - started:.0f} s", flush=True)
    return vendor


def timed(work: Any) -> tuple[float, float, float]:
    """The first run's wall milliseconds (cold: it sums what is kept of closed days, and
    pays for the OS cache), then the median wall and CPU milliseconds of `work`, warm. CPU
    time is this process's: all the work on SQLite, which runs inside it, and what the load
    of a shared machine does not inflate."""
    started = time.perf_counter()
    work()
    first = time.perf_counter() - started
    walls, cpus = [], []
    for _ in range(ROUNDS):
        started, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return first * 1000, statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def run() -> list[dict[str, Any]]:
    vendor = setup()
    from django.db.models import F, Sum

    from usage import quotas, reports
    from usage.models import DAY, ConsumerRollup
    from usage.reports import UsageFilter

    by_rows = (
        ConsumerRollup.objects.filter(level=DAY)
        .exclude(subscription_id=0)
        .values("subscription_id", "client_id", "user_id")
        .annotate(n=Sum(F("success") + F("blocked") + F("failed") + F("other")))
    )
    heavy = max(by_rows, key=lambda r: (r["n"], r["subscription_id"]))
    typical = sorted(by_rows, key=lambda r: r["subscription_id"])[len(by_rows) // 2]
    heavy_app = max((r for r in by_rows if r["client_id"]), key=lambda r: r["n"])
    visible = frozenset(range(1, 41))
    now = datetime.now(UTC)
    ranges = {"24 h": timedelta(hours=24), "7 d": timedelta(days=7), "30 d": timedelta(days=30)}
    results: list[dict[str, Any]] = []

    def page(name: str, queries: dict[str, Any]) -> None:
        times = {q: timed(work) for q, work in queries.items()}
        times["= page total"] = (
            sum(f for f, _, _ in times.values()),
            sum(w for _, w, _ in times.values()),
            sum(c for _, _, c in times.values()),
        )
        for q, (first, wall, cpu) in times.items():
            results.append(
                {"db": vendor, "page": name, "query": q, "first_ms": round(first, 1),
                 "ms": round(wall, 1), "cpu_ms": round(cpu, 1)}
            )  # fmt: skip

    for label, span in ranges.items():
        start = now - span
        step = reports.step_for(start, now)

        def developer(f: UsageFilter, step: reports.Step = step) -> dict[str, Any]:
            return {
                f"series ({step})": lambda: reports.series(f, step),
                "summary": lambda: reports.summary(f),
                "top operations": lambda: reports.ranked(f, "operation", "calls", 10),
            }

        for who, row in (("busiest", heavy), ("typical", typical)):
            f = UsageFilter(start, now, api_ids=visible, subscription_id=row["subscription_id"])
            queries = developer(f)
            sub = SimpleNamespace(
                pk=row["subscription_id"],
                product=SimpleNamespace(quota_calls=1_000_000, quota_period=30 * 86400),
            )
            queries["quota use (30 d)"] = lambda sub=sub: quotas.quota_use(sub)
            page(f"subscription, {who}, {label}", queries)
        f = UsageFilter(start, now, api_ids=visible, client_id=heavy_app["client_id"])
        page(f"application, busiest, {label}", developer(f))

        for filt_name, extra in (
            ("all", {}),
            ("one API", {"api_ids": frozenset({heavy_api_id(heavy)})}),
            ("one product", {"product_id": 1}),
            ("one developer", {"user_id": heavy["user_id"]}),
        ):
            f = UsageFilter(start, now, **({"api_ids": visible} | extra))
            queries = {
                f"series ({step})": lambda f=f, step=step: reports.series(f, step),
                "summary": lambda f=f: reports.summary(f),
            }
            for by in ("api", "operation", "product", "subscription", "application", "developer"):
                queries[f"ranked by {by}"] = lambda f=f, by=by: reports.ranked(f, by, "calls")
            queries["ranked by subscription, errors"] = lambda f=f: reports.ranked(
                f, "subscription", "errors"
            )
            queries["ranked by operation, time"] = lambda f=f: reports.ranked(
                f, "operation", "time"
            )
            page(f"reports, {filt_name}, {label}", queries)
    return results


def heavy_api_id(row: Any) -> int:
    from usage.models import ConsumerRollup

    found = (
        ConsumerRollup.objects.filter(subscription_id=row["subscription_id"])
        .values_list("api_id", flat=True)
        .first()
    )
    return int(found or 1)

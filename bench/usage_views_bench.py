"""Server time of the usage pages themselves (queries, charts and templates, through Django's
middleware), on the rollups `bench/usage_pages_bench.py` makes with `manage.py generate_usage`
(30 days of 1,000,000 calls a day across 50 APIs and 5,000 subscriptions).

    python -m bench usage_pages_bench        # first: makes (or reuses) the data
    python -m bench.usage_views_bench        # then: the pages, on the same database

The generated rows name made-up ids; this bench gives the busiest subscription and the
busiest application real owners (a developer, a product with a call quota) and publishes 40
of the 50 APIs, so the developer pages are asked exactly as a developer would ask them: 10 APIs
hidden from the viewer. Each page is requested warm BENCH_ROUNDS times (default 5), in the
Europe/Paris zone (30 days are then local days summed from hourly rollups); the median is
reported with its CPU time, and the first request's time.

First, as the aggregator does every hour (usage/prefill.py), the past days of the default
report pages are pre-filled for the readers of the reports in UTC and Europe/Paris; its time
is printed. The first request of each page then comes from a process whose cache is empty
(a new portal process): it finds the pre-filled totals in the database, or, for pages no
pre-fill covers (the developer pages, one API, one product), sums the past days itself.
BENCH_PREFILL=0 skips the pre-fill (every first request sums its past days, as before it
existed). A warm-up request (an empty custom range) pays for the process's first template
and connection before any timed one.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench.django_setup import RESULTS

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
RANGES = ("24h", "7d", "30d")


def setup() -> str:
    import sys

    from bench.django_setup import REPO

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(REPO))
    url = os.environ.get("DATABASE_URL", "")
    vendor = "postgresql" if url.startswith("postgres") else "sqlite"
    if vendor == "sqlite":
        db = RESULTS / "usage_pages_bench.sqlite3"
        if not db.exists():
            raise SystemExit(f"{db} is missing: run `python -m bench usage_pages_bench` first")
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    return vendor


def actors() -> dict[str, Any]:
    """The busiest subscription and application given owners; a staff reader."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db.models import Sum

    from apis.models import Api
    from applications.models import Application
    from products.models import Group, Product, Subscription
    from usage.models import DAY, ConsumerRollup

    users = get_user_model().objects
    developer = users.filter(username="bench-dev").first() or users.create_user("bench-dev")
    reader = users.filter(username="bench-reader").first() or users.create_user(
        "bench-reader", is_staff=True
    )
    reader.user_permissions.add(Permission.objects.get(codename="view_reports"))
    for i in range(1, 51):  # 40 published: 10 hidden from everyone but staff drafts
        Api.objects.update_or_create(
            pk=i, defaults={"slug": f"api-{i}", "name": f"API {i}", "is_published": i <= 40}
        )
    busiest = (
        ConsumerRollup.objects.filter(level=DAY)
        .exclude(subscription_id=0)
        .values("subscription_id")
        .annotate(n=Sum("success"))
        .order_by("-n")
        .first()
    )
    assert busiest, "no rollups: run `python -m bench usage_pages_bench` first"
    app_row = (
        ConsumerRollup.objects.filter(level=DAY)
        .exclude(client_id="")
        .values("client_id")
        .annotate(n=Sum("success"))
        .order_by("-n")
        .first()
    )
    assert app_row
    product, _ = Product.objects.update_or_create(
        slug="bench-quota",
        defaults={"name": "Bench", "published": True, "quota_calls": 10_000_000,
                  "quota_period": 30 * 86400},
    )  # fmt: skip
    product.groups.set(Group.objects.filter(slug="developers"))
    sub = Subscription.objects.filter(pk=busiest["subscription_id"]).first()
    if sub is None:
        sub = Subscription.objects.create(
            pk=busiest["subscription_id"], owner=developer, product=product, name="busiest",
            state=Subscription.ACTIVE, primary_hash=secrets.token_hex(32),
            secondary_hash=secrets.token_hex(32), primary_encrypted="-", secondary_encrypted="-",
        )  # fmt: skip
    app = Application.objects.filter(client_id=app_row["client_id"]).first()
    if app is None:
        app = Application.objects.create(
            owner=developer, name="Busiest app", kind="machine", client_id=app_row["client_id"]
        )
    # The product whose id generate_usage gave a tenth of the traffic, for a report filtered by
    # one product (on a fresh database it is bench-quota above).
    one = Product.objects.filter(pk=1).first() or Product.objects.create(
        pk=1, slug="bench-one", name="Bench one", published=True
    )
    return {"developer": developer, "reader": reader, "sub": sub, "app": app, "product": one}


def timed(client: Any, url: str) -> tuple[float, float, int, float, float]:
    """The first request's wall and CPU ms and its queries of rollup tables (what is kept
    of closed days is then read from the pre-fill, or summed), and the median wall and CPU ms of BENCH_ROUNDS warm ones. CPU
    time is this process's: on SQLite all the work, and what a loaded machine inflates
    least; on PostgreSQL the server's share is missing from it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        answer = client.get(url)
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    # What does not depend on the load: how many rollup queries the first request made.
    rollup_queries = sum("rollup" in q["sql"] for q in queries)
    assert answer.status_code == 200, (url, answer.status_code)
    walls, cpus = [], []
    for _ in range(ROUNDS):
        started, cpu = time.perf_counter(), time.process_time()
        client.get(url)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return (
        first * 1000,
        first_cpu * 1000,
        rollup_queries,
        statistics.median(walls) * 1000,
        statistics.median(cpus) * 1000,
    )


def prefilled() -> float | None:
    """The aggregator's hourly pre-fill, timed (ms); None when BENCH_PREFILL=0. The bench's
    cache and the process's own answers (usage/closed.py) are then emptied: the requests see
    only what a new portal process would."""
    from django.core.cache import cache

    from usage import closed, prefill
    from usage.models import KeptTotal

    if os.environ.get("BENCH_PREFILL", "1") == "0":
        KeptTotal.objects.all().delete()  # what an earlier run pre-filled
        cache.clear()
        closed.forget_local()
        return None
    started = time.perf_counter()
    count = prefill.prefill()
    took = (time.perf_counter() - started) * 1000
    print(f"pre-fill (aggregator, off request): {count} report pages in {took:.0f} ms")
    cache.clear()
    closed.forget_local()
    return took


def run() -> list[dict[str, Any]]:
    os.environ.setdefault("USAGE_PREFILL_ZONES", "Europe/Paris")
    vendor = setup()
    from django.test import Client

    who = actors()
    prefill_ms = prefilled()
    developer, staff = Client(), Client()
    developer.force_login(who["developer"])
    staff.force_login(who["reader"])
    for c in (developer, staff):
        c.cookies["tz"] = "Europe/Paris"
    pages = []
    for r in RANGES:
        pages += [
            ("application (busiest)", r, developer, f"/usage/applications/{who['app'].uuid}/?range={r}"),
            ("subscription (busiest)", r, developer, f"/usage/subscriptions/{who['sub'].uuid}/?range={r}"),
            ("my usage (busiest sub + app)", r, developer, f"/usage/?range={r}"),
            ("reports, all, by API", r, staff, f"/usage/reports/?range={r}&by=api"),
            ("reports, all, by subscription", r, staff, f"/usage/reports/?range={r}&by=subscription"),
            ("reports, all, by application", r, staff, f"/usage/reports/?range={r}&by=application"),
            ("reports, all, by developer", r, staff, f"/usage/reports/?range={r}&by=developer"),
            ("reports, all, by product", r, staff, f"/usage/reports/?range={r}&by=product"),
            ("reports, all, by operation", r, staff, f"/usage/reports/?range={r}&by=operation"),
            ("reports, one API, by operation", r, staff, f"/usage/reports/?range={r}&api=api-1&by=operation"),
            ("reports, one product, by application", r, staff, f"/usage/reports/?range={r}&product={who['product'].slug}&by=application"),
        ]  # fmt: skip
    staff.get("/usage/reports/?start=2020-01-01&end=2020-01-02")  # warm-up, untimed
    from applications.models import Application

    idle, _ = Application.objects.get_or_create(
        client_id="bench-warm-up",
        defaults={"owner": who["developer"], "name": "Warm-up", "kind": "machine"},
    )
    developer.get(f"/usage/applications/{idle.uuid}/")  # warm-up: an application with no calls
    results = []
    if prefill_ms is not None:
        results.append({"db": vendor, "page": "pre-fill (aggregator)", "range": "all",
                        "first_ms": round(prefill_ms), "first_cpu_ms": "",
                        "first_rollup_q": "", "ms": "", "cpu_ms": ""})  # fmt: skip
    for name, r, client, url in pages:
        first, first_cpu, rollup_queries, ms, cpu = timed(client, url)
        results.append(
            {"db": vendor, "page": name, "range": r, "first_ms": round(first, 1),
             "first_cpu_ms": round(first_cpu, 1), "first_rollup_q": rollup_queries,
             "ms": round(ms, 1), "cpu_ms": round(cpu, 1)}
        )  # fmt: skip
        print(f"{vendor:10} {name:34} {r:4} {first:7.1f} {first_cpu:7.1f} {ms:7.1f} {cpu:7.1f} ms",
              flush=True)  # fmt: skip
    return results


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

"""Catalog search at scale: 2,000 published APIs with 100,000 operations, on SQLite (FTS5) or
PostgreSQL (GIN), as server time: the median of 20 catalog requests through Django's test
client, and of 20 calls of `search_operations()` alone.

    python -m bench search_bench                       # its own SQLite file in bench/results/
    BENCH_DATABASE_URL=postgres://user@127.0.0.1:5433/scratch python -m bench.search_bench

BENCH_DATABASE_URL names a scratch database: its tables are dropped and migrated afresh.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time

from bench.django_setup import REPO, RESULTS, setup_django

APIS = 2000
OPERATIONS_PER_API = 50
VERBS = ("list", "get", "create", "update", "delete", "search")
NOUNS = (
    "invoice", "customer", "order", "payment", "refund", "subscription", "product", "price",
    "coupon", "account", "user", "group", "role", "token", "key", "secret", "bucket", "object",
    "volume", "snapshot", "image", "instance", "network", "subnet", "route", "gateway",
    "certificate", "domain", "record", "zone", "message", "channel", "thread", "file",
    "folder", "document", "report", "dashboard", "metric", "alert", "incident", "ticket",
    "comment", "review", "shipment", "warehouse", "inventory", "supplier", "contract",
    "employee",
)  # fmt: skip
# An operation's description, as long as a typical one (Stripe's median is about 200 chars).
DESCRIPTION = (
    "Returns the {noun} with the given identifier. Each {noun} belongs to one account and"
    " may refer to a {other}; deleted ones are kept for 30 days and then removed for good."
)
QUERIES = (
    "createInvoices",  # an operationId, whole
    "create invoice",  # its parts
    "invoice create",  # in another order and number
    "createinv",  # the start of an id, in lower case: no word of it is indexed
    "refunds of the account",  # summary and description words
    "/v1/invoices",  # a path fragment
    "delete snapshot",
    "warehouse",  # a tag
    "get",  # a word in 1 of 6 operations
    "get create",  # two common words that never meet in one operation
    "v1",  # in every operation: the worst case for ranking
    "",  # no query: the catalog page without a search, the floor the others stand on
)


def _setup() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        setup_django(RESULTS / "search.sqlite3")
        return
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    # Afresh: unapplying one app's migrations runs the others' post_migrate on missing tables.
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)


def _populate() -> None:
    from apis.models import Api, ApiVersion, Operation
    from apis.search_index import api_text, operation_text, search_terms

    apis = Api.objects.bulk_create(
        Api(slug=f"api-{i}", name=f"Synthetic API {i}", is_published=True, operation_count=50)
        for i in range(APIS)
    )
    versions = ApiVersion.objects.bulk_create(
        ApiVersion(
            api=api,
            label="1",
            title=api.name,
            spec_version="3.0.3",
            source_format="json",
            original=b"{}",
            normalised=b"{}",
        )  # fmt: skip
        for api in apis
    )
    for api, version in zip(apis, versions, strict=True):
        api.default_version = version
    Api.objects.bulk_update(apis, ["default_version"], batch_size=1000)
    batch: list[Operation] = []
    for n, version in enumerate(versions):
        nouns = [NOUNS[(n * 7 + k * 13) % len(NOUNS)] for k in range(9)]
        for position in range(OPERATIONS_PER_API):
            noun = nouns[position % 9]
            verb = VERBS[(position // 9) % len(VERBS)]
            plural = "List" if verb in ("list", "create") else ""
            resource = noun.title() + ("s" if plural else "")
            operation_id = f"{verb}{resource}{position // 54 or ''}"
            path = f"/v1/{noun}s" + ("" if plural else "/{id}") + f"/p{position}"
            batch.append(
                Operation(
                    version=version,
                    slug=operation_id + str(position),
                    method="get",
                    path=path,
                    operation_id=operation_id,
                    tag=nouns[0],
                    summary=f"{verb.title()} {noun}s of the account",
                    position=position,
                    search_terms=search_terms(operation_id, path, nouns[0]),
                    search_text=operation_text(
                        f"{verb.title()} {noun}s of the account",
                        DESCRIPTION.format(noun=noun, other=nouns[(position + 1) % 9]),
                    ),
                )  # fmt: skip
            )
        # The API's own words, as refresh_from_default() builds them.
        api = apis[n]
        api.search_text = api_text(
            [
                api.name,
                *(f"{op.search_terms} {op.search_text}" for op in batch[-OPERATIONS_PER_API:]),
            ]
        )
        if len(batch) >= 5000:
            Operation.objects.bulk_create(batch)
            batch = []
    Operation.objects.bulk_create(batch)
    Api.objects.bulk_update(apis, ["search_text"], batch_size=500)


def _median_ms(call, n: int = 20) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run() -> list[dict]:
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from apis.models import Api, Operation
    from apis.search import search_operations

    setup_test_environment()
    logging.disable(logging.INFO)  # the request log line of every timed request
    started = time.perf_counter()
    _populate()
    load_s = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # As autovacuum leaves a deployed database. With ANALYZE alone, autovacuum (set off by
        # the bulk load) ran during the first queries, whose reads also wrote each fresh
        # row's hint bits: the first rows of the table measured a state a portal is not in.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    client = Client()
    visible = Api.objects.filter(is_published=True)
    engine = (
        f"{connection.vendor} ({Operation.objects.count():,} operations, loaded in {load_s:.0f} s)"
    )
    rows = []
    for query in QUERIES:
        hits = search_operations(visible, query)
        response = client.get("/apis/", {"q": query})
        assert response.status_code == 200, response.status_code
        rows.append(
            {
                "engine": engine,
                "query": query,
                "first hit": hits[0].operation_id if hits else "-",
                "search_operations() median ms": f"{_median_ms(lambda q=query: search_operations(visible, q)):.1f}",
                "catalog page median ms": f"{_median_ms(lambda q=query: client.get('/apis/', {'q': q})):.1f}",
                "htmx search median ms": f"{_median_ms(lambda q=query: client.get('/apis/', {'q': q}, headers={'HX-Request': 'true'})):.1f}",
            }
        )
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

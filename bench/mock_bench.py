"""Server time of the gateway mock backend's first answers on the largest real specs.

A fresh process imports Kubernetes and Stripe into its own SQLite database in bench/results/,
gives each a mock route, empties the process's document caches (as a freshly started gateway
has them), then asks the mock for the first operation whose JSON response schema has a reference (which pays
for anything loaded once per version) and for 20 others spread over the spec, each for the
first time. Answers are generated in the calling thread, as the gateway's worker thread does;
the route's own answer cache is bypassed so each figure is one generation.

    python -m bench mock_bench
"""

from __future__ import annotations

import io
import statistics
import time
from typing import Any

from bench.django_setup import RESULTS, setup_django
from bench.pages_bench import CORPUS, SPECS

DB = RESULTS / "mock.sqlite3"
SLUGS = ("kubernetes", "stripe")
OTHERS = 20


def run() -> list[dict]:
    setup_django(DB)
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apis import documents
    from apis.documents import refs_in
    from apis.models import Api
    from gateway import backends
    from gateway.config import load_routes
    from gateway.models import Route

    for slug in SLUGS:
        if (SPECS / CORPUS[slug]).exists():
            call_command(
                "importspec", str(SPECS / CORPUS[slug]), slug=slug, publish=True,
                stdout=io.StringIO(),
            )  # fmt: skip
            Route.objects.create(api=Api.objects.get(slug=slug), suffix=slug, backend="mock")
    routes = load_routes()
    documents.clear_cache()
    rows: list[dict] = []
    for slug in SLUGS:
        route = routes.get(slug)
        if route is None:
            continue
        # Operations whose JSON response has a schema reference: a sample to generate.
        ops = [op for op in route.operations if refs_in(_json_responses(op.data))]
        picks = [ops[int(i * len(ops) / (OTHERS + 1))] for i in range(OTHERS + 1)]
        wall, cpu, queries, read = [], [], [], []
        for op in picks:
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                backends._mock_answer(route, op.slug, op.data)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            queries.append(len(captured.captured_queries))
            read.append(any("normalised" in q["sql"] for q in captured.captured_queries))
        rows.append(
            {
                "spec": slug,
                "first answer wall ms": f"{wall[0]:.1f}",
                "first cpu ms": f"{cpu[0]:.1f}",
                "first queries": queries[0],
                "reads normalised": "yes" if any(read) else "no",
                f"{OTHERS} others: median wall ms": f"{statistics.median(wall[1:]):.1f}",
                "worst wall ms": f"{max(wall[1:]):.1f}",
                "worst cpu ms": f"{max(cpu[1:]):.1f}",
                "median queries": statistics.median(queries[1:]),
                "most queries": max(queries[1:]),
            }
        )
    return rows


def _json_responses(data: dict) -> list[Any]:
    from apis.openapi.model import operation_model

    return [
        media.schema
        for response in operation_model(data).responses
        for media in response.content
        if "json" in media.name
    ]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

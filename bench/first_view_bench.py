"""Server time of the first view of operation pages on the largest real specs.

A fresh process imports the six largest corpus specs into its own SQLite database in
bench/results/, warms Django on the catalog, then for each spec requests its first
operation (which pays for anything loaded once per version) and 40 others spread evenly over
the spec, each for the first time. Wall time and CPU time of the process are both given: on
a shared machine CPU time is the steadier of the two.

A seventh, generated API has Microsoft Graph's shape: 9,000 tags of one operation each, every
tag with a one-line description (`many-tags`). Its first view builds the navigation of 9,000
groups; `page KB` shows what each of its pages carries.

    python -m bench first_view_bench
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.django_setup import RESULTS, setup_django
from bench.pages_bench import CORPUS, SPECS

DB = RESULTS / "first_view.sqlite3"
OTHERS = 40
MANY_TAGS = 9_000


def _many_tags_spec(folder: Path) -> Path:
    """An OpenAPI document of MANY_TAGS tags, one operation each."""
    tags = [{"name": f"users.entity{i}", "description": f"Entity {i} of a user"}
            for i in range(MANY_TAGS)]  # fmt: skip
    paths = {
        f"/users/{{id}}/entity{i}": {"get": {
            "operationId": f"getEntity{i}", "tags": [f"users.entity{i}"],
            "summary": f"Get entity {i}",
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK"}},
        }}
        for i in range(MANY_TAGS)
    }  # fmt: skip
    path = folder / "many-tags.json"
    path.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "Many tags", "version": "1"},
                                "tags": tags, "paths": paths}))  # fmt: skip
    return path


def run() -> list[dict]:
    setup_django(DB)
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from apis.models import Api, Operation

    setup_test_environment()
    specs = {slug: SPECS / rel for slug, rel in CORPUS.items() if (SPECS / rel).exists()}
    folder = Path(tempfile.mkdtemp(prefix="first-view-"))
    specs["many-tags"] = _many_tags_spec(folder)
    for slug, path in specs.items():
        call_command("importspec", str(path), slug=slug, publish=True, stdout=io.StringIO())
    # Imports fill the process's caches: measure in a state a fresh server would be in.
    from apis import documents, navigation, reference

    for module in (documents, navigation, reference):
        module.clear_cache()
    client = Client()
    client.get("/apis/")
    rows: list[dict] = []
    for slug in specs:
        api = Api.objects.filter(slug=slug).first()
        if api is None:
            continue
        ops = list(
            Operation.objects.filter(version_id=api.default_version_id).values_list(
                "slug", flat=True
            )
        )
        picks = [ops[int(i * len(ops) / (OTHERS + 1))] for i in range(OTHERS + 1)]
        wall, cpu, size = [], [], []
        for op in picks:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(f"/apis/{slug}/operations/{op}/")
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, (slug, op)
            size.append(len(response.content) / 1024)
        rows.append(
            {
                "spec": slug,
                "first op wall ms": f"{wall[0]:.1f}",
                "first op cpu ms": f"{cpu[0]:.1f}",
                f"{OTHERS} others: worst wall ms": f"{max(wall[1:]):.1f}",
                "worst cpu ms": f"{max(cpu[1:]):.1f}",
                "median wall ms": f"{statistics.median(wall[1:]):.1f}",
                "median cpu ms": f"{statistics.median(cpu[1:]):.1f}",
                "page KB": f"{statistics.median(size):.0f}",
            }
        )
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

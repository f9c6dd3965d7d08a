"""`make bench`: every benchmark of the project, printed as tables.

Each module exposes `run() -> list[dict]` (one row per measurement). Figures go in issue notes
and the README, never into tests as timed asserts.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

BENCHES = (
    "bench.import_bench",
    "bench.pages_bench",
    "bench.first_view_bench",
    "bench.mock_bench",
    "bench.gateway_bench",
    "bench.gateway_cpu",
    "bench.route_match_bench",
    "bench.render_bench",
    "bench.search_bench",
    "bench.pages_wrk",
    "bench.subscriptions_bench",
    "bench.usage_ingest_bench",
    "bench.usage_pages_bench",
)
RESULTS = Path(__file__).resolve().parent / "results"


def print_table(rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(dict.fromkeys(key for row in rows for key in row))
    widths = {c: max(len(c), *(len(str(row.get(c, ""))) for row in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))


def main(selected: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    for name in BENCHES:
        short = name.rsplit(".", 1)[-1]
        if selected and short not in selected:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            print(f"\n== {short}: not present, skipped")
            continue
        print(f"\n== {short}", flush=True)
        started = time.perf_counter()
        rows = module.run()
        print_table(rows)
        print(f"({time.perf_counter() - started:.1f} s)")
        (RESULTS / f"{short}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])

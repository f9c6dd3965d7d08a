"""Import speed on the largest real specs, end to end through the importer into SQLite.

Targets (issue 2): Kubernetes (3.9 MiB JSON, 1,123 operations) under 2 s, Stripe (4 MiB YAML)
under 4 s, the DigitalOcean bundle (2,907 files) under 6 s. Each figure is the median of
three imports (each a fresh parse, resolve, normalise and one transaction with
`--replace`), split into parsing+normalising ("load") and the database write ("db").

    python -m bench import_bench            # through the project's bench runner
    python -m bench.import_bench            # alone
    python -m bench.import_bench --profile stripe   # cProfile of one import, top 25

Runs in a child process with its own SQLite database in bench/results/, so it never touches
the dev database nor the Django set-up of other benchmarks.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from bench.django_setup import REPO, RESULTS, setup_django

SPECS = REPO.parent / "shared" / "specs"
DB = RESULTS / "import.sqlite3"
# name -> (path under the corpus, root inside a folder or None, target seconds)
TARGETS: dict[str, tuple[str, str | None, float | None]] = {
    "kubernetes": ("real-world/kubernetes.swagger.json", None, 2.0),
    "stripe": ("real-world/stripe-spec3.yaml", None, 4.0),
    "digitalocean": ("real-world/digitalocean/specification", "DigitalOcean-public.v2.yaml", 6.0),
    "openai": ("real-world/openai.yaml", None, None),
    "box": ("real-world/box-platform.json", None, None),
    "twilio": ("real-world/twilio-api-v2010.json", None, None),
}
REPEAT = 3


def _setup() -> None:
    setup_django(DB)


def _import_once(name: str) -> tuple[float, float, int]:
    from apis.importer import import_spec
    from apis.openapi import load_path

    rel, root, _ = TARGETS[name]
    started = time.perf_counter()
    spec = load_path(SPECS / rel, root)
    loaded = time.perf_counter()
    import_spec(spec, slug=name, replace=True)
    done = time.perf_counter()
    return loaded - started, done - loaded, spec.operation_count


def _measure() -> list[dict]:
    _setup()
    rows = []
    for name, (rel, _root, target) in TARGETS.items():
        path = SPECS / rel
        size = (
            sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else path.stat().st_size
        )
        runs = [_import_once(name) for _ in range(REPEAT)]
        totals = [load + db for load, db, _ in runs]
        total = statistics.median(totals)
        rows.append(
            {
                "spec": name,
                "size MiB": f"{size / 2**20:.1f}",
                "operations": runs[0][2],
                "load s": f"{statistics.median(r[0] for r in runs):.2f}",
                "db s": f"{statistics.median(r[1] for r in runs):.2f}",
                "total s (median)": f"{total:.2f}",
                "best s": f"{min(totals):.2f}",
                "target s": f"{target:.0f}" if target else "-",
                "ok": ("yes" if total < target else "NO") if target else "-",
            }
        )
    return rows


def _profile(name: str) -> None:
    import cProfile
    import pstats

    _setup()
    _import_once(name)  # warm imports and the database
    profiler = cProfile.Profile()
    profiler.enable()
    _import_once(name)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def run() -> list[dict]:
    """Rows for `python -m bench`, measured in a child process (own Django set-up)."""
    if not SPECS.is_dir():
        return [{"spec": "-", "note": f"corpus not found at {SPECS}"}]
    proc = subprocess.run(
        [sys.executable, "-m", "bench.import_bench", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if "--json" in sys.argv:
        print(json.dumps(_measure()))
    elif "--profile" in sys.argv:
        _profile(sys.argv[sys.argv.index("--profile") + 1])
    else:
        from bench.__main__ import print_table

        print_table(run())

"""What choosing the operation costs the gateway per call, on the corpus's largest APIs.

    python -m bench route_match_bench

For each spec, a route holds every operation (as `applyconfig` loads them) and is asked, for
each operation, the path of its template filled in (`{x}` -> `x1`): `tree_us` is the median
and `tree_p99_us` the 99th percentile of those calls (gateway/matching.py's template tree), `every_us`
the median of trying every template's regex in turn (the gateway before the tree, kept here
as the yardstick); `miss_us` a path that is no operation, `loose_us` the same path asked of a
pass-through route (letter case and trailing slash ignored), and `build_ms` building both
trees (once per route, at load).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from gateway.config import OperationMatch, RouteConfig

SPECS = Path(__file__).resolve().parent.parent.parent / "shared" / "specs" / "real-world"
NAMES = ("kubernetes.swagger.json", "stripe-spec3.yaml", "box-platform.json", "openai.yaml")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
REPEAT = 200


def _route(paths: dict[str, Any]) -> RouteConfig:
    route = RouteConfig(
        api_slug="b", suffix="b", backend="upstream", timeout=5.0, forward_claims=False
    )
    route.pass_through = True
    for template, item in paths.items():
        for method in METHODS:
            if isinstance(item, dict) and method in item:
                route.operations.append(
                    OperationMatch(method, template, f"{method} {template}", {})
                )
    return route


def _every_regex(route: RouteConfig, method: str, path: str) -> OperationMatch | None:
    best = None
    for op in route.operations:
        better = best is None or op.literal_length > best.literal_length
        if better and op.method == method and op.pattern.fullmatch(path):
            best = op
    return best


def _us(call: Any) -> float:
    started = time.perf_counter()
    for _ in range(REPEAT):
        call()
    return (time.perf_counter() - started) / REPEAT * 1e6


def run() -> list[dict]:
    return [_row(name) for name in NAMES]


def _row(name: str) -> dict:
    text = (SPECS / name).read_text()
    document = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    route = _route(document["paths"])
    started = time.perf_counter()
    route.index_operations()
    build_ms = (time.perf_counter() - started) * 1000
    calls = [(op.method, re.sub(r"\{[^}/]+\}", "x1", op.template)) for op in route.operations]
    tree = [_us(lambda m=m, p=p: route.match_operation(m, p)) for m, p in calls]
    every = [_us(lambda m=m, p=p: _every_regex(route, m, p)) for m, p in calls[::25]]
    return {
        "spec": name,
        "operations": len(route.operations),
        "tree_us": f"{statistics.median(tree):.1f}",
        "tree_p99_us": f"{statistics.quantiles(tree, n=100)[98]:.1f}",
        "every_us": f"{statistics.median(every):.0f}",
        "miss_us": f"{_us(lambda: route.match_operation('get', '/no/such/path')):.1f}",
        "loose_us": f"{_us(lambda: route.loosely_matches('get', '/No/Such/Path/')):.1f}",
        "build_ms": f"{build_ms:.1f}",
    }


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

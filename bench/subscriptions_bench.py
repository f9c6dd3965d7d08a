"""The cost of the subscription-key check on the gateway's hot path, in process.

    python -m bench subscriptions_bench

Times `Subscriptions.check()` (take the key from the headers, SHA-256, map lookup,
constant-time compare, state and API checks, one rate-limit counter hit in memory) against
a map of 10,000 subscriptions, warm, with no database round trip (the map is rebuilt only
when its fingerprint changes). Median of BENCH_ROUNDS rounds of 50,000 calls each, beside the
same loop calling a check for an API that needs no key (the floor: loop and header copy).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import time
from typing import Any

from bench.django_setup import RESULTS, setup_django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CALLS = 50_000
SUBSCRIPTIONS = 10_000


def run() -> list[dict[str, Any]]:
    setup_django(RESULTS / "subscriptions_bench.sqlite3")
    from gateway.ratelimit import MemoryCounters
    from gateway.subscriptions import KeyEntry, KeyMap, Limit, Subscriptions

    keys = [f"key-{i:05d}-" + "x" * 32 for i in range(SUBSCRIPTIONS)]
    entries = {}
    for i, key in enumerate(keys):
        digest = hashlib.sha256(key.encode()).hexdigest()
        entries[digest] = KeyEntry(
            str(i), digest, "active", "starter", frozenset({"echo"}), Limit(10**9, 60), None
        )
    key_map = KeyMap(entries, frozenset({"echo"}))
    subs = Subscriptions(loader=lambda: key_map, fingerprint=lambda: 1)
    counters = MemoryCounters()
    chosen = keys[SUBSCRIPTIONS // 2].encode()

    async def loop(api: str) -> float:
        await subs.current()
        started = time.perf_counter()
        for _ in range(CALLS):
            headers: dict[bytes, bytes] = {b"host": b"gw", b"ocp-apim-subscription-key": chosen}
            answer, _, _ = await subs.check(api, headers, b"", "10.0.0.1", counters, [])
            assert answer is None
        return (time.perf_counter() - started) / CALLS * 1e6

    with_key, floor = [], []
    for _ in range(ROUNDS):
        with_key.append(asyncio.run(loop("echo")))
        floor.append(asyncio.run(loop("open")))
    return [
        {
            "what": "key check (valid key, rate-limit counter)",
            "us_per_call": f"{statistics.median(with_key):.2f}",
        },
        {
            "what": "same loop, API without key (floor)",
            "us_per_call": f"{statistics.median(floor):.2f}",
        },
        {
            "what": "added by the key check",
            "us_per_call": f"{statistics.median(with_key) - statistics.median(floor):.2f}",
        },
    ]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

"""How many gateway calls a second reach the rollups: summed in the gateway (the default), or
as raw events one aggregator turns into rollups (USAGE_RAW_EVENTS).

    python -m bench usage_ingest_bench                                  # SQLite
    python -m tests.services -- python -m bench usage_ingest_bench      # PostgreSQL + Redis

Makes BENCH_USAGE_EVENTS events (default 200,000) shaped like a busy gateway's: 50 APIs of
10 operations, 5,000 subscriptions with skewed traffic, arriving at 20,000 a second, 93 % success.
Then, each timed on empty rollups (median of BENCH_ROUNDS runs):
- cells, no Redis: the calls recorded through usage.recorder.Recorder (`record()` per call,
  as the gateway's `finally` does) and written by it every 20,000 calls (a second at that
  rate, USAGE_FLUSH_MS) straight into the rollups through the database sink; timed from the
  first call recorded to the last commit;
- cells, stream: the same calls recorded, each flush one stream entry of cells, then one
  aggregator drains the stream; timed from the first call to the last commit;
- stream: the events sit in the Redis stream `usage:events` as entries of 100 events (the
  recorder's batches); one aggregator drains it through the consumer group: read, decode,
  sum, upsert rollups at the three levels, record entry ids, XACK;
- raw table: the events sit in usage.UsageEvent (the path without Redis with raw events);
  one aggregator claims, sums, upserts and marks them.
The last two are timed from the first read to the last commit.
events_per_s is wall time; events_per_cpu_s this process's CPU time alone (the aggregator's;
for the cells paths the recorder's too), which is what a shared machine's load does not
distort (with SQLite that includes the database's work).
Redis is the one REDIS_URL names, else a redis-server started for the run (skipped when
none is installed).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.django_setup import RESULTS, setup_django

EVENTS = int(os.environ.get("BENCH_USAGE_EVENTS", "200000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PER_ENTRY = 100


def setup() -> str:
    """SQLite of the bench's own, or the PostgreSQL DATABASE_URL names (tests.services)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return "postgresql"
    setup_django(RESULTS / "usage_ingest_bench.sqlite3")
    return "sqlite"


def make_events(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    subs = list(range(1, 5001))
    weights = [1 / (r**1.1) for r in subs]
    chosen = rng.choices(subs, weights, k=n)
    # They arrive at the rate the issue asks to keep up with: 20,000 a second.
    span = n / 20_000
    start = time.time() - span
    outcomes = ["success"] * 93 + ["blocked"] * 3 + ["failed"] * 1 + ["other"] * 3
    events = []
    for i, sub in enumerate(chosen):
        api = sub % 50 + 1
        outcome = rng.choice(outcomes)
        total = rng.lognormvariate(3.0, 0.8)
        events.append(
            {
                "ts": start + span * i / n,
                "api_id": api,
                "operation": f"op-{rng.randrange(10)}",
                "product_id": api % 7 + 1,
                "subscription_id": sub,
                "client_id": f"client-{sub}" if sub % 2 else "",
                "user_id": sub // 2 + 1,
                "status": 200 if outcome == "success" else 502,
                "outcome": outcome,
                "check": "subscription" if outcome == "blocked" else "",
                "total_ms": total,
                "backend_ms": None if outcome == "blocked" else total * 0.8,
                "bytes_in": 200,
                "bytes_out": rng.randrange(200, 5000),
                "client_net": "10.1.2.0/24",
            }
        )
    return events


def encode(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """One stream entry as the recorder writes it (usage/events.py)."""
    from usage.events import encode as events_encode
    from usage.events import from_dict

    return {"e": events_encode(e for e in map(from_dict, batch) if e is not None)}


def clear() -> None:
    from usage.models import (
        ApiRollup,
        ConsumerOperationRollup,
        ConsumerRollup,
        StreamEntry,
        UsageEvent,
    )

    for model in (ApiRollup, ConsumerRollup, ConsumerOperationRollup, StreamEntry, UsageEvent):
        model.objects.all().delete()


def bench_stream(client: Any, events: list[dict[str, Any]]) -> tuple[float, float, int]:
    from usage import stream

    clear()
    client.delete(stream.STREAM)
    pipe = client.pipeline(transaction=False)
    for i in range(0, len(events), PER_ENTRY):
        pipe.xadd(stream.STREAM, encode(events[i : i + PER_ENTRY]))
    pipe.execute()
    agg = stream.StreamAggregator(client, consumer="bench")
    agg.ensure_group()
    started, cpu = time.perf_counter(), time.process_time()
    done = 0
    while n := agg.run_once():
        done += n
    return time.perf_counter() - started, time.process_time() - cpu, done


CALLS_PER_FLUSH = 20_000


def gateway_states(events: list[dict[str, Any]]) -> list[tuple[dict[str, Any], float]]:
    """Each event as the gateway's state dict at its `finally` (route, operation, the key's
    entry, status, check, body bytes, backend start) and its seconds taken."""
    from types import SimpleNamespace

    routes: dict[int, Any] = {}
    ops: dict[str, Any] = {}
    entries: dict[int, Any] = {}
    out = []
    for ev in events:
        sub = ev["subscription_id"]
        entry = entries.get(sub)
        if entry is None:
            entry = entries[sub] = SimpleNamespace(
                subscription_id=sub, product_id=ev["product_id"], user_id=ev["user_id"],
                client_id=ev["client_id"],
            )  # fmt: skip
        route = routes.setdefault(ev["api_id"], SimpleNamespace(api_id=ev["api_id"]))
        op = ops.setdefault(ev["operation"], SimpleNamespace(slug=ev["operation"]))
        elapsed = ev["total_ms"] / 1000
        state = {
            "status": ev["status"], "check": ev["check"] and "subscription-key",
            "client": "-", "route": route, "op": op, "entry": entry,
            "in": ev["bytes_in"], "out": ev["bytes_out"],
        }  # fmt: skip
        if ev["backend_ms"] is not None:
            state["b0"] = elapsed - ev["backend_ms"] / 1000  # relative to a start of 0.0
        out.append((state, elapsed))
    return out


def bench_cells(
    states: list[tuple[dict[str, Any], float]], sink: Any, drain: Any = None
) -> tuple[float, float, int]:
    """Record every call through a Recorder writing to `sink` every CALLS_PER_FLUSH calls,
    then `drain()` (the aggregator, for the stream)."""
    import asyncio

    from django.test import override_settings

    from usage.recorder import Recorder

    with override_settings(USAGE_RECORDING=True, USAGE_RAW_EVENTS=False, USAGE_BUFFER=100_000):
        recorder = Recorder(lambda: sink)
    recorder._task = object()  # type: ignore[assignment]  # flushed below, not by a task
    scope: dict[str, Any] = {"type": "http"}
    started, cpu = time.perf_counter(), time.process_time()

    async def record(chunk: list[tuple[dict[str, Any], float]]) -> None:
        for state, elapsed in chunk:
            recorder.record(scope, state, 0.0, elapsed)

    done = 0
    for i in range(0, len(states), CALLS_PER_FLUSH):
        asyncio.run(record(states[i : i + CALLS_PER_FLUSH]))
        done += recorder.flush()
    if drain is not None:
        assert drain() == done
    assert recorder.dropped == 0, recorder.dropped
    return time.perf_counter() - started, time.process_time() - cpu, done


def bench_table(events: list[dict[str, Any]]) -> tuple[float, float, int]:
    from datetime import UTC, datetime

    from usage.aggregate import aggregate_pending
    from usage.models import UsageEvent

    clear()
    rows = []
    for ev in events:
        fields = {k: v for k, v in ev.items() if k not in ("check", "ts")}
        rows.append(
            UsageEvent(ts=datetime.fromtimestamp(ev["ts"], UTC), check_name=ev["check"], **fields)
        )
    UsageEvent.objects.bulk_create(rows, batch_size=2000)
    started, cpu = time.perf_counter(), time.process_time()
    done = 0
    while n := aggregate_pending():
        done += n
    return time.perf_counter() - started, time.process_time() - cpu, done


def run() -> list[dict[str, Any]]:
    database = setup()
    import shutil

    import redis

    from usage.models import ApiRollup, ConsumerOperationRollup, ConsumerRollup

    events = make_events(EVENTS)
    results: list[dict[str, Any]] = []
    with ExitStack() as stack:
        url = os.environ.get("REDIS_URL", "")
        if not url and shutil.which("redis-server"):
            from tests.services import redis as redis_service

            url = stack.enter_context(redis_service(Path(tempfile.mkdtemp(prefix="usage-"))))
        from usage.recorder import DatabaseSink, RedisSink

        states = gateway_states(events)

        def cells_db() -> tuple[float, float, int]:
            clear()
            return bench_cells(states, DatabaseSink())

        paths: list[tuple[str, Any]] = [
            ("cells, no Redis", cells_db),
            ("raw table", lambda: bench_table(events)),
        ]
        if url:
            client = redis.Redis.from_url(url)

            def cells_stream() -> tuple[float, float, int]:
                from usage import stream

                clear()
                client.delete(stream.STREAM)
                agg = stream.StreamAggregator(client, consumer="bench")
                agg.ensure_group()

                def drain() -> int:
                    done = 0
                    while n := agg.run_once():
                        done += n
                    return done

                with override_settings(USAGE_STREAM_MAXLEN=1_000_000):
                    return bench_cells(states, RedisSink(url), drain)

            from django.test import override_settings

            paths[1:1] = [
                ("cells, stream", cells_stream),
                ("stream", lambda: bench_stream(client, events)),
            ]
        for name, work in paths:
            times, cpus = [], []
            for _ in range(ROUNDS):
                seconds, cpu, done = work()
                assert done == len(events), (done, len(events))
                times.append(seconds)
                cpus.append(cpu)
            rows = sum(
                m.objects.count() for m in (ApiRollup, ConsumerRollup, ConsumerOperationRollup)
            )
            median = statistics.median(times)
            results.append(
                {
                    "path": name,
                    "database": database,
                    "events": len(events),
                    "median_s": round(median, 2),
                    "events_per_s": int(len(events) / median),
                    # The aggregator's own CPU time (SQLite runs inside it; PostgreSQL and
                    # Redis do not): the rate on a machine no one else is loading.
                    "events_per_cpu_s": int(len(events) / statistics.median(cpus)),
                    "rollup_rows": rows,
                }
            )
    return results

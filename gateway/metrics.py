"""Counters and a latency histogram in Prometheus text format, aggregated over processes.

Labels take only known values (a route's API, a method from a fixed list or `other`, a status
class, a check id from the code), so no client can grow them. The operator (the metrics token)
sees every API; a scraper let in by its address alone is nobody in particular, so APIs hidden
from anonymous users are summed under `api="hidden"` for it (`hide_apis`, SECURITY.md case 67). Each worker keeps cumulative
counts; with Redis, it publishes a snapshot under its own id (every few seconds and when
scraped) and a scrape sums every worker's latest snapshot: counters never go backwards
between scrapes, whichever worker answers (while Redis does not answer, a scrape sums the
other workers' snapshots it last read, not this worker's counts alone). Without Redis, the workers of one `python -m
gateway` share a directory instead (GATEWAY_METRICS_DIR, made by gateway/__main__.py): each
writes its snapshot to its own file the same way and a scrape sums the files, so a scrape
shows the whole process. Otherwise (the gateway mounted in the portal) one worker's counts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS_CLASS = tuple(f"{i}xx" for i in range(10))
_SNAPSHOTS = "gateway:metrics"
_PUSH_EVERY = 5.0

log = logging.getLogger("gateway")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


HIDDEN = "hidden"
_PER_API = frozenset({"req", "rej", "up", "bucket", "sum", "count"})


def hide_apis(values: dict[str, float], public: frozenset[str]) -> dict[str, float]:
    """`values` with every API outside `public` renamed `hidden` (their counts summed), so no
    name or per-API figure of a hidden API is shown. `-` (no API matched) stays."""
    out: defaultdict[str, float] = defaultdict(float)
    for key, value in values.items():
        parts = key.split("\x1f")
        if parts[0] in _PER_API and parts[1] not in public and parts[1] != "-":
            parts[1] = HIDDEN
            key = "\x1f".join(parts)
        out[key] += value
    return dict(out)


class Metrics:
    def __init__(self) -> None:
        # ("req", api, method, status class, check) / ("up", api, kind) / ("bucket", api, i)
        # / ("sum", api) / ("count", api) -> value
        self.values: defaultdict[tuple[str, ...], float] = defaultdict(float)
        # api -> per-bucket counts (not cumulative), then the sum and the count
        self.latency: dict[str, list[float]] = {}
        self.rejections: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.upstream_errors: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.key_fetches = 0
        self.store_failures: dict[str, int] = {}
        # The usage recorder (usage/recorder.py): its written and dropped event counts.
        self.usage: Any = None
        # How configuration checks were answered: "redis" (the version key), "database".
        self.config_checks: dict[str, int] = {}
        self.worker = uuid.uuid4().hex[:16]
        self._redis: Any = None
        self._dir: Path | None = None
        self._next_push = 0.0
        # The other workers' snapshots as last read from Redis: used while it does not
        # answer or has lost them, so a scrape never falls back to fewer workers' counts.
        self._others: dict[bytes, bytes] = {}

    def observe(self, api: str, method: str, status: int, seconds: float, check: str) -> None:
        self.values[("req", api, method if method in METHODS else "other",
                     _STATUS_CLASS[status // 100 % 10], check)] += 1  # fmt: skip
        row = self.latency.get(api)
        if row is None:
            row = self.latency[api] = [0.0] * (len(BUCKETS) + 2)
        i = bisect_left(BUCKETS, seconds)
        if i < len(BUCKETS):
            row[i] += 1
        row[-2] += seconds
        row[-1] += 1

    def snapshot(self) -> dict[str, float]:
        out = {"\x1f".join(k): v for k, v in self.values.items()}
        for api, row in self.latency.items():
            for i, n in enumerate(row[: len(BUCKETS)]):
                if n:
                    out["\x1f".join(("bucket", api, str(i)))] = n
            out["\x1f".join(("sum", api))] = row[-2]
            out["\x1f".join(("count", api))] = row[-1]
        for (api, check), n in self.rejections.items():
            out["\x1f".join(("rej", api, check))] = n
        for (api, kind), n in self.upstream_errors.items():
            out["\x1f".join(("up", api, kind))] = n
        out["jwks"] = self.key_fetches
        for name, n in self.store_failures.items():
            out["\x1f".join(("store", name))] = n
        if self.usage is not None:
            out["usage_written"] = self.usage.written
            out["usage_dropped"] = self.usage.dropped
        for source, n in self.config_checks.items():
            out["\x1f".join(("cfg", source))] = n
        return out

    # --- aggregation through Redis -----------------------------------------------------

    def use_redis(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def publish_forever(self) -> None:
        """Publish this worker's counts every few seconds, busy or idle."""
        while True:
            await asyncio.sleep(_PUSH_EVERY)
            await self.push()

    def use_directory(self, path: str) -> None:
        self._dir = Path(path)

    async def push(self) -> None:
        if self._dir is not None:
            self._write_snapshot(self._dir)
            return
        if self._redis is None:
            return
        self._next_push = time.monotonic() + _PUSH_EVERY
        try:
            await self._redis.hset(_SNAPSHOTS, self.worker, orjson.dumps(self.snapshot()))
        except Exception:  # the store's own failure counter and warning cover this
            self.store_failures["metrics"] = self.store_failures.get("metrics", 0) + 1

    def _write_snapshot(self, folder: Path) -> None:
        """This worker's counts in its own file, replaced atomically (a reader never sees
        half a file)."""
        target = folder / f"{self.worker}.json"
        partial = folder / f".{self.worker}.partial"
        try:
            partial.write_bytes(orjson.dumps(self.snapshot()))
            os.replace(partial, target)
        except OSError as exc:
            self.store_failures["metrics"] = self.store_failures.get("metrics", 0) + 1
            log.warning("could not write the metrics snapshot %s: %s", target, exc)

    def _read_snapshots(self, folder: Path) -> list[dict[str, float]]:
        """The other workers' latest snapshots in the folder."""
        found: list[dict[str, float]] = []
        for path in folder.glob("*.json"):
            if path.stem == self.worker:
                continue
            try:
                found.append(orjson.loads(path.read_bytes()))
            except (OSError, orjson.JSONDecodeError):
                continue  # a worker that is gone with its file, or an unreadable file
        return found

    async def collect(self) -> dict[str, float]:
        """Every worker's latest counts, summed (this worker's fresh ones included)."""
        mine = self.snapshot()
        if self._dir is not None:
            self._write_snapshot(self._dir)
            total: defaultdict[str, float] = defaultdict(float)
            for snapshot in [*self._read_snapshots(self._dir), mine]:
                for key, value in snapshot.items():
                    total[key] += value
            return total
        if self._redis is None:
            return mine
        await self.push()
        try:
            # Merged with those read before: a Redis restarted empty holds only the snapshots
            # published since, and the others' counts must not drop meanwhile.
            stored = self._others = {**self._others, **await self._redis.hgetall(_SNAPSHOTS)}
        except Exception:
            stored = self._others
        total = defaultdict(float)
        for worker, blob in stored.items():
            if worker.decode() == self.worker:
                continue
            for key, value in orjson.loads(blob).items():
                total[key] += value
        for key, value in mine.items():
            total[key] += value
        return total

    # --- Prometheus text ---------------------------------------------------------------

    @staticmethod
    def render(values: dict[str, float]) -> bytes:
        rows: defaultdict[str, list[tuple[tuple[str, ...], float]]] = defaultdict(list)
        for key, value in values.items():
            parts = tuple(key.split("\x1f"))
            rows[parts[0]].append((parts[1:], value))
        out = [
            "# HELP gateway_requests_total Calls answered, by API, method, status class and "
            "the check that refused them.",
            "# TYPE gateway_requests_total counter",
        ]
        for (api, method, status, check), n in sorted(rows["req"]):
            out.append(
                f'gateway_requests_total{{api="{_label(api)}",method="{method}",'
                f'status="{status}",check="{_label(check)}"}} {n:g}'
            )
        out += [
            "# HELP gateway_token_rejections_total Tokens refused, by failed check.",
            "# TYPE gateway_token_rejections_total counter",
        ]
        for (api, check), n in sorted(rows["rej"]):
            out.append(
                f'gateway_token_rejections_total{{api="{_label(api)}",check="{_label(check)}"}} '
                f"{n:g}"
            )
        out += [
            "# HELP gateway_upstream_errors_total Backend failures (timeout, unavailable, broken).",
            "# TYPE gateway_upstream_errors_total counter",
        ]
        for (api, kind), n in sorted(rows["up"]):
            out.append(
                f'gateway_upstream_errors_total{{api="{_label(api)}",kind="{_label(kind)}"}} {n:g}'
            )
        out += [
            "# HELP gateway_jwks_fetches_total Discovery and JWKS fetch attempts.",
            "# TYPE gateway_jwks_fetches_total counter",
            f"gateway_jwks_fetches_total {values.get('jwks', 0):g}",
            "# HELP gateway_store_failures_total Shared-store (Redis) operations that failed.",
            "# TYPE gateway_store_failures_total counter",
        ]
        for (name,), n in sorted(rows["store"]):
            out.append(f'gateway_store_failures_total{{store="{_label(name)}"}} {n:g}')
        out += [
            "# HELP gateway_usage_events_total Usage events written to the store.",
            "# TYPE gateway_usage_events_total counter",
            f"gateway_usage_events_total {values.get('usage_written', 0):g}",
            "# HELP gateway_usage_dropped_total Usage events dropped: the buffer was full "
            "(the store slow or down) or the store refused the batch.",
            "# TYPE gateway_usage_dropped_total counter",
            f"gateway_usage_dropped_total {values.get('usage_dropped', 0):g}",
            "# HELP gateway_config_checks_total Configuration checks before serving, by what "
            "answered: the Redis version key or the database fingerprint query.",
            "# TYPE gateway_config_checks_total counter",
        ]
        for (source,), n in sorted(rows["cfg"]):
            out.append(f'gateway_config_checks_total{{source="{_label(source)}"}} {n:g}')
        out += [
            "# HELP gateway_request_duration_seconds Time from request to response end.",
            "# TYPE gateway_request_duration_seconds histogram",
        ]
        buckets = {(api, int(i)): n for (api, i), n in rows["bucket"]}
        sums = {api: n for (api,), n in rows["sum"]}
        for (api,), count in sorted(rows["count"]):
            name = _label(api)
            cumulative = 0.0
            for i, bound in enumerate(BUCKETS):
                cumulative += buckets.get((api, i), 0)
                out.append(
                    f'gateway_request_duration_seconds_bucket{{api="{name}",le="{bound}"}} '
                    f"{cumulative:g}"
                )
            out.append(
                f'gateway_request_duration_seconds_bucket{{api="{name}",le="+Inf"}} {count:g}'
            )
            out.append(
                f'gateway_request_duration_seconds_sum{{api="{name}"}} {sums.get(api, 0):.6f}'
            )
            out.append(f'gateway_request_duration_seconds_count{{api="{name}"}} {count:g}')
        return ("\n".join(out) + "\n").encode()

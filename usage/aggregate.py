"""Events -> rollups: what `manage.py aggregate_usage` runs.

Events arrive one of two ways (usage/recorder.py decides which):
- a Redis stream (`usage:events`), read through the consumer group `usage-aggregators`:
  each entry goes to one aggregator; its events are added to the rollups and the entry ids
  recorded (StreamEntry) in one transaction; XACK follows the commit. An entry left pending
  by a dead aggregator is claimed (XAUTOCLAIM) by another, which skips it if its id is
  already recorded, so a crash between commit and XACK never counts twice;
- the raw table `UsageEvent`: an aggregator claims pending rows and marks them aggregated
  with one UPDATE ... RETURNING inside the transaction that writes the rollups (rows other
  aggregators hold are skipped on PostgreSQL, SKIP LOCKED; SQLite has one writer at a time).

A batch is first summed in memory per minute and full key, then rolled up into each table
and level (usage/models.py) and added with one upsert per row (INSERT ... ON CONFLICT DO
UPDATE SET n = n + excluded.n), so aggregators never read-modify-write a row.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from operator import add
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from usage import closed, histogram
from usage.events import decode
from usage.models import (
    DAY,
    HOUR,
    MINUTE,
    ApiRollup,
    ConsumerOperationRollup,
    ConsumerRollup,
    Rollup,
    StreamEntry,
    UsageEvent,
)

log = logging.getLogger(__name__)

STREAM = "usage:events"
GROUP = "usage-aggregators"
# A pending entry idle this long belongs to an aggregator presumed dead.
CLAIM_IDLE_MS = 60_000

_OUTCOME_INDEX = {"success": 0, "blocked": 1, "failed": 2, "other": 3}
# Positions in a measure vector: 4 outcome counts, bytes in/out, total time sum/min/max,
# backend count/sum/min/max, then the histogram.
BYTES_IN, BYTES_OUT, T_SUM, T_MIN, T_MAX, B_COUNT, B_SUM, B_MIN, B_MAX = range(4, 13)
H0 = 13
WIDTH = H0 + histogram.BUCKETS
MEASURES = (
    "success", "blocked", "failed", "other", "bytes_in", "bytes_out",
    "total_ms_sum", "total_ms_min", "total_ms_max",
    "backend_count", "backend_ms_sum", "backend_ms_min", "backend_ms_max",
    *histogram.FIELDS,
)  # fmt: skip
_INF = float("inf")

# (minute, subscription, client, user, api, operation, product)
CellKey = tuple[int, int, str, int, int, str, int]
Vector = list[Any]


def _epoch(ts: Any) -> float:
    if isinstance(ts, str):  # SQLite's text form of a DateTimeField: naive UTC
        parsed = parse_datetime(ts)
        if parsed is None:
            raise ValueError(f"not a time: {ts!r}")
        ts = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return ts.timestamp() if isinstance(ts, datetime) else float(ts)


class Batch:
    """Events summed per minute and full key, before they are rolled up into the tables."""

    def __init__(self) -> None:
        self.cells: dict[CellKey, Vector] = {}
        self.events = 0

    def add(self, ev: Any) -> None:
        """Add one event (a mapping or an object with the fields of usage/events.py)."""
        f = ev.get if isinstance(ev, Mapping) else lambda n: getattr(ev, n, None)
        minute = int(_epoch(f("ts")) // 60) * 60
        key: CellKey = (
            minute,
            f("subscription_id") or 0,
            f("client_id") or "",
            f("user_id") or 0,
            f("api_id") or 0,
            f("operation") or "",
            f("product_id") or 0,
        )
        vec = self.cells.get(key)
        if vec is None:
            vec = self.cells[key] = empty()
        vec[_OUTCOME_INDEX.get(str(f("outcome")), 3)] += 1
        vec[BYTES_IN] += f("bytes_in") or 0
        vec[BYTES_OUT] += f("bytes_out") or 0
        total = float(f("total_ms") or 0.0)
        vec[T_SUM] += total
        if total < vec[T_MIN]:
            vec[T_MIN] = total
        if total > vec[T_MAX]:
            vec[T_MAX] = total
        backend = f("backend_ms")
        if backend is not None:
            backend = float(backend)
            vec[B_COUNT] += 1
            vec[B_SUM] += backend
            if backend < vec[B_MIN]:
                vec[B_MIN] = backend
            if backend > vec[B_MAX]:
                vec[B_MAX] = backend
        vec[H0 + histogram.bucket(total)] += 1
        self.events += 1

    def fill_users(self) -> None:
        """Events the gateway sent without a developer get the owner of their subscription,
        or else of their application (one query each per batch)."""
        missing = [k for k in self.cells if not k[3] and (k[1] or k[2])]
        if not missing:
            return
        owners_by_sub, owners_by_client = _owners(
            {k[1] for k in missing if k[1]}, {k[2] for k in missing if k[2]}
        )
        for key in missing:
            user = owners_by_sub.get(key[1]) or owners_by_client.get(key[2])
            if user:
                vec = self.cells.pop(key)
                new: CellKey = (key[0], key[1], key[2], user, key[4], key[5], key[6])
                if new in self.cells:
                    merge(self.cells[new], vec)
                else:
                    self.cells[new] = vec


def _owners(subs: set[int], clients: set[str]) -> tuple[dict[int, int], dict[str, int]]:
    from applications.models import Application
    from products.models import Subscription

    by_sub = dict(Subscription.objects.filter(pk__in=subs).values_list("pk", "owner_id"))
    by_client = dict(
        Application.objects.filter(client_id__in=clients).values_list("client_id", "owner_id")
    )
    return by_sub, by_client


def empty() -> Vector:
    """A measure vector of no calls; minima and maxima hold infinities until a call comes
    (NULL in the tables), so merging needs no None checks."""
    vec: Vector = [0] * WIDTH
    vec[T_MIN] = vec[B_MIN] = _INF
    vec[T_MAX] = vec[B_MAX] = -_INF
    return vec


def merge(into: Vector, vec: Vector) -> None:
    """Add the measures of `vec` into `into` (sums add, minima and maxima combine)."""
    t_min, t_max = min(into[T_MIN], vec[T_MIN]), max(into[T_MAX], vec[T_MAX])
    b_min, b_max = min(into[B_MIN], vec[B_MIN]), max(into[B_MAX], vec[B_MAX])
    into[:] = map(add, into, vec)
    into[T_MIN], into[T_MAX], into[B_MIN], into[B_MAX] = t_min, t_max, b_min, b_max


def from_row(values: Iterable[Any]) -> Vector:
    """A measure vector from a table row's MEASURES (NULL minima and maxima: no call)."""
    vec = list(values)
    for i, none in ((T_MIN, _INF), (B_MIN, _INF), (T_MAX, -_INF), (B_MAX, -_INF)):
        if vec[i] is None:
            vec[i] = none
    return vec


def _sum_into(rows: dict[tuple, Vector], key: tuple, vec: Vector) -> None:
    have = rows.get(key)
    if have is None:
        rows[key] = list(vec)
    else:
        merge(have, vec)


def rollup_rows(
    cells: Mapping[CellKey, Vector], levels: tuple[int, ...] = (MINUTE, HOUR, DAY)
) -> dict[type[Rollup], dict[tuple, Vector]]:
    """Each table's rows (key starting with level and bucket start) from the minute cells.

    Hours and days are summed from the finer rows of the same table, not each from the
    cells: a batch holds far fewer rows than cells at the coarser levels, so this merges
    about half as often."""
    consop: dict[tuple, Vector] = {}
    cons_minute: dict[tuple, Vector] = {}
    for (minute, sub, client, user, api, op, product), vec in cells.items():
        _sum_into(consop, (HOUR, minute - minute % 3600, sub, client, user, api, op, product), vec)
        _sum_into(cons_minute, (MINUTE, minute, sub, client, user, api, product), vec)
    api_minute: dict[tuple, Vector] = {}
    for (minute, _sub, _client, _user, api, op, product), vec in cells.items():
        _sum_into(api_minute, (MINUTE, minute, api, op, product), vec)

    def coarser(rows: dict[tuple, Vector], level: int, seconds: int) -> dict[tuple, Vector]:
        out: dict[tuple, Vector] = {}
        for key, vec in rows.items():
            _sum_into(out, (level, key[1] - key[1] % seconds, *key[2:]), vec)
        return out

    cons_hour = coarser(cons_minute, HOUR, 3600)
    api_hour = coarser(api_minute, HOUR, 3600)
    tables: dict[type[Rollup], dict[tuple, Vector]] = {
        ApiRollup: {},
        ConsumerRollup: {},
        ConsumerOperationRollup: {},
    }
    if MINUTE in levels:
        tables[ApiRollup].update(api_minute)
        tables[ConsumerRollup].update(cons_minute)
    if HOUR in levels:
        tables[ApiRollup].update(api_hour)
        tables[ConsumerRollup].update(cons_hour)
        tables[ConsumerOperationRollup].update(consop)
    if DAY in levels:
        tables[ApiRollup].update(coarser(api_hour, DAY, 86400))
        tables[ConsumerRollup].update(coarser(cons_hour, DAY, 86400))
        tables[ConsumerOperationRollup].update(coarser(consop, DAY, 86400))
    return tables


_SQL: dict[tuple[str, type[Rollup]], str] = {}


def _upsert_sql(model: type[Rollup]) -> str:
    vendor = connection.vendor
    sql = _SQL.get((vendor, model))
    if sql is None:
        table = model._meta.db_table
        key = ("level", "start", *model.KEY)  # type: ignore[attr-defined]
        cols = (*key, *MEASURES)
        least, greatest = ("LEAST", "GREATEST") if vendor == "postgresql" else ("MIN", "MAX")
        sets = []
        for name in MEASURES:
            t, x = f'"{table}"."{name}"', f'excluded."{name}"'
            if name.endswith("_min") or name.endswith("_max"):
                fn = least if name.endswith("_min") else greatest
                # NULL (no call yet) never wins: compare each side with the other in its place.
                sets.append(f'"{name}" = {fn}(COALESCE({t}, {x}), COALESCE({x}, {t}))')
            else:
                sets.append(f'"{name}" = {t} + {x}')
        sql = _SQL[(vendor, model)] = (
            f'INSERT INTO "{table}" ({", ".join(f'"{c}"' for c in cols)}) '
            f"VALUES ({', '.join(['%s'] * len(cols))}) "
            f"ON CONFLICT ({', '.join(f'"{c}"' for c in key)}) DO UPDATE SET {', '.join(sets)}"
        )
    return sql


def write_rollups(cells: Mapping[CellKey, Vector]) -> int:
    """Add the cells into every rollup table; call inside a transaction. Returns rows written."""
    return write_rows(rollup_rows(cells))


def write_rows(tables: Mapping[type[Rollup], Mapping[tuple, Vector]]) -> int:
    """Add rows (key: level, start epoch, the table's KEY) into their tables."""
    adapt = connection.ops.adapt_datetimefield_value
    starts: dict[int, Any] = {}
    written = 0
    with connection.cursor() as cursor:
        for model, rows in tables.items():
            params = []
            for key, vec in rows.items():
                start = starts.get(key[1])
                if start is None:
                    start = starts[key[1]] = adapt(datetime.fromtimestamp(key[1], UTC))
                values = list(vec)
                for i in (T_MIN, T_MAX, B_MIN, B_MAX):
                    if values[i] in (_INF, -_INF):
                        values[i] = None
                params.append((key[0], start, *key[2:], *values))
            if params:
                cursor.executemany(_upsert_sql(model), params)
                written += len(params)
    # A late event in a day before today: the rankings' kept totals are obsolete.
    if starts and closed.touches_closed_days(min(starts)):
        closed.bump()
    return written


def aggregate_events(events: Iterable[Any]) -> int:
    """Add events to the rollups in one transaction (the caller's, if any). Returns the
    number of events."""
    batch = Batch()
    for ev in events:
        batch.add(ev)
    if batch.events:
        batch.fill_users()
        with transaction.atomic():
            write_rollups(batch.cells)
    return batch.events


# --- the raw table (no Redis) -------------------------------------------------------------

_EVENT_COLUMNS = (
    "ts", "api_id", "operation", "product_id", "subscription_id", "client_id", "user_id",
    "outcome", "total_ms", "backend_ms", "bytes_in", "bytes_out",
)  # fmt: skip


def aggregate_pending(limit: int | None = None) -> int:
    """Claim up to `limit` raw events not yet aggregated, add them to the rollups and mark
    them, all in one transaction. Returns how many were aggregated (0: none pending)."""
    limit = limit or settings.USAGE_AGGREGATE_BATCH
    table = UsageEvent._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    cols = ", ".join(f'"{c}"' for c in _EVENT_COLUMNS)
    sql = (
        f'UPDATE "{table}" SET "aggregated" = %s WHERE "id" IN ('
        f'SELECT "id" FROM "{table}" WHERE NOT "aggregated" ORDER BY "id" LIMIT %s{lock}) '
        f"RETURNING {cols}"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [True, limit])
            rows = cursor.fetchall()
        if not rows:
            return 0
        batch = Batch()
        for row in rows:
            batch.add(dict(zip(_EVENT_COLUMNS, row, strict=True)))
        batch.fill_users()
        write_rollups(batch.cells)
    return batch.events


# --- the Redis stream ---------------------------------------------------------------------


def _size(fields: Mapping[Any, Any] | None) -> int:
    """About how many events an entry carries (exact for the JSON array form), cheaply."""
    if not fields:
        return 0
    raw = fields.get(b"e", fields.get("e"))
    return raw.count(b'"ts"' if isinstance(raw, bytes) else '"ts"') if raw else 1


class StreamAggregator:
    """One member of the consumer group; several may run on several machines."""

    def __init__(self, client: Any, consumer: str | None = None, count: int = 100) -> None:
        self.redis = client
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.count = count  # stream entries per read (each may carry many events)
        self._group_ready = False

    def ensure_group(self) -> None:
        import redis

        if self._group_ready:
            return
        try:
            # From the stream's start: events recorded before the first aggregator count too.
            self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def run_once(self, block_ms: int = 0) -> int:
        """Claim entries a dead aggregator left, then read new ones until USAGE_AGGREGATE_BATCH
        events or the stream's end; aggregate them in one transaction and acknowledge them.
        Returns the number of events aggregated. A backlog thus goes in large batches, where
        one rollup row sums many events."""
        import redis

        self.ensure_group()
        try:
            return self._run_once(block_ms)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis restarted empty: make the group again next time
                self._group_ready = False
            raise

    def _run_once(self, block_ms: int) -> int:
        limit = settings.USAGE_AGGREGATE_BATCH
        claimed = self.redis.xautoclaim(
            STREAM, GROUP, self.consumer, CLAIM_IDLE_MS, "0-0", count=self.count
        )
        entries: list[tuple[Any, Any]] = list(claimed[1])
        events = sum(_size(fields) for _, fields in entries)
        block = block_ms or None
        while events < limit:
            read = self.redis.xreadgroup(
                GROUP, self.consumer, {STREAM: ">"}, count=self.count, block=block
            )
            got = [e for _stream, es in read or () for e in es]
            if not got:
                break
            entries += got
            events += sum(_size(fields) for _, fields in got)
            block = None  # wait only for the first read
        return self._apply(entries) if entries else 0

    def _apply(self, entries: list[tuple[Any, Any]]) -> int:
        ids = [eid.decode() if isinstance(eid, bytes) else str(eid) for eid, _ in entries]
        with transaction.atomic():
            # Writing first takes SQLite's write lock before any read (a read lock upgraded
            # later fails at once when another aggregator writes), and the insert answers
            # which entries no aggregator has applied yet.
            new = _record_entries(ids)
            batch = Batch()
            for eid, (_, fields) in zip(ids, entries, strict=True):
                if eid in new and fields:  # trimmed entries come back with no fields
                    for ev in decode(fields):  # the recorder's wire format
                        batch.add(ev)
            if batch.events:
                batch.fill_users()
                write_rollups(batch.cells)
        self.redis.xack(STREAM, GROUP, *ids)
        return batch.events


def _record_entries(ids: list[str]) -> set[str]:
    """Record stream entry ids as applied; returns those not recorded before."""
    table = StreamEntry._meta.db_table
    now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    values = ", ".join(["(%s, %s)"] * len(ids))
    params: list[Any] = []
    for eid in ids:
        params += [eid, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("entry_id", "applied") VALUES {values} '
            f'ON CONFLICT ("entry_id") DO NOTHING RETURNING "entry_id"',
            params,
        )
        return {row[0] for row in cursor.fetchall()}


# --- the loop -----------------------------------------------------------------------------


def run(
    stop: Callable[[], bool],
    stream: StreamAggregator | None = None,
    retention_every: float = 600.0,
) -> None:
    """Aggregate until stop() is true: the stream (when Redis is configured) and the raw
    table, and apply retention every `retention_every` seconds. Errors are logged and
    retried: a Redis or database outage pauses aggregation, it does not end it."""
    from django.db import close_old_connections

    from usage import retention

    last_retention = 0.0
    wait = settings.USAGE_AGGREGATE_WAIT
    while not stop():
        close_old_connections()
        busy = 0
        try:
            busy += aggregate_pending()
            if stream is not None:
                busy += stream.run_once(block_ms=0 if busy else int(wait * 1000))
            if time.monotonic() - last_retention > retention_every:
                retention.apply()
                last_retention = time.monotonic()
        except Exception:
            log.exception("usage aggregation failed; retrying")
            with contextlib.suppress(Exception):
                connection.close()
            time.sleep(wait)
            continue
        if not busy and stream is None:
            time.sleep(wait)

"""The Redis stream `usage:events` -> rollups: the gateways' summed cells (one entry per flush)
read through the consumer group `usage-aggregators`, each entry by one aggregator, recorded as
applied (StreamEntry) in the transaction that writes its rollups, acknowledged after the
commit, and trimmed once every group has acknowledged it. usage/aggregate.py sums the batch
and writes the rollups; its module docstring tells the whole path.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from usage import cells as _cells
from usage.aggregate import Batch, write_rollups
from usage.events import GROUP, STREAM, wire_items
from usage.models import StreamEntry
from usage.sqlite import tune_aggregator

# A pending entry idle this long belongs to an aggregator presumed dead.
CLAIM_IDLE_MS = 60_000


def _size(fields: Mapping[Any, Any] | None) -> int:
    """About how much work an entry is, cheaply: its events (exact for the `e` array form),
    or for a gateway's summed cells (`c`) how many cells, which is what their rollups cost."""
    if not fields:
        return 0
    summed = fields.get(_cells.FIELD, fields.get("c"))
    if summed:
        return max(1, summed.count(b"[" if isinstance(summed, bytes) else "[") - 1)
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
        tune_aggregator()
        with transaction.atomic():
            # Writing first takes SQLite's write lock before any read (a read lock upgraded
            # later fails at once when another aggregator writes), and the insert answers
            # which entries no aggregator has applied yet.
            new = _record_entries(ids)
            batch = Batch()
            for eid, (_, fields) in zip(ids, entries, strict=True):
                if eid not in new or not fields:  # trimmed entries come back with no fields
                    continue
                summed = fields.get(_cells.FIELD, fields.get("c"))
                if summed:  # a gateway's cells (usage/cells.py)
                    batch.add_cells(summed)
                else:  # one object per call (USAGE_RAW_EVENTS, or an older gateway)
                    batch.add_wire(wire_items(fields))
            if batch.events:
                batch.fill_users()
                write_rollups(batch.cells)
        self.redis.xack(STREAM, GROUP, *ids)
        self.trim()
        return batch.events

    def trim(self) -> None:
        """Delete the entries every consumer group has acknowledged (XTRIM MINID).

        The gateway refuses new events while the stream holds USAGE_STREAM_MAXLEN entries
        (usage/recorder.py) instead of trimming unread ones, so this is what frees the bound.
        In each group an entry is done when it was delivered (up to last-delivered-id) and is
        no longer pending; the bound is the group's oldest pending entry, else the one after
        its last delivered. Both only move forward, so a bound read a moment ago is safe."""
        bound: tuple[int, int] | None = None
        for group in self.redis.xinfo_groups(STREAM):
            first = None
            if group["pending"]:
                first = self.redis.xpending(STREAM, group["name"]).get("min")
            mark = _stream_id(first) if first else _after(_stream_id(group["last-delivered-id"]))
            bound = mark if bound is None else min(bound, mark)
        if bound is not None and bound > (0, 1):
            self.redis.xtrim(STREAM, minid=f"{bound[0]}-{bound[1]}", approximate=False)


def _stream_id(value: Any) -> tuple[int, int]:
    text = value.decode() if isinstance(value, bytes) else str(value)
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _after(sid: tuple[int, int]) -> tuple[int, int]:
    return sid[0], sid[1] + 1


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

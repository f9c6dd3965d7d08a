"""The gateway side of usage analytics: every call summed in the gateway's own process, the
sums written off the hot path.

Per call the event loop does only `record()`: one dict lookup and a few additions into
{CellKey: Vector} (usage/cells.py: the call's minute, subscription, client, developer, API,
operation and product -> outcome counts, bytes, times, latency histogram), the same vectors
the aggregator and the rollup tables hold. Every USAGE_FLUSH_MS a flusher task swaps the
dict for an empty one and a worker thread writes the summed cells:
- with GATEWAY_REDIS_URL or REDIS_URL, as one entry on the Redis stream `usage:events`
  (field `c`), which `manage.py aggregate_usage` merges into the rollups exactly once;
- without Redis, straight into the rollups (usage/aggregate.py's `write_rollups`: additive
  upserts in one transaction, so several gateways and aggregators never double count).
A busy gateway thus writes a handful of cells a second, however many calls it answers.

USAGE_RAW_EVENTS keeps, instead, one `usage.events.Event` per call (outcome, the check that
refused it, the truncated client address): appended to a bounded buffer per call, built and
encoded by the flusher between calls, written to the stream (field `e`) or to the raw table
`usage.UsageEvent`, from which the aggregator makes the same rollups. For operators who want
per-request rows (kept USAGE_RETENTION_RAW_DAYS); it costs the gateway several times more.

Never waiting on the store: the cells hold at most USAGE_BUFFER distinct keys between two
writes (the raw buffer USAGE_BUFFER events); calls past that are dropped and counted, and so
are the calls of a write the store refused, or that the stream's bound refused. All show in
`gateway_usage_dropped_total` in /-/metrics (written calls in `gateway_usage_events_total`).
After a failure the store is retried every 2 s. Calls keep flowing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Protocol

from django.conf import settings

from usage import cells as _cells
from usage.cells import CLIENT_ID_LENGTH, OPERATION_LENGTH, OUTCOME_INDEX, CellKey, Vector
from usage.events import (
    FIELD,
    FIELD_NAMES,
    STREAM,
    Event,
    classify,
    client_net,
    encode,
    redis_url,
)

log = logging.getLogger("usage")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
# (wall-clock end, perf_counter start, seconds taken, the scope, the call's state)
Pending = tuple[float, float, float, Scope, dict[str, Any]]


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


class Sink(Protocol):
    """`prepare` and `prepare_cells` run on the event loop (Python work: build the payload),
    `write` and `write_cells` in a worker thread (mostly I/O, so it seldom holds the GIL the
    loop needs). Raw events go through the first pair, summed cells through the second."""

    def prepare(self, events: Sequence[Event]) -> Any: ...

    def write(self, payload: Any) -> int | None:
        """Store the payload; the number of its events the store refused for being full
        (None or 0: all stored). Raises when the store failed."""
        ...

    def prepare_cells(self, cells: dict[CellKey, Vector]) -> Any: ...

    def write_cells(self, payload: Any) -> bool:
        """Store the cells; False when the store refused them for being full. Raises when
        the store failed."""
        ...

    def close(self) -> None: ...


class RedisSink:
    """XADD one stream entry per batch (see usage/events.py for the format) while the stream
    holds fewer than USAGE_STREAM_MAXLEN entries; past that bound the batch is refused and
    its events dropped and counted, so a stopped aggregator cannot fill Redis.

    Why not XADD MAXLEN: trimming deletes the oldest entries whether or not an aggregator
    has read them, and their events were lost uncounted. Here the gateway never deletes an
    entry; aggregators trim what every consumer group has acknowledged (usage/aggregate.py).
    The check and the XADDs run in one script, so gateway processes cannot overshoot."""

    # KEYS[1] the stream; ARGV[1] the bound, ARGV[2] the field, ARGV[3..] the entries.
    # Returns how many entries were added (the first ones, in order).
    SCRIPT = """
local room = tonumber(ARGV[1]) - redis.call('XLEN', KEYS[1])
local added = 0
for i = 3, #ARGV do
  if added >= room then break end
  redis.call('XADD', KEYS[1], '*', ARGV[2], ARGV[i])
  added = added + 1
end
return added
"""

    def __init__(self, url: str) -> None:
        import redis

        timeout = float(_setting("REDIS_TIMEOUT", 1))
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.maxlen = int(_setting("USAGE_STREAM_MAXLEN", 2000))
        self.batch = max(1, int(_setting("USAGE_BATCH", 500)))
        self._add = self.client.register_script(self.SCRIPT)

    def prepare(self, events: Sequence[Event]) -> list[tuple[bytes, int]]:
        """(entry, its number of events) per USAGE_BATCH events."""
        chunks = [events[i : i + self.batch] for i in range(0, len(events), self.batch)]
        return [(encode(chunk), len(chunk)) for chunk in chunks]

    def write(self, payload: list[tuple[bytes, int]]) -> int:
        """Add the entries the bound leaves room for; the number of events refused."""
        added = int(self._add(keys=[STREAM], args=[self.maxlen, FIELD, *(e for e, _ in payload)]))
        return sum(n for _, n in payload[added:])

    def prepare_cells(self, cells: dict[CellKey, Vector]) -> bytes:
        return _cells.encode(cells)

    def write_cells(self, payload: bytes) -> bool:
        """One entry (field `c`) for the whole flush, if the bound leaves room for it."""
        return int(self._add(keys=[STREAM], args=[self.maxlen, _cells.FIELD, payload])) == 1

    def close(self) -> None:
        self.client.close()


class DatabaseSink:
    """Bulk-insert into the raw table `usage.UsageEvent` (one executemany per batch: model
    instances would cost the flush thread, and so the event loop's share of the GIL, more)."""

    def __init__(self) -> None:
        from usage.models import UsageEvent

        self.model = UsageEvent
        self._sql: str | None = None
        self._wal = False
        self._columns: list[tuple[Any, Callable[[Event], Any]]] = []

    def _statement(self) -> str:
        from django.db import connection, models

        names = set(FIELD_NAMES)
        columns: list[tuple[Any, Callable[[Event], Any]]] = []
        for field in self.model._meta.concrete_fields:
            if isinstance(field, models.AutoField | models.BigAutoField):
                continue
            name = _EVENT_NAME.get(field.name, field.name)
            if name not in names:
                columns.append((field, _constant(field.get_default())))
            elif isinstance(field, models.DateTimeField):
                columns.append((field, _as_datetime(name)))
            elif field.get_internal_type() in _PLAIN_TYPES:
                columns.append((field, attrgetter(name)))
            else:
                columns.append((field, _prepared(field, name, connection)))
        self._columns = columns
        quote = connection.ops.quote_name
        cols = ", ".join(quote(f.column) for f, _ in columns)
        marks = ", ".join(["%s"] * len(columns))
        return f"INSERT INTO {quote(self.model._meta.db_table)} ({cols}) VALUES ({marks})"

    def prepare(self, events: Sequence[Event]) -> list[list[Any]]:
        if self._sql is None:
            self._sql = self._statement()
        getters = [get for _f, get in self._columns]
        return [[get(e) for get in getters] for e in events]

    def write(self, payload: list[list[Any]]) -> None:
        # The writing thread keeps its connection between flushes (opening one per batch cost
        # more than the insert); a failure closes it and the next batch opens a new one.
        from django.db import connection, transaction

        from usage.sqlite import use_wal

        assert self._sql is not None
        rows = payload
        if not self._wal:
            self._wal = True
            use_wal()  # readers never wait for a batch (usage/sqlite.py)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(self._sql, rows)
        except Exception:
            connection.close()  # a broken connection is not reused for the next batch
            raise

    def prepare_cells(self, cells: dict[CellKey, Vector]) -> dict[CellKey, Vector]:
        return cells

    def write_cells(self, payload: dict[CellKey, Vector]) -> bool:
        """The cells' rollups, written as the aggregator writes them (additive upserts; a
        day before today bumps the closed days' version), in one transaction."""
        from django.db import connection, transaction

        from usage.aggregate import Batch, write_rollups
        from usage.sqlite import use_wal

        if not self._wal:
            self._wal = True
            use_wal()
        batch = Batch()
        batch.cells = payload
        try:
            # Reads first, outside the transaction: on SQLite the transaction's first
            # statement is then a write, which waits for the write lock instead of failing
            # when another writer holds it (a read lock cannot be upgraded while one does).
            batch.fill_users()
            with transaction.atomic():
                write_rollups(batch.cells)
        except Exception:
            # A broken connection is not reused for the next flush (the flusher's thread owns
            # it; a caller's own transaction, as in tests, keeps its connection).
            if not connection.in_atomic_block:
                connection.close()
            raise
        return True

    def close(self) -> None:
        from django.db import connection

        connection.close()


def _constant(value: Any) -> Callable[[Event], Any]:
    return lambda e: value


def _as_datetime(name: str) -> Callable[[Event], Any]:
    from django.db import connection

    return lambda e: connection.ops.adapt_datetimefield_value(
        datetime.fromtimestamp(getattr(e, name), UTC)
    )


def _prepared(field: Any, name: str, connection: Any) -> Callable[[Event], Any]:
    return lambda e: field.get_db_prep_save(getattr(e, name), connection)


# The raw table's field -> the event's, where they differ (a model field named `check` would
# hide Django's Model.check()).
_EVENT_NAME = {"check_name": "check"}


# Values of these model fields go to the driver as the event holds them (no per-value
# conversion in the flush thread).
_PLAIN_TYPES = frozenset(
    {
        "BigIntegerField", "IntegerField", "SmallIntegerField", "PositiveIntegerField",
        "PositiveSmallIntegerField", "PositiveBigIntegerField", "FloatField", "CharField",
        "TextField", "BooleanField",
    }
)  # fmt: skip


def default_sink() -> Sink:
    url = redis_url()
    return RedisSink(url) if url else DatabaseSink()


class Recorder:
    """One per gateway process. `record()` and the flusher task run on the event loop; only
    the store's I/O (and, without Redis, the rollups' upserts) runs in a worker thread.

    Why sum on the loop, per call: a dict lookup and a few additions cost a little more than
    the raw path's append, but everything after it (building, encoding and storing one
    event per call) shrinks to a few cells per flush. Why not a thread that builds events:
    a thread doing Python work takes the GIL whenever the event loop gives it up at a
    system call; the loop then waits for it (up to the 5 ms switch interval) at every send
    and receive. Measured: the gateway answered at half speed."""

    SLICE = 128

    def __init__(self, sink_factory: Callable[[], Sink] = default_sink) -> None:
        self.enabled = bool(_setting("USAGE_RECORDING", True))
        self.raw = bool(_setting("USAGE_RAW_EVENTS", False))
        self.limit = max(1, int(_setting("USAGE_BUFFER", 10000)))
        self.batch = max(1, int(_setting("USAGE_BATCH", 500)))
        self.interval = max(0.01, int(_setting("USAGE_FLUSH_MS", 1000)) / 1000)
        self.retry = 2.0
        self._sink_factory = sink_factory
        self._sink: Sink | None = None
        self._cells: dict[CellKey, Vector] = {}
        # (status, problem check) -> outcome index: classify() once per distinct pair.
        self._outcomes: dict[tuple[int, str], int] = {}
        self._buffer: deque[Pending] = deque()  # USAGE_RAW_EVENTS only
        self._task: asyncio.Task[None] | None = None
        self._writing = threading.Lock()
        self._retry_at = 0.0
        self._warned_at = 0.0
        self.dropped_full = 0  # past USAGE_BUFFER (distinct keys, or raw events)
        self.dropped_failed = 0  # the store refused the write
        self.dropped_bound = 0  # the store is at its bound (USAGE_STREAM_MAXLEN)
        self.written = 0  # calls

    @property
    def dropped(self) -> int:
        return self.dropped_full + self.dropped_failed + self.dropped_bound

    # --- per call ----------------------------------------------------------------------

    def counting(self, state: dict[str, Any], send: Send, receive: Receive) -> tuple[Send, Receive]:
        """`send` and `receive` that add the body bytes they carry to state["out"]/["in"].

        Only http.response.body and http.request messages have a "body" (ASGI), so one
        `get` tells both whether and how much to count: cheaper per call than testing the
        message type first (measured with bench/gateway_bench.py's harness)."""
        state["in"] = state["out"] = 0

        # A plain function handing back send's own awaitable: no coroutine of its own per
        # message (one fewer frame on every response, the gateway's hot path).
        def counted_send(message: MutableMapping[str, Any]) -> Awaitable[None]:
            body = message.get("body")
            if body:
                state["out"] += len(body)
            return send(message)

        async def counted_receive() -> MutableMapping[str, Any]:
            message = await receive()
            body = message.get("body")
            if body:
                state["in"] += len(body)
            return message

        return counted_send, counted_receive

    def record(self, scope: Scope, state: dict[str, Any], started: float, elapsed: float) -> None:
        """Count the call: never waits, never raises for full cells or a full buffer.

        Reads what the gateway left in its state dict: status, check, route, op (the
        OperationMatch), entry (the subscription's KeyEntry), client (the token's client id or
        "-"), b0 (perf_counter when the backend was called), in/out (body bytes)."""
        if not self.enabled or "internal" in state:
            return
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush_forever())
        if self.raw:
            buffer = self._buffer
            if len(buffer) >= self.limit:
                self.dropped_full += 1
                return
            buffer.append((time.time(), started, elapsed, scope, state))
            return
        try:
            get = state.get
            route, op, entry, client = get("route"), get("op"), get("entry"), get("client", "-")
            if entry is None:
                sub = user = product = 0
            else:
                sub, user, product = entry.subscription_id, entry.user_id, entry.product_id
                if client == "-":
                    client = entry.client_id
            key: CellKey = (
                int(time.time() - elapsed) // 60 * 60, sub or 0,
                "" if client == "-" else client or "", user or 0,
                0 if route is None else route.api_id or 0, "" if op is None else op.slug,
                product or 0,
            )  # fmt: skip
            cells = self._cells
            vec = cells.get(key)
            if vec is None:
                if len(cells) >= self.limit:
                    self.dropped_full += 1
                    return
                vec = cells[key] = _cells.empty()
            status, check = get("status", 0), get("check") or ""
            outcome = self._outcomes.get((status, check))
            if outcome is None:
                outcome = OUTCOME_INDEX[classify(status, check)[0]]
                self._outcomes[(status, check)] = outcome
            b0 = get("b0")
            _cells.add(
                vec, outcome, elapsed * 1000.0,
                None if b0 is None else max(0.0, started + elapsed - b0) * 1000.0,
                get("in", 0), get("out", 0),
            )  # fmt: skip
        except Exception:  # an odd call must not fail the response or stop the counting
            log.exception("usage: a call could not be counted")
            self.dropped_failed += 1

    # --- the flusher task ----------------------------------------------------------------

    async def _flush_forever(self) -> None:
        """Cells every USAGE_FLUSH_MS; raw events then too, or as soon as a batch is waiting
        (checked every 50 ms)."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(0.05, self.interval))
            now = time.monotonic()
            if now < self._retry_at:
                continue
            if self.raw:
                if not self._buffer:
                    continue
                if len(self._buffer) < self.batch and now - last < self.interval:
                    continue
            elif not self._cells or now - last < self.interval:
                continue
            last = now
            try:
                await (self._flush_events_async() if self.raw else self._flush_cells_async())
            except Exception:  # the task must outlive any one bad flush
                log.exception("usage flush failed")

    async def _flush_cells_async(self) -> None:
        cells, count = self._take_cells()
        payload = self._prepare(cells, count)
        if payload is not None:
            await asyncio.to_thread(self._send_cells, payload, count)

    async def _flush_events_async(self) -> None:
        pending = len(self._buffer)
        while pending > 0:
            n = min(pending, self.batch * 4)
            pending -= n
            events: list[Event] = []
            for i in range(0, n, self.SLICE):
                events += self._take(min(self.SLICE, n - i))
                await asyncio.sleep(0)  # let calls in between slices
            payload = self._prepare(events, len(events))
            await asyncio.sleep(0)
            if payload is None or not await asyncio.to_thread(self._send, payload, len(events)):
                return

    def flush(self) -> int:
        """Write what is summed or buffered now, from the calling thread; the number of calls
        written. For tests and the shutdown."""
        if self._cells:
            cells, count = self._take_cells()
            payload = self._prepare(cells, count)
            return count if payload is not None and self._send_cells(payload, count) else 0
        written = 0
        while self._buffer:
            events = self._take(self.batch * 4)
            payload = self._prepare(events, len(events))
            if payload is None or not self._send(payload, len(events)):
                break
            written += len(events)
        return written

    def _take_cells(self) -> tuple[dict[CellKey, Vector], int]:
        """The cells summed so far (new calls go to a fresh dict) and how many calls."""
        cells, self._cells = self._cells, {}
        return cells, sum(map(_cells.calls, cells.values()))

    def _send_cells(self, payload: Any, count: int) -> bool:
        """Write prepared cells (in a worker thread from the flusher); False if refused."""
        assert self._sink is not None
        try:
            with self._writing:
                stored = self._sink.write_cells(payload)
        except Exception as exc:
            self._failed(exc, count)
            return False
        if not stored:
            self.dropped_bound += count
            self._warn("usage stream full (USAGE_STREAM_MAXLEN entries: no aggregator keeps up)")
            return False
        self.written += count
        return True

    def _take(self, most: int) -> list[Event]:
        mode = str(_setting("USAGE_CLIENT_ADDRESS", "truncate"))
        trusted = tuple(_setting("TRUSTED_PROXIES", ()))
        events: list[Event] = []
        popleft = self._buffer.popleft
        for _ in range(min(most, len(self._buffer))):
            try:
                events.append(to_event(*popleft(), mode, trusted))
            except Exception:  # one odd call must not stop the others' events
                log.exception("usage event could not be built")
                self.dropped_failed += 1
        return events

    def _prepare(self, what: list[Event] | dict[CellKey, Vector], count: int) -> Any:
        """The sink's payload for raw events or summed cells (built on the caller's thread:
        the loop); None when there is nothing to write or building it failed."""
        if not what:
            return None
        try:
            if self._sink is None:
                self._sink = self._sink_factory()
            if isinstance(what, dict):
                return self._sink.prepare_cells(what)
            return self._sink.prepare(what)
        except Exception as exc:
            self._failed(exc, count)
            return None

    def _send(self, payload: Any, count: int) -> bool:
        """Write a prepared payload (in a worker thread from the flusher); False if refused."""
        assert self._sink is not None
        try:
            with self._writing:
                refused = self._sink.write(payload) or 0
        except Exception as exc:
            self._failed(exc, count)
            return False
        self.written += count - refused
        if refused:
            # No aggregator keeps up. Sending goes on (it costs what normal operation does):
            # events flow again as soon as an aggregator trims what it counted.
            self.dropped_bound += refused
            self._warn("usage stream full (USAGE_STREAM_MAXLEN entries: no aggregator keeps up)")
        return True

    def _failed(self, exc: Exception, count: int) -> None:
        """A write (or a payload) failed: its calls are dropped and counted."""
        self.dropped_failed += count
        self._retry_at = time.monotonic() + self.retry
        self._warn(
            f"usage store unavailable ({type(exc).__name__}: {exc}), retrying every {self.retry:g} s"
        )

    def _warn(self, why: str) -> None:
        """At most once a minute."""
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("%s: calls are dropped and counted in gateway_usage_dropped_total", why)

    async def aclose(self) -> None:
        """At the server's shutdown: stop the flusher, write what is summed (in a thread:
        the database may not be used from the event loop) and let go of the store."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Write what is summed or buffered and let go of the store (outside the loop)."""
        if isinstance(self._task, asyncio.Task):
            self._task.cancel()
        if time.monotonic() >= self._retry_at:
            self.flush()
        if self._sink is not None:
            self._sink.close()


def to_event(
    ended: float,
    started: float,
    elapsed: float,
    scope: Scope,
    state: dict[str, Any],
    mode: str,
    trusted: tuple[str, ...],
) -> Event:
    """The event for one answered call, from what the gateway left in its state dict:
    status, check, route, op (the OperationMatch), entry (the subscription's KeyEntry),
    client (the token's client id or "-"), b0 (perf_counter when the backend was called),
    in/out (body bytes)."""
    status = int(state.get("status") or 0)
    outcome, check = classify(status, str(state.get("check") or ""))
    route = state.get("route")
    op = state.get("op")
    entry = state.get("entry")
    client_id = state.get("client") or "-"
    if client_id == "-":
        client_id = getattr(entry, "client_id", "") or ""
    b0 = state.get("b0")
    return Event(
        ts=ended - elapsed,
        api_id=getattr(route, "api_id", None),
        operation=(getattr(op, "slug", "") or "")[:OPERATION_LENGTH],
        product_id=getattr(entry, "product_id", None),
        subscription_id=getattr(entry, "subscription_id", None),
        # The raw table's column (a token's client id may be any length; see rollup_rows).
        client_id=client_id[:CLIENT_ID_LENGTH],
        user_id=getattr(entry, "user_id", None),
        status=status,
        outcome=outcome,
        check=check,
        total_ms=round(elapsed * 1000, 3),
        backend_ms=None if b0 is None else round(max(0.0, started + elapsed - b0) * 1000, 3),
        bytes_in=int(state.get("in", 0)),
        bytes_out=int(state.get("out", 0)),
        client_net=client_net(_client_address(scope, trusted), mode) if mode != "none" else "",
    )


def _client_address(scope: Scope, trusted: tuple[str, ...]) -> str:
    """The real client behind TRUSTED_PROXIES, as the gateway itself decided it."""
    peer = str((scope.get("client") or ("", 0))[0] or "")
    if not trusted or not peer:
        return peer
    from portal.lib import proxies

    forwarded = [v for n, v in scope.get("headers", ()) if n == b"x-forwarded-for"]
    if not forwarded:
        return peer
    joined = b", ".join(forwarded).decode("latin-1")
    return proxies.client_address(peer, joined, proxies.trusted_networks(trusted))

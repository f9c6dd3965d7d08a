"""Calls -> rollups: what `manage.py aggregate_usage` runs, and the upsert path the gateway
itself writes through when it has no Redis.

The gateway sums calls per minute and full key in its own process (usage/cells.py,
usage/recorder.py) and ships the summed cells every USAGE_FLUSH_MS:
- with Redis, as one entry per flush on the stream `usage:events` (field `c`), read here
  through the consumer group `usage-aggregators`: each entry goes to one aggregator; its
  cells are merged into the batch and the entry ids recorded (StreamEntry) in one
  transaction; XACK follows the commit. An entry left pending by a dead aggregator is
  claimed (XAUTOCLAIM) by another, which skips it if its id is already recorded, so a crash
  between commit and XACK never counts twice. Entries of one event per call (field `e`:
  USAGE_RAW_EVENTS, or a gateway of an older release during a rollout) are read too;
- without Redis, the gateway writes its cells' rollups itself (`write_rollups`, in one
  transaction of its own); nothing waits here for them.
With USAGE_RAW_EVENTS the gateway also keeps per-call rows in the raw table `UsageEvent`
(without Redis): an aggregator claims pending rows and marks them aggregated with one
UPDATE ... RETURNING inside the transaction that writes the rollups (rows other aggregators
hold are skipped on PostgreSQL, SKIP LOCKED; SQLite has one writer at a time).

A batch is summed in memory per minute and full key (a `Batch` of cells), then rolled up
into each table and level (usage/models.py) and added with one upsert per row (INSERT ...
ON CONFLICT DO UPDATE SET n = n + excluded.n), so gateways and aggregators never
read-modify-write a row and never count a call twice, however many run at once. A write
into a day before today changes ClosedDaysVersion in the same transaction (usage/closed.py).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from usage import cells as _cells
from usage import closed
from usage.cells import (
    B_MAX,
    B_MIN,
    BIGINT,
    CLIENT_ID_LENGTH,
    FIRST_MINUTE,
    INF,
    LAST_MINUTE,
    MEASURES,
    OPERATION_LENGTH,
    OUTCOME_INDEX,
    T_MAX,
    T_MIN,
    CellKey,
    Vector,
    empty,
    merge,
)
from usage.models import (
    DAY,
    HOUR,
    MINUTE,
    ApiRollup,
    ConsumerOperationRollup,
    ConsumerRollup,
    ForgottenConsumer,
    Rollup,
    UsageEvent,
)
from usage.sqlite import tune_aggregator

if TYPE_CHECKING:
    from usage.stream import StreamAggregator

log = logging.getLogger(__name__)


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
        # The deleted developers' ids `forget` found in this batch: users, subscriptions,
        # clients (for the raw rows that carry them, usage/anonymise.py).
        self.forgotten: tuple[set[int], set[int], set[str]] = (set(), set(), set())

    def add(self, ev: Any) -> None:
        """Add one event (a mapping or an object with the fields of usage/events.py)."""
        f = ev.get if isinstance(ev, Mapping) else lambda n: getattr(ev, n, None)
        self.add_fields(
            _epoch(f("ts")), f("subscription_id") or 0, f("client_id") or "",
            f("user_id") or 0, f("api_id") or 0, f("operation") or "", f("product_id") or 0,
            OUTCOME_INDEX.get(str(f("outcome")), 3), float(f("total_ms") or 0.0),
            f("backend_ms"), f("bytes_in") or 0, f("bytes_out") or 0,
        )  # fmt: skip

    def add_wire(self, items: Any) -> int:
        """Add the decoded objects of one stream entry (usage/events.py's wire format);
        returns how many were added. What `events.decode` would skip is skipped, but without
        building an Event per object first: that doubled the aggregator's Python time."""
        added = 0
        if not isinstance(items, list):
            return 0
        for item in items:
            try:
                get = item.get
                outcome = OUTCOME_INDEX[item["outcome"]]
                backend = get("backend_ms")
                int(item["status"])
                self.add_fields(
                    float(item["ts"]), int(get("subscription_id") or 0),
                    str(get("client_id") or ""), int(get("user_id") or 0),
                    int(get("api_id") or 0), str(get("operation") or ""),
                    int(get("product_id") or 0), outcome, float(item["total_ms"]),
                    None if backend is None else float(backend),
                    int(get("bytes_in") or 0), int(get("bytes_out") or 0),
                )  # fmt: skip
            except (AttributeError, KeyError, TypeError, ValueError):
                continue  # an object this aggregator cannot read; the others count
            added += 1
        return added

    def add_fields(
        self, ts: float, sub: int, client: str, user: int, api: int, op: str, product: int,
        outcome: int, total: float, backend: float | None, bytes_in: int, bytes_out: int,
    ) -> None:  # fmt: skip
        """Add one event (`outcome`: its index in OUTCOME_INDEX). ValueError for one no row
        can hold (usage/cells.py's LAST_MINUTE and BIGINT): the caller skips it."""
        if not FIRST_MINUTE <= ts < LAST_MINUTE or not (
            0 <= bytes_in <= BIGINT and 0 <= bytes_out <= BIGINT
        ):
            raise ValueError("an event past what the rollups hold")
        key: CellKey = (int(ts // 60) * 60, sub, client, user, api, op, product)
        vec = self.cells.get(key)
        if vec is None:
            vec = self.cells[key] = empty()
        _cells.add(vec, outcome, total, backend, bytes_in, bytes_out)
        self.events += 1

    def add_cells(self, data: bytes | str) -> int:
        """Add the cells of one stream entry's `c` field (usage/cells.py: calls a gateway
        already summed); returns how many calls they carry."""
        added = 0
        for key, vec in _cells.decode(data):
            _cells.merge_into(self.cells, key, vec)
            added += _cells.calls(vec)
        self.events += added
        return added

    def fill_users(self) -> None:
        """Events the gateway sent without a developer get the owner of their subscription,
        or else of their application (one query each per batch); then those of a developer
        deleted meanwhile name nobody (`forget`)."""
        missing = [k for k in self.cells if not k[3] and (k[1] or k[2])]
        if missing:
            owners_by_sub, owners_by_client = _owners(
                {k[1] for k in missing if k[1]}, {k[2] for k in missing if k[2]}
            )
            for key in missing:
                user = owners_by_sub.get(key[1]) or owners_by_client.get(key[2])
                if user:
                    vec = self.cells.pop(key)
                    new: CellKey = (key[0], key[1], key[2], user, key[4], key[5], key[6])
                    _cells.merge_into(self.cells, new, vec)
        self.forget()

    def forget(self) -> None:
        """Calls of a developer deleted meanwhile (summed in a gateway, or waiting in the
        stream, when usage/anonymise.py ran) name nobody: their developer, subscription and
        application become "none", as that deletion made of the rows already written. One
        query per batch, of a table that is empty but for recent deletions.

        An id can be handed out again (SQLite's sequence restarts from the largest id left
        when a migration rebuilds a table; an external server may issue a client id again):
        a call that names it from the minute its new holder was created on is the new
        holder's (`_reused`)."""
        rows = ForgottenConsumer.objects.values_list("kind", "value", "forgotten")
        users: dict[int, datetime] = {}
        subs: dict[int, datetime] = {}
        clients: dict[str, datetime] = {}
        for kind, value, when in rows:
            if kind == ForgottenConsumer.CLIENT:
                clients[value] = when
            elif value.isdigit():
                (users if kind == ForgottenConsumer.USER else subs)[int(value)] = when
        if not (users or subs or clients):
            return
        named = [k for k in self.cells if k[3] in users or k[1] in subs or k[2] in clients]
        if not named:
            return
        since = _reused(
            {k[3]: users[k[3]] for k in named if k[3] in users},
            {k[1]: subs[k[1]] for k in named if k[1] in subs},
            {k[2]: clients[k[2]] for k in named if k[2] in clients},
        )
        for key in named:
            held = [
                since.get((kind, value))
                for kind, value, gone in (
                    ("user", key[3], users), ("subscription", key[1], subs),
                    ("client", key[2], clients),
                )
                if value in gone
            ]  # fmt: skip
            if all(at is not None and key[0] + 60 > at for at in held):
                continue  # every forgotten id it names is a new holder's, created by then
            vec = self.cells.pop(key)
            nobody: CellKey = (key[0], 0, "", 0, key[4], key[5], key[6])
            _cells.merge_into(self.cells, nobody, vec)
            self.forgotten[0].update({key[3]} & users.keys())
            self.forgotten[1].update({key[1]} & subs.keys())
            self.forgotten[2].update({key[2]} & clients.keys())


def _reused(
    users: dict[int, datetime], subs: dict[int, datetime], clients: dict[str, datetime]
) -> dict[tuple[str, Any], float]:
    """Forgotten ids (each with when it was forgotten) that a developer, subscription or
    application created since holds now: (kind, id) -> the epoch it was created."""
    from django.contrib.auth import get_user_model

    from applications.models import Application
    from products.models import Subscription

    out: dict[tuple[str, Any], float] = {}
    kinds: list[tuple[str, Mapping[Any, datetime], Iterable[tuple[Any, datetime]]]] = [
        ("user", users, get_user_model().objects.filter(pk__in=list(users))
         .values_list("pk", "date_joined") if users else ()),
        ("subscription", subs, Subscription.objects.filter(pk__in=list(subs))
         .values_list("pk", "created") if subs else ()),
        ("client", clients, Application.objects.filter(client_id__in=list(clients))
         .values_list("client_id", "created") if clients else ()),
    ]  # fmt: skip
    for kind, forgotten, found in kinds:
        for value, created in found:
            if created >= forgotten[value]:
                out[(kind, value)] = created.timestamp()
    return out


def _owners(subs: set[int], clients: set[str]) -> tuple[dict[int, int], dict[str, int]]:
    from applications.models import Application
    from products.models import Subscription

    by_sub = dict(Subscription.objects.filter(pk__in=subs).values_list("pk", "owner_id"))
    by_client = dict(
        Application.objects.filter(client_id__in=clients).values_list("client_id", "owner_id")
    )
    return by_sub, by_client


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
    api_minute: dict[tuple, Vector] = {}
    for (minute, sub, client, user, api, op, product), vec in cells.items():
        if len(client) > CLIENT_ID_LENGTH or len(op) > OPERATION_LENGTH:
            # Past the columns (a token's client id may be any length): PostgreSQL would
            # refuse the row and the whole batch with it. Cut, the calls summed under it.
            client, op = client[:CLIENT_ID_LENGTH], op[:OPERATION_LENGTH]
        _sum_into(consop, (HOUR, minute - minute % 3600, sub, client, user, api, op, product), vec)
        _sum_into(cons_minute, (MINUTE, minute, sub, client, user, api, product), vec)
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


_SQL: dict[tuple[str, type[Rollup], int], str] = {}
# Rows per upsert statement on SQLite: 15-25 % less CPU time than a statement per row
# (executemany), measured loaded. PostgreSQL takes the rows by COPY (_upsert_copied).
ROWS_PER_STATEMENT = 500


def _upsert_sql(model: type[Rollup], rows: int = 1) -> str:
    """INSERT of `rows` rows that adds into the rows already there (same key)."""
    vendor = connection.vendor
    sql = _SQL.get((vendor, model, rows))
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
        row = f"({', '.join(['%s'] * len(cols))})"
        values = f"VALUES {', '.join([row] * rows)}"
        sql = _SQL[(vendor, model, rows)] = (
            f'INSERT INTO "{table}" ({", ".join(f'"{c}"' for c in cols)}) {values} '
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
                values = vec
                # No call yet (blocked calls reach no backend): NULL, not an infinity. Copy
                # only then: copying every row cost a fifth of the aggregator's Python time.
                if INF in (vec[T_MIN], vec[B_MIN]) or -INF in (vec[T_MAX], vec[B_MAX]):
                    values = list(vec)
                    for i in (T_MIN, T_MAX, B_MIN, B_MAX):
                        if values[i] in (INF, -INF):
                            values[i] = None
                params.append((key[0], start, *key[2:], *values))
            if not params:
                continue
            if connection.vendor == "postgresql":
                _upsert_copied(model, params)
                written += len(params)
                continue
            per = max(1, min(ROWS_PER_STATEMENT, _max_params() // len(params[0])))
            full = len(params) - len(params) % per
            if full:  # one statement `per` rows long, run for each full chunk
                cursor.executemany(
                    _upsert_sql(model, per),
                    [list(chain.from_iterable(params[i : i + per])) for i in range(0, full, per)],
                )
            if full < len(params):  # the rest row by row (a statement per length: no cache)
                cursor.executemany(_upsert_sql(model), params[full:])
            written += len(params)
    # A late event in a day before today: the rankings' kept totals are obsolete.
    if starts and closed.touches_closed_days(min(starts)):
        closed.bump()
    return written


def _upsert_copied(model: type[Rollup], params: list[tuple]) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT ... SELECT with the
    same ON CONFLICT as everywhere else.

    Through Django's cursor (client-side binding) psycopg quoted each value in Python and the
    server parsed it back: 2.6 million values cost 11 s of 39 for 100,000 events; arrays
    (unnest) still dumped each element in Python. COPY rows are formatted in C."""
    table = model._meta.db_table
    stage = f"usage_stage_{table}"
    cols = ", ".join(f'"{c}"' for c in ("level", "start", *model.KEY, *MEASURES))  # type: ignore[attr-defined]
    insert = _upsert_sql(model).replace(
        f"VALUES ({', '.join(['%s'] * len(params[0]))})", f'SELECT {cols} FROM "{stage}"'
    )
    raw = connection.connection
    with raw.cursor() as cursor:
        # Per connection; emptied here, so two batches in one transaction never add twice.
        cursor.execute(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS "{stage}" ON COMMIT DELETE ROWS AS '
            f'SELECT {cols} FROM "{table}" WITH NO DATA'
        )
        cursor.execute(f'DELETE FROM "{stage}"')
        with cursor.copy(f'COPY "{stage}" ({cols}) FROM STDIN') as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(insert)


def _max_params() -> int:
    """Bound parameters one statement may carry (SQLite's default build: 32,766;
    PostgreSQL's protocol: 65,535)."""
    return int(connection.features.max_query_params or 65535)


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

# The epoch second of the raw table's `ts`, computed by the database: converting each row's
# datetime in Python cost a sixth of the aggregator's time.
_EPOCH = {
    "sqlite": """CAST(strftime('%%s', "ts") AS INTEGER)""",
    "postgresql": 'CAST(EXTRACT(EPOCH FROM "ts") AS double precision)',
}
_EVENT_COLUMNS = (
    "subscription_id", "client_id", "user_id", "api_id", "operation", "product_id",
    "outcome", "total_ms", "backend_ms", "bytes_in", "bytes_out",
)  # fmt: skip


def aggregate_pending(limit: int | None = None) -> int:
    """Claim up to `limit` raw events not yet aggregated, add them to the rollups and mark
    them, all in one transaction. Returns how many were aggregated (0: none pending)."""
    limit = limit or settings.USAGE_AGGREGATE_BATCH
    table = UsageEvent._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    cols = ", ".join([_EPOCH[connection.vendor], *(f'"{c}"' for c in _EVENT_COLUMNS)])
    sql = (
        f'UPDATE "{table}" SET "aggregated" = %s WHERE "id" IN ('
        f'SELECT "id" FROM "{table}" WHERE NOT "aggregated" ORDER BY "id" LIMIT %s{lock}) '
        f"RETURNING {cols}"
    )
    tune_aggregator()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [True, limit])
            rows = cursor.fetchall()
        if not rows:
            return 0
        batch = Batch()
        add, outcomes = batch.add_fields, OUTCOME_INDEX
        for ts, sub, client, user, api, op, product, outcome, total, backend, b_in, b_out in rows:
            add(
                ts, sub or 0, client or "", user or 0, api or 0, op or "", product or 0,
                outcomes.get(outcome, 3), total, backend, b_in or 0, b_out or 0,
            )  # fmt: skip
        batch.fill_users()
        write_rollups(batch.cells)
        if any(batch.forgotten):
            # Raw rows written after their developer was deleted name them still.
            from usage.anonymise import forget_raw

            forget_raw(*batch.forgotten)
    return batch.events


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

    from usage import prefill, retention

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
            prefill.when_due()  # the reports' past days, off any request (usage/prefill.py)
        except Exception:
            log.exception("usage aggregation failed; retrying")
            with contextlib.suppress(Exception):
                connection.close()
            time.sleep(wait)
            continue
        if not busy and stream is None:
            time.sleep(wait)

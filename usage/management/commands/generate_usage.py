"""Rollups of made-up traffic, for benches and demos: by default 30 days of 1,000,000 calls a
day across 50 APIs (10 operations each, in 10 products) and 5,000 subscriptions of 2,500
developers, half of them for an application.

Traffic is skewed the way real traffic is (a few heavy consumers, a long tail: Zipf over
subscriptions), follows the time of day, and is 93 % success, 3 % blocked, 1 % failed and
3 % other, with each API's own latency. Ids are made up (1..50 for APIs ...): the rows do
not need the objects, and labels show "(deleted)" for ids with none.

Only the widest table is made in Python, by the hour (and by the minute for the last
--minute-hours hours, the only ranges read by the minute); every other table and level is
summed from it by the database (INSERT ... SELECT ... GROUP BY), so the command takes
minutes at most, not the hours that replaying 30 million events would.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from usage import closed, histogram
from usage.aggregate import rollup_rows
from usage.cells import (
    B_COUNT,
    B_MAX,
    B_MIN,
    B_SUM,
    BYTES_IN,
    BYTES_OUT,
    H0,
    MEASURES,
    T_MAX,
    T_MIN,
    T_SUM,
    WIDTH,
    CellKey,
    Vector,
)
from usage.models import (
    DAY,
    HOUR,
    MINUTE,
    ROLLUPS,
    ApiRollup,
    ConsumerOperationRollup,
    ConsumerRollup,
)

OPERATIONS = 10
PRODUCTS = 10
# How a subscription's calls spread over the operations it uses.
OP_SHARES = (0.7, 0.2, 0.1)
# The latency mix of a call around its API's typical time: (share, factor).
LATENCY = ((0.25, 0.5), (0.5, 1.0), (0.2, 2.0), (0.05, 8.0))


def _whole(least: int, most: int | None = None) -> Callable[[str], int]:
    """An argument type: a whole number in [least, most], else a message naming the range
    (argparse prefixes the option; call_command raises it as a CommandError)."""

    def parse(text: str) -> int:
        upto = f" to {most}" if most is not None else ""
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"{value} is not a whole number from {least}{upto}")
        return value

    return parse


class Command(BaseCommand):
    help = "Fill the usage rollups with made-up traffic (benches and demos)."

    def add_arguments(self, parser: Any) -> None:
        from django.conf import settings

        # Days past the day rollups' retention would be made, then deleted by the aggregator.
        parser.add_argument("--days", type=_whole(1, settings.USAGE_RETENTION_DAY_DAYS), default=30)
        parser.add_argument("--calls-per-day", type=_whole(1), default=1_000_000)
        parser.add_argument("--apis", type=_whole(1), default=50)
        parser.add_argument("--subscriptions", type=_whole(1), default=5000)
        parser.add_argument(
            "--minute-hours", type=_whole(0), default=6, help="hours before now made by the minute"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--replace", action="store_true", help="delete the rollups there are first"
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if o["minute_hours"] > o["days"] * 24:
            raise CommandError(
                f"--minute-hours: at most the {o['days'] * 24} hours of --days {o['days']}."
            )
        tables = ROLLUPS
        if any(m.objects.exists() for m in tables):
            if not o["replace"]:
                raise CommandError("There are usage rollups already: --replace deletes them.")
            for m in tables:
                m.objects.all().delete()
        started = time.perf_counter()
        if connection.vendor == "sqlite":
            # Millions of rows into tables with several indexes: SQLite's default 2 MB page
            # cache makes every index insert a disk read; this connection gets 256 MB.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        calls = self._generate(o, started)
        counts = {m.__name__: m.objects.count() for m in tables}
        self.stdout.write(
            f"Rollups of {o['days']} days ({calls:,} calls) in "
            f"{time.perf_counter() - started:.0f} s: {counts}"
        )

    def _generate(self, o: dict[str, Any], started: float) -> int:
        """Every rollup row of the traffic; the number of calls."""
        tables = ROLLUPS
        traffic = Traffic(o["apis"], o["subscriptions"], o["calls_per_day"], o["seed"])
        now = int(time.time()) // 60 * 60
        last_hour = now - now % 3600
        first_hour = last_hour - (o["days"] * 24 - 1) * 3600
        minute_from = last_hour - (o["minute_hours"] - 1) * 3600
        # The pages' last 24 hours and 7 days begin at a minute of an hour 24 hours or 7
        # days ago, counted from its minutes (usage/reports.py): those hours, and the next
        # (they move on as the demo runs), are made by the minute too.
        edges = {
            edge + step
            for edge in (last_hour - 24 * 3600, last_hour - 7 * 24 * 3600)
            for step in (0, 3600)
            if first_hour <= edge + step < minute_from
        }
        calls = 0
        with transaction.atomic():
            # The consumer tables' secondary indexes are made once at the end (one sort each)
            # instead of row by row: millions of inserts in random subscription order.
            _indexes(tables, "remove")
            for hour in range(first_hour, last_hour + 1, 3600):
                if hour >= minute_from or hour in edges:
                    # By the minute: the API and consumer minutes, and the hour summed from them.
                    cells = {}
                    for minute in range(hour, min(hour + 3600, now + 60), 60):
                        cells.update(traffic.cells(minute, 60))
                    rows = rollup_rows(cells, (MINUTE, HOUR))
                    for level in (MINUTE, HOUR):
                        _insert(ApiRollup, rows[ApiRollup], level)
                        _insert(ConsumerRollup, rows[ConsumerRollup], level)
                    _insert(ConsumerOperationRollup, rows[ConsumerOperationRollup], HOUR)
                else:
                    cells = traffic.cells(hour, 3600)
                    _insert_cells(cells)
                calls += sum(sum(v[:4]) for v in cells.values())
            self.stdout.write(f"{calls:,} calls made in {time.perf_counter() - started:.0f} s")
            _sum_up(minute_from, edges)
            _indexes(tables, "create")
            closed.bump()
        return calls


class Traffic:
    """Who calls what, and how much, in any span of time."""

    def __init__(self, apis: int, subscriptions: int, calls_per_day: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.per_second = calls_per_day / 86400
        ranks = list(range(1, subscriptions + 1))
        self.rng.shuffle(ranks)
        weights = [1 / r**1.4 for r in ranks]
        total = sum(weights)
        self.subs = []
        for s in range(1, subscriptions + 1):
            product = s % PRODUCTS + 1
            product_apis = [a for a in range(1, apis + 1) if a % PRODUCTS + 1 == product] or [1]
            # Which of the product's APIs, and which operations: spread independently of
            # the product (s // PRODUCTS), so every API and operation carries traffic.
            api = product_apis[(s // PRODUCTS) % len(product_apis)]
            ops = [f"op-{(s // PRODUCTS + k * 3) % OPERATIONS}" for k in range(len(OP_SHARES))]
            user = (s + 1) // 2
            client = f"client-{s}" if s % 2 else ""
            self.subs.append((s, client, user, api, product, ops, weights[s - 1] / total))
        self.typical_ms = {a: 15.0 + (a * 37) % 180 for a in range(1, apis + 1)}

    def cells(self, start: int, seconds: int) -> dict[CellKey, Vector]:
        # Busier in the (UTC) afternoon, quieter at night: 0.5x .. 1.5x.
        day_shape = 1 + 0.5 * math.sin((start % 86400) / 86400 * 2 * math.pi - math.pi / 2)
        expected = self.per_second * seconds * day_shape
        rnd = self.rng.random
        out: dict[CellKey, Vector] = {}
        for sub, client, user, api, product, ops, weight in self.subs:
            x = expected * weight
            n = int(x) + (rnd() < x - int(x))
            if not n:
                continue
            left = n
            for i, share in enumerate(OP_SHARES):
                k = left if i == len(OP_SHARES) - 1 else min(left, round(n * share))
                if k:
                    key = (start, sub, client, user, api, ops[i], product)
                    out[key] = self.vector(k, api)
                    left -= k
                if not left:
                    break
        return out

    def vector(self, n: int, api: int) -> Vector:
        rnd = self.rng.random
        vec: Vector = [0] * WIDTH
        blocked = int(n * 0.03 + rnd())
        failed = min(n - blocked, int(n * 0.01 + rnd()))
        other = min(n - blocked - failed, int(n * 0.03 + rnd()))
        vec[0:4] = [n - blocked - failed - other, blocked, failed, other]
        typical = self.typical_ms[api]
        vec[BYTES_IN] = n * 250
        vec[BYTES_OUT] = n * (1500 + api * 40)
        vec[T_SUM] = n * typical * 1.275
        vec[T_MIN], vec[T_MAX] = typical * 0.5, typical * (8.0 if n >= 20 else 2.0)
        reached = n - blocked
        vec[B_COUNT] = reached
        vec[B_SUM] = reached * typical * 1.1
        vec[B_MIN], vec[B_MAX] = (
            (typical * 0.4, vec[T_MAX] * 0.9) if reached else (math.inf, -math.inf)
        )
        left = n
        for share, factor in LATENCY[1:]:
            k = min(left, int(n * share + rnd()))
            vec[H0 + histogram.bucket(typical * factor)] += k
            left -= k
        vec[H0 + histogram.bucket(typical * LATENCY[0][1])] += left
        return vec


def _insert(model: Any, rows: dict[tuple, Vector], level: int) -> None:
    """Plain INSERT of the rows at `level` (the tables start empty)."""
    table = model._meta.db_table
    cols = ("level", "start", *model.KEY, *MEASURES)
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        (key[0], adapt(datetime.fromtimestamp(key[1], UTC)), *key[2:], *_nulls(vec))
        for key, vec in rows.items()
        if key[0] == level
    ]
    if not params:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({_cols(cols)}) FROM STDIN') as copy:
                for row in params:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(cols))
            cursor.executemany(f'INSERT INTO "{table}" ({_cols(cols)}) VALUES ({marks})', params)


def _insert_cells(cells: dict[CellKey, Vector]) -> None:
    """Hour cells are the widest table's hour rows as they are."""
    rows = {(HOUR, k[0], *k[1:]): v for k, v in cells.items()}
    _insert(ConsumerOperationRollup, rows, HOUR)


def _nulls(vec: Vector) -> list[Any]:
    values = list(vec)
    for i in (T_MIN, T_MAX, B_MIN, B_MAX):
        if values[i] in (math.inf, -math.inf):
            values[i] = None
    return values


def _cols(names: Any) -> str:
    return ", ".join(f'"{c}"' for c in names)


def _sum_up(minute_from: int, by_minute: set[int]) -> None:
    """The other tables and levels, summed by the database from the widest table's hours
    (the hours made by the minute, from `minute_from` on and `by_minute`, are there already
    for the narrower tables)."""
    sums = [
        f'MIN("{m}")'
        if m.endswith("_min")
        else f'MAX("{m}")'
        if m.endswith("_max")
        else f'SUM("{m}")'
        for m in MEASURES
    ]
    if connection.vendor == "postgresql":
        day = "date_trunc('day', \"start\")"
    else:
        day = "substr(\"start\", 1, 10) || ' 00:00:00'"
    src = ConsumerOperationRollup._meta.db_table

    def adapt(epoch: int) -> Any:
        return connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(epoch, UTC))

    marks = ", ".join(["%s"] * len(by_minute))
    skip = f' AND "start" NOT IN ({marks})' if by_minute else ""
    with connection.cursor() as cursor:
        for model in (ApiRollup, ConsumerRollup):
            keys = _cols(model.KEY)  # type: ignore[attr-defined]
            table = model._meta.db_table
            # Hours not already made from minutes.
            cursor.execute(
                f'INSERT INTO "{table}" ("level", "start", {keys}, {_cols(MEASURES)}) '
                f'SELECT {HOUR}, "start", {keys}, {", ".join(sums)} FROM "{src}" '
                f'WHERE "level" = {HOUR} AND "start" < %s{skip} GROUP BY "start", {keys}',
                [adapt(minute_from), *(adapt(hour) for hour in sorted(by_minute))],
            )
        for every in ROLLUPS:
            keys = _cols(every.KEY)  # type: ignore[attr-defined]
            table = every._meta.db_table
            cursor.execute(
                f'INSERT INTO "{table}" ("level", "start", {keys}, {_cols(MEASURES)}) '
                f'SELECT {DAY}, {day}, {keys}, {", ".join(sums)} FROM "{table}" '
                f'WHERE "level" = {HOUR} GROUP BY {day}, {keys}'
            )


def _indexes(tables: Any, action: str) -> None:
    """Drop (`action` "remove") or create ("create") the tables' secondary indexes. Plain
    statements, not a schema editor's context, which SQLite refuses inside a transaction."""
    editor = connection.schema_editor()
    editor.deferred_sql = []  # what entering its context would set
    with connection.cursor() as cursor:
        for model in tables:
            for index in model._meta.indexes:
                cursor.execute(str(getattr(index, f"{action}_sql")(model, editor)))

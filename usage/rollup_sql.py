"""The usage pages' sums over rollup rows, as plain SQL on Django's connection.

A page runs four such queries (summary, chart, ranking, the winners' details), each a
GROUP BY of up to 29 sums over a few thousand rows of today. Through the ORM, building and
compiling those aggregates and converting every value cost about 3 ms a query, ten times
what PostgreSQL spends running it; written here once, the SQL and its parameters are a few
string joins. The same text runs on SQLite and PostgreSQL. Integer sums are cast back to
BIGINT (PostgreSQL sums integers as NUMERIC, which psycopg reads as Decimal), so every
value comes out as the ORM gave it: int for counts, float for times, None for no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from usage import histogram
from usage.models import Rollup

Span = tuple[int, int, int]  # (level, from epoch, to epoch)

COUNTS = ("success", "blocked", "failed", "other")
INTEGERS = (*COUNTS, "bytes_in", "bytes_out", "backend_count", *histogram.FIELDS)
FLOAT_SUMS = ("total_ms_sum", "backend_ms_sum")
MINIMA = ("total_ms_min", "backend_ms_min")
MAXIMA = ("total_ms_max", "backend_ms_max")


def q(name: str) -> str:
    """A column's name quoted (as Django quotes it on both databases)."""
    return f'"{name}"'


def integer_sum(*columns: str) -> str:
    return f"CAST(SUM({' + '.join(q(c) for c in columns)}) AS BIGINT)"


def measures(*, extremes: bool = True) -> dict[str, str]:
    """Every measure of a rollup row summed: alias -> SQL (reports._SUMS and _EXTREMES)."""
    out = {name: integer_sum(name) for name in INTEGERS}
    out |= {name: f"SUM({q(name)})" for name in FLOAT_SUMS}
    if extremes:
        out |= {name: f"MIN({q(name)})" for name in MINIMA}
        out |= {name: f"MAX({q(name)})" for name in MAXIMA}
    return out


def _index_leads(model: type[Rollup]) -> frozenset[str]:
    """The columns that lead one of `model`'s own indexes (usage/models.py's Meta.indexes)."""
    return frozenset(index.fields[0] for index in model._meta.indexes)


def grouped(
    model: type[Rollup],
    spans: Sequence[Span],
    where: dict[str, Any],
    group: Sequence[str],
    select: dict[str, str],
    keys: Sequence[tuple[Any, ...]] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows of `model` in the spans, matching `where` (column -> value, or a frozenset of
    values) and, when given, one of `keys` (values of `group`), grouped by `group`: each
    row the group's values, then `select`'s in order. [] when nothing can match."""
    # One key (a product, a subscription...) that leads an index of its own goes inside each
    # span's term: with it outside the OR, SQLite searched that index on the key alone and
    # read every row the key ever had (a product's 30 local days, 60 spans: 70-90 ms against
    # 2-4 ms). Inside, each term is one range of that index.
    leads = _index_leads(model)
    # The last such key is the narrowest: usage.reports._where lists consumers after product.
    keyed = [c for c, v in where.items() if c in leads and not isinstance(v, frozenset)][-1:]
    term = "".join(f"{q(c)} = %s AND " for c in keyed)
    params: list[Any] = []
    clauses = []
    for level, a, b in spans:
        clauses.append(f'({term}"level" = %s AND "start" >= %s AND "start" < %s)')
        params += [*(where[c] for c in keyed), level, _moment(a), _moment(b)]
    if not clauses:
        return []
    conditions = ["(" + " OR ".join(clauses) + ")"]
    for column, value in where.items():
        if column in keyed:
            continue
        if isinstance(value, frozenset):
            if not value:
                return []  # no API the viewer may see
            conditions.append(f"{q(column)} IN ({', '.join(['%s'] * len(value))})")
            params += sorted(value)
        else:
            conditions.append(f"{q(column)} = %s")
            params.append(value)
    if keys is not None:
        if not keys:
            return []
        # One IN list, flat: a CSV export asks for up to 1,000 winners, and as many ORs
        # nest deeper than SQLite parses ("Expression tree is too large").
        if len(group) == 1:
            # SQLite knows no value's frequency: beside a filter with its own index (one
            # product, one consumer) it would walk the winners' index instead, where "" (no
            # application) or 0 (no subscription) may hold most of the table (40 ms of a
            # product's 30-day report, against 2 ms). A unary + keeps that index out.
            led = connection.vendor == "sqlite" and leads.intersection(where)
            plus = "+" if led else ""
            conditions.append(f"{plus}{q(group[0])} IN ({', '.join(['%s'] * len(keys))})")
            params += [key[0] for key in keys]
        else:
            row = "(" + ", ".join(["%s"] * len(group)) + ")"
            columns = "(" + ", ".join(q(g) for g in group) + ")"
            conditions.append(f"{columns} IN ({', '.join([row] * len(keys))})")
            params += [value for key in keys for value in key]
    names = [q(g) for g in group]
    selected = [*names, *(f"{sql} AS {q(alias)}" for alias, sql in select.items())]
    sql = (
        f"SELECT {', '.join(selected)} FROM {q(model._meta.db_table)} "
        f"WHERE {' AND '.join(conditions)}"
    )
    if group:
        sql += f" GROUP BY {', '.join(names)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _moment(epoch: int) -> Any:
    return connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(epoch, UTC))


def epoch_of(value: Any) -> int:
    """A `start` read back: an aware datetime (PostgreSQL) or its text (SQLite, UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return int(value.timestamp())

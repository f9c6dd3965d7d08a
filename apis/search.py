"""Full-text search: operations by operationId (whole or in parts), path fragment, tag, summary
and description, ranked; and the catalog's APIs by any of those words or their own name,
title, description and tags. Both over the default versions of the APIs a caller may see.

Query words are made as the index's are (apis/search_index.py): SQLite's FTS5 tables rank
operations by bm25, PostgreSQL's GIN-indexed vectors by ts_rank.

The last query word is a prefix (the one being typed: `create inv` finds `createInvoices`),
the others whole words in either number, in any order; a stop word last that finds nothing is
left out, as a pasted summary's last word ("... belongs to"). Ranking needs a pass over every match,
so a query broader than RANKED_MAX matches (`v1`, `get`) lists those found by an id, path or
tag word first, then the others, each in the table's order (import order on SQLite; on
PostgreSQL the heap's, which updates after an import may shuffle).

The catalog (`search_catalog`) reads the matching APIs' ids once, in their order, and counts
and pages them itself. On PostgreSQL one statement reads those ids and the count of matching
operations, each search statement reads its hits' columns too, and the planner settings
(PG_SETTINGS) travel with each statement (`_execute`), or are set once in a caller's
transaction (`_planner_settings`): two or three round trips for a search.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from apis.models import Api
from apis.openapi.model import METHODS
from apis.search_index import STOP_WORD_STARTS, STOP_WORDS, singulars, words

MAX_WORDS = 8
RANKED_MAX = 300

# PostgreSQL's planner prices a tsvector match (`@@`) like any operator, at the default
# cpu_operator_cost of 0.0025, though it costs about a microsecond a row. With a LIMIT, a
# sequential scan that filters row by row then looks cheaper than the GIN index, and a
# selective query read the whole table: 67-134 ms for "refunds of the account" with no match
# in ids (2,000 APIs, 100,000 operations; bench/search_bench.py). At 0.05 for the search's
# own statements the planner takes the index for selective queries and still scans for
# broad ones ("v1", which the LIMIT stops early): 2.5-18.6 ms for every bench query, loaded.
PG_OPERATOR_COST = "0.05"


@dataclass(frozen=True)
class OperationHit:
    id: int
    api_slug: str
    api_name: str
    slug: str
    method: str
    path: str
    summary: str
    operation_id: str


# OperationHit's fields, from the operation `o`, its version `v` and API `a`.
HIT_COLUMNS = "o.id, a.slug, a.name, o.slug, o.method, o.path, o.summary, o.operation_id"
# The operations `o` that match the query (a parameter), on each engine.
_SOURCES = {
    "postgresql": "apis_operation o, to_tsquery('simple', %s) q WHERE o.search_vector @@ q",
    # CROSS JOIN keeps SQLite from walking every operation of the visible versions.
    "sqlite": "apis_operation_fts f CROSS JOIN apis_operation o ON o.id = f.rowid"
    " WHERE apis_operation_fts MATCH %s",
}


def query_words(query: str) -> list[str]:
    """The words looked for: stop words left out, but for the last, which may be the start
    of a longer word still being typed (`a` of `account`)."""
    found = words(query)
    return [w for w in found[:-1] if w not in STOP_WORDS][: MAX_WORDS - 1] + found[-1:]


def _without_last_stop_word(query: str) -> str | None:
    """`query` without its last word when that is a stop word, or the start of one, after
    other words, else None. The last word is looked for as the start of one being typed (`to`
    of `token`); when that finds nothing, it was a whole word (a summary pasted: "... a user
    belongs to") or the start of one the index leaves out (`th` of `the`), and is left out
    like the stop words before it."""
    found = words(query)
    if len(found) > 1 and found[-1] in STOP_WORD_STARTS:
        return query[: query.lower().rfind(found[-1])]  # the rest as typed: ids stay whole
    return None


def match_expression(
    query: str, vendor: str, strong: bool = False, lean: bool = False
) -> str | None:
    """The engine's query for `query`: every word, in either number, the last as a prefix;
    None when it has no words. `strong`: in an operation's id, path or tag only. `lean`: the
    same matches without a prefix that another covers (`invoices:*` beside `invoice:*`).
    Words are letters and digits only, so no FTS5 or tsquery syntax reaches the engine."""
    terms = query_words(query)
    if not terms:
        return None
    groups = []
    for n, term in enumerate(terms):
        forms = [term, *singulars(term)]
        last = n == len(terms) - 1
        if last and lean:
            forms = [f for f in forms if not any(f != g and f.startswith(g) for g in forms)]
        if vendor == "postgresql":  # `strong` is a column of its own there
            alternatives = [f"{f}:*" if last else f for f in forms]
            groups.append("(" + " | ".join(alternatives) + ")")
        else:
            alternatives = [f'"{f}"*' if last else f'"{f}"' for f in forms]
            groups.append("(" + " OR ".join(alternatives) + ")")
    if vendor == "postgresql":
        return " & ".join(groups)
    match = " AND ".join(groups)
    return f"search_terms : ({match})" if strong else match


def matching_apis(apis: QuerySet[Api], query: str) -> QuerySet[Api]:
    """`apis` narrowed to those whose words (`Api.search_text`) hold every word of `query`."""
    match = match_expression(query, connection.vendor)
    if match is None:
        return apis.none()
    if connection.vendor == "postgresql":
        # A condition on the row itself, not `id IN (SELECT id FROM apis_api ...)`: that
        # self-join read every API's vector and hashed the matches, for each query cloned.
        # (The table's own name: this queryset is never nested as a subquery.)
        condition = "apis_api.search_vector @@ to_tsquery('simple', %s)"
        return apis.filter(RawSQL(condition, [match], output_field=BooleanField()))
    sql = "SELECT rowid FROM apis_api_fts WHERE apis_api_fts MATCH %s"
    return apis.filter(pk__in=RawSQL(sql, [match]))


def _count_statement(query: str) -> tuple[str, list[Any]]:
    """How many operations of any version match `query`, counted up to RANKED_MAX + 1:
    whether the search can rank them all."""
    # Counted with the lean query: PostgreSQL prices each alternative of a tsquery, and
    # `create & (invoices:* | invoice:*)` looked common enough to scan the table for 301
    # matches (21 ms, 30,000 rows read) where the index finds all 1,000 in 2 ms.
    sql = f"SELECT 1 FROM {_SOURCES[connection.vendor]}"
    if connection.vendor == "postgresql":
        # Planned as if every match were wanted (a MATERIALIZED CTE is planned alone), so
        # the index finds them unless the query is broad, and read only until the LIMIT: a
        # scan planned for the LIMIT read the whole table when two common words rarely meet.
        sql = f"WITH m AS MATERIALIZED ({sql}) SELECT 1 FROM m"
    counted = match_expression(query, connection.vendor, lean=True)
    return f"SELECT count(*) FROM ({sql} LIMIT %s) c", [counted, RANKED_MAX + 1]


def search_catalog(
    apis: QuerySet[Api], searched: QuerySet[Api], query: str, limit: int = 20
) -> tuple[list[int], list[OperationHit]]:
    """The catalog's search: the ids of `apis` that match `query`, in their queryset's order
    (read once; the page counts and pages them), and the best `limit` operations of
    `searched`. On PostgreSQL both run with the search's planner settings."""
    if match_expression(query, connection.vendor) is None:
        return [], []
    ids = matching_apis(apis, query).values_list("pk", flat=True)
    with connection.cursor() as cursor, _planner_settings(cursor):
        if connection.vendor != "postgresql":
            api_ids, hits = list(ids), _search_operations(cursor, searched, query, limit)
        else:
            # One round trip for the APIs (their ids as an array, in order) and the count.
            ids_sql, ids_params = ids.query.sql_with_params()
            count_sql, count_params = _count_statement(query)
            sql = f"SELECT ARRAY({ids_sql}), ({count_sql})"
            _execute(cursor, sql, [*ids_params, *count_params])
            api_ids, count = cursor.fetchone()
            hits = _search_operations(cursor, searched, query, limit, count)
    shorter = None if hits else _without_last_stop_word(query)
    return search_catalog(apis, searched, shorter, limit) if shorter else (api_ids, hits)


def search_operations(apis: QuerySet[Api], query: str, limit: int = 20) -> list[OperationHit]:
    """The best `limit` operations of the default versions of `apis` (the APIs the caller may
    see: pass the same queryset the catalog lists) for `query`, best first."""
    with connection.cursor() as cursor, _planner_settings(cursor):
        hits = _search_operations(cursor, apis, query, limit)
    shorter = None if hits else _without_last_stop_word(query)
    return search_operations(apis, shorter, limit) if shorter else hits


def _search_operations(
    cursor: Any, apis: QuerySet[Api], query: str, limit: int, count: int | None = None
) -> list[OperationHit]:
    """search_operations() on `cursor`; `count`: _count_statement()'s answer, if read."""
    match = match_expression(query, connection.vendor)
    if match is None or connection.vendor not in ("postgresql", "sqlite"):
        return []
    versions_sql, versions_params = (
        apis.filter(default_version__isnull=False)
        .order_by()
        .values("default_version_id")
        .query.sql_with_params()
    )
    source = _SOURCES[connection.vendor]
    postgresql = connection.vendor == "postgresql"
    several_words = len(query_words(query)) > 1
    if postgresql:
        rank = "ts_rank(o.search_vector, q) DESC, o.id"
        # The table's order (mostly import order, not promised: updates move rows): sorting
        # 16,000 matches of "get" by id cost 40 ms; unsorted, the scan stops at the limit.
        unranked = ""
    else:
        rank = "bm25(apis_operation_fts, 4.0, 1.0), o.id"
        unranked = "f.rowid"  # the FTS index's own order: no sort of every match

    def found(match: str, order: str, limit: int, strong: bool = False) -> list[OperationHit]:
        where = source.replace("search_vector @@", "search_strong @@") if strong else source
        if postgresql and strong and several_words:
            # The first matches in the table's order, planned as if all were wanted, as the
            # count is (the visible versions a filter, which keeps that order). Planned for
            # the LIMIT, PostgreSQL guessed ~300 strong matches of `refunds & account:*` by
            # multiplying the words' frequencies, read the table in version order to find 20
            # and met none: 85-125 ms. Its guess for one word is sound, so that keeps the plan.
            sql = (
                f"WITH m AS MATERIALIZED (SELECT o.id, o.version_id FROM {where})"
                f" SELECT m.id FROM m WHERE m.version_id = ANY(ARRAY({versions_sql})) LIMIT %s"
            )
        else:
            order_by = f"ORDER BY {order}" if order else ""
            sql = (
                f"SELECT o.id FROM {where} AND o.version_id IN ({versions_sql}) {order_by} LIMIT %s"
            )
        # What a hit shows, read in the same statement. The search stays a subquery of its
        # own (its LIMIT keeps it apart, so it is planned as alone), numbered in its order.
        _execute(
            cursor,
            f"SELECT {HIT_COLUMNS} FROM (SELECT f.id, row_number() OVER () AS n FROM ({sql}) f) h"
            " JOIN apis_operation o ON o.id = h.id"
            " JOIN apis_apiversion v ON v.id = o.version_id"
            " JOIN apis_api a ON a.id = v.api_id ORDER BY h.n",
            [match, *versions_params, limit],
        )
        return [OperationHit(*row) for row in cursor.fetchall()]

    # Ranking costs a pass over every match (10 ms for 1,000 on SQLite, on a busy
    # machine): a broader query lists its strong matches (in an id, path or tag) first,
    # then the others, each in import order.
    if count is None:
        _execute(cursor, *_count_statement(query))
        (count,) = cursor.fetchone()
    # A path typed whole comes first, however its words rank: Mastodon's POST
    # /api/v1/accounts was not among the 20 hits for "/api/v1/accounts", behind longer paths.
    # So does a method and path, as an operation's page heads it ("GET /v1/forecast").
    exact = _by_path(cursor, versions_sql, versions_params, query, limit)
    if count == 0:  # no word anywhere: perhaps an id, or its start, in another case
        return exact or _by_whole_id(cursor, versions_sql, versions_params, query, limit)
    # An id typed whole comes first too: "Session" is Docker's operation `Session`, which
    # bm25 put 36th of 87 behind longer ids with the word; Asana's `getTask` (two words to
    # the index) was not in the first five for "getTask". A query with spaces is no id.
    if not exact:
        exact = _by_whole_id(cursor, versions_sql, versions_params, query, limit, exact=True)
    if not exact and several_words:
        # A summary typed whole ("Create List"): its words rank below the many ids that
        # carry both (NetBox's dcim_*_create beside SendGrid's POST /marketing/lists).
        exact = _by_summary(cursor, versions_sql, versions_params, query, limit)
    if not exact and several_words:
        # An id typed as its words ("get a task" for getTask): first too, however broad the
        # words are (a broad query is listed in import order, not ranked).
        # With its stop words ("get status of task"), else without them ("get a task").
        for joined in dict.fromkeys(["".join(words(query)), "".join(query_words(query))]):
            exact = exact or _by_whole_id(
                cursor, versions_sql, versions_params, joined, limit, exact=True
            )
    if count <= RANKED_MAX:
        hits = found(match, rank, limit)
    else:
        strong = match_expression(query, connection.vendor, strong=True) or match
        hits = found(strong, unranked, limit, strong=True)
        if len(hits) < limit:
            more = found(match, unranked, limit + len(hits))
            hits += [hit for hit in more if hit not in hits][: limit - len(hits)]
    return (exact + [hit for hit in hits if hit not in exact])[:limit]


_WHOLE_ID = re.compile(r"[\w.-]{3,300}")
# Past every character that may follow a prefix, in byte order (SQLite's BINARY and
# PostgreSQL's "C" collation): `id > p AND id < p + _LAST` holds the longer ids that start with p.
_LAST = "\U0010ffff"
# The lower-cased id, compared byte by byte, as the index on it is built (migration 0008).
_LOWER_ID = {"postgresql": 'lower(o.operation_id) COLLATE "C"', "sqlite": "lower(o.operation_id)"}


def _by_whole_id(
    cursor: Any,
    versions_sql: str,
    versions_params: Any,
    query: str,
    limit: int,
    exact: bool = False,
) -> list[OperationHit]:
    """The operations whose id is `query`, or starts with it, in any case (`createinv`). The
    index holds an id's words, not the id whole (see search_terms), so a camel-case id typed
    in lower case matched no word; this looks it up in the index on lower(operation_id), as
    a range, so the index answers it on both engines. The id typed whole comes first;
    `exact`: only those."""
    typed = query.strip().lower()
    if not _WHOLE_ID.fullmatch(typed):
        return []
    lower_id = _LOWER_ID[connection.vendor]

    def hits(condition: str, params: list[Any]) -> list[OperationHit]:
        if connection.vendor == "postgresql":
            # The matching ids first, from their index, then the visible ones among them:
            # planned as one, the visible versions were walked first (2,000 of them, 35 ms).
            sql = (
                f"WITH m AS MATERIALIZED (SELECT o.id, o.version_id, {lower_id} AS k"
                f" FROM apis_operation o WHERE {condition})"
                f" SELECT {HIT_COLUMNS} FROM m JOIN apis_operation o ON o.id = m.id"
                " JOIN apis_apiversion v ON v.id = o.version_id JOIN apis_api a ON a.id = v.api_id"
                f" WHERE m.version_id = ANY(ARRAY({versions_sql})) ORDER BY m.k, m.id LIMIT %s"
            )
        else:
            # SQLite, through that index in its order, stopping at the limit: unled, it walked
            # every operation of the visible versions (their index looks selective), 40 ms.
            sql = (
                f"SELECT {HIT_COLUMNS} FROM apis_operation o INDEXED BY apis_operation_id_lower"
                " JOIN apis_apiversion v ON v.id = o.version_id JOIN apis_api a ON a.id = v.api_id"
                f" WHERE {condition} AND o.version_id IN ({versions_sql})"
                f" ORDER BY {lower_id}, o.id LIMIT %s"
            )
        _execute(cursor, sql, [*params, *versions_params, limit])
        return [OperationHit(*row) for row in cursor.fetchall()]

    found = hits(f"{lower_id} = %s", [typed])
    if exact or len(found) >= limit:
        return found
    started = hits(f"{lower_id} > %s AND {lower_id} < %s", [typed, typed + _LAST])
    return found + started[: limit - len(found)]


# Paths are matched by the index on lower(path) (ensure_index); longer ones are refused
# first: a query is never a megabyte of path.
_PATH_MAX = 2000


def _by_path(
    cursor: Any, versions_sql: str, versions_params: Any, query: str, limit: int
) -> list[OperationHit]:
    """The operations at the path `query`, typed whole (in any case, with or without a
    trailing slash), those in the case typed first; or typed after a method, as an
    operation's page heads it ("GET /v1/forecast"), the path's operations of that method.
    Their words are in many longer paths, which the ranking cannot tell apart from them (and
    the method is in no id of Open-Meteo's, nor "post" in Typesense's createCollection); an
    index on lower(path) answers this."""
    bits = query.split()
    method = bits.pop(0).lower() if len(bits) == 2 and bits[0].lower() in METHODS else None
    typed = bits[0] if len(bits) == 1 else ""
    if not typed.startswith("/") or len(typed) > _PATH_MAX:
        return []
    bare = typed.lower().rstrip("/")
    forms = (bare, bare + "/")
    return _by_lower(cursor, versions_sql, versions_params, "path", forms, typed, limit, method)


_SUMMARY_MAX = 500


def _by_summary(
    cursor: Any, versions_sql: str, versions_params: Any, query: str, limit: int
) -> list[OperationHit]:
    """The operations whose summary is `query`, in any case and spacing, with or without its
    closing full stop, by the index on lower(summary)."""
    typed = " ".join(query.split()).lower().rstrip(".")
    if not typed or len(typed) > _SUMMARY_MAX:
        return []
    forms = (typed, typed + ".")
    return _by_lower(cursor, versions_sql, versions_params, "summary", forms, None, limit)


def _by_lower(
    cursor: Any,
    versions_sql: str,
    versions_params: Any,
    column: str,
    forms: tuple[str, str],
    first: str | None,
    limit: int,
    method: str | None = None,
) -> list[OperationHit]:
    """The visible operations whose lower(`column`) is one of `forms`, through the index on it
    (apis_operation_<column>_lower, ensure_index), those whose `column` is `first` first;
    only those of `method`, if given."""
    order = f"o.{column} = %s DESC, " if first is not None else ""
    of_method = " AND o.method = %s" if method is not None else ""
    if connection.vendor == "postgresql":
        # The matches first, from their index, then the visible ones among them (as in
        # _by_whole_id: planned as one, the visible versions were walked first).
        sql = (
            f"WITH m AS MATERIALIZED (SELECT o.id, o.version_id FROM apis_operation o"
            f" WHERE lower(o.{column}) IN (%s, %s){of_method})"
            f" SELECT {HIT_COLUMNS} FROM m JOIN apis_operation o ON o.id = m.id"
            " JOIN apis_apiversion v ON v.id = o.version_id JOIN apis_api a ON a.id = v.api_id"
            f" WHERE m.version_id = ANY(ARRAY({versions_sql})) ORDER BY {order}m.id LIMIT %s"
        )
    else:
        sql = (
            f"SELECT {HIT_COLUMNS} FROM apis_operation o"
            f" INDEXED BY apis_operation_{column}_lower"
            " JOIN apis_apiversion v ON v.id = o.version_id JOIN apis_api a ON a.id = v.api_id"
            f" WHERE lower(o.{column}) IN (%s, %s){of_method} AND o.version_id IN ({versions_sql})"
            f" ORDER BY {order}o.id LIMIT %s"
        )
    ordered = [first] if first is not None else []
    methods = [method] if method is not None else []
    _execute(cursor, sql, [*forms, *methods, *versions_params, *ordered, limit])
    return [OperationHit(*row) for row in cursor.fetchall()]


# The search's planner settings (PG_OPERATOR_COST, and tables read from their start: with
# synchronized scans a scan begins where another one is, and "the table's order" with it).
PG_SET = (
    f"set_config('cpu_operator_cost', '{PG_OPERATOR_COST}', true),"
    " set_config('synchronize_seqscans', 'off', true)"
)
PG_SETTINGS = f"SELECT {PG_SET}"


def _execute(cursor: Any, sql: str, params: list[Any]) -> None:
    """Run a search statement. On PostgreSQL outside a transaction, PG_SETTINGS go in front
    of it in the same query: several statements sent at once run as one transaction, so
    the settings hold for this statement alone, at no round trip of their own."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        cursor.execute(f"{PG_SETTINGS}; {sql}", params)
        cursor.nextset()
    else:
        cursor.execute(sql, params)


@contextmanager
def _planner_settings(cursor: Any) -> Iterator[None]:
    """PG_SETTINGS for the search statements inside a caller's transaction: set in a
    savepoint by one statement, put back before it is released (a released savepoint keeps
    them for the rest of the transaction), undone by the rollback if one fails. Outside
    one, `_execute` sends them with each statement."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        # The subquery (kept apart by OFFSET 0) reads the settings before they change.
        cursor.execute(
            f"SELECT cost, sync, {PG_SET} FROM (SELECT current_setting('cpu_operator_cost')"
            " AS cost, current_setting('synchronize_seqscans') AS sync OFFSET 0) b"
        )
        cost, sync, *_ = cursor.fetchone()
        yield
        cursor.execute(
            "SELECT set_config('cpu_operator_cost', %s, true),"
            " set_config('synchronize_seqscans', %s, true)",
            [cost, sync],
        )

"""Full-text search of operations: by operationId (whole or in parts), path fragment, summary
and tag, ranked, over the default versions of the APIs a caller may see.

Each engine does it with its own index, both fed by `Operation.search_terms` (the words of the
operationId, the id itself and the words of the path, filled at import):

- SQLite: an FTS5 table `apis_operation_fts` over that column, the first tag and the summary,
  kept in step with `apis_operation` by triggers (so imports, deletes and cascades all update
  it), ranked by bm25;
- PostgreSQL: a GIN index on a stored generated column, the weighted `tsvector` of the same
  columns, ranked by ts_rank.

`ensure_index()` creates both idempotently; the migration calls it and so does post_migrate,
because SQLite migrations that rebuild `apis_operation` drop its triggers.
The last query word is a prefix (the one being typed: `create invoice` finds `createInvoices`),
the others whole words. Ranking needs a pass over every match, so a query broader than
RANKED_MAX matches (`v1`, `get`) lists the first found in import order instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from apis.models import Api, Operation

MAX_WORDS = 8
RANKED_MAX = 1000
# camelCase and digit boundaries, and anything that is not a letter or digit.
_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[^0-9A-Za-z]+")
_WORD = re.compile(r"^[0-9a-z]+$")

# Weighted as the ranking wants them: an id or path word over a tag over a summary word.
PG_VECTOR = (
    "setweight(to_tsvector('simple', coalesce(search_terms, '')), 'A')"
    " || setweight(to_tsvector('simple', coalesce(tag, '')), 'B')"
    " || setweight(to_tsvector('simple', coalesce(summary, '')), 'C')"
)

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS apis_operation_fts USING fts5("
    "search_terms, tag, summary, content='apis_operation', content_rowid='id', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS apis_operation_fts_insert AFTER INSERT ON apis_operation BEGIN"
    " INSERT INTO apis_operation_fts(rowid, search_terms, tag, summary)"
    " VALUES (new.id, new.search_terms, new.tag, new.summary); END",
    "CREATE TRIGGER IF NOT EXISTS apis_operation_fts_delete AFTER DELETE ON apis_operation BEGIN"
    " INSERT INTO apis_operation_fts(apis_operation_fts, rowid, search_terms, tag, summary)"
    " VALUES ('delete', old.id, old.search_terms, old.tag, old.summary); END",
    "CREATE TRIGGER IF NOT EXISTS apis_operation_fts_update AFTER UPDATE ON apis_operation BEGIN"
    " INSERT INTO apis_operation_fts(apis_operation_fts, rowid, search_terms, tag, summary)"
    " VALUES ('delete', old.id, old.search_terms, old.tag, old.summary);"
    " INSERT INTO apis_operation_fts(rowid, search_terms, tag, summary)"
    " VALUES (new.id, new.search_terms, new.tag, new.summary); END",
]
SQLITE_TRIGGERS = 3
# A stored generated column, not an expression index: ranking reads the vector of every match,
# and recomputing it per row made a broad query cost seconds. Django does not know the column;
# a later migration that changes the type of search_terms, tag or summary must drop it first.
PG_INDEX = [
    "ALTER TABLE apis_operation ADD COLUMN IF NOT EXISTS search_vector tsvector"
    f" GENERATED ALWAYS AS ({PG_VECTOR}) STORED",
    "CREATE INDEX IF NOT EXISTS apis_operation_search ON apis_operation USING gin (search_vector)",
]


def words(text: str) -> list[str]:
    """Lower-case words of an identifier, path or phrase: `createInvoices` -> create, invoices."""
    return [w.lower() for w in _SPLIT.split(text) if w]


def search_terms(operation_id: str, path: str) -> str:
    """What an operation is found by besides its summary and tag: the words of its id and of
    its path. (Not the id whole too: each id would be a term of its own, and a prefix such as
    `create*` would then expand to thousands of them.)"""
    return " ".join([*words(operation_id), *words(path)])


def ensure_index(conn: BaseDatabaseWrapper | None = None) -> None:
    """Create the engine's search index if it is missing (idempotent)."""
    conn = conn or connection
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN"
                " ('apis_operation_fts_insert', 'apis_operation_fts_delete',"
                " 'apis_operation_fts_update')"
            )
            (triggers,) = cursor.fetchone()
            for statement in SQLITE_INDEX:
                cursor.execute(statement)
            if triggers < SQLITE_TRIGGERS:  # new, or rows written while triggers were gone
                cursor.execute(
                    "INSERT INTO apis_operation_fts(apis_operation_fts) VALUES ('rebuild')"
                )
        elif conn.vendor == "postgresql":
            for statement in PG_INDEX:
                cursor.execute(statement)


@dataclass(frozen=True)
class OperationHit:
    api_slug: str
    api_name: str
    slug: str
    method: str
    path: str
    summary: str
    operation_id: str


def query_words(query: str) -> list[str]:
    return [w for w in words(query) if _WORD.match(w)][:MAX_WORDS]


def search_operations(apis: QuerySet[Api], query: str, limit: int = 20) -> list[OperationHit]:
    """The best `limit` operations of the default versions of `apis` (the APIs the caller may
    see: pass the same queryset the catalog lists) for `query`, best first."""
    terms = query_words(query)
    if not terms:
        return []
    versions_sql, versions_params = (
        apis.filter(default_version__isnull=False)
        .order_by()
        .values("default_version_id")
        .query.sql_with_params()
    )
    if connection.vendor == "postgresql":
        match = " & ".join([*terms[:-1], f"{terms[-1]}:*"])
        source = "apis_operation o, to_tsquery('simple', %s) q WHERE o.search_vector @@ q"
        rank = "ts_rank(o.search_vector, q) DESC, o.id"
        unranked = "o.id"
    elif connection.vendor == "sqlite":
        match = " ".join([*(f'"{t}"' for t in terms[:-1]), f'"{terms[-1]}"*'])
        # CROSS JOIN keeps SQLite from walking every operation of the visible versions.
        source = (
            "apis_operation_fts f CROSS JOIN apis_operation o ON o.id = f.rowid"
            " WHERE apis_operation_fts MATCH %s"
        )
        rank = "bm25(apis_operation_fts, 8.0, 3.0, 1.0), o.id"
        unranked = "f.rowid"  # the FTS index's own order: no sort of every match
    else:  # the portal runs on SQLite or PostgreSQL only
        return []
    with connection.cursor() as cursor:
        # Ranking costs a pass over every match: a query as broad as "v1" (every operation)
        # took hundreds of milliseconds to rank, and its order tells nothing.
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT %s) m", [match, RANKED_MAX + 1]
        )
        (count,) = cursor.fetchone()
        order = unranked if count > RANKED_MAX else rank  # unranked: import order
        sql = f"SELECT o.id FROM {source} AND o.version_id IN ({versions_sql}) ORDER BY {order} LIMIT %s"
        params = [match, *versions_params, limit]
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return _hits(ids)


def _hits(ids: list[int]) -> list[OperationHit]:
    rows = {
        row[0]: row[1:]
        for row in Operation.objects.filter(id__in=ids).values_list(
            "id",
            "version__api__slug",
            "version__api__name",
            "slug",
            "method",
            "path",
            "summary",
            "operation_id",
        )  # fmt: skip
    }
    return [OperationHit(*rows[i]) for i in ids if i in rows]

"""What the search index holds, and the engines' tables and indexes that hold it.

Words are made here, in Python, at import time, the same way for both engines
(`index_words`): identifiers split into words (`createInvoices` -> create, invoices;
`list_pets`, `x-rate-limit` likewise), lower-cased, and each plural-looking word followed by
its likely singulars (`invoices` -> invoice), so a query word in either number finds both.
The engines then only match words (apis/search.py):

- SQLite: FTS5 tables `apis_operation_fts` (over `Operation.search_terms` and `search_text`)
  and `apis_api_fts` (over `Api.search_text`), kept in step with their tables by triggers
  (so imports, deletes and cascades all update them);
- PostgreSQL: GIN indexes on stored generated `tsvector` columns of the same columns
  ('simple' configuration: no language stemming beyond ours).

`ensure_index()` creates them idempotently; a migration calls it and so does post_migrate,
because SQLite migrations that rebuild a table drop its triggers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

# Bounds on what one row puts in the index: a description is read to this many characters,
# an API's words (deduplicated) to this many. PostgreSQL refuses a tsvector over 1 MB.
DESCRIPTION_CHARS = 4000
API_TEXT_CHARS = 200_000
# Words too common to find anything by: left out of the index and of queries, so
# "refunds of the account" looks for refunds and account, not for every description.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    ]
)
# Their starts, for a query whose last word is a stop word still being typed ("th").
STOP_WORD_STARTS = frozenset(word[:n] for word in STOP_WORDS for n in range(1, len(word) + 1))
# camelCase and digit boundaries, and anything that is not a letter or digit (`_` included).
_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[\W_]+")

# Weighted as the ranking wants them: an id, path or tag word over a summary or description word.
PG_OPERATION_VECTOR = (
    "setweight(to_tsvector('simple', coalesce(search_terms, '')), 'A')"
    " || setweight(to_tsvector('simple', coalesce(search_text, '')), 'C')"
)
PG_API_VECTOR = "to_tsvector('simple', coalesce(search_text, ''))"


def _fts5_table(name: str, content: str, columns: tuple[str, ...]) -> list[str]:
    """An external-content FTS5 table over `columns` of `content` and the triggers that keep
    it in step (FTS5's documented pattern: 'delete' with the old values, then insert)."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    insert = f"INSERT INTO {name}(rowid, {cols}) VALUES (new.id, {new});"
    delete = f"INSERT INTO {name}({name}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5("
        f"{cols}, content='{content}', content_rowid='id', prefix='2 3')",
        f"CREATE TRIGGER IF NOT EXISTS {name}_insert AFTER INSERT ON {content} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {name}_delete AFTER DELETE ON {content} BEGIN {delete} END",
        # Only when an indexed column changes: an API row is saved for many other reasons.
        f"CREATE TRIGGER IF NOT EXISTS {name}_update AFTER UPDATE OF {cols} ON {content}"
        f" BEGIN {delete} {insert} END",
    ]


SQLITE_TABLES = {
    "apis_operation_fts": ("apis_operation", ("search_terms", "search_text")),
    "apis_api_fts": ("apis_api", ("search_text",)),
}
# Stored generated columns, not expression indexes: ranking reads the vector of every match,
# and recomputing it per row made a broad query cost seconds. Django does not know the
# columns; a later migration that changes the type of an indexed column must drop them first.
PG_INDEX = [
    "ALTER TABLE apis_operation ADD COLUMN IF NOT EXISTS search_vector tsvector"
    f" GENERATED ALWAYS AS ({PG_OPERATION_VECTOR}) STORED",
    "CREATE INDEX IF NOT EXISTS apis_operation_search ON apis_operation USING gin (search_vector)",
    # The id, path and tag words alone, for a broad query's strong matches: a weight filter
    # (`word:A`) on the vector above cannot be answered by its index and read every row.
    "ALTER TABLE apis_operation ADD COLUMN IF NOT EXISTS search_strong tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple', coalesce(search_terms, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS apis_operation_search_strong ON apis_operation"
    " USING gin (search_strong)",
    "ALTER TABLE apis_api ADD COLUMN IF NOT EXISTS search_vector tsvector"
    f" GENERATED ALWAYS AS ({PG_API_VECTOR}) STORED",
    "CREATE INDEX IF NOT EXISTS apis_api_search ON apis_api USING gin (search_vector)",
    # A path typed whole (_by_path). A hash index: a B-tree refuses an entry over about
    # 2.7 kB, and a path may be longer (an Azure `x-ms-paths` key with its query).
    "CREATE INDEX IF NOT EXISTS apis_operation_path_lower ON apis_operation"
    " USING hash ((lower(path)))",
    # A summary typed whole (_by_summary), a hash index for the same reason.
    "CREATE INDEX IF NOT EXISTS apis_operation_summary_lower ON apis_operation"
    " USING hash ((lower(summary)))",
]
# Here, not in a migration: a migration that rebuilds the table on SQLite drops it.
SQLITE_PATH_INDEX = (
    "CREATE INDEX IF NOT EXISTS apis_operation_path_lower ON apis_operation (lower(path))"
)
SQLITE_SUMMARY_INDEX = (
    "CREATE INDEX IF NOT EXISTS apis_operation_summary_lower ON apis_operation (lower(summary))"
)


def words(text: str) -> list[str]:
    """Lower-case words of an identifier, path or phrase: `createInvoices` -> create, invoices."""
    return [w.lower() for w in _SPLIT.split(text) if w]


def singulars(word: str) -> list[str]:
    """The likely singulars of a plural-looking English word, most likely first: a light
    stemmer for plurals only (invoices -> invoice, policies -> policy, statuses -> status,
    boxes -> box). A wrong guess (`houses` -> hous) only adds a word nobody searches for."""
    if len(word) < 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return []
    found = []
    if word.endswith("ies") and len(word) > 4:
        found.append(word[:-3] + "y")
    if word.endswith("es") and (word[-3] in "sxz" or word[-4:-2] in ("ch", "sh")):
        found.append(word[:-2])
    found.append(word[:-1])
    return found


def index_words(*texts: str) -> list[str]:
    """The words a text is found by: each word, then its singulars."""
    out: list[str] = []
    for text in texts:
        for word in words(text):
            if word in STOP_WORDS:
                continue
            out.append(word)
            out.extend(singulars(word))
    return out


def compounds(*names: str) -> str:
    """The camel-case words of names, whole as well (`GitHub` -> github, `PagerDuty REST` ->
    pagerduty): an API is searched for by its brand in lower case, and its words alone
    (git, hub) would not find it. For an API's own name and title; an operation's ids stay
    split (see search_terms)."""
    found = (
        chunk.lower()
        for name in names
        for chunk in re.split(r"[\W_]+", name)
        if len(words(chunk)) > 1
    )
    return " ".join(dict.fromkeys(found))


def search_terms(operation_id: str, path: str, tag: str = "") -> str:
    """What an operation is found by first: the words of its id, path and first tag. (Not the
    id whole too: each id would be a word of its own, and a prefix such as `create*` would
    then expand to thousands of them.)"""
    return " ".join(index_words(operation_id, path, tag))


def operation_text(summary: str, description: object) -> str:
    """What an operation is found by next: its summary and the start of its description."""
    text = description[:DESCRIPTION_CHARS] if isinstance(description, str) else ""
    return " ".join(index_words(summary, text))


def api_text(texts: Iterable[str]) -> str:
    """An API's words for the catalog, each once: its own name, title, description and tags,
    and the words of every operation (`texts`, in that order)."""
    unique = dict.fromkeys(w for text in texts for w in index_words(text))
    return " ".join(unique)[:API_TEXT_CHARS]


def ensure_index(conn: BaseDatabaseWrapper | None = None) -> None:
    """Create the engine's search indexes if they are missing (idempotent)."""
    conn = conn or connection
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            for table, (content, columns) in SQLITE_TABLES.items():
                cursor.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN"
                    " (%s, %s, %s)",
                    [f"{table}_insert", f"{table}_delete", f"{table}_update"],
                )
                (triggers,) = cursor.fetchone()
                for statement in _fts5_table(table, content, columns):
                    cursor.execute(statement)
                if triggers < 3:  # new, or rows written while the triggers were gone
                    cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            cursor.execute(SQLITE_PATH_INDEX)
            cursor.execute(SQLITE_SUMMARY_INDEX)
        elif conn.vendor == "postgresql":
            for statement in PG_INDEX:
                cursor.execute(statement)


def drop_index(conn: BaseDatabaseWrapper) -> None:
    """Drop every search index, of this or an earlier definition (for migrations that
    change what is indexed; `ensure_index()` then makes them afresh)."""
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            for table in SQLITE_TABLES:
                for trigger in ("insert", "delete", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger}")
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute("DROP INDEX IF EXISTS apis_operation_path_lower")
            cursor.execute("DROP INDEX IF EXISTS apis_operation_summary_lower")
        elif conn.vendor == "postgresql":
            for table in ("apis_operation", "apis_api"):
                cursor.execute(f"DROP INDEX IF EXISTS {table}_search")
                cursor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
            cursor.execute("DROP INDEX IF EXISTS apis_operation_search_strong")
            cursor.execute("ALTER TABLE apis_operation DROP COLUMN IF EXISTS search_strong")
            cursor.execute("DROP INDEX IF EXISTS apis_operation_path_lower")
            cursor.execute("DROP INDEX IF EXISTS apis_operation_summary_lower")

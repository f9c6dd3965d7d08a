"""SQLite settings for the connections that write usage data (the gateway's raw-table
writer, the aggregator). No-ops on other databases.

- Write-ahead logging: readers (the gateway's configuration check, the portal's pages) go on
  reading while a batch is written; in the default rollback-journal mode every write made
  them wait. Kept in the database file, so switching once per file is enough; it cannot be
  switched inside a transaction (then it is left for the next call).
- A larger page cache for the aggregator: an upsert batch touches tens of thousands of rollup
  rows and their indexes; with SQLite's default 2 MB cache the pages were spilled to the file
  and read back within the same transaction (measured: about half the aggregator's wall time
  on 100,000 events, bench/usage_ingest_bench.py).
"""

from __future__ import annotations

import logging

from django.db import connection

log = logging.getLogger("usage")

# KiB (a negative cache_size is in KiB): per connection, so per aggregator process.
AGGREGATOR_CACHE_KIB = 64 * 1024


def use_wal() -> None:
    """Switch the database file to WAL, unless inside a transaction (SQLite refuses)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:
        log.warning("usage: could not switch SQLite to WAL mode: %s", exc)


def tune_aggregator() -> None:
    """WAL and a larger page cache on this thread's connection (cheap: two pragmas)."""
    if connection.vendor != "sqlite":
        return
    use_wal()
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA cache_size=-{AGGREGATOR_CACHE_KIB}")

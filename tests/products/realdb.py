"""The test database as a file that threads and other processes can share."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection, connections


@contextmanager
def on_a_database_file(tmp_path: Path) -> Iterator[Path | None]:
    """Threads (and other processes) see the test's committed data in a database file.

    For threads that must lock like separate processes do, and for gateway processes.

    The SQLite test database is in memory with a shared cache, where a second writer gets
    "table is locked" at once instead of waiting its turn as on a database file; so the
    committed data is copied to a file that the threads' new connections open. PostgreSQL
    needs nothing (and yields None).
    """
    if connection.vendor != "sqlite":
        yield None
        return
    path = tmp_path / "parallel.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings_dict = connections.settings["default"]
    saved = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield path
    finally:
        settings_dict["NAME"] = saved


def url_for_processes(path: Path | None) -> str:
    """DATABASE_URL for a child process that must see the test's committed data.

    SQLite: the file `on_a_database_file` yielded. PostgreSQL: the test database itself on the
    same server (its name is `test_...`, which the environment's DATABASE_URL does not name),
    so the revocation tests run on both passes of `make test`.
    """
    if path is not None:
        return f"sqlite:///{path}"
    db = connection.settings_dict
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}{port}/{quote(str(db['NAME']))}"


def in_thread(work: Any) -> Any:
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0] if result else None

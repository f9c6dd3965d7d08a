"""The embedded default has several writers on one SQLite file: the portal's requests (a sign-in
stores a token) and the in-process gateway's usage recorder, which writes a batch every few
milliseconds under load. A portal transaction that reads, then writes, must wait its turn, not
fail: with SQLite's default deferred transactions the upgrade from reader to writer is refused at
once when another writer committed in between ("database is locked", a failed sign-in), whatever
the busy timeout. The database settings (portal/settings.py) must rule that out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from portal import settings as portal_settings

ROUNDS = 300


@pytest.fixture(autouse=True)
def _own_database_file(django_db_blocker: Any) -> Iterator[None]:
    # A file of this test's own, not the suite's test database: let connections to it open.
    with django_db_blocker.unblock():
        yield


def sqlite_connections(path: Path, monkeypatch: pytest.MonkeyPatch) -> ConnectionHandler:
    """Connections configured by the portal's own database builder, on a file (one per thread)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("DATABASE_URL_FILE", raising=False)
    return ConnectionHandler({"default": portal_settings._databases()["default"]})


def in_transaction(connection: Any, work: Callable[[Any], None]) -> None:
    """What `transaction.atomic()` does on SQLite: BEGIN (in the configured mode), work, COMMIT."""
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with connection.cursor() as cursor:
            work(cursor)
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    finally:
        connection.set_autocommit(True)


def test_a_read_then_write_transaction_waits_for_a_steady_writer_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = sqlite_connections(tmp_path / "db.sqlite3", monkeypatch)
    setup = handler["default"]
    with setup.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")  # as the usage recorder leaves the file
        cursor.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, n INTEGER)")
        cursor.execute("CREATE TABLE tokens (id INTEGER PRIMARY KEY, n INTEGER)")
    setup.close()

    stop = threading.Event()
    writer_errors: list[BaseException] = []

    def recorder() -> None:  # the usage recorder's batches
        connection = handler["default"]
        try:
            while not stop.is_set():
                in_transaction(
                    connection,
                    lambda c: c.executemany(
                        "INSERT INTO events (n) VALUES (%s)", [(i,) for i in range(20)]
                    ),
                )
        except BaseException as exc:
            writer_errors.append(exc)
        finally:
            connection.close()

    def sign_in(cursor: Any) -> None:  # a token endpoint: look something up, then store
        cursor.execute("SELECT count(*) FROM events")
        cursor.fetchone()
        cursor.execute("INSERT INTO tokens (n) VALUES (1)")

    thread = threading.Thread(target=recorder)
    thread.start()
    failures: list[str] = []
    connection = handler["default"]
    try:
        for _ in range(ROUNDS):
            try:
                in_transaction(connection, sign_in)
            except OperationalError as exc:
                failures.append(str(exc))
    finally:
        stop.set()
        thread.join()
        connection.close()

    assert not writer_errors
    assert failures == [], f"{len(failures)} of {ROUNDS} transactions failed: {failures[0]}"
    check = handler["default"]
    with check.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tokens")
        assert cursor.fetchone()[0] == ROUNDS
    check.close()

"""FailFastPool (portal/lib/postgresql/pool.py) against a real PostgreSQL that stops and
comes back: while it is down a checkout fails with the server's refusal instead of waiting out
the pool timeout (SECURITY.md case 83), and once it is back the next checkout works."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool, PoolTimeout

from portal.lib.postgresql.pool import FailFastPool
from tests.portal.services import Postgres, postgres_server

# Far above a refused connection: a checkout that reaches it waited for nothing.
POOL_TIMEOUT = 15
# SECURITY.md case 83's ceiling for coming back, as a polling limit.
RECOVER_WITHIN = 10


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def pool(postgres: Postgres) -> Iterator[FailFastPool]:
    pool = FailFastPool(
        postgres.url,
        kwargs={"connect_timeout": 2},
        min_size=1,
        max_size=2,
        timeout=POOL_TIMEOUT,
        reconnect_timeout=5,
        check=ConnectionPool.check_connection,
        open=True,
    )
    pool.wait()
    try:
        yield pool
    finally:
        pool.close()


def select_one(pool: FailFastPool) -> int:
    with pool.connection() as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row is not None
    return int(row[0])


def test_stopped_server_fails_the_checkout_with_its_refusal_then_recovers(
    pool: FailFastPool, postgres: Postgres
) -> None:
    assert select_one(pool) == 1  # a pooled connection now sits idle
    postgres.stop()
    try:
        # First the idle connection fails its check, then the pool is empty: both answer the
        # refusal, neither waits for the pool timeout.
        for _ in range(2):
            with pytest.raises(psycopg.OperationalError) as failure:
                select_one(pool)
            assert not isinstance(failure.value, PoolTimeout), failure.value
            assert "refused" in str(failure.value) or "connect" in str(failure.value)
    finally:
        postgres.start()
    # The port opens before the server accepts sessions ("starting up"): poll, as a probe does.
    deadline = time.monotonic() + RECOVER_WITHIN
    while True:
        try:
            assert select_one(pool) == 1
            break
        except psycopg.OperationalError as exc:
            assert time.monotonic() < deadline, f"no connection 10 s after the restart: {exc}"
            time.sleep(0.3)
    assert select_one(pool) == 1

"""The portal on a real PostgreSQL: pooled connections under concurrent load, and readiness
when the database goes away and comes back."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.portal.services import Postgres, Served, manage, postgres_server, production_env, serving

POOL_MAX = 4
# Room for the pool (and psql) but not for a connection per request thread: the server
# keeps 3 of these for superusers, so 9 are left for the portal.
MAX_CONNECTIONS = 12
CONCURRENT = 32


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server(max_connections=MAX_CONNECTIONS) as server:
        yield server


@pytest.fixture(scope="module")
def portal(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("pg-portal")
    env = production_env(
        folder,
        DATABASE_URL=postgres.url,
        DATABASE_POOL_MAX_SIZE=str(POOL_MAX),
        IDENTITY_BUILTIN="1",
    )
    manage(env, "migrate", "--no-input", "-v", "0")
    with serving(env, folder / "serve.log") as served:
        yield served


def test_concurrent_requests_never_exhaust_postgresql(portal: Served, postgres: Postgres) -> None:
    """32 requests at once, three times over, on a server with 9 free connection slots:
    every answer is a page, and the portal holds no more connections than its pool."""

    def fetch(_: int) -> int:
        return requests.get(portal.url("/apis/"), timeout=30).status_code

    with ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(fetch, range(CONCURRENT * 3)))
    assert statuses.count(200) == len(statuses), portal.log.read_text()[-2000:]
    assert postgres.connections() <= POOL_MAX


def test_ready_names_the_database_while_it_is_down_and_recovers(
    portal: Served, postgres: Postgres
) -> None:
    assert requests.get(portal.url("/health/ready"), timeout=5).json()["status"] == "ok"
    postgres.stop()
    try:
        down = requests.get(portal.url("/health/ready"), timeout=10)
        assert down.status_code == 503
        assert down.json()["failing"] == ["database"]
        assert requests.get(portal.url("/health/live"), timeout=5).status_code == 200
    finally:
        postgres.start()
    # The pool drops the connections the restart broke instead of handing them out.
    assert requests.get(portal.url("/health/ready"), timeout=10).status_code == 200
    assert requests.get(portal.url("/apis/"), timeout=10).status_code == 200

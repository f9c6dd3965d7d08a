"""`manage.py migrate` run by several processes at once on one PostgreSQL database: a
replica's init container, a pre-deploy hook per machine. They take turns."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.portal.services import Postgres, postgres_server, production_env

AT_ONCE = 3


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


def test_migrations_started_by_several_processes_at_once_all_succeed(
    postgres: Postgres, tmp_path: Path
) -> None:
    # Two at once: one created apis_api while the other did, and failed with IntegrityError
    # (duplicate key in pg_type), a traceback and exit code 1.
    env = production_env(tmp_path, DATABASE_URL=postgres.url)
    command = [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"]
    procs = [
        subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(AT_ONCE)
    ]
    errors = [proc.communicate(timeout=300)[1] for proc in procs]
    results = list(zip([proc.returncode for proc in procs], errors, strict=True))
    assert [code for code, _ in results] == [0] * AT_ONCE, [err[-800:] for _, err in results]
    check = subprocess.run(
        [*command[:3], "--check"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr

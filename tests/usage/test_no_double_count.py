"""Two gateway processes (two workers each) and two aggregators (`manage.py aggregate_usage`,
as production runs them) at once: every call is counted exactly once in the rollups: through
the Redis stream (summed cells, and a rollout where one gateway still sends raw events), and
without Redis, where the gateways write their cells' rollups themselves (or, with
USAGE_RAW_EVENTS, raw rows that the aggregators count)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.gateway.processes import REPO, Operator, RedisServer, call

CONFIG = """\
apis:
  - slug: echo
    spec: echo.yaml
    published: true
    gateway:
      suffix: echo
      backend: echo
"""
CALLS = 60

# The aggregator is usage-data's part of issue 13 (usage/aggregate.py, manage.py
# aggregate_usage): until both branches meet, this file has nothing to run against.
pytest.importorskip("usage.aggregate")


@pytest.fixture
def aggregators(operator: Operator) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _start_aggregators(
    operator: Operator, procs: list[subprocess.Popen[bytes]], **env: str
) -> None:
    for i in range(2):
        log = (operator.root / f"aggregator-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "aggregate_usage"],
                cwd=REPO,
                env={**operator.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )


def _counted(operator: Operator) -> dict[int, int]:
    """Calls in the API rollups per level (1 minute, 2 hour, 3 day)."""
    database = operator.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database, timeout=10) as db:
        rows = db.execute(
            "SELECT level, SUM(success + blocked + failed + other) FROM usage_apirollup"
            " GROUP BY level"
        ).fetchall()
    return {level: int(n) for level, n in rows}


def _send_and_settle(operator: Operator, ports: list[int]) -> dict[int, int]:
    for i in range(CALLS - 2):
        assert call(ports[i % 2], "GET", f"/echo/anything?message={i}")[0] == 200
    assert call(ports[0], "GET", "/nowhere/at-all")[0] == 404
    assert call(ports[1], "GET", "/echo/anything", {"Host": "elsewhere.example"})[0] == 400
    deadline = time.monotonic() + 60
    while _counted(operator).get(1, 0) < CALLS:
        assert time.monotonic() < deadline, (_counted(operator), operator.log_text())
        time.sleep(0.5)
    time.sleep(3)  # long enough for a second count of anything to show
    return _counted(operator)


def _raw_rows(operator: Operator) -> int:
    database = operator.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        (raw,) = db.execute("SELECT COUNT(*) FROM usage_usageevent").fetchone()
    return int(raw)


@pytest.mark.parametrize("raw", ["0", "mixed"], ids=["cells", "one-gateway-with-raw-events"])
def test_through_the_redis_stream(
    operator: Operator,
    redis_server: RedisServer,
    aggregators: list[subprocess.Popen[bytes]],
    raw: str,
) -> None:
    redis_server.start()
    operator.apply(CONFIG)
    env = {"REDIS_URL": redis_server.url, "USAGE_FLUSH_MS": "200", "USAGE_BATCH": "5"}
    ports = [
        operator.start(workers=2, USAGE_RAW_EVENTS="1" if raw == "mixed" and i else "0", **env)
        for i in range(2)
    ]
    _start_aggregators(operator, aggregators, **env)
    assert _send_and_settle(operator, ports) == {1: CALLS, 2: CALLS, 3: CALLS}
    assert _raw_rows(operator) == 0  # with Redis, nothing went through the raw table


@pytest.mark.parametrize("raw", ["0", "1"], ids=["cells", "raw-events"])
def test_without_redis(
    operator: Operator, aggregators: list[subprocess.Popen[bytes]], raw: str
) -> None:
    operator.apply(CONFIG)
    env = {"USAGE_FLUSH_MS": "200", "USAGE_BATCH": "5", "USAGE_RAW_EVENTS": raw}
    ports = [operator.start(workers=2, **env) for _ in range(2)]
    _start_aggregators(operator, aggregators, **env)
    assert _send_and_settle(operator, ports) == {1: CALLS, 2: CALLS, 3: CALLS}
    # Cells go straight to the rollups; raw events through the raw table, each row once.
    assert _raw_rows(operator) == (CALLS if raw == "1" else 0)

"""Usage from gateway processes as operators run them (`python -m gateway`, two workers):
summed cells written to the Redis stream (`usage.cells.decode` reads them), raw events with
USAGE_RAW_EVENTS, and, when Redis goes down, calls dropped and counted while they keep being
answered."""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import redis

from tests.gateway.processes import Operator, RedisServer, call
from usage import cells
from usage.events import FIELD, STREAM

CONFIG = """\
apis:
  - slug: echo
    spec: echo.yaml
    published: true
    gateway:
      suffix: echo
      backend: echo
"""
FAST = {"USAGE_FLUSH_MS": "100", "GATEWAY_METRICS_ALLOW": "127.0.0.1/32"}


def _stream_cells(url: str) -> dict[cells.CellKey, cells.Vector]:
    """Every cell the gateways wrote to the stream, summed per key."""
    client = redis.Redis.from_url(url)
    try:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(STREAM)  # type: ignore[assignment]
    finally:
        client.close()
    assert all(FIELD not in fields for _id, fields in entries)  # no raw events by default
    summed: dict[cells.CellKey, cells.Vector] = {}
    for _id, fields in entries:
        for key, vec in cells.decode(fields[cells.FIELD]):
            cells.merge_into(summed, key, vec)
    return summed


def _stream_calls(url: str) -> int:
    return sum(map(cells.calls, _stream_cells(url).values()))


def _wait_for(predicate: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _metric(port: int, name: str) -> float:
    status, _h, body = call(port, "GET", "/-/metrics")
    assert status == 200, body
    match = re.search(rf"^{name} (\S+)$", body.decode(), re.M)
    assert match, body
    return float(match.group(1))


def test_two_gateway_processes_write_every_call_to_the_stream(
    operator: Operator, redis_server: RedisServer
) -> None:
    redis_server.start()
    operator.apply(CONFIG)
    ports = [operator.start(workers=2, REDIS_URL=redis_server.url, **FAST) for _ in range(2)]
    for i in range(20):
        port = ports[i % 2]
        status, _h, _b = call(port, "GET", f"/echo/anything?message=m{i}")
        assert status == 200
    assert call(ports[0], "GET", "/nowhere/x")[0] == 404
    assert call(ports[1], "GET", "/echo/anything", {"Host": "evil.example"})[0] == 400
    _wait_for(lambda: _stream_calls(redis_server.url) >= 22)
    summed = _stream_cells(redis_server.url)
    assert _stream_calls(redis_server.url) == 22
    # Per API and operation: (success, blocked) over both processes and all four workers.
    by_api: dict[tuple[int, str], tuple[int, int]] = {}
    for (_m, _s, _c, _u, api, op, _p), vec in summed.items():
        success, blocked = by_api.get((api, op), (0, 0))
        by_api[(api, op)] = (success + vec[0], blocked + vec[1])
    echo = next(api for api, op in by_api if op == "echoGet")
    assert echo and by_api == {(echo, "echoGet"): (20, 0), (0, ""): (0, 2)}


def test_redis_down_drops_and_counts_events_and_calls_keep_flowing(
    operator: Operator, redis_server: RedisServer
) -> None:
    redis_server.start()
    operator.apply(CONFIG)
    port = operator.start(workers=1, REDIS_URL=redis_server.url, **FAST)
    assert call(port, "GET", "/echo/anything")[0] == 200
    _wait_for(lambda: _stream_calls(redis_server.url) == 1)
    redis_server.stop()
    statuses = [call(port, "GET", "/echo/anything")[0] for _ in range(10)]
    assert statuses == [200] * 10
    _wait_for(lambda: _metric(port, "gateway_usage_dropped_total") == 10)
    assert _metric(port, "gateway_usage_events_total") == 1


def test_raw_events_without_redis_go_to_the_databases_raw_table(operator: Operator) -> None:
    operator.apply(CONFIG)
    port = operator.start(workers=2, USAGE_RAW_EVENTS="1", **FAST)
    began = time.time()
    for _ in range(6):
        assert call(port, "GET", "/echo/anything?message=hi")[0] == 200
    assert call(port, "GET", "/echo/no-such-operation")[0] == 404
    ended = time.time()
    database = operator.env["DATABASE_URL"].removeprefix("sqlite:///")

    def rows() -> list[tuple[Any, ...]]:
        with sqlite3.connect(database) as db:
            return db.execute(
                "SELECT outcome, check_name, operation, status, client_net, aggregated, ts"
                " FROM usage_usageevent ORDER BY id"
            ).fetchall()

    _wait_for(lambda: len(rows()) == 7)
    written = rows()
    assert sorted(r[:6] for r in written) == sorted(
        [("success", "", "echoGet", 200, "127.0.0.0/24", 0)] * 6
        + [("blocked", "operation", "", 404, "127.0.0.0/24", 0)]
    )
    # Stamped with the calls' UTC day (either day, for calls made across a midnight).
    days = {time.strftime("%Y-%m-%d", time.gmtime(t)) for t in (began, ended)}
    assert all(r[6][:10] in days for r in written)

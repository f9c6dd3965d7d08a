"""Usage events from gateway processes as operators run them (`python -m gateway`, two
workers): written to the Redis stream in batches that `usage.events.decode` reads, and, when
Redis goes down, dropped and counted while the calls keep being answered."""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import redis

from tests.gateway.processes import Operator, RedisServer, call
from usage.events import FIELD, STREAM, Event, decode

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


def _stream_events(url: str) -> list[Event]:
    client = redis.Redis.from_url(url)
    try:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(STREAM)  # type: ignore[assignment]
        return [e for _id, fields in entries for e in decode(fields[FIELD])]
    finally:
        client.close()


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
    _wait_for(lambda: len(_stream_events(redis_server.url)) >= 22)
    events = _stream_events(redis_server.url)
    assert len(events) == 22
    ok = [e for e in events if e.outcome == "success"]
    assert len(ok) == 20 and {e.operation for e in ok} == {"echoGet"}
    assert all(e.api_id is not None and e.client_net == "127.0.0.0/24" for e in ok)
    assert sorted((e.check, e.api_id) for e in events if e.outcome == "blocked") == [
        ("host", None),
        ("route", None),
    ]


def test_redis_down_drops_and_counts_events_and_calls_keep_flowing(
    operator: Operator, redis_server: RedisServer
) -> None:
    redis_server.start()
    operator.apply(CONFIG)
    port = operator.start(workers=1, REDIS_URL=redis_server.url, **FAST)
    assert call(port, "GET", "/echo/anything")[0] == 200
    _wait_for(lambda: len(_stream_events(redis_server.url)) == 1)
    redis_server.stop()
    statuses = [call(port, "GET", "/echo/anything")[0] for _ in range(10)]
    assert statuses == [200] * 10
    _wait_for(lambda: _metric(port, "gateway_usage_dropped_total") == 10)
    assert _metric(port, "gateway_usage_events_total") == 1


def test_without_redis_the_events_go_to_the_databases_raw_table(operator: Operator) -> None:
    operator.apply(CONFIG)
    port = operator.start(workers=2, **FAST)
    for _ in range(6):
        assert call(port, "GET", "/echo/anything?message=hi")[0] == 200
    assert call(port, "GET", "/echo/no-such-operation")[0] == 404
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
    assert all(r[6].startswith(time.strftime("%Y-%m-%d", time.gmtime())) for r in written)

"""Usage events from gateway processes as operators run them (`python -m gateway`, two
workers): written to the Redis stream in batches that `usage.events.decode` reads, and, when
Redis goes down, dropped and counted while the calls keep being answered."""

from __future__ import annotations

import re
import time

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

"""Several processes, one Redis (SECURITY.md case 65): REDIS_URL is the one variable, rate
limits hold across processes with a sliding window, and Redis being down never makes the
gateway answer 500; it logs once per 10 s and recovers without a restart.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway.config import RateLimit
from tests.gateway.conftest import (
    AUDIENCE,
    Harness,
    LoopbackServer,
    Provider,
    claims,
    make_route,
    mint,
)
from tests.gateway.processes import Operator, RedisServer, bearer, call, echo_config

Build = Callable[..., Harness]


def limited_config(backend: LoopbackServer, provider: Provider, calls: int) -> str:
    return echo_config(backend.url, provider.discovery_url, AUDIENCE).replace(
        "      validate-jwt:",
        f"      rate-limit-by-key: {{calls: {calls}, renewal-period: 60, counter-key: subject}}\n"
        "      validate-jwt:",
    )


def test_rate_limit_holds_across_two_processes(
    operator: Operator, redis_server: RedisServer, provider: Provider, backend: LoopbackServer
) -> None:
    redis_server.start()
    operator.env["REDIS_URL"] = redis_server.url
    operator.apply(limited_config(backend, provider, 100))
    ports = [operator.start(workers=1), operator.start(workers=1)]
    token = mint(provider.keys[0], claims(provider))
    statuses = [call(ports[i % 2], "GET", "/echo/anything", bearer(token))[0] for i in range(300)]
    assert statuses.count(200) == 100 and statuses.count(429) == 200
    assert backend.recorder.count() == 100


def _wait_for_phase(period: float, at: float) -> None:
    """Sleep until time.time() is `at` seconds into a fixed window of `period` seconds."""
    phase = time.time() % period
    time.sleep((at - phase) % period)


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_no_double_burst_at_a_window_edge(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    redis_server: RedisServer,
    settings: Any,
    store: str,
) -> None:
    if store == "redis":
        redis_server.start()
        settings.REDIS_URL = redis_server.url
    route = make_route(provider, backend.url)
    route.rate_limit = RateLimit(3, 4, "subject")
    gw = harness_for(route)
    warm = mint(provider.keys[0], claims(provider, sub="someone-else"))
    assert gw.request("GET", "/orders/x", token=warm).status == 200  # keys fetched
    token = mint(provider.keys[0], claims(provider))
    # Three calls just before a fixed window would end, three just after the next began.
    _wait_for_phase(4, 3.4)
    first = [gw.request("GET", "/orders/x", token=token).status for _ in range(3)]
    _wait_for_phase(4, 0.2)
    second = [gw.request("GET", "/orders/x", token=token).status for _ in range(3)]
    assert first == [200, 200, 200] and second == [429, 429, 429]
    time.sleep(4)
    assert gw.request("GET", "/orders/x", token=token).status == 200  # the window slid on


@pytest.mark.parametrize(("mode", "status"), [("allow", 200), ("deny", 503)])
def test_store_down_follows_on_store_unavailable(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    redis_server: RedisServer,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    status: int,
) -> None:
    settings.REDIS_URL = redis_server.url  # never started: connection refused
    settings.GATEWAY_METRICS_ALLOW = ["203.0.113.0/24"]  # the harness's client address
    route = make_route(provider, backend.url)
    route.rate_limit = RateLimit(3, 60, "subject", mode)
    gw = harness_for(route)
    token = mint(provider.keys[0], claims(provider))
    with caplog.at_level(logging.WARNING, logger="gateway"):
        statuses = {gw.request("GET", "/orders/x", token=token).status for _ in range(50)}
    assert statuses == {status}
    assert backend.recorder.count() == (50 if mode == "allow" else 0)
    warnings = [r for r in caplog.records if "rate limits" in r.getMessage()]
    assert len(warnings) == 1  # one line per 10 s, not one per call
    metrics = gw.request("GET", "/-/metrics").body.decode()
    assert 'gateway_store_failures_total{store="ratelimit"}' in metrics


def test_redis_down_at_start_never_500_and_recovers_without_restart(
    operator: Operator, redis_server: RedisServer, provider: Provider, backend: LoopbackServer
) -> None:
    operator.env["REDIS_URL"] = redis_server.url  # Redis is not running yet
    operator.apply(limited_config(backend, provider, 3))
    port = operator.start(workers=1)
    token = mint(provider.keys[0], claims(provider))
    # validate-jwt fetches the keys itself; the limit is off (allow) while Redis is down.
    statuses = [call(port, "GET", "/echo/anything", bearer(token))[0] for _ in range(20)]
    assert statuses == [200] * 20
    redis_server.start()
    deadline = time.monotonic() + 10
    seen: list[int] = []
    while time.monotonic() < deadline and 429 not in seen:
        seen.append(call(port, "GET", "/echo/anything", bearer(token))[0])
        time.sleep(0.2)
    assert 429 in seen, seen  # shared limits work again, no restart
    assert set(seen) <= {200, 429}
    log = operator.log_text()
    assert log.count("rate limits are off") <= 2, log


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("REDIS_URL", "redis://127.0.0.1:notaport/0"),
        ("REDIS_URL", "redis://127.0.0.1:6379/abc"),  # redis-py would quietly use database 0
        ("GATEWAY_REDIS_URL", "redis//127.0.0.1"),
    ],
)
def test_a_bad_redis_url_stops_the_gateway_at_start_with_a_clear_error(
    operator: Operator, provider: Provider, backend: LoopbackServer, name: str, url: str
) -> None:
    # Not a 500 and a traceback on every call, nor a silent fallback: the operator sees which
    # variable is wrong before any call is served.
    operator.env[name] = url
    operator.apply(limited_config(backend, provider, 3))
    with contextlib.suppress(RuntimeError):  # the supervisor may have bound the port
        operator.start(workers=2)
    assert operator.procs[-1].wait(20) != 0
    log = operator.log_text()
    assert f"{name} is not a Redis URL" in log, log

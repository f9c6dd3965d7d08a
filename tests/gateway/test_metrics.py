"""/-/metrics (SECURITY.md case 66): only for the metrics token or a listed address, labels
that no client can grow, and counts summed over every worker of every process."""

from __future__ import annotations

import random
import re
import string
import time
from collections.abc import Callable
from typing import Any

import pytest

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


@pytest.fixture
def gw(harness_for: Build, provider: Provider, backend: LoopbackServer) -> Harness:
    h = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    assert h.request("GET", "/orders/x", token=token).status == 200
    assert h.request("GET", "/orders/x").status == 401
    return h


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Bearer ", "Basic bWV0cmljcw=="])
def test_case66_metrics_need_the_token(gw: Harness, settings: Any, auth: str | None) -> None:
    settings.GATEWAY_METRICS_TOKEN = "metrics-secret"
    resp = gw.request("GET", "/-/metrics", headers={"Authorization": auth} if auth else None)
    assert resp.status == 401
    assert b"orders" not in resp.body and b"gateway_" not in resp.body


def test_metrics_with_the_token_or_from_a_listed_address(gw: Harness, settings: Any) -> None:
    settings.GATEWAY_METRICS_TOKEN = "metrics-secret"
    ok = gw.request("GET", "/-/metrics", headers={"Authorization": "Bearer metrics-secret"})
    assert ok.status == 200 and b'api="orders"' in ok.body
    assert b'status="4xx",check="missing"' in ok.body  # the refusing check is a label
    assert b"gateway_request_duration_seconds_bucket" in ok.body
    settings.GATEWAY_METRICS_TOKEN = ""
    assert gw.request("GET", "/-/metrics").status == 401
    settings.GATEWAY_METRICS_ALLOW = ["10.0.0.0/8", "203.0.113.0/24"]  # harness client
    assert gw.request("GET", "/-/metrics").status == 200


def test_a_metrics_token_outside_latin_1_is_compared_not_a_500(gw: Harness, settings: Any) -> None:
    # The token was encoded as Latin-1 on every scrape: one with a character past it (a
    # generated passphrase, a euro sign) made every /-/metrics call a 500.
    settings.GATEWAY_METRICS_TOKEN = "m\u20acsecret"
    assert gw.request("GET", "/-/metrics", headers={"Authorization": "Bearer x"}).status == 401
    good = "Bearer m\u20acsecret".encode().decode("latin-1")  # the UTF-8 bytes as sent
    assert gw.request("GET", "/-/metrics", headers={"Authorization": good}).status == 200


def test_random_methods_do_not_grow_the_labels(gw: Harness, settings: Any) -> None:
    settings.GATEWAY_METRICS_ALLOW = ["203.0.113.9/32"]
    rng = random.Random(7)
    for _ in range(2000):
        method = "".join(rng.choices(string.ascii_uppercase, k=12))
        gw.request(method, "/orders/x")
    body = gw.request("GET", "/-/metrics").body.decode()
    methods = set(re.findall(r'method="([^"]*)"', body))
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert 'method="other"' in body
    assert len(body) < 20_000


def _total(body: str) -> float:
    return sum(
        float(m)
        for m in re.findall(r'^gateway_requests_total\{api="echo"[^}]*\} (\S+)$', body, re.M)
    )


def test_counters_never_go_backwards_across_workers(
    operator: Operator, redis_server: RedisServer, provider: Provider, backend: LoopbackServer
) -> None:
    redis_server.start()
    operator.env.update(REDIS_URL=redis_server.url, GATEWAY_METRICS_TOKEN="m")
    operator.apply(echo_config(backend.url, provider.discovery_url, AUDIENCE))
    ports = [operator.start(workers=2), operator.start(workers=1)]
    token = mint(provider.keys[0], claims(provider))
    seen: list[float] = []
    for i in range(40):
        call(ports[i % 2], "GET", "/echo/anything", bearer(token))
        if i % 4 == 3:
            status, _, body = call(ports[i % 2], "GET", "/-/metrics", {"Authorization": "Bearer m"})
            assert status == 200
            seen.append(_total(body.decode()))
    assert seen == sorted(seen), seen
    time.sleep(6)  # every worker publishes its counts every 5 s, busy or idle
    status, _, body = call(ports[0], "GET", "/-/metrics", {"Authorization": "Bearer m"})
    assert _total(body.decode()) == 40  # every call on every worker of both processes


@pytest.mark.django_db(transaction=True)
def test_case67_a_scraper_let_in_by_address_sees_no_hidden_api(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    """Only the operator's token shows an API hidden from anonymous users by name."""
    import io

    from django.core.management import call_command

    from gateway.config import RouteConfig
    from gateway.subscriptions import Subscriptions
    from products.models import Group, Product
    from tests.conftest import DEMO_SPECS

    settings.GATEWAY_CONFIG_REFRESH = 0
    for slug, spec in (("echo", "echo.yaml"), ("petstore", "petstore.yaml")):
        call_command("importspec", str(DEMO_SPECS / spec), slug=slug, publish=True, stdout=io.StringIO())  # fmt: skip
    Group.objects.create(slug="partners", name="Partners")
    partners = Product.objects.create(
        slug="deal", name="Deal", published=True, subscription_required=False
    )
    partners.apis.set(partners.apis.model.objects.filter(slug="petstore"))
    partners.groups.set(Group.objects.filter(slug="partners"))
    gw = harness_for(
        *(RouteConfig(api_slug=s, suffix=s, backend="echo", timeout=5, forward_claims=False)
          for s in ("echo", "petstore"))
    )  # fmt: skip
    gw.app.subscriptions = Subscriptions()
    for path in ("/echo/a", "/petstore/a", "/petstore/b", "/nowhere"):
        gw.request("GET", path)
    settings.GATEWAY_METRICS_TOKEN = "metrics-secret"
    settings.GATEWAY_METRICS_ALLOW = ["203.0.113.0/24"]  # the harness's client
    by_address = gw.request("GET", "/-/metrics").body.decode()
    assert 'api="echo"' in by_address and "petstore" not in by_address
    hidden = re.findall(r'^gateway_requests_total\{api="hidden"[^}]*\} (\S+)$', by_address, re.M)
    assert sum(map(float, hidden)) == 2  # counted, not named
    assert 'gateway_request_duration_seconds_count{api="hidden"} 2' in by_address
    assert 'api="-"' in by_address  # no API matched: nothing to hide
    operator = gw.request("GET", "/-/metrics", headers={"Authorization": "Bearer metrics-secret"})
    assert 'gateway_request_duration_seconds_count{api="petstore"} 2' in operator.body.decode()
    partners.groups.add(Group.objects.get(slug="guests"))  # now anyone may see it
    assert 'api="petstore"' in gw.request("GET", "/-/metrics").body.decode()


def test_one_scrape_sums_every_worker_without_redis(
    operator: Operator, provider: Provider, backend: LoopbackServer
) -> None:
    operator.env.update(GATEWAY_METRICS_TOKEN="m")  # no REDIS_URL (the fixture removes it)
    operator.apply(echo_config(backend.url, provider.discovery_url, AUDIENCE))
    port = operator.start(workers=2)
    token = mint(provider.keys[0], claims(provider))
    for _ in range(40):  # new connections: the calls spread over both workers
        assert call(port, "GET", "/echo/anything", bearer(token))[0] == 200
    time.sleep(6)  # every worker writes its counts every 5 s, busy or idle
    totals = set()
    for _ in range(6):  # whichever worker answers the scrape
        status, _, body = call(port, "GET", "/-/metrics", {"Authorization": "Bearer m"})
        assert status == 200
        totals.add(_total(body.decode()))
    assert totals == {40}


@pytest.mark.parametrize("value", ["office", "10.0.0.0/33", "10.0.0.0/8,vpn"])
def test_a_metrics_allowance_that_is_no_address_stops_the_start_naming_it(value: str) -> None:
    """A GATEWAY_METRICS_ALLOW entry that is no address or CIDR range was skipped without a
    word (the operator's scraper then got 401 with no clue why); it now stops the start as a
    bad TRUSTED_PROXIES does."""
    import os
    import subprocess
    import sys

    from tests.gateway.processes import REPO

    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "GATEWAY_METRICS_ALLOW": value,
        },  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "GATEWAY_METRICS_ALLOW" in done.stderr, done.stderr[-2000:]


def test_counters_do_not_fall_back_to_one_workers_while_redis_is_down(
    redis_server: RedisServer,
) -> None:
    """With Redis, a scrape sums every worker's snapshot. When Redis stopped answering, a
    scrape showed only the answering worker's own counts: the totals fell (Prometheus reads
    that as a reset and counts everything again as new). It now keeps the other workers'
    last snapshots it read."""
    import asyncio

    from gateway.metrics import Metrics

    redis_server.start()

    async def main() -> tuple[float, float]:
        a, b = Metrics(), Metrics()
        a.use_redis(redis_server.url)
        b.use_redis(redis_server.url)
        for _ in range(5):
            a.observe("echo", "GET", 200, 0.01, "")
        for _ in range(3):
            b.observe("echo", "GET", 200, 0.01, "")
        await b.push()
        key = "\x1f".join(("req", "echo", "GET", "2xx", ""))
        before = (await a.collect())[key]
        redis_server.stop()
        a.observe("echo", "GET", 200, 0.01, "")
        after = (await a.collect())[key]
        return before, after

    before, after = asyncio.run(main())
    assert before == 8
    assert after == 9  # the other worker's 3 are still counted


def test_counters_do_not_fall_when_redis_comes_back_empty(redis_server: RedisServer) -> None:
    """A Redis restarted without persistence holds no snapshots until each worker publishes
    again (every 5 s): a scrape in between summed only those already back."""
    import asyncio

    import redis

    from gateway.metrics import Metrics

    redis_server.start()

    async def main() -> tuple[float, float]:
        a, b = Metrics(), Metrics()
        a.use_redis(redis_server.url)
        b.use_redis(redis_server.url)
        for _ in range(5):
            a.observe("echo", "GET", 200, 0.01, "")
        for _ in range(3):
            b.observe("echo", "GET", 200, 0.01, "")
        await b.push()
        key = "\x1f".join(("req", "echo", "GET", "2xx", ""))
        before = (await a.collect())[key]
        redis.Redis.from_url(redis_server.url).flushall()
        return before, (await a.collect())[key]

    before, after = asyncio.run(main())
    assert before == 8
    assert after == 8

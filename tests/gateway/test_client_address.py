"""Whose address the gateway believes (SECURITY.md case 81) and which request id travels on:
X-Forwarded-For counts only from a proxy in TRUSTED_PROXIES, for the backend and for the
per-address rate limit; a well-formed X-Request-ID from the caller reaches the backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.config import RateLimit
from tests.gateway.conftest import Harness, LoopbackServer, Provider, claims, make_route, mint

Build = Callable[..., Harness]
PEER = "203.0.113.9"  # the harness's connecting address


def _token(provider: Provider) -> str:
    return mint(provider.keys[0], claims(provider, scope="orders.read"))


def _limited(provider: Provider, backend: LoopbackServer) -> Any:
    route = make_route(provider, backend.url)
    route.rate_limit = RateLimit(calls=1, period=60, key="ip")
    return route


def _forwarded_for(backend: LoopbackServer) -> str:
    seen = backend.recorder.requests[-1]
    return dict(seen["headers"])["x-forwarded-for"]


def test_case81_untrusted_forwarded_for_changes_nothing(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = []
    gw = harness_for(_limited(provider, backend))
    first = gw.request(
        "GET", "/orders/items/1", token=_token(provider), headers={"X-Forwarded-For": "1.2.3.4"}
    )
    assert first.status == 200
    assert _forwarded_for(backend) == PEER
    # A new spoofed address does not reset the peer's counter.
    again = gw.request(
        "GET", "/orders/items/1", token=_token(provider), headers={"X-Forwarded-For": "5.6.7.8"}
    )
    assert again.status == 429
    assert len(backend.recorder.requests) == 1


def test_case81_trusted_proxy_names_the_client(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["203.0.113.0/24"]
    gw = harness_for(_limited(provider, backend))

    def call(client: str) -> int:
        headers = {"X-Forwarded-For": f"9.9.9.9, {client}"}
        return gw.request("GET", "/orders/items/1", token=_token(provider), headers=headers).status

    assert call("198.51.100.7") == 200
    assert _forwarded_for(backend) == "198.51.100.7"  # the rightmost untrusted hop
    assert call("198.51.100.8") == 200  # another client behind the same balancer
    assert call("198.51.100.7") == 429  # the first client's own limit
    assert len(backend.recorder.requests) == 2


def test_the_per_address_limit_counts_an_ipv6_client_by_its_64(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    """Every address of an IPv6 /64 is one host's to use: counted per address, a client behind
    the balancer reset the limit with each call from another of its 2^64 addresses."""
    settings.TRUSTED_PROXIES = ["203.0.113.0/24"]
    gw = harness_for(_limited(provider, backend))

    def call(client: str) -> int:
        headers = {"X-Forwarded-For": client}
        return gw.request("GET", "/orders/items/1", token=_token(provider), headers=headers).status

    assert call("2001:db8:1:2::7") == 200
    assert _forwarded_for(backend) == "2001:db8:1:2::7"  # the backend still sees the address
    assert call("2001:db8:1:2:a:b:c:d") == 429
    assert call("2001:db8:1:3::7") == 200  # another /64, another client
    assert len(backend.recorder.requests) == 2


def test_a_well_formed_request_id_reaches_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    resp = gw.request(
        "GET", "/orders/items/1", token=_token(provider), headers={"X-Request-ID": "portal-abc.1"}
    )
    assert resp.status == 200 and resp.header("x-request-id") == "portal-abc.1"
    assert dict(backend.recorder.requests[-1]["headers"])["x-request-id"] == "portal-abc.1"

    bad = gw.request(
        "GET", "/orders/items/1", token=_token(provider), headers={"X-Request-ID": 'a b"<x>'}
    )
    assert bad.status == 200
    sent = dict(backend.recorder.requests[-1]["headers"])["x-request-id"]
    assert sent != 'a b"<x>' and " " not in sent


def _forwarded_proto(backend: LoopbackServer) -> str:
    return dict(backend.recorder.requests[-1]["headers"])["x-forwarded-proto"]


def test_the_scheme_a_trusted_balancer_names_reaches_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    # nginx terminates TLS and says X-Forwarded-Proto: https (deploy/nginx); the backend was
    # told http whatever the client used, so a backend that insists on https (Rails'
    # force_ssl, Django's SECURE_SSL_REDIRECT) redirected every call, for ever.
    settings.TRUSTED_PROXIES = ["203.0.113.0/24"]
    gw = harness_for(make_route(provider, backend.url))
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    assert (
        gw.request("GET", "/orders/items/1", token=_token(provider), headers=headers).status == 200
    )
    assert _forwarded_proto(backend) == "https"
    assert _forwarded_for(backend) == "198.51.100.7"
    alone = {"X-Forwarded-Proto": "HTTPS"}
    assert gw.request("GET", "/orders/items/1", token=_token(provider), headers=alone).status == 200
    assert _forwarded_proto(backend) == "https"
    odd = {"X-Forwarded-Proto": "gopher"}
    assert gw.request("GET", "/orders/items/1", token=_token(provider), headers=odd).status == 200
    assert _forwarded_proto(backend) == "http"


def test_a_scheme_from_anyone_else_is_not_believed(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    gw = harness_for(make_route(provider, backend.url))
    headers = {"X-Forwarded-Proto": "https"}
    assert (
        gw.request("GET", "/orders/items/1", token=_token(provider), headers=headers).status == 200
    )
    assert _forwarded_proto(backend) == "http"
    settings.TRUSTED_PROXIES = []
    assert (
        gw.request("GET", "/orders/items/1", token=_token(provider), headers=headers).status == 200
    )
    assert _forwarded_proto(backend) == "http"

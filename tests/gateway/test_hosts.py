"""The gateway answers only the hosts it is configured for (SECURITY.md case 64): another
host, or two Host headers, get 400 and nothing is forwarded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.gateway.conftest import Harness, LoopbackServer, Provider, claims, make_route, mint
from tests.gateway.processes import Operator, bearer, call, echo_config

Build = Callable[..., Harness]


@pytest.fixture
def gw(harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any) -> Harness:
    settings.GATEWAY_HOSTS = ["api.example.com", ".apis.example.org"]
    return harness_for(make_route(provider, backend.url))


@pytest.mark.parametrize(
    "host", ["api.example.com", "api.example.com:8443", "apis.example.org", "eu.apis.example.org"]
)
def test_configured_hosts_are_served(
    gw: Harness, provider: Provider, backend: LoopbackServer, host: str
) -> None:
    token = mint(provider.keys[0], claims(provider))
    assert gw.request("GET", "/orders/x", token=token, host=host).status == 200
    assert backend.recorder.count() == 1


def test_probes_by_ip_address_are_answered_but_no_api(
    gw: Harness, provider: Provider, backend: LoopbackServer
) -> None:
    """A load balancer's health check names the address, not a configured host (issue 11)."""
    assert gw.request("GET", "/-/live", host="10.1.2.3:8080").status == 200
    token = mint(provider.keys[0], claims(provider))
    assert gw.request("GET", "/orders/x", token=token, host="10.1.2.3:8080").status == 400
    assert backend.recorder.count() == 0


@pytest.mark.parametrize(
    "host", ["evil.example", "api.example.com.evil.example", "127.0.0.2", "", "a b", "api\u00e9"]
)
def test_case64_other_hosts_get_400(
    gw: Harness, provider: Provider, backend: LoopbackServer, host: str
) -> None:
    token = mint(provider.keys[0], claims(provider))
    resp = gw.request("GET", "/orders/x", token=token, host=host)
    assert resp.status == 400 and resp.json()["check"] == "host"
    assert backend.recorder.count() == 0


def test_case64_two_host_headers_get_400(
    gw: Harness, provider: Provider, backend: LoopbackServer
) -> None:
    token = mint(provider.keys[0], claims(provider))
    for second in ("api.example.com", "evil.example"):
        resp = gw.request(
            "GET", "/orders/x", token=token, host="api.example.com", headers={"Host": second}
        )
        assert resp.status == 400 and resp.json()["check"] == "host"
    assert backend.recorder.count() == 0


def test_the_portal_allowed_hosts_are_the_default(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    settings.GATEWAY_HOSTS = []
    settings.ALLOWED_HOSTS = ["portal.example"]
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    assert gw.request("GET", "/orders/x", token=token, host="portal.example").status == 200
    assert gw.request("GET", "/orders/x", token=token, host="other.example").status == 400


def test_real_process_hosts(
    operator: Operator, provider: Provider, backend: LoopbackServer
) -> None:
    from tests.gateway.conftest import AUDIENCE

    operator.apply(echo_config(backend.url, provider.discovery_url, AUDIENCE))
    # Its own listen address (127.0.0.1) is served although GATEWAY_HOSTS does not name it.
    port = operator.start(workers=1, GATEWAY_HOSTS="api.example.com")
    token = mint(provider.keys[0], claims(provider))
    assert call(port, "GET", "/echo/anything", bearer(token))[0] == 200
    named = {**bearer(token), "Host": "api.example.com"}
    assert call(port, "GET", "/echo/anything", named)[0] == 200
    other = {**bearer(token), "Host": "evil.example"}
    assert call(port, "GET", "/echo/anything", other)[0] == 400
    assert backend.recorder.count() == 2
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            b"GET /echo/anything HTTP/1.1\r\nHost: api.example.com\r\nHost: evil.example\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\nConnection: close\r\n\r\n"
        )
        assert s.recv(65536).startswith(b"HTTP/1.1 400")
    assert backend.recorder.count() == 2


def test_case64_http_1_1_without_host_gets_400(
    gw: Harness, provider: Provider, backend: LoopbackServer
) -> None:
    # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request with no Host.
    token = mint(provider.keys[0], claims(provider))
    resp = gw.request("GET", "/orders/x", token=token, host=None)
    assert resp.status == 400 and resp.json()["check"] == "host"
    assert backend.recorder.count() == 0


def test_http_1_0_without_host_is_the_servers_own_address(settings: Any) -> None:
    from gateway.hosts import HostCheck

    settings.GATEWAY_HOSTS = ["api.example.com"]
    scope = {"http_version": "1.0", "headers": [], "server": ("127.0.0.1", 8000)}
    assert HostCheck().refusal(scope, None, False) is None
    assert HostCheck().refusal({**scope, "http_version": "1.1"}, None, False) is not None

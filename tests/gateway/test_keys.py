"""Key fetching: addresses are checked before connecting (the rules of portal.lib.addresses,
the same as the console's); loopback only for the host and port the configuration names."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.keys import FetchError, address_problem, fetch_json
from portal.lib.addresses import allowance
from tests.gateway.conftest import LoopbackServer, Provider, claims, make_route, mint
from tests.trickle import TricklingServer


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "168.63.129.16", "10.0.0.5", "127.0.0.1", "0.0.0.1", "::1",
     "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "fd00::1", "100.64.0.1",
     "::127.0.0.1", "::a9fe:a9fe", "::ffff:0:7f00:1", "224.0.0.1", "ff02::1"],
)  # fmt: skip
def test_private_and_metadata_addresses_blocked(address: str) -> None:
    assert address_problem(address, "idp.example.com", 443, allowance([]))


def test_public_address_and_named_private_host_allowed() -> None:
    assert not address_problem("93.184.216.34", "idp.example.com", 443, allowance([]))
    assert not address_problem("127.0.0.1", "localhost", 8000, allowance(["localhost:8000"]))
    # Named or not, metadata and IPv4-in-IPv6 spellings stay refused.
    for address in ("169.254.169.254", "::127.0.0.1", "::ffff:0:7f00:1"):
        assert address_problem(address, "localhost", 8000, allowance(["localhost:8000"]))


def test_loopback_fetch_refused_unless_configured(backend: LoopbackServer, settings: Any) -> None:
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = []
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    settings.IDENTITY_ISSUER = "https://idp.example.com"
    with pytest.raises(FetchError, match="not allowed"):
        asyncio.run(fetch_json(backend.url + "/jwks"))
    assert backend.recorder.count() == 0
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = ["127.0.0.1"]
    assert asyncio.run(fetch_json(backend.url + "/jwks"))["ok"] is True


def test_private_allowance_is_per_port(backend: LoopbackServer, settings: Any) -> None:
    """Allowing the provider on 127.0.0.1:<its port> must not open 127.0.0.1:<another port>
    (say Redis on 6379): the key fetch is refused before connecting."""
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    settings.IDENTITY_ISSUER = "https://idp.example.com"
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = ["127.0.0.1:1"]
    with pytest.raises(FetchError, match="not allowed"):
        asyncio.run(fetch_json(backend.url + "/jwks"))
    assert backend.recorder.count() == 0
    port = backend.url.rsplit(":", 1)[1]
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = [f"127.0.0.1:{port}"]
    assert asyncio.run(fetch_json(backend.url + "/jwks"))["ok"] is True


def test_case85_a_trickling_provider_is_cut_at_the_deadline(settings: Any) -> None:
    """SECURITY case 85: bytes every 0.1 s never trip the 2 s per-read timeout; the fetch
    fails at connect + read = 1 s, before the provider has sent its whole answer."""
    settings.GATEWAY_JWKS_CONNECT_TIMEOUT = 0.5
    settings.GATEWAY_JWKS_TIMEOUT = 0.5
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + b" " * 38 + b"{}"
    with TricklingServer(answer) as server, pytest.raises(FetchError, match="did not answer"):
        settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = [f"127.0.0.1:{server.port}"]
        asyncio.run(fetch_json(f"http://127.0.0.1:{server.port}/jwks"))
    assert server.sent < len(answer)


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.google.internal/x",
        "http://metadata.azure.com/x",
        "http://instance-data/x",
        "http://metadata.goog/x",
        "ftp://idp/x",
        "https://u:p@idp/x",
    ],
)
def test_metadata_names_and_bad_urls_refused(url: str, settings: Any) -> None:
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = ["metadata", "instance-data", "metadata.goog"]
    with pytest.raises(FetchError):
        asyncio.run(fetch_json(url))


def test_metadata_names_with_other_dots_are_refused_before_any_lookup() -> None:
    with pytest.raises(FetchError, match="cloud metadata name"):
        asyncio.run(fetch_json("http://metadata\u3002platformequinix\uff0ecom/metadata"))


def test_a_slow_provider_holds_a_call_no_longer_than_its_routes_timeout(
    harness_for: Any, provider: Provider, backend: LoopbackServer
) -> None:
    """The route's timeout bounds the whole exchange, the wait for cold keys included: a
    discovery document that takes 3 s (within the fetch's own 5 s read timeout) answers a
    call on a route with a 1 s timeout with 503 `keys` instead of holding it for 3 s; the
    fetch goes on, so a later call finds the keys."""
    import time

    answer = provider.server.recorder.routes[provider.path + "/.well-known/openid-configuration"]

    def slow(h: Any) -> None:
        time.sleep(3)
        answer(h)

    provider.server.recorder.routes[provider.path + "/.well-known/openid-configuration"] = slow
    route = make_route(provider, backend.url)
    route.timeout = 1.0
    gw = harness_for(route)
    token = mint(provider.keys[0], claims(provider))
    first = gw.request("GET", "/orders/x", token=token)
    assert first.status == 503 and first.json()["check"] == "keys"
    statuses = []
    for _ in range(40):  # the fetch finishes in the background
        gw.loop.run_until_complete(asyncio.sleep(0.25))
        statuses.append(gw.request("GET", "/orders/x", token=token).status)
        if statuses[-1] == 200:
            break
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
    assert provider.server.recorder.count(provider.path + "/.well-known/openid-configuration") == 1

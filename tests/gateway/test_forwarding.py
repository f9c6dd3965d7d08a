"""What the backend receives: SECURITY.md case 62 (method and URL override headers never
reach a backend) against the recording backend, through the proxy and the echo backend.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.gateway.conftest import Harness, LoopbackServer, Provider, claims, make_route, mint
from tests.portal.test_headers import CASE_62

Build = Callable[..., Harness]


def read_only(provider: Provider) -> str:
    return mint(provider.keys[0], claims(provider, scope="orders.read"))


@pytest.mark.parametrize("name", CASE_62)
def test_case62_override_headers_never_reach_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer, name: str
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    overrides = {
        name: "DELETE" if "method" in name.lower() else "/admin/delete-everything",
        name.lower(): "DELETE",
    }
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers=overrides)
    assert resp.status == 200
    [seen] = backend.recorder.requests
    assert seen["method"] == "GET" and seen["path"] == "/items/1"
    sent = {k for k, _ in seen["headers"]}
    assert name.lower() not in sent, seen["headers"]
    assert "x-request-id" in sent  # the recorder does see the gateway's own headers


def test_case62_echo_shows_no_override_headers(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    gw = harness_for(make_route(provider, None, backend="echo"))
    headers = dict.fromkeys(CASE_62, "DELETE")
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers=headers)
    assert resp.status == 200
    shown = {k.lower() for k in resp.json()["headers"]}
    assert not shown & {n.lower() for n in CASE_62}
    assert resp.json()["method"] == "GET"

"""validate-jwt with Entra's multi-tenant discovery (`.../organizations/v2.0`), whose issuer is
the template `.../{tenantid}/v2.0`: a token passes when the API lists its issuer and that
issuer is the template filled with the token's own `tid` (accounts/issuers.py's rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.gateway.conftest import Harness, LoopbackServer, Provider, claims, make_route, mint

Build = Callable[..., Harness]

TENANT_A = "6e2f8a1c-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
TENANT_B = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"


@pytest.fixture
def entra(provider: Provider) -> Provider:
    """The provider's discovery at /organizations/v2.0 names the issuer by the template."""
    base = provider.server.url

    def discovery(h: Any) -> None:
        h.send_json(200, {"issuer": base + "/{tenantid}/v2.0", "jwks_uri": base + "/jwks"})

    provider.server.recorder.routes["/organizations/v2.0/.well-known/openid-configuration"] = (
        discovery
    )
    return provider


def _route(entra: Provider, backend: LoopbackServer, issuers: tuple[str, ...]) -> Any:
    url = entra.server.url + "/organizations/v2.0/.well-known/openid-configuration"
    return make_route(entra, backend.url, openid_config=(url,), issuers=issuers)


def _issuer(entra: Provider, tenant: str) -> str:
    return f"{entra.server.url}/{tenant}/v2.0"


def _token(entra: Provider, iss: str, tid: Any) -> str:
    return mint(entra.keys[0], claims(entra, iss=iss, tid=tid, scope="orders.read"))


def test_a_listed_tenant_passes(
    harness_for: Build, entra: Provider, backend: LoopbackServer
) -> None:
    gw = harness_for(_route(entra, backend, (_issuer(entra, TENANT_A),)))
    token = _token(entra, _issuer(entra, TENANT_A), TENANT_A)
    resp = gw.request("GET", "/orders/items/1", token=token)
    assert resp.status == 200, resp.body
    assert backend.recorder.count() == 1


@pytest.mark.parametrize(
    ("tenant", "tid"),
    [
        (TENANT_B, TENANT_B),  # a tenant the API does not list
        (TENANT_A, TENANT_B),  # the listed issuer, but not the token's own tenant
        (TENANT_A, None),  # no tid: nothing fills the template
        (TENANT_A, TENANT_A.upper() + "x"),  # no GUID
    ],
)
def test_another_tenant_or_a_tid_that_does_not_fill_the_template_is_refused(
    harness_for: Build, entra: Provider, backend: LoopbackServer, tenant: str, tid: Any
) -> None:
    gw = harness_for(_route(entra, backend, (_issuer(entra, TENANT_A),)))
    resp = gw.request("GET", "/orders/items/1", token=_token(entra, _issuer(entra, tenant), tid))
    assert resp.status == 401
    assert resp.header("X-Gateway-Check") == "iss"
    assert backend.recorder.count() == 0


def test_without_issuers_listed_every_tenant_is_refused_saying_why(
    harness_for: Build, entra: Provider, backend: LoopbackServer
) -> None:
    # Trusting the template whole would let in every tenant's tokens (Entra signs all of
    # them with the same keys); the refusal says what to configure.
    gw = harness_for(_route(entra, backend, ()))
    token = _token(entra, _issuer(entra, TENANT_A), TENANT_A)
    resp = gw.request("GET", "/orders/items/1", token=token)
    assert resp.status == 401
    assert resp.header("X-Gateway-Check") == "iss"
    assert "tenant template" in resp.body.decode()
    assert backend.recorder.count() == 0


@pytest.mark.parametrize(
    ("url", "multi"),
    [
        (
            "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration",
            True,
        ),
        ("https://LOGIN.microsoftonline.com/Common/v2.0/.well-known/openid-configuration", True),
        ("https://login.microsoftonline.us/consumers/v2.0/.well-known/openid-configuration", True),
        ("https://login.windows.net/common/.well-known/openid-configuration", True),
        (
            f"https://login.microsoftonline.com/{TENANT_A}/v2.0/.well-known/openid-configuration",
            False,
        ),
        ("https://idp.example.com/common/.well-known/openid-configuration", False),
    ],
)
def test_which_discovery_urls_serve_every_tenant(url: str, multi: bool) -> None:
    from accounts.issuers import multi_tenant_authority

    assert multi_tenant_authority(url) is multi

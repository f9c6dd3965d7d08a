"""validate-jwt's `require-subscribed-client` (issue 10, "The gateway ties the client to a
subscription"): the token's client_id, or azp, must be a developer application with an active
subscription to a product that includes this API; the token carries none of the API's scopes
its products leave out. Otherwise 403 with a check the console shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from applications import flows as app_flows
from gateway.clients import SubscribedClients
from gateway.jwt import ClaimRule
from products import flows
from products.models import Product, Subscription
from tests.gateway.conftest import (
    DROP,
    Harness,
    LoopbackServer,
    Provider,
    claims,
    echo_in_starter,
    make_route,
    mint,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(settings: Any) -> dict[str, Any]:
    """The API `orders` (echo.yaml: scopes echo.read, echo.write) in a published product,
    a developer's machine application subscribed to it, and another one not subscribed."""
    settings.GATEWAY_CONFIG_REFRESH = 0
    settings.PASSWORD_HASHERS = ["identity.hashers.ClientSecretHasher"]
    product, ada = echo_in_starter()
    app = app_flows.register(ada, name="Ada's job", kind="machine", redirect_uris=[]).application
    other = app_flows.register(ada, name="Ada's other", kind="machine", redirect_uris=[])
    sub = flows.subscribe(ada, product, application=app)
    assert sub.state == Subscription.ACTIVE
    return {"product": product, "app": app, "other": other.application, "sub": sub, "ada": ada}


@pytest.fixture
def gateway(
    harness_for: Callable[..., Harness], provider: Provider, backend: LoopbackServer
) -> Harness:
    route = make_route(provider, backend.url, required_claims=(), require_subscribed_client=True)
    harness = harness_for(route)
    harness.app.validator.clients = SubscribedClients()
    return harness


def token_for(provider: Provider, client_id: Any, scope: str = "echo.read", **more: Any) -> str:
    return mint(provider.keys[0], claims(provider, client_id=client_id, scope=scope, **more))


def test_a_subscribed_application_passes(
    gateway: Harness, provider: Provider, world: dict[str, Any]
) -> None:
    token = token_for(provider, world["app"].client_id, "echo.read echo.write")
    assert gateway.request("GET", "/orders/items", token=token).status == 200


def test_a_client_without_a_subscription_gets_403(
    gateway: Harness, provider: Provider, backend: LoopbackServer, world: dict[str, Any]
) -> None:
    for client_id in (world["other"].client_id, "console", "no-such-client"):
        response = gateway.request("GET", "/orders/items", token=token_for(provider, client_id))
        assert response.status == 403
        assert response.json()["check"] == "subscribed-client"
        assert "subscription" in response.json()["detail"]
    assert backend.recorder.requests == []


def test_azp_names_the_client_when_there_is_no_client_id(
    gateway: Harness, provider: Provider, world: dict[str, Any]
) -> None:
    assert gateway.app.routes is not None
    gateway.app.routes["orders"].policy = make_route(
        provider, None, required_claims=(), require_subscribed_client=True,
        require_rfc9068_claims=False,
    ).policy  # fmt: skip
    ok = token_for(provider, DROP, azp=world["app"].client_id)
    refused = token_for(provider, DROP, azp=world["other"].client_id)
    assert gateway.request("GET", "/orders/items", token=ok).status == 200
    assert gateway.request("GET", "/orders/items", token=refused).status == 403


def test_cancelling_the_subscription_refuses_the_next_call(
    gateway: Harness, provider: Provider, world: dict[str, Any]
) -> None:
    token = token_for(provider, world["app"].client_id)
    assert gateway.request("GET", "/orders/items", token=token).status == 200  # cached verdict
    flows.change_state(world["sub"], "cancel", world["ada"])
    response = gateway.request("GET", "/orders/items", token=token)
    assert response.status == 403 and response.json()["check"] == "subscribed-client"


def test_a_deactivated_owners_application_is_refused_on_the_next_call(
    gateway: Harness, provider: Provider, world: dict[str, Any]
) -> None:
    """A token the provider issued before (or an external provider issues) for the machine
    application of a developer an administrator deactivated: its subscriptions grant nothing."""
    token = token_for(provider, world["app"].client_id)
    assert gateway.request("GET", "/orders/items", token=token).status == 200  # cached verdict
    world["ada"].is_active = False
    world["ada"].save()
    response = gateway.request("GET", "/orders/items", token=token)
    assert response.status == 403 and response.json()["check"] == "subscribed-client"


def test_an_unpublished_product_grants_nothing(
    gateway: Harness, provider: Provider, world: dict[str, Any]
) -> None:
    Product.objects.filter(pk=world["product"].pk).update(published=False)
    token = token_for(provider, world["app"].client_id)
    assert gateway.request("GET", "/orders/items", token=token).status == 403


def test_scopes_outside_the_products_subset_get_403(
    gateway: Harness, provider: Provider, world: dict[str, Any]
) -> None:
    product = world["product"]
    product.api_scopes = {"orders": ["echo.read"]}  # a read-only Starter
    product.save()
    read = token_for(provider, world["app"].client_id, "echo.read")
    write = token_for(provider, world["app"].client_id, "echo.read echo.write")
    assert gateway.request("GET", "/orders/items", token=read).status == 200
    response = gateway.request("GET", "/orders/items", token=write)
    assert response.status == 403
    assert response.json()["check"] == "product-scope" and "echo.write" in response.json()["detail"]


def test_a_client_id_matched_by_issuer_when_the_issuer_is_known(
    gateway: Harness, provider: Provider, world: dict[str, Any], settings: Any
) -> None:
    """A built-in application's client id in a token from another trusted issuer is not it."""
    settings.IDENTITY_ISSUER = "https://idp.example"
    token = token_for(provider, world["app"].client_id)
    response = gateway.request("GET", "/orders/items", token=token)
    assert response.status == 403 and response.json()["check"] == "subscribed-client"


def test_off_by_default(
    harness_for: Callable[..., Harness],
    provider: Provider,
    backend: LoopbackServer,
    world: dict[str, Any],
) -> None:
    harness = harness_for(make_route(provider, backend.url, required_claims=()))
    harness.app.validator.clients = SubscribedClients()
    token = token_for(provider, "console")
    assert harness.request("GET", "/orders/items", token=token).status == 200


@pytest.mark.parametrize(
    "carried",
    [
        {"scope": DROP, "scp": "echo.read echo.write"},  # Entra's claim, read by a scp rule
        {"scope": "echo.read", "scp": "echo.write"},
        {"scope": DROP, "scp": ["echo.read", "echo.write"]},  # Okta's list
        {"scope": "echo.read\techo.write"},
        {"scope": "echo.read,echo.write"},  # what a rule with a comma separator reads
    ],
)
def test_scopes_outside_the_products_subset_get_403_however_the_token_spells_them(
    gateway: Harness, provider: Provider, world: dict[str, Any], carried: dict[str, Any]
) -> None:
    """The product-scope check read only a space-delimited `scope`; a required-claims rule
    reads `scp` too, or another separator, so a read-only Starter's client with a token
    spelling echo.write so passed the check and the rule."""
    product = world["product"]
    product.api_scopes = {"orders": ["echo.read"]}
    product.save()
    token = mint(provider.keys[0], claims(provider, client_id=world["app"].client_id, **carried))
    response = gateway.request("GET", "/orders/items", token=token)
    assert response.status == 403
    assert response.json()["check"] == "product-scope" and "echo.write" in response.json()["detail"]


@pytest.mark.parametrize(
    ("claim", "carried"),
    [
        ("roles", ["echo.read", "echo.write"]),  # Entra's app roles (client credentials)
        ("entitlements", ["echo.write"]),  # a claim of the provider's own
    ],
)
def test_scopes_outside_the_products_subset_get_403_in_any_claim_a_rule_reads(
    harness_for: Callable[..., Harness],
    provider: Provider,
    backend: LoopbackServer,
    world: dict[str, Any],
    claim: str,
    carried: Any,
) -> None:
    """A required-claims rule may read the API's scopes from any claim (Entra puts an
    application's permissions in `roles`); the product-scope check read only scope and scp,
    so a read-only Starter's client whose token carried echo.write there passed the check and
    the rule bound to the writes, and the backend ran the write."""
    product = world["product"]
    product.api_scopes = {"orders": ["echo.read"]}
    product.save()
    rule = ClaimRule(claim, ("echo.write",), "all", "", frozenset({"POST"}))
    route = make_route(
        provider, backend.url, required_claims=(rule,), require_subscribed_client=True
    )
    harness = harness_for(route)
    harness.app.validator.clients = SubscribedClients()
    token = mint(
        provider.keys[0],
        claims(provider, client_id=world["app"].client_id, scope="echo.read", **{claim: carried}),
    )
    response = harness.request("POST", "/orders/items", token=token, body=b"{}")
    assert response.status == 403
    assert response.json()["check"] == "product-scope" and "echo.write" in response.json()["detail"]
    assert backend.recorder.count() == 0


def test_a_scp_within_the_products_subset_passes(
    gateway: Harness, provider: Provider, world: dict[str, Any]
) -> None:
    product = world["product"]
    product.api_scopes = {"orders": ["echo.read"]}
    product.save()
    token = mint(
        provider.keys[0],
        claims(provider, client_id=world["app"].client_id, scope=DROP, scp="echo.read"),
    )
    assert gateway.request("GET", "/orders/items", token=token).status == 200


@pytest.mark.parametrize("registered", ["https://op.example/", "https://op.example"])
@pytest.mark.parametrize("in_token", ["https://op.example/", "https://op.example"])
def test_an_issuer_with_a_trailing_slash_matches_its_clients(
    world: dict[str, Any], registered: str, in_token: str
) -> None:
    """Issuers are kept without their trailing slash; a token from an issuer that has one
    (Auth0's `https://tenant.auth0.com/`) was refused for its own subscribed client."""
    from applications.models import Application
    from gateway.clients import load_clients, refusal

    Application.objects.filter(pk=world["app"].pk).update(issuer=registered)
    payload = {"client_id": world["app"].client_id, "iss": in_token, "scope": "echo.read"}
    assert refusal(load_clients(), "orders", payload) is None
    other = {**payload, "iss": "https://op.example.evil/"}
    refused = refusal(load_clients(), "orders", other)
    assert refused is not None and refused.check == "subscribed-client"


def test_an_application_whose_issuer_is_unknown_matches_no_other_issuer(
    world: dict[str, Any],
) -> None:
    """An application registered at an external server whose issuer discovery did not give
    (`registration.issuer_of` returned "") matched every issuer the route trusts, and so did a
    built-in application whose provider client was deleted: another trusted issuer's token
    naming the same client id passed as that application. The server's configured or
    discovered issuer stands in; with none known, no token names the application."""
    from applications.models import Application
    from console.models import AuthorizationServer
    from gateway.clients import load_clients, refusal

    server = AuthorizationServer.objects.create(
        slug="op", name="OP", client_id="portal", issuer="https://op.example/"
    )
    Application.objects.filter(pk=world["app"].pk).update(
        server=server, provider_client=None, issuer=""
    )
    payload = {"client_id": world["app"].client_id, "scope": "echo.read"}
    assert refusal(load_clients(), "orders", {**payload, "iss": "https://op.example"}) is None
    refused = refusal(load_clients(), "orders", {**payload, "iss": "https://other.example"})
    assert refused is not None and refused.check == "subscribed-client"
    AuthorizationServer.objects.filter(pk=server.pk).update(issuer="", metadata={})
    for iss in ("https://op.example", "https://other.example"):
        refused = refusal(load_clients(), "orders", {**payload, "iss": iss})
        assert refused is not None and refused.check == "subscribed-client"
    # A built-in application whose provider client is gone: no token names it either.
    Application.objects.filter(pk=world["app"].pk).update(server=None)
    refused = refusal(load_clients(), "orders", {**payload, "iss": "https://other.example"})
    assert refused is not None and refused.check == "subscribed-client"

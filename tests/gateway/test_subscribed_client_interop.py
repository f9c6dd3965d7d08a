"""require-subscribed-client with a client registered at an independent provider (issue 10,
"Done": panva's oidc-provider, pinned in tests/identity/op). The portal registers a machine
application there through RFC 7591; the client-credentials token the provider issues for the
API's resource (RFC 8707, a JWT) is refused by the gateway until the application is
subscribed to a product with the API, and passes once it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from applications import flows as app_flows
from console.models import AuthorizationServer
from gateway.clients import SubscribedClients
from products import flows
from products.models import Subscription
from tests.applications.op import INITIAL_ACCESS_TOKEN, ExternalOP, running_op
from tests.gateway.conftest import Harness, LoopbackServer, echo_in_starter, make_route

pytestmark = pytest.mark.django_db(transaction=True)

RESOURCE = "api://orders"


@pytest.fixture
def op(settings: Any) -> Iterator[ExternalOP]:
    with running_op({RESOURCE: "echo.read echo.write"}) as running:
        settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = [running.host_port]
        yield running


def _token(op: ExternalOP, client_id: str, secret: str) -> str:
    answer = requests.post(
        f"{op.issuer}/token",
        data={"grant_type": "client_credentials", "scope": "echo.read", "resource": RESOURCE},
        auth=(client_id, secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token = str(answer.json()["access_token"])
    assert token.count(".") == 2  # a JWT the gateway verifies with the provider's keys
    return token


def test_external_client_passes_once_subscribed_and_not_before(
    op: ExternalOP,
    harness_for: Callable[..., Harness],
    backend: LoopbackServer,
    settings: Any,
) -> None:
    settings.GATEWAY_CONFIG_REFRESH = 0
    product, ada = echo_in_starter()
    server = AuthorizationServer.objects.create(
        slug="interop",
        name="Interop AS",
        discovery_url=f"{op.issuer}/.well-known/openid-configuration",
        client_id="portal-interop",
        developer_registration=True,
        grant_client_credentials=True,
        initial_access_token=INITIAL_ACCESS_TOKEN,
    )
    registered = app_flows.register(
        ada, name="Ada's job", kind="machine", redirect_uris=[], server=server
    )
    app = registered.application
    assert app.issuer == op.issuer and app.provider_client is None

    route = make_route(
        None,
        backend.url,
        openid_config=(f"{op.issuer}/.well-known/openid-configuration",),
        audiences=(RESOURCE,),
        required_claims=(),
        require_subscribed_client=True,
    )
    gateway = harness_for(route)
    gateway.app.validator.clients = SubscribedClients()

    token = _token(op, app.client_id, registered.secret)
    refused = gateway.request("GET", "/orders/items", token=token)
    assert refused.status == 403, refused.body
    assert refused.json()["check"] == "subscribed-client"
    assert backend.recorder.requests == []

    sub = flows.subscribe(ada, product, application=app)
    assert sub.state == Subscription.ACTIVE
    passed = gateway.request("GET", "/orders/items", token=token)
    assert passed.status == 200, passed.body
    assert len(backend.recorder.requests) == 1

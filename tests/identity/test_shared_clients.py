"""A client shared by many developers (the try-it console's client at the built-in provider,
`Client.scopes_from_subscriptions`) mints no API scope of its own: a token carries an API's
scope only when the signed-in developer's own applications hold it through an active
subscription, and a token with no developer behind it (client credentials) carries none.
Issue 10: "No shared console client can mint other scopes"."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from apis.models import Api
from applications import flows as app_flows
from identity.models import Client as OAuthClient
from products import flows
from products.models import Subscription
from tests.identity.conftest import REDIRECT
from tests.identity.test_tokens import _basic, _pkce, code_flow
from tests.products.conftest import make_product  # noqa: F401  (a fixture, shared)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]


@pytest.fixture
def shared(app: OAuthClient) -> OAuthClient:
    app.scopes_from_subscriptions = True
    app.allow_client_credentials = True
    app.save()
    return app


@pytest.fixture
def starter(make_product: Any, signed_in: Any) -> Any:  # noqa: F811
    """grace's machine application subscribed to a read-only Starter with the echo API."""
    echo = Api.objects.get(slug="echo")
    product = make_product("starter", echo, api_scopes={"echo": ["echo.read"]})
    job = app_flows.register(signed_in, name="Job", kind="machine", redirect_uris=[]).application
    sub = flows.subscribe(signed_in, product, application=job)
    assert sub.state == Subscription.ACTIVE
    return sub


def _authorize_error(client: Client, app: OAuthClient, scope: str) -> list[str]:
    _, challenge = _pkce()
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = client.get("/idp/authorize/?" + urlencode(query))
    assert answer.status_code == 302, answer.content[:300]
    return parse_qs(urlsplit(answer["Location"]).query).get("error", [])


def test_client_credentials_get_no_api_scope(client: Client, shared: OAuthClient) -> None:
    answer = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": "echo.read"},
        HTTP_AUTHORIZATION=_basic("console", "console-secret"),
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"
    no_api = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": "openid"},
        HTTP_AUTHORIZATION=_basic("console", "console-secret"),
    )
    assert no_api.status_code == 200  # the client itself still works


def test_a_developer_without_subscriptions_gets_no_api_scope(
    client: Client, shared: OAuthClient, signed_in: Any
) -> None:
    assert _authorize_error(client, shared, "openid echo.read") == ["invalid_scope"]


def test_a_developer_gets_what_the_subscription_grants_and_nothing_else(
    client: Client, shared: OAuthClient, starter: Any
) -> None:
    tokens = code_flow(client, shared, scope="openid echo.read")
    assert tokens["scope"] == "openid echo.read"
    assert _authorize_error(client, shared, "openid echo.write") == ["invalid_scope"]
    assert _authorize_error(client, shared, "openid petstore.read") == ["invalid_scope"]


def test_a_suspended_subscription_stops_new_tokens(
    client: Client, shared: OAuthClient, starter: Any
) -> None:
    starter.state = Subscription.SUSPENDED
    starter.save()
    assert _authorize_error(client, shared, "openid echo.read") == ["invalid_scope"]


def test_without_the_switch_a_first_party_client_keeps_every_published_api(
    client: Client, app: OAuthClient, signed_in: Any
) -> None:
    tokens = code_flow(client, app, scope="openid echo.write")
    assert tokens["scope"] == "openid echo.write"

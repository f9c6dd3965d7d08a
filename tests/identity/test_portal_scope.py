"""Who may get the `portal` scope (the /api/v1/ onboarding API): a developer's own application
with client credentials (it acts for its owner), and first-party clients an operator lists in
IDENTITY_PORTAL_SCOPE_CLIENTS. Anyone else is refused with `invalid_scope`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from applications import flows
from identity.models import Client as OAuthClient
from tests.identity.conftest import REDIRECT
from tests.identity.test_tokens import _basic, _pkce

pytestmark = pytest.mark.django_db


def _cc(client: Client, client_id: str, secret: str, scope: str = "portal") -> Any:
    return client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=_basic(client_id, secret),
    )


@pytest.fixture
def svc(client_factory: Any) -> OAuthClient:
    """A first-party client an administrator set up (like the demo's service client)."""
    return client_factory(
        "svc", "svc-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS, redirect_uris=[]
    )


def test_first_party_client_not_listed_is_refused(client: Client, svc: OAuthClient) -> None:
    answer = _cc(client, "svc", "svc-secret")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"
    assert "portal" in answer.json()["error_description"]


def test_the_refusal_says_which_client_gets_the_portal_scope(
    client: Client, svc: OAuthClient
) -> None:
    """A newcomer trying the demo's service client from a terminal read only 'This client may
    not have the portal scope.', with no word of which client may."""
    description = _cc(client, "svc", "svc-secret").json()["error_description"]
    assert "your own machine application" in description
    assert "/applications/new/" in description


def test_first_party_client_listed_by_the_operator_gets_it(
    client: Client, svc: OAuthClient, settings: Any
) -> None:
    settings.IDENTITY_PORTAL_SCOPE_CLIENTS = ["svc"]
    answer = _cc(client, "svc", "svc-secret")
    assert answer.status_code == 200, answer.content
    assert answer.json()["scope"] == "portal"


def test_developer_machine_application_gets_it_for_its_owner(
    client: Client, user_factory: Any
) -> None:
    registered = flows.register(user_factory("ada"), name="CLI", kind="machine", redirect_uris=[])
    app = registered.application
    answer = _cc(client, app.client_id, registered.secret)
    assert answer.status_code == 200, answer.content
    assert answer.json()["scope"] == "portal"


def test_developer_web_application_cannot_ask_another_user_for_it(
    client: Client, user_factory: Any, signed_in: Any
) -> None:
    """bob's web app may not ask grace (signed in at the provider) to manage her applications."""
    bob = user_factory("bob")
    web = flows.register(bob, name="Shop", kind="web", redirect_uris=[REDIRECT]).application
    _, challenge = _pkce()
    query = {
        "response_type": "code",
        "client_id": web.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid portal",
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = client.get("/idp/authorize/?" + urlencode(query))
    assert answer.status_code == 302, answer.content[:300]
    assert answer["Location"].startswith(REDIRECT)
    params = parse_qs(urlsplit(answer["Location"]).query)
    assert params["error"] == ["invalid_scope"] and "code" not in params

"""Token introspection (RFC 7662): by POST, for the token's own client or a resource server."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from identity.models import Client as OAuthClient
from tests.identity.test_tokens import _basic, code_flow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]


@pytest.fixture
def user_token(client: Client, signed_in: Any, app: Any) -> str:
    return str(code_flow(client, app)["access_token"])


@pytest.fixture
def other(client_factory: Any) -> OAuthClient:
    return client_factory(
        "other", "other-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS, redirect_uris=[]
    )


def introspect(client: Client, token: str, who: str, secret: str) -> Any:
    return client.post("/idp/introspect/", {"token": token}, HTTP_AUTHORIZATION=_basic(who, secret))


def test_own_client_learns_about_its_token(client: Client, user_token: str) -> None:
    body = introspect(client, user_token, "console", "console-secret").json()
    assert body["active"] is True and body["username"] == "grace"
    assert body["client_id"] == "console"


def test_another_client_learns_nothing(client: Client, user_token: str, other: OAuthClient) -> None:
    response = introspect(client, user_token, "other", "other-secret")
    assert response.status_code == 200 and response.json() == {"active": False}


def test_a_resource_server_may_introspect_any_token(
    client: Client, user_token: str, other: OAuthClient
) -> None:
    other.may_introspect = True
    other.save()
    body = introspect(client, user_token, "other", "other-secret").json()
    assert body["active"] is True and body["username"] == "grace"


def test_get_with_the_token_in_the_query_string_is_refused(client: Client, user_token: str) -> None:
    response = client.get(
        f"/idp/introspect/?token={user_token}",
        HTTP_AUTHORIZATION=_basic("console", "console-secret"),
    )
    assert response.status_code == 405 and "active" not in response.json()


def test_unauthenticated_introspection_is_refused(client: Client, user_token: str) -> None:
    response = client.post("/idp/introspect/", {"token": user_token})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    with_bearer = client.post(
        "/idp/introspect/", {"token": user_token}, HTTP_AUTHORIZATION=f"Bearer {user_token}"
    )
    assert with_bearer.status_code == 401 and "username" not in with_bearer.json()


def test_every_introspection_answer_is_no_store(
    client: Client, user_token: str, other: OAuthClient
) -> None:
    """RFC 7662 4 asks that answers not be cached; {"active": false} (another client's token,
    an unknown one) came without Cache-Control, so a cache between could keep it past a
    change, or hand one client's answer to another."""
    for token, who, secret in (
        (user_token, "other", "other-secret"),
        ("no-such-token", "console", "console-secret"),
        (user_token, "console", "console-secret"),
    ):
        response = introspect(client, token, who, secret)
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store", (token[:8], who)

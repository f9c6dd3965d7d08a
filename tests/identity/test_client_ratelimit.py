"""Failed client authentication at the token endpoint is limited (issue 10: 200 wrong
secrets went through in 3.7 s)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from identity.models import Client as OAuthClient
from tests.identity.test_tokens import _basic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.IDENTITY_CLIENT_AUTH_FAILURES_PER_IP = 8
    settings.IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT = 5
    settings.IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT_ANYWHERE = 50
    settings.IDENTITY_CLIENT_AUTH_PERIOD = 60


@pytest.fixture
def svc(client_factory: Any) -> OAuthClient:
    return client_factory(
        "svc", "svc-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS, redirect_uris=[]
    )


def token(client: Client, who: str, secret: str, ip: str = "203.0.113.5") -> Any:
    return client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": "echo.read"},
        HTTP_AUTHORIZATION=_basic(who, secret),
        REMOTE_ADDR=ip,
    )


def test_wrong_secrets_for_one_client_are_stopped(client: Client, svc: OAuthClient) -> None:
    statuses = [token(client, "svc", f"guess-{n}").status_code for n in range(5)]
    assert statuses == [401] * 5
    blocked = token(client, "svc", "svc-secret")  # even the right secret, from this address
    assert blocked.status_code == 429 and blocked.json()["error"] == "invalid_client"
    assert blocked["Retry-After"] == "60"
    assert token(client, "svc", "svc-secret", ip="198.51.100.7").status_code == 200


def test_guessing_across_clients_from_one_address_is_stopped(
    client: Client, svc: OAuthClient
) -> None:
    for n in range(8):
        assert token(client, f"client-{n}", "x").status_code == 401
    assert token(client, "svc", "svc-secret").status_code == 429
    assert token(client, "svc", "svc-secret", ip="198.51.100.7").status_code == 200


def test_body_credentials_count_too(client: Client, svc: OAuthClient) -> None:
    for n in range(5):
        client.post(
            "/idp/token/",
            {"grant_type": "client_credentials", "client_id": "svc", "client_secret": f"g{n}"},
        )
    response = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "svc-secret"},
    )
    assert response.status_code == 429


def test_introspection_guesses_count_too(client: Client, svc: OAuthClient) -> None:
    for n in range(5):
        response = client.post(
            "/idp/introspect/", {"token": "t"}, HTTP_AUTHORIZATION=_basic("svc", f"g{n}")
        )
        assert response.status_code == 401
    assert token(client, "svc", "svc-secret", ip="127.0.0.1").status_code == 429

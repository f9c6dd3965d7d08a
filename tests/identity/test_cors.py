"""identity/cors.py: which origin may read the token, revocation and userinfo answers. The
single-page app's whole journey is in tests/applications/test_pkce.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SPA = "https://spa.example"


@pytest.fixture
def spa_client(client_factory: Any) -> Any:
    registered = client_factory("spa", redirect_uris=[f"{SPA}/cb"])
    registered.allowed_origins = SPA
    registered.save()
    return registered


@pytest.mark.parametrize("path", ["/idp/token/", "/idp/revoke/", "/idp/userinfo/"])
@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",  # a sandboxed frame or a file: page
        f"{SPA}/path",  # not an origin: never echoed back
        f"{SPA}.evil.example",
        "http://spa.example",
        f"{SPA}\x00",  # a NUL: PostgreSQL refuses it in the clients' lookup (a 500)
        "https://spa\x00.example",
    ],
)
def test_a_preflight_from_an_origin_no_client_allows_gets_no_cors(
    client: Client, spa_client: Any, path: str, origin: str
) -> None:
    answer = client.options(path, headers={"Origin": origin,
                                           "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert answer.status_code == 204
    assert "Access-Control-Allow-Origin" not in answer
    assert "Origin" in answer["Vary"]


@pytest.mark.parametrize(("path", "methods"),
                         [("/idp/token/", "POST"), ("/idp/revoke/", "POST"),
                          ("/idp/userinfo/", "GET, POST")])  # fmt: skip
def test_a_preflight_from_a_clients_origin_names_what_it_may_send(
    client: Client, spa_client: Any, path: str, methods: str
) -> None:
    answer = client.options(path, headers={"Origin": SPA, "Access-Control-Request-Method": "POST"})
    assert answer.status_code == 204
    assert answer["Access-Control-Allow-Origin"] == SPA
    assert answer["Access-Control-Allow-Methods"] == methods
    assert answer["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert "Access-Control-Allow-Credentials" not in answer  # no cookies go with these


def test_another_clients_origin_reads_nothing_of_this_clients_answers(
    client: Client, spa_client: Any, client_factory: Any
) -> None:
    """Every client's origin passes a preflight; the answer itself is read only by the
    origins of the client it is about."""
    client_factory("other", redirect_uris=["https://other.example/cb"])
    refused = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "other"},
        headers={"Origin": SPA},
    )
    assert refused.status_code in (400, 401)
    assert "Access-Control-Allow-Origin" not in refused

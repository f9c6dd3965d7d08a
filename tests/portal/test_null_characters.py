"""A NUL character anywhere a view reads raw request text: PostgreSQL text cannot hold one,
so each reached a query and raised DataError, a 500 for anyone (SQLite took them)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.conftest import DEMO_SPECS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "method, url, data",
    [
        ("get", "/apis/echo/?v=%00", None),  # a version label
        ("get", "/apis/echo/?%00=1", None),
        ("post", "/accounts/oidc/a%00b/login/", {}),  # a provider id
    ],
)
def test_a_nul_in_the_path_query_or_form_is_400(
    client: Client, import_spec: Any, method: str, url: str, data: Any
) -> None:
    import_spec(DEMO_SPECS / "echo.yaml", "echo")
    answer = getattr(client, method)(url, data) if data is not None else client.get(url)
    assert answer.status_code == 400
    assert "NUL" in answer.content.decode()


@pytest.mark.parametrize("endpoint", ["/idp/token/", "/idp/revoke/", "/idp/introspect/"])
@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_a_nul_in_a_client_id_at_the_provider_is_400(
    client: Client, endpoint: str, encoding: str
) -> None:
    fields = {"grant_type": "client_credentials", "token": "t", "client_id": "a\x00b"}
    if encoding == "multipart":
        answer = client.post(endpoint, fields)
        assert answer.json()["error"] == "invalid_request"
    else:
        answer = client.post(
            endpoint, urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
    assert answer.status_code == 400


def test_a_nul_in_a_cookie_is_400(client: Client) -> None:
    # An octal escape in a quoted cookie value is a NUL once Django reads it.
    answer = client.get("/apis/", HTTP_COOKIE='sessionid="abcdefgh\\000ijklmnop"')
    assert answer.status_code == 400


def test_a_nul_in_basic_client_credentials_is_invalid_client(client: Client) -> None:
    """Basic credentials are form-decoded (`%00`), past any middleware's reach."""
    basic = base64.b64encode(b"a%00b:secret").decode()
    answer = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"

"""Discovery, JWKS and the provider's own page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_discovery_follows_the_request_host_when_no_issuer_is_set(
    client: Client, settings: Any
) -> None:
    settings.IDENTITY_ISSUER = ""
    doc = client.get("/idp/.well-known/openid-configuration").json()
    assert doc["issuer"] == "http://testserver/idp"
    assert doc["token_endpoint"] == "http://testserver/idp/token/"
    assert doc["jwks_uri"] == "http://testserver/idp/jwks/"
    assert doc["end_session_endpoint"] == "http://testserver/idp/logout/"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True


def test_configured_issuer_wins(client: Client, settings: Any) -> None:
    settings.IDENTITY_ISSUER = "https://portal.example.com/idp"
    doc = client.get("/idp/.well-known/openid-configuration").json()
    assert doc["issuer"] == "https://portal.example.com/idp"
    assert doc["authorization_endpoint"] == "https://portal.example.com/idp/authorize/"


def test_jwks_publishes_rs256_public_keys(client: Client) -> None:
    (key,) = client.get("/idp/jwks/").json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}


@pytest.mark.parametrize("path", ["/idp/jwks/", "/idp/.well-known/openid-configuration", "/idp/"])
def test_read_only_endpoints_refuse_post(client: Client, path: str) -> None:
    assert client.post(path).status_code == 405


def test_provider_page(client: Client, settings: Any) -> None:
    settings.IDENTITY_ISSUER = ""
    page = client.get("/idp/")
    assert page.status_code == 200 and b"http://testserver/idp/token/" in page.content


def test_oauth_server_metadata_is_the_discovery_document(client: Client) -> None:
    """RFC 8414 metadata at /idp/.well-known/oauth-authorization-server says what discovery
    says. It was DOT's own document: it offered the device-code grant the token endpoint
    refuses (unsupported_grant_type), named no jwks_uri and came without caching headers."""
    oidc = client.get("/idp/.well-known/openid-configuration")
    oauth = client.get("/idp/.well-known/oauth-authorization-server")
    assert oauth.status_code == 200
    assert oauth.json() == oidc.json()
    assert (
        "urn:ietf:params:oauth:grant-type:device_code" not in oauth.json()["grant_types_supported"]
    )
    assert oauth["Cache-Control"] == oidc["Cache-Control"]
    assert oauth["Access-Control-Allow-Origin"] == "*"

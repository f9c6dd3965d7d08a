"""Endpoints from a discovery document, and the documents refused: another issuer's, or one
naming plain-http endpoints for an https issuer."""

from __future__ import annotations

from typing import Any

import pytest

from console import authorization, grants
from console.models import (
    GRANT_AUTHORIZATION_CODE,
)
from console.refusals import GrantError
from tests.console.conftest import ALL, IDP, token_response


@pytest.mark.parametrize(
    ("discovery_path", "configured_issuer"),
    [
        ("/.well-known/openid-configuration", ""),
        ("/.well-known/openid-configuration", IDP),
        ("/.well-known/oauth-authorization-server", ""),
    ],
)
def test_a_discovery_document_naming_another_issuer_is_refused(
    auth_server: Any, fake_outbound: Any, discovery_path: str, configured_issuer: str
) -> None:
    """OpenID Discovery 4.3 and RFC 8414 3.3: the issuer in the document must be the one its
    URL was made from (and the one configured). A document naming another issuer was used
    as is: its endpoints got the console's client secret and codes, and its issuer became
    the one an authorization response's `iss` was checked against."""
    url = f"{IDP}{discovery_path}"
    server = auth_server(
        grants=ALL, discovery_url=url, issuer=configured_issuer, authorize_url="", token_url=""
    )
    evil = "https://evil.example"
    fake_outbound.json(
        "GET",
        url,
        {"issuer": evil, "authorization_endpoint": f"{evil}/auth", "token_endpoint": f"{evil}/t"},
    )
    with pytest.raises(GrantError, match="issuer"):
        authorization.start_authorization(
            server, GRANT_AUTHORIZATION_CODE, [], redirect_uri="http://t/cb", store={},
            return_to="/",
        )  # fmt: skip
    with pytest.raises(GrantError, match="issuer"):
        grants.client_credentials(server, ["echo.read"])
    assert all(s.method == "GET" for s in fake_outbound.sent), "no token request went out"


def test_a_discovery_document_of_its_own_issuer_is_used(
    auth_server: Any, fake_outbound: Any
) -> None:
    url = f"{IDP}/tenant/.well-known/openid-configuration"
    server = auth_server(grants=ALL, discovery_url=url, issuer="", token_url="")
    fake_outbound.json("GET", url, {"issuer": f"{IDP}/tenant", "token_endpoint": f"{IDP}/t"})
    fake_outbound.json("POST", f"{IDP}/t", token_response())
    assert grants.client_credentials(server, ["echo.read"]).access_token


@pytest.mark.parametrize(
    "endpoint", ["authorization_endpoint", "token_endpoint", "revocation_endpoint"]
)
def test_an_https_discovery_document_naming_a_plain_http_endpoint_is_refused(
    auth_server: Any, fake_outbound: Any, endpoint: str
) -> None:
    """The document came over TLS from an https issuer; a plain-http endpoint in it would
    have the client secret, the code and the tokens cross the network in the clear (the
    portal's own sign-in refuses such a document)."""
    url = f"{IDP}/.well-known/openid-configuration"
    server = auth_server(grants=ALL, discovery_url=url, issuer="", token_url="", authorize_url="")
    plain = IDP.replace("https://", "http://", 1)
    doc = {
        "issuer": IDP,
        "authorization_endpoint": f"{IDP}/auth",
        "token_endpoint": f"{IDP}/t",
        "revocation_endpoint": f"{IDP}/r",
    }
    fake_outbound.json("GET", url, {**doc, endpoint: f"{plain}/{endpoint}"})
    fake_outbound.json("POST", f"{IDP}/t", token_response())
    fake_outbound.json("POST", f"{plain}/token_endpoint", token_response())
    with pytest.raises(GrantError, match="plain http"):
        grants.client_credentials(server, ["echo.read"])
    assert all(s.method == "GET" for s in fake_outbound.sent), "no token request went out"

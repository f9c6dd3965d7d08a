"""SECURITY.md case 77: a single-page application gets no secret; its token request without
PKCE is refused. Through the built-in provider's real authorization and token endpoints."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from identity.models import Client as OAuthClient
from tests.conftest import DEMO_SPECS

REDIRECT = "https://spa.example/callback"


@pytest.fixture
def spa(ada: Any, register: Callable[..., Any], client: Client, import_spec: Any) -> Any:
    import_spec(DEMO_SPECS / "echo.yaml", "echo")
    registered = register(ada, "spa", redirect_uris=[REDIRECT])
    assert (
        client.post("/idp/login/", {"username": "ada", "password": "pw-ada-1"}).status_code == 302
    )
    return registered


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(client: Client, client_id: str, **extra: str) -> dict[str, list[str]]:
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                       "scope": "openid", "state": "st", **extra})  # fmt: skip
    page = client.get(f"/idp/authorize/?{query}")
    if page.status_code == 200 and page.context and page.context.get("form") is not None:
        fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
        page = client.post(f"/idp/authorize/?{query}", {**fields, "allow": "Authorize"})
    if page.status_code != 302:
        return {"page_error": [page.content.decode()]}
    assert page["Location"].startswith(REDIRECT)
    return parse_qs(urlsplit(page["Location"]).query)


def _exchange(client: Client, client_id: str, code: str, origin: str = "", **extra: str) -> Any:
    """The code's exchange; from a page at `origin` (its Origin header) when given."""
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": client_id, **extra}  # fmt: skip
    if origin:
        return client.post("/idp/token/", body, headers={"Origin": origin})
    return client.post("/idp/token/", body)


def test_case_77_a_single_page_app_has_no_secret(spa: Any) -> None:
    provider = spa.application.provider_client
    assert spa.secret == "" and provider.client_type == OAuthClient.CLIENT_PUBLIC
    assert provider.client_secret == ""


def test_case_77_an_authorization_request_without_pkce_is_refused(client: Client, spa: Any) -> None:
    answer = _authorize(client, spa.application.client_id)
    assert "code" not in answer
    assert answer["error"] == ["invalid_request"]
    assert answer["error_description"] == ["Code challenge required."]


def test_case_77_a_token_request_without_the_code_verifier_is_refused(
    client: Client, spa: Any
) -> None:
    client_id = spa.application.client_id
    verifier, challenge = _pkce()
    answer = _authorize(client, client_id, code_challenge=challenge, code_challenge_method="S256")
    (code,) = answer["code"]
    refused = _exchange(client, client_id, code)
    assert refused.status_code == 400 and "access_token" not in refused.json()
    assert refused.json() == {
        "error": "invalid_request",
        "error_description": "Code verifier required.",
    }
    wrong = _exchange(client, client_id, code, code_verifier=_pkce()[0])
    assert wrong.status_code == 400 and "access_token" not in wrong.json()


def test_case_77_with_pkce_the_single_page_app_gets_a_token_without_a_secret(
    client: Client, spa: Any
) -> None:
    client_id = spa.application.client_id
    verifier, challenge = _pkce()
    answer = _authorize(client, client_id, code_challenge=challenge, code_challenge_method="S256")
    (code,) = answer["code"]
    token = _exchange(client, client_id, code, code_verifier=verifier)
    assert token.status_code == 200, token.content
    assert token.json()["access_token"]


def test_case_77_plain_pkce_is_refused(client: Client, spa: Any) -> None:
    """`plain` sends the verifier itself in the browser's URL: only S256 is offered."""
    verifier, _ = _pkce()
    answer = _authorize(
        client, spa.application.client_id, code_challenge=verifier, code_challenge_method="plain"
    )
    assert "code" not in answer and answer["error"] == ["invalid_request"]


def test_a_single_page_app_reads_its_token_from_its_own_origin_only(
    client: Client, spa: Any
) -> None:
    """A single-page app calls the token endpoint from its page, across origins: without
    `Access-Control-Allow-Origin` the browser withholds the answer, so an application
    registered as single-page could never get a token where it runs. Its redirect URIs'
    origins are the ones allowed (as Entra ID does for its SPA redirect URIs); another
    site's page reads nothing."""
    client_id = spa.application.client_id
    tokens = []
    for origin in ("https://spa.example", "https://evil.example"):
        verifier, challenge = _pkce()
        answer = _authorize(
            client, client_id, code_challenge=challenge, code_challenge_method="S256"
        )
        (code,) = answer["code"]
        token = _exchange(client, client_id, code, code_verifier=verifier, origin=origin)
        assert token.status_code == 200, token.content
        tokens.append(token)
    assert tokens[0]["Access-Control-Allow-Origin"] == "https://spa.example"
    assert "Access-Control-Allow-Origin" not in tokens[1]
    refreshed = client.post(
        "/idp/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens[0].json()["refresh_token"],
            "client_id": client_id,
        },  # fmt: skip
        headers={"Origin": "https://spa.example"},
    )
    assert refreshed.status_code == 200, refreshed.content
    assert refreshed["Access-Control-Allow-Origin"] == "https://spa.example"


def test_the_allowed_origins_follow_the_single_page_apps_redirect_uris(spa: Any) -> None:
    from applications import flows

    app = spa.application
    flows.update(app, name=app.name, description="", redirect_uris=["https://new.example/cb"])
    provider = OAuthClient.objects.get(pk=app.provider_client.pk)
    assert provider.origin_allowed("https://new.example")
    assert not provider.origin_allowed("https://spa.example")


def _tokens_from(client: Client, spa: Any, origin: str = "https://spa.example") -> Any:
    client_id = spa.application.client_id
    verifier, challenge = _pkce()
    answer = _authorize(client, client_id, code_challenge=challenge, code_challenge_method="S256")
    (code,) = answer["code"]
    token = _exchange(client, client_id, code, code_verifier=verifier, origin=origin)
    assert token.status_code == 200, token.content
    return token.json()


def _cors(response: Any) -> str | None:
    """The origin a browser lets read `response`, none without the header."""
    if "Access-Control-Allow-Origin" in response:
        assert "Origin" in response["Vary"]  # a shared cache keeps one answer per origin
    return response.get("Access-Control-Allow-Origin")


@pytest.mark.parametrize("origin", ["https://spa.example", "https://evil.example"])
def test_a_single_page_app_reads_the_token_endpoints_refusals_from_its_own_origin_only(
    client: Client, spa: Any, origin: str
) -> None:
    """A refused refresh (expired, revoked) tells the app to sign the person in again; without
    CORS on the error the browser reports a network failure and the app cannot tell."""
    refused = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": "gone", "client_id": spa.application.client_id},
        headers={"Origin": origin},
    )  # fmt: skip
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert _cors(refused) == (origin if origin == "https://spa.example" else None)


@pytest.mark.parametrize("origin", ["https://spa.example", "https://evil.example"])
def test_a_single_page_app_revokes_its_tokens_from_its_own_origin_only(
    client: Client, spa: Any, origin: str
) -> None:
    tokens = _tokens_from(client, spa)
    revoked = client.post(
        "/idp/revoke/",
        {"token": tokens["refresh_token"], "client_id": spa.application.client_id},
        headers={"Origin": origin},
    )
    assert revoked.status_code == 200
    assert _cors(revoked) == (origin if origin == "https://spa.example" else None)


@pytest.mark.parametrize("origin", ["https://spa.example", "https://evil.example"])
def test_a_single_page_app_reads_userinfo_from_its_own_origin_only(
    client: Client, spa: Any, origin: str
) -> None:
    """userinfo takes the token in an Authorization header, so the browser asks first
    (a preflight OPTIONS) and sends the call only when that answer allows the origin."""
    tokens = _tokens_from(client, spa)
    preflight = client.options(
        "/idp/userinfo/",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"},
    )  # fmt: skip
    info = client.get(
        "/idp/userinfo/",
        headers={"Origin": origin, "Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert info.status_code == 200 and info.json()["sub"]
    if origin == "https://spa.example":
        assert _cors(preflight) == origin and _cors(info) == origin
        assert "authorization" in preflight["Access-Control-Allow-Headers"].lower()
        assert "GET" in preflight["Access-Control-Allow-Methods"]
    else:
        assert _cors(preflight) is None and _cors(info) is None


def test_another_origin_reads_no_tokens_of_a_single_page_app(client: Client, spa: Any) -> None:
    """A page elsewhere may post a stolen refresh token; the browser shows it nothing."""
    tokens = _tokens_from(client, spa)
    refreshed = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
         "client_id": spa.application.client_id},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert refreshed.status_code == 200 and _cors(refreshed) is None

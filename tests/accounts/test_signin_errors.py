"""Sign-in against an external provider that misbehaves (SECURITY.md cases 54 to 58).

The provider is a real HTTP server on loopback (tests.accounts.stub_op.py); each failure
must end on the portal's error page, with no session and no 500.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.accounts.stub_op import CLIENT_ID, StubOP

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/oidc/stub/login/"
CALLBACK = "/accounts/oidc/stub/login/callback/"


def start(client: Client, next_url: str = "/apis/") -> dict[str, str]:
    response = client.post(f"{LOGIN}?process=login&next={next_url}")
    assert response.status_code == 302, response.content[:300]
    return _sent(response)


def _sent(response: Any) -> dict[str, str]:
    """The authorization request's parameters; the stub OP will echo its nonce."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    assert StubOP.current is not None
    StubOP.current.nonce = params.get("nonce")
    return params


def assert_failed(response: Any, reason: str, client: Client) -> None:
    assert response.status_code in (400, 502)
    assert f'data-reason="{reason}"' in response.content.decode()
    assert "Sign-in failed" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_case56_success_sends_pkce_and_lands_on_next(client: Client, stub_op: Any) -> None:
    params = start(client, "/apis/?q=x")
    assert params["code_challenge_method"] == "S256"
    assert params["client_id"] == CLIENT_ID

    response = client.get(CALLBACK, {"code": "c0de", "state": params["state"]})

    assert response.status_code == 302 and response["Location"] == "/apis/?q=x"
    assert client.session[SESSION_KEY]
    (token_request,) = stub_op.token_requests
    verifier = token_request["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == params["code_challenge"]


def test_case55_state_is_one_time(client: Client, stub_op: Any) -> None:
    params = start(client)
    assert client.get(CALLBACK, {"code": "c", "state": params["state"]}).status_code == 302
    client.logout()
    replay = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(replay, "state", client)


@pytest.mark.parametrize("query", [{"code": "c"}, {"code": "c", "state": "forged"}, {}])
def test_case55_missing_or_unknown_state(
    client: Client, stub_op: Any, query: dict[str, str]
) -> None:
    start(client)
    assert_failed(client.get(CALLBACK, query), "state", client)


def test_state_started_in_another_browser(client: Client, stub_op: Any) -> None:
    params = start(Client())  # another browser's session
    assert_failed(client.get(CALLBACK, {"code": "c", "state": params["state"]}), "state", client)


def test_case55_state_started_for_another_provider(
    client: Client, stub_op: Any, settings: Any
) -> None:
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    other = {**apps[0], "provider_id": "other", "name": "Other"}
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": [apps[0], other]}}
    params = start(client)
    response = client.get(
        "/accounts/oidc/other/login/callback/", {"code": "c", "state": params["state"]}
    )
    assert_failed(response, "state", client)


def test_provider_says_access_denied(client: Client, stub_op: Any) -> None:
    params = start(client)
    response = client.get(CALLBACK, {"error": "access_denied", "state": params["state"]})
    assert_failed(response, "cancelled", client)
    assert stub_op.token_requests == []


def test_provider_error_code_is_shown_escaped(client: Client, stub_op: Any) -> None:
    params = start(client)
    response = client.get(CALLBACK, {"error": "server_error", "state": params["state"]})
    assert_failed(response, "provider_error", client)
    assert "<code>server_error</code>" in response.content.decode()
    response = client.get(
        CALLBACK, {"error": "<script>x</script>", "state": start(client)["state"]}
    )
    assert "<script>x" not in response.content.decode()


@pytest.mark.parametrize(
    "claims, other_key",
    [
        ({"iss": "https://evil.example"}, False),
        ({"aud": "someone-else"}, False),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, False),
        ({"exp": None}, False),
        ({}, True),  # signed by a key that is not in the provider's JWKS
    ],
    ids=["wrong-iss", "wrong-aud", "expired", "no-exp", "bad-signature"],
)
def test_case56_bad_id_token_signs_no_one_in(
    client: Client, stub_op: Any, claims: dict[str, Any], other_key: bool
) -> None:
    stub_op.claims = claims
    stub_op.sign_with_other_key = other_key
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "invalid_id_token", client)


def test_each_authorization_request_carries_its_own_nonce(client: Client, stub_op: Any) -> None:
    first, second = start(client)["nonce"], start(client)["nonce"]
    assert len(first) >= 32 and first != second


@pytest.mark.parametrize("nonce", [None, "", "guessed", 7], ids=["none", "empty", "other", "int"])
def test_an_id_token_without_this_sign_ins_nonce_signs_no_one_in(
    client: Client, stub_op: Any, nonce: Any
) -> None:
    """OIDC Core 3.1.3.7 step 11: allauth sent no nonce and checked none, so an ID token minted
    for another sign-in (or replayed) was accepted as long as the code exchange gave it."""
    params = start(client)
    stub_op.nonce = nonce
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "invalid_id_token", client)


def test_a_nonce_from_another_sign_in_of_the_same_browser_is_refused(
    client: Client, stub_op: Any
) -> None:
    earlier = start(client)
    later = start(client)
    stub_op.nonce = earlier["nonce"]  # the provider answers the later state with the earlier
    response = client.get(CALLBACK, {"code": "c", "state": later["state"]})
    assert_failed(response, "invalid_id_token", client)
    stub_op.nonce = earlier["nonce"]
    assert client.get(CALLBACK, {"code": "c", "state": earlier["state"]}).status_code == 302
    assert client.session[SESSION_KEY]


def test_userinfo_for_another_subject(client: Client, stub_op: Any) -> None:
    stub_op.userinfo = {**stub_op.userinfo, "sub": "someone-else"}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "subject_mismatch", client)


def test_a_provider_without_a_userinfo_endpoint_signs_in_with_the_id_tokens_claims(
    client: Client, stub_op: Any
) -> None:
    """OpenID Discovery makes userinfo_endpoint RECOMMENDED, not required: allauth asked
    requests for the URL None, and every sign-in ended as 'could not be reached'."""
    stub_op.discovery_overrides = {"userinfo_endpoint": None}
    stub_op.claims = {"preferred_username": "grace", "email": "grace@example.com"}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert response.status_code == 302 and response["Location"] == "/apis/"
    assert client.session[SESSION_KEY]
    assert "/userinfo" not in stub_op.gets
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=client.session[SESSION_KEY])
    assert user.email == "grace@example.com"


def test_rfc9207_issuer_in_the_response_must_match(client: Client, stub_op: Any) -> None:
    params = start(client)
    response = client.get(
        CALLBACK, {"code": "c", "state": params["state"], "iss": "https://evil.example"}
    )
    assert_failed(response, "issuer_mismatch", client)
    assert stub_op.token_requests == []


def test_discovery_naming_another_issuer(client: Client, stub_op: Any) -> None:
    stub_op.discovery_overrides = {"issuer": "https://evil.example"}
    response = client.post(f"{LOGIN}?process=login")
    assert_failed(response, "issuer_mismatch", client)


def test_provider_unreachable(client: Client, stub_op: Any, settings: Any) -> None:
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    app["settings"] = {**app["settings"], "server_url": "http://127.0.0.1:9", "expected_issuer": ""}
    response = client.post(f"{LOGIN}?process=login")
    assert_failed(response, "provider_unreachable", client)


def test_provider_too_slow(client: Client, stub_op: Any, settings: Any) -> None:
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 0.5
    stub_op.delay = 1.5
    # The provider would answer after 1.5 s: failing as unreachable means the 0.5 s timeout
    # cut the wait (no wall-clock assert, which a loaded machine breaks).
    response = client.post(f"{LOGIN}?process=login")
    assert_failed(response, "provider_unreachable", client)


def test_case58_login_on_get_only_asks(client: Client, stub_op: Any) -> None:
    """Case 58: a GET (a link, an <img>) never leaves for the provider."""
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert stub_op.token_requests == []


def test_login_post_needs_csrf(stub_op: Any) -> None:
    """Case 53: login CSRF."""
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(f"{LOGIN}?process=login").status_code == 403


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
    ],
)
def test_case54_off_site_next_goes_home(client: Client, stub_op: Any, next_url: str) -> None:
    """Case 54."""
    response = client.post(LOGIN, {"process": "login", "next": next_url})
    params = _sent(response)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_unknown_provider_is_404(client: Client, stub_op: Any) -> None:
    assert client.post("/accounts/oidc/nope/login/").status_code == 404
    assert client.get("/accounts/oidc/nope/login/callback/?code=x&state=y").status_code == 404


def test_rfc9207_issuer_promised_but_missing(client: Client, stub_op: Any) -> None:
    stub_op.discovery_overrides = {"authorization_response_iss_parameter_supported": True}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "issuer_mismatch", client)
    ok = client.get(CALLBACK, {"code": "c", "state": start(client)["state"], "iss": stub_op.issuer})
    assert ok.status_code == 302


def test_token_endpoint_too_slow(client: Client, stub_op: Any, settings: Any) -> None:
    params = start(client)
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 0.5
    stub_op.token_delay = 1.5
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "provider_unreachable", client)


def test_a_key_set_that_trickles_in_is_cut_at_a_bound(
    client: Client, stub_op: Any, settings: Any
) -> None:
    """A JWKS sent ten bytes at a time, each piece inside the read timeout: no single read
    ever timed out, so the sign-in waited as long as the provider liked (here about 12 s,
    then it signed in). The whole answer has a deadline."""
    params = start(client)
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 1
    stub_op.drip_bytes, stub_op.drip_pause = 10, 0.25
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "provider_unreachable", client)


def test_a_huge_key_set_is_refused_not_read_whole(client: Client, stub_op: Any) -> None:
    """A 16 MB JWKS was read into memory whole (and then used)."""
    params = start(client)
    stub_op.jwks_padding = 16 * 1024 * 1024
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "provider_unreachable", client)


@pytest.mark.parametrize("host", ["0.0.0.0", "0", "[::ffff:127.0.0.1]"])
def test_a_discovery_document_pointing_at_a_never_called_address_is_refused(
    client: Client, stub_op: Any, host: str
) -> None:
    """A jwks_uri on 0.0.0.0 (which Linux connects to loopback) or an IPv4-mapped IPv6
    address is one that no outbound call of the portal makes (portal/lib/addresses.py); the
    sign-in fetched it."""
    port = urlsplit(stub_op.issuer).port
    stub_op.discovery_overrides = {"jwks_uri": f"http://{host}:{port}/jwks"}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "provider_unreachable", client)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://[op.example/logout",
        "https://op.example/logout\r\nSet-Cookie: sessionid=x",
        "https://op.example:99999/logout",
        ["https://op.example/logout"],
    ],
    ids=["unclosed-bracket", "line-break", "bad-port", "not-a-string"],
)
def test_sign_out_with_an_end_session_endpoint_that_is_no_url_still_signs_out(
    client: Client, stub_op: Any, endpoint: Any
) -> None:
    """The provider's end_session_endpoint is used at sign-out: one urlsplit could not read
    raised ValueError before the session was flushed (a 500, and still signed in); one with
    a line break was flushed and then failed as a Location header (a 500)."""
    stub_op.discovery_overrides = {"end_session_endpoint": endpoint}
    params = start(client)
    assert client.get(CALLBACK, {"code": "c", "state": params["state"]}).status_code == 302
    assert SESSION_KEY in client.session

    response = client.post("/accounts/logout/")

    assert response.status_code == 302 and response["Location"] == "/"
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("endpoint", ["userinfo_endpoint", "jwks_uri"])
def test_a_redirect_to_another_host_is_not_followed(
    client: Client, stub_op: Any, endpoint: str
) -> None:
    """A provider's endpoint answering 302 to another host (here `localhost`, a loopback
    name the provider never named): requests followed it, so a provider could point the
    portal at any address on its network (portal.lib.outbound follows no redirect across
    hosts, as every other outbound call of the portal)."""
    port = urlsplit(stub_op.issuer).port
    target = {"userinfo_endpoint": "/userinfo", "jwks_uri": "/jwks"}[endpoint]
    stub_op.redirects = {"/bounce": f"http://localhost:{port}{target}"}
    stub_op.discovery_overrides = {endpoint: f"{stub_op.issuer}/bounce"}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "provider_unreachable", client)


@pytest.mark.parametrize(
    "endpoint", ["token_endpoint", "userinfo_endpoint", "jwks_uri", "authorization_endpoint"]
)
def test_an_https_provider_naming_a_plain_http_endpoint_is_refused(
    client: Client, stub_op: Any, settings: Any, endpoint: str
) -> None:
    """An issuer on https whose discovery names a plain-http endpoint: the code and client
    secret (token), the access token (userinfo), the keys the ID token is checked with (a
    network attacker's own) or the authorization request went over plain HTTP."""
    secure = stub_op.issuer.replace("http://", "https://")
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    app["settings"] = {**app["settings"], "expected_issuer": secure}
    stub_op.claims = {"iss": secure}
    stub_op.discovery_overrides = {
        "issuer": secure,
        **{
            name: stub_op.discovery()[name].replace("http://", "https://")
            for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint")
            if name != endpoint
        },
    }
    if endpoint != "jwks_uri":
        stub_op.discovery_overrides["jwks_uri"] = f"{secure}/jwks"
    response = client.post(f"{LOGIN}?process=login")
    assert_failed(response, "bad_discovery", client)


@pytest.mark.parametrize(
    "sub", ["", "s" * 300, "a\x00b", "line\nbreak"], ids=["empty", "300-chars", "nul", "newline"]
)
def test_a_subject_the_portal_cannot_keep_ends_on_the_error_page(
    client: Client, stub_op: Any, sub: str
) -> None:
    """An empty sub raised allauth's ValueError, one past its 191-character uid column its
    ImproperlyConfigured (a 500 each); a NUL in it PostgreSQL refuses (a 500 there)."""
    stub_op.claims = {"sub": sub}
    stub_op.userinfo = {**stub_op.userinfo, "sub": sub}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "bad_subject", client)


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("name", 5),
        ("preferred_username", {"a": 1}),
        ("given_name", ["Ada"]),
        ("family_name", True),
        ("email", ["ada@example.com"]),
        ("email", "a" * 250 + "@example.com"),
        ("name", "Ada\x00Lovelace"),
    ],
)
def test_profile_claims_of_the_wrong_type_or_size_are_left_out(
    client: Client, stub_op: Any, claim: str, value: Any
) -> None:
    """A name that is a number raised AttributeError in allauth, a preferred_username that
    is an object KeyError (a 500 each); an email past the 254 characters of its column, or a
    NUL PostgreSQL refuses, failed there. The person signs in without that claim."""
    stub_op.userinfo = {**stub_op.userinfo, claim: value}
    stub_op.claims = {claim: value}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert response.status_code == 302, response.content[:300]
    assert SESSION_KEY in client.session
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=client.session[SESSION_KEY])
    kept = [user.username, user.email, user.first_name, user.last_name]
    assert not any("\x00" in text or len(text) > 254 for text in kept)


@pytest.mark.parametrize("expires_in", ["abc", {"s": 1}, [300], 10**20, "1e400"])
def test_a_token_response_with_an_unreadable_expires_in_still_signs_in(
    client: Client, stub_op: Any, expires_in: Any
) -> None:
    """allauth read expires_in with int() and a timedelta: 'abc' raised ValueError, an object
    TypeError, 10**20 OverflowError, each a 500. The portal keeps no provider token, so the
    expiry is left out."""
    stub_op.token_overrides = {"expires_in": expires_in}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert response.status_code == 302 and SESSION_KEY in client.session


@pytest.mark.parametrize("access_token", [5, {"a": 1}, ["x"], True])
def test_a_token_response_whose_access_token_is_no_string_is_refused(
    client: Client, stub_op: Any, access_token: Any
) -> None:
    """It was sent on to the userinfo endpoint as 'Bearer 5' or its Python text."""
    stub_op.token_overrides = {"access_token": access_token}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "token_request_failed", client)


@pytest.mark.parametrize(
    "overrides",
    [
        {"authorization_endpoint": "https://[op.example/authorize"},
        {"token_endpoint": "http://127.0.0.1:99999/token"},
        {"userinfo_endpoint": 5},
        {"jwks_uri": "javascript:alert(1)"},
        {"token_endpoint": "gopher://127.0.0.1:6379/_x"},
    ],
    ids=["unclosed-bracket", "bad-port", "not-a-string", "javascript", "gopher"],
)
def test_a_discovery_endpoint_that_is_no_http_url_is_refused_at_once(
    client: Client, stub_op: Any, overrides: dict[str, Any]
) -> None:
    """An authorization endpoint urlsplit cannot read raised ValueError (a 500) when the
    sign-in started; the others failed later, after the person had signed in at the
    provider."""
    stub_op.discovery_overrides = overrides
    response = client.post(f"{LOGIN}?process=login")
    assert_failed(response, "bad_discovery", client)


@pytest.mark.parametrize("methods", [5, None, {"client_secret_basic": True}, "client_secret_basic"])
def test_auth_methods_of_the_wrong_type_are_read_as_none_offered(
    client: Client, stub_op: Any, methods: Any
) -> None:
    """token_endpoint_auth_methods_supported: 5 or null raised TypeError in allauth (a 500)."""
    stub_op.discovery_overrides = {"token_endpoint_auth_methods_supported": methods}
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert response.status_code == 302 and SESSION_KEY in client.session


@pytest.mark.parametrize(
    "overrides",
    [
        {"alg": None, "kty": ["RSA"]},
        {"alg": None, "kty": {"RSA": 1}},
        {"alg": ["RS256"]},
        {"alg": {"RS256": 1}},
        {"alg": None, "kty": "oct"},
        {"alg": "HS256"},
        {"alg": "none"},
        {"n": 5},
        {"e": None},
    ],
)
def test_a_published_key_of_a_hostile_shape_fails_the_sign_in_cleanly(
    client: Client, stub_op: Any, overrides: dict[str, Any]
) -> None:
    """The key set's entry for the token's kid has a kty or alg of another JSON type (a
    list as kty raised TypeError looking up its default algorithm: a 500)."""
    stub_op.jwk_overrides = overrides
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert_failed(response, "invalid_id_token", client)


def test_an_authorization_endpoint_with_a_query_keeps_it_beside_the_requests_own(
    client: Client, stub_op: Any
) -> None:
    """RFC 6749 3.1: the endpoint's query is kept. Azure AD B2C's is its policy
    (`/authorize?p=b2c_1_signin`): allauth appended `?client_id=...` after it, so the
    provider read one parameter p='b2c_1_signin?client_id=...' and no client_id."""
    stub_op.discovery_overrides = {
        "authorization_endpoint": f"{stub_op.issuer}/authorize?p=b2c_1_signin&client_id=evil"
    }
    response = client.post(f"{LOGIN}?process=login")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["p"] == ["b2c_1_signin"]
    assert query["client_id"] == [CLIENT_ID]  # once, the portal's
    assert query["response_type"] == ["code"] and query["state"] and query["nonce"]


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_an_endpoint_with_a_fragment_is_a_bad_discovery_document(
    client: Client, stub_op: Any, endpoint: str
) -> None:
    """RFC 6749 3.1 and 3.2: endpoint URIs have no fragment; the authorization request's
    parameters would have ridden in it, never reaching the provider."""
    stub_op.discovery_overrides = {endpoint: f"{stub_op.issuer}/x#frag"}
    assert_failed(client.post(f"{LOGIN}?process=login"), "bad_discovery", client)

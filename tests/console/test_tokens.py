"""Tokens in the session, their claims, and the gateway's reasons put into words."""

from __future__ import annotations

import time
from typing import Any

import pytest

from console.tokens import (
    Token,
    TokenStore,
    decode_claims,
    explain_rejection,
    parse_www_authenticate,
)
from tests.console.conftest import access_token


def make(**fields: Any) -> Token:
    base: dict[str, Any] = {"server": "idp", "server_name": "IdP", "grant": "client_credentials",
                            "scopes": "echo.read", "access_token": access_token()}  # fmt: skip
    base.update(fields)
    return Token(**base)


def test_store_keys_tokens_by_server_and_scopes() -> None:
    session: dict[str, Any] = {}
    store = TokenStore(session)
    first = store.put(make())
    other_scopes = store.put(make(scopes="echo.write"))
    replaced = store.put(make())  # same server and scopes: replaces the first
    assert {t.id for t in store.all()} == {other_scopes.id, replaced.id}
    assert store.get(first.id) is None
    assert store.forget(replaced.id) is not None
    assert [t.id for t in store.all()] == [other_scopes.id]
    store.clear()
    assert store.all() == [] and "console_tokens" not in session


def test_replace_keeps_the_id_the_form_names() -> None:
    store = TokenStore({})
    old = store.put(make(refresh_token="r1"))
    new = store.replace(old, make(access_token="new"))
    assert new.id == old.id and store.get(old.id).access_token == "new"  # type: ignore[union-attr]


def test_decode_claims_of_jwt_and_opaque_tokens() -> None:
    assert decode_claims(access_token(aud="api://a"))["aud"] == "api://a"  # type: ignore[index]
    for opaque in ("abc", "a.b", "a.!!!.c", "a.W10.c"):  # W10 = [] : not an object
        assert decode_claims(opaque) is None


def test_expiry() -> None:
    token = make(expires_at=time.time() + 20)
    assert not token.is_expired() and token.is_expired(margin=30)
    assert make(expires_at=None, access_token="opaque").expires_in() is None
    # No expires_in from the server: the JWT's own exp says when the gateway stops taking it.
    assert 3590 < (make(expires_at=None).expires_in() or 0) <= 3600
    assert make(expires_at=None, access_token=access_token(exp="soon")).expires_in() is None


def test_www_authenticate_params() -> None:
    header = 'Bearer realm="gw", error="insufficient_scope", scope="echo.write", error_description="need \\"write\\""'
    assert parse_www_authenticate(header) == {
        "realm": "gw", "error": "insufficient_scope", "scope": "echo.write",
        "error_description": 'need \\"write\\"',
    }  # fmt: skip
    assert parse_www_authenticate("Basic realm=x") == {}


def test_wrong_audience_is_explained() -> None:
    rejection = explain_rejection(
        401,
        {"WWW-Authenticate": 'Bearer realm="gw", error="invalid_token"', "X-Gateway-Check": "aud"},
        {"title": "Invalid token", "status": 401, "check": "aud", "detail": "audience"},
        decode_claims(access_token(aud="api://a")),
        expected_audience="api://b",
    )
    assert rejection.check == "aud"
    assert rejection.reasons == ["The token's aud is api://a; this API expects api://b."]


def test_an_audience_refused_beside_this_apis_own_says_the_gateways_reason() -> None:
    """A strict-audience route refuses a token naming other audiences too; the panel said
    'aud is api://b, api://c; this API expects api://b', which the token has."""
    detail = "The token names other audiences besides this API."
    rejection = explain_rejection(
        401,
        {"WWW-Authenticate": 'Bearer realm="gw", error="invalid_token"', "X-Gateway-Check": "aud"},
        {"title": "Invalid token", "status": 401, "check": "aud", "detail": detail},
        decode_claims(access_token(aud=["api://b", "api://c"])),
        expected_audience="api://b",
    )
    assert rejection.reasons == [f"The token's aud is api://b, api://c: {detail}"]


@pytest.mark.parametrize(
    "detail",
    [
        "No signing keys are known for the token's issuer.",
        "The token has no issuer (iss).",
    ],
)
def test_an_issuer_refusal_says_the_gateways_reason(detail: str) -> None:
    """The gateway names iss when it has no keys for a trusted issuer, or none is in the
    token; the panel said 'is not an issuer this API trusts' of each."""
    claims = decode_claims(access_token())
    assert claims is not None
    rejection = explain_rejection(
        401, {"X-Gateway-Check": "iss"}, {"check": "iss", "detail": detail}, claims
    )
    assert rejection.reasons == [f"The token's iss ({claims['iss']}) was refused: {detail}"]


@pytest.mark.parametrize(
    ("claim", "value", "detail"),
    [
        ("nbf", "soon", "The nbf claim is not a number."),
        ("iat", 1e400, "The iat claim is out of range."),
        ("nbf", True, "The nbf claim is not a number."),
    ],
)
def test_a_time_claim_that_is_no_time_is_not_said_to_be_in_the_future(
    claim: str, value: Any, detail: str
) -> None:
    """The gateway names nbf or iat for a value that is no number too; the panel said
    'The token's nbf (soon) is in the future'."""
    rejection = explain_rejection(
        401,
        {"X-Gateway-Check": claim},
        {"check": claim, "detail": detail},
        decode_claims(access_token(**{claim: value})),
    )
    assert rejection.reasons == [detail]


def test_an_exp_refusal_of_a_token_not_yet_expired_here_has_no_negative_age() -> None:
    """The gateway's clock is ahead of the portal's: it named exp for a token whose exp is
    still ahead here; the panel said 'expired at ... (-30 s ago)'."""
    now = time.time()
    rejection = explain_rejection(
        401,
        {"X-Gateway-Check": "exp"},
        {"check": "exp", "detail": "The token has expired."},
        decode_claims(access_token(exp=int(now) + 30)),
        now=now,
    )
    (reason,) = rejection.reasons
    assert "s ago" not in reason and "-" not in reason.split("UTC", 1)[1]
    assert "clock" in reason


def test_a_scope_claim_that_is_a_list_is_explained_as_the_gateway_says() -> None:
    """RFC 9068 scope is one space-delimited string; the gateway refuses a list. The panel
    said 'The scope echo.read is missing (the token has: no scopes)' of ["echo.read"]."""
    detail = "The scope claim must be a space-delimited string."
    rejection = explain_rejection(
        401,
        {"X-Gateway-Check": "scope"},
        {"check": "scope", "detail": detail},
        decode_claims(access_token(scope=["echo.read"])),
        required_scopes=["echo.read"],
    )
    assert rejection.reasons == [detail]


@pytest.mark.parametrize("aud", [5, {"a": 1}, True])
def test_an_aud_of_another_type_is_not_said_to_be_missing(aud: Any) -> None:
    detail = "The aud claim is not a string or list of strings."
    rejection = explain_rejection(
        401,
        {"X-Gateway-Check": "aud"},
        {"check": "aud", "detail": detail},
        decode_claims(access_token(aud=aud)),
        expected_audience="api://echo",
    )
    assert rejection.reasons == [f"The token's aud ({aud}) was refused: {detail}"]


def test_missing_scope_is_explained() -> None:
    rejection = explain_rejection(
        403,
        {
            "www-authenticate": 'Bearer realm="gw", error="insufficient_scope", scope="echo.write"',
            "x-gateway-check": "scope",
        },
        {"check": "scope"},
        decode_claims(access_token(scope="echo.read")),
        expected_audience="api://echo",
    )
    assert rejection.reasons == ["The scope echo.write is missing (the token has: echo.read)."]


def test_expired_and_missing_tokens_are_explained() -> None:
    now = time.time()
    expired = explain_rejection(
        401,
        {"X-Gateway-Check": "exp"},
        {"check": "exp"},
        decode_claims(access_token(exp=int(now) - 120)),
        now=now,
    )
    assert (
        expired.reasons[0].startswith("The token expired at")
        and "(120 s ago)" in expired.reasons[0]
    )
    none = explain_rejection(401, {"WWW-Authenticate": 'Bearer realm="gw"'}, None, None)
    assert none.reasons == ["The call carried no token: get a token above, then send again."]


def test_a_token_refused_at_its_exp_second_is_explained_as_expired() -> None:
    """The gateway refuses a token once exp <= now (gateway/jwt.py), the panel's countdown
    says "expired" from that second on; the refusal's explanation, when the answer named no
    check, took it as expired only from the second after (exp < now) and said nothing."""
    exp = int(time.time()) - 5
    token = make(expires_at=None, access_token=access_token(exp=exp))
    assert token.is_expired(now=exp)
    rejection = explain_rejection(
        401,
        {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
        None,
        token.claims,
        now=exp,
        via_gateway=False,
    )
    assert rejection.reasons[0].startswith("The token expired at"), rejection.reasons
    assert "(0 s ago)" in rejection.reasons[0]


@pytest.mark.parametrize(
    ("check", "reason"),
    [
        ("subscription-state", "Your subscription is not active"),
        ("subscription-key", "The subscription key is missing or unknown"),
        ("subscription-scope", "does not include this API"),
    ],
)
def test_a_refused_subscription_key_is_explained_as_such(check: str, reason: str) -> None:
    # A suspended key on an API that needs no token said "The call carried no token: get a
    # token above", and there is no token to get.
    detail = {"check": check, "detail": "Access denied due to invalid subscription key."}
    for claims in (None, decode_claims(access_token())):
        refused = explain_rejection(401, {"X-Gateway-Check": check}, detail, claims)
        assert len(refused.reasons) == 1 and reason in refused.reasons[0]
        assert "token" not in refused.reasons[0].lower()


def test_a_refusal_that_is_not_about_the_token_gives_no_token_advice() -> None:
    limited = explain_rejection(
        429,
        {"X-Gateway-Check": "rate-limit"},
        {"check": "rate-limit", "detail": "Rate limit"},
        None,
    )
    assert limited.reasons == []


def test_a_backends_own_refusal_is_not_the_gateways() -> None:
    """A backend answering 403 with problem+json and `"check": "scope"` was shown as "The
    gateway refused the call (check: scope)" with advice about the token's scopes. Only an
    answer carrying the gateway's X-Gateway-Check header (which the gateway drops from
    backends' answers) is the gateway's; a call not sent through the gateway never is."""
    claims = decode_claims(access_token(scope="echo.read"))
    forged = {"check": "scope", "detail": "Gateway says: add the admin scope"}
    refused = explain_rejection(403, {}, forged, claims)
    assert not refused.by_gateway and refused.check == ""
    assert not any("scope" in reason for reason in refused.reasons)
    direct = explain_rejection(403, {"X-Gateway-Check": "scope"}, forged, claims, via_gateway=False)
    assert not direct.by_gateway and direct.check == ""
    real = explain_rejection(403, {"X-Gateway-Check": "scope"}, forged, claims)
    assert real.by_gateway and real.check == "scope"


@pytest.mark.parametrize("exp", [float("-inf"), float("nan"), float("inf"), 10**400, -(10**400)])
def test_an_exp_that_is_no_finite_number_is_explained_not_a_server_error(exp: float) -> None:
    # A pasted JWT with "exp": -1e999 (read as -infinity) refused by the gateway for its exp:
    # int(now - exp) raised OverflowError and the console answered 500.
    claims = decode_claims(access_token(exp=exp))
    assert claims is not None
    refused = explain_rejection(401, {"X-Gateway-Check": "exp"}, {"check": "exp"}, claims)
    assert refused.reasons == ["The token has no usable exp claim."]


@pytest.mark.parametrize(
    ("check", "detail"),
    [
        ("signature", "The token signature does not verify."),
        ("iss", "The token's issuer is not one this API trusts."),
        ("nbf", "The token is not valid yet (nbf)."),
        ("jti", "The token has no jti claim (RFC 9068)."),
        ("typ", "The token is not an access token: header typ must be at+jwt (RFC 9068)."),
        ("alg", "Unsigned tokens are not accepted."),
        ("revoked", "The token was revoked."),
    ],
)
def test_the_reason_shown_is_the_check_the_gateway_failed(check: str, detail: str) -> None:
    """The gateway checks the signature (and iss, typ, alg) before exp and aud. A token that
    failed its signature and was also past its exp, for another audience, was explained as
    'The token expired ...' and 'The token's aud is ...': not what the gateway said."""
    now = time.time()
    claims = decode_claims(access_token(exp=int(now) - 120, aud="api://other", nbf=int(now) + 600))
    rejection = explain_rejection(
        401,
        {"WWW-Authenticate": 'Bearer error="invalid_token"', "X-Gateway-Check": check},
        {"check": check, "detail": detail},
        claims,
        expected_audience="api://echo",
        now=now,
    )
    assert rejection.reasons, "a reason is shown"
    assert not any("expired" in r or "aud is" in r for r in rejection.reasons), rejection.reasons
    if check not in ("iss", "nbf"):
        assert rejection.reasons == [detail]

"""gateway.jwt: the configuration's visible choices, `audiences: any` and `max-lifetime: none`,
and a policy that names no audience (fails closed instead of skipping the check)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.jwt import ParsedToken, Policy, TokenRejected, check_claims

NOW = 1_800_000_000.0


def _token(**claims: Any) -> ParsedToken:
    payload = {"iss": "x", "sub": "u", "client_id": "c", "jti": "j", "iat": NOW - 60,
               "exp": NOW + 600, "aud": "api://orders", **claims}  # fmt: skip
    return ParsedToken({"alg": "RS256"}, payload, b"", b"")


def test_a_policy_without_audiences_accepts_no_token() -> None:
    with pytest.raises(TokenRejected) as err:
        check_claims(_token(), Policy(audiences=()), NOW)
    assert err.value.check == "aud"


def test_any_audience_skips_the_check() -> None:
    check_claims(_token(aud="api://other"), Policy(any_audience=True), NOW)


def test_audiences_are_checked() -> None:
    check_claims(_token(), Policy(audiences=("api://orders",)), NOW)
    with pytest.raises(TokenRejected):
        check_claims(_token(aud="api://other"), Policy(audiences=("api://orders",)), NOW)


def test_max_lifetime_none_lifts_the_cap() -> None:
    long_lived = _token(exp=NOW + 400 * 86400)
    with pytest.raises(TokenRejected) as err:
        check_claims(long_lived, Policy(audiences=("api://orders",)), NOW)
    assert err.value.check == "lifetime"
    check_claims(long_lived, Policy(audiences=("api://orders",), max_lifetime=None), NOW)

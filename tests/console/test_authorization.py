"""The authorization code (PKCE) and implicit grants: start, one-time state, and what the
callback brings back, with the authorization server answering through the outbound stand-in."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from console import authorization
from console.models import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_IMPLICIT,
)
from console.refusals import GrantError
from tests.console.conftest import ALL, IDP, TOKEN_URL, access_token, token_response


def _start(
    server: Any, session: dict[str, Any], grant: str = GRANT_AUTHORIZATION_CODE,
    scopes: tuple[str, ...] = (), return_to: str = "/",
) -> authorization.AuthorizationRequest:  # fmt: skip
    """A flow started from `return_to`, its state kept in `session`."""
    return authorization.start_authorization(
        server, grant, list(scopes), redirect_uri="http://t/cb", store=session,
        return_to=return_to,
    )  # fmt: skip


def test_code_flow_with_pkce_s256_and_one_time_state(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=ALL, extra_authorize_params={"audience": "api://echo"})
    session: dict[str, Any] = {}
    started = authorization.start_authorization(
        server,
        GRANT_AUTHORIZATION_CODE,
        ["echo.read"],
        redirect_uri="http://testserver/console/callback/",
        store=session,
        return_to="/apis/echo/operations/echoGet/#console",
        form={"param.query.message": "kept"},
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.url).query).items()}
    assert started.url.startswith(f"{IDP}/authorize?")
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert query["audience"] == "api://echo"
    assert query["redirect_uri"] == "http://testserver/console/callback/"
    assert query["state"] == started.state and len(started.state) >= 40

    fake_outbound.json("POST", TOKEN_URL, token_response())
    done = authorization.complete_authorization(
        session, {"code": "c1", "state": started.state, "iss": IDP}
    )

    form = fake_outbound.sent[0].form
    verifier = form["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge.decode() == query["code_challenge"]
    assert form["code"] == "c1" and form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == "http://testserver/console/callback/"
    assert done.return_to == "/apis/echo/operations/echoGet/#console"
    assert done.form == {"param.query.message": "kept"}
    assert done.token.refresh_token == "r1"

    with pytest.raises(GrantError, match="used or expired state"):
        authorization.complete_authorization(session, {"code": "c1", "state": started.state})
    assert len(fake_outbound.sent) == 1  # the replay made no token request


@pytest.mark.parametrize(
    "params, message",
    [
        ({"code": "c", "state": "made-up"}, "unknown, used or expired state"),
        ({"code": "c"}, "unknown, used or expired state"),
        ({"code": "c", "iss": "https://evil.example"}, "mix-up"),
        ({"error": "access_denied", "error_description": "user said no"}, "access_denied"),
        ({}, "has no code"),
    ],
)
def test_bad_authorization_responses(
    auth_server: Any, fake_outbound: Any, params: dict[str, str], message: str
) -> None:
    server = auth_server(grants=ALL)
    session: dict[str, Any] = {}
    started = _start(server, session)
    params = dict(params)
    if "state" not in params and message != "unknown, used or expired state":
        params["state"] = started.state
    with pytest.raises(GrantError, match=message):
        authorization.complete_authorization(session, params)
    assert fake_outbound.sent == []


def test_missing_iss_refused_when_the_server_says_it_sends_one(
    auth_server: Any, fake_outbound: Any
) -> None:
    server = auth_server(
        grants=ALL,
        discovery_url=f"{IDP}/.well-known/openid-configuration",
        issuer="",
        authorize_url="",
        token_url="",
    )
    fake_outbound.json(
        "GET",
        f"{IDP}/.well-known/openid-configuration",
        {
            "issuer": IDP,
            "authorization_endpoint": f"{IDP}/auth",
            "token_endpoint": f"{IDP}/tok",
            "authorization_response_iss_parameter_supported": True,
        },
    )
    session: dict[str, Any] = {}
    started = _start(server, session)
    assert started.url.startswith(f"{IDP}/auth?")
    with pytest.raises(GrantError, match="no iss"):
        authorization.complete_authorization(session, {"code": "c", "state": started.state})
    # Discovery was fetched once and cached on the row.
    assert [s.url for s in fake_outbound.sent] == [f"{IDP}/.well-known/openid-configuration"]


def test_state_of_another_grant_is_refused(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=ALL)
    session: dict[str, Any] = {}
    started = _start(server, session, GRANT_IMPLICIT)
    with pytest.raises(GrantError, match="different grant"):
        authorization.complete_authorization(session, {"code": "c", "state": started.state})


def test_implicit_grant_from_the_posted_fragment(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=ALL)
    session: dict[str, Any] = {}
    started = _start(server, session, GRANT_IMPLICIT, ("echo.read",), return_to="/x")
    assert parse_qs(urlsplit(started.url).query)["response_type"] == ["token"]
    value = access_token()
    done = authorization.complete_implicit(
        session,
        {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": "600",
            "state": started.state,
        },
    )
    assert done.token.access_token == value and done.token.grant == GRANT_IMPLICIT
    assert done.return_to == "/x"
    assert fake_outbound.sent == []  # nothing to exchange


def test_implicit_fragment_without_a_token_is_refused(auth_server: Any) -> None:
    server = auth_server(grants=ALL)
    session: dict[str, Any] = {}
    started = authorization.start_authorization(
        server, GRANT_IMPLICIT, [], redirect_uri="https://t/cb", store=session, return_to="/x"
    )
    with pytest.raises(GrantError, match="missing_token") as exc:
        authorization.complete_implicit(session, {"state": started.state, "token_type": "Bearer"})
    assert exc.value.return_to == "/x"

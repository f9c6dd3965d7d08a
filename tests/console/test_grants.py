"""The grants that need no browser, refresh and revocation, with the authorization server
answering through the outbound stand-in."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from console import grants
from console.models import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_PASSWORD,
    AuditEntry,
    CallHistory,
)
from console.refusals import GrantError
from console.tokens import Token
from tests.console.conftest import ALL, IDP, TOKEN_URL, access_token, response, token_response


def test_client_credentials_with_basic_auth(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(
        grants=[GRANT_CLIENT_CREDENTIALS], extra_token_params={"resource": "api://echo"}
    )
    fake_outbound.json("POST", TOKEN_URL, token_response())

    token = grants.client_credentials(server, ["echo.read", "echo.write"])

    sent = fake_outbound.sent[0]
    assert sent.form == {
        "grant_type": "client_credentials",
        "scope": "echo.read echo.write",
        "resource": "api://echo",
    }
    assert sent.header("Authorization") == "Basic " + base64.b64encode(b"console:s3cret").decode()
    assert "s3cret" not in sent.body.decode()
    assert token.scopes == "echo.read echo.write"
    assert token.grant == GRANT_CLIENT_CREDENTIALS
    assert token.expires_in() is not None and 3590 < token.expires_in() <= 3600  # type: ignore[operator]


def test_client_credentials_with_body_auth(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=[GRANT_CLIENT_CREDENTIALS], client_auth="body")
    fake_outbound.json("POST", TOKEN_URL, token_response())

    grants.client_credentials(server, ["echo.read"])

    sent = fake_outbound.sent[0]
    assert sent.form["client_id"] == "console" and sent.form["client_secret"] == "s3cret"
    assert sent.header("Authorization") == ""


def test_refusal_is_reported_with_the_servers_words(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=[GRANT_CLIENT_CREDENTIALS])
    fake_outbound.json(
        "POST", TOKEN_URL, {"error": "invalid_client", "error_description": "bad secret"}, 401
    )
    with pytest.raises(GrantError, match="invalid_client: bad secret") as exc:
        grants.client_credentials(server, ["echo.read"])
    assert "s3cret" not in str(exc.value)


def test_unreachable_token_endpoint_is_a_clear_error(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=[GRANT_CLIENT_CREDENTIALS])
    with pytest.raises(GrantError, match="Could not reach https://idp.example/token"):
        grants.client_credentials(server, ["echo.read"])


def test_disabled_grant_is_refused_without_a_request(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server()  # authorization code only, the default
    for call in (
        lambda: grants.client_credentials(server, []),
        lambda: grants.password(server, [], "u", "p"),
    ):
        with pytest.raises(GrantError, match="not enabled"):
            call()
    assert fake_outbound.sent == []


def test_password_grant_sends_the_password_once_and_keeps_it_nowhere(
    auth_server: Any, fake_outbound: Any, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    server = auth_server(grants=[GRANT_PASSWORD])
    fake_outbound.json("POST", TOKEN_URL, token_response())

    token = grants.password(server, ["echo.read"], "ada", "hunter2-secret")

    assert fake_outbound.sent[0].form["password"] == "hunter2-secret"
    assert fake_outbound.sent[0].form["grant_type"] == "password"
    assert "hunter2-secret" not in repr(token.__dict__)
    assert "hunter2-secret" not in caplog.text
    assert "eyJ" not in caplog.text  # no token in the logs either (case 32)
    with pytest.raises(GrantError, match="username and password"):
        grants.password(server, ["echo.read"], "ada", "")


def test_refresh_keeps_the_refresh_token_when_none_comes_back(
    auth_server: Any, fake_outbound: Any
) -> None:
    server = auth_server(grants=ALL)
    fresh = access_token(jti="j2")
    fake_outbound.json(
        "POST", TOKEN_URL, {"access_token": fresh, "token_type": "Bearer", "expires_in": 60}
    )
    old = Token(
        server="idp", server_name="x", grant=GRANT_AUTHORIZATION_CODE, scopes="echo.read",
        access_token="old", refresh_token="r-old",
    )  # fmt: skip

    new = grants.refresh(server, old)

    assert fake_outbound.sent[0].form == {"grant_type": "refresh_token", "refresh_token": "r-old"}
    assert new.access_token == fresh and new.refresh_token == "r-old"


def test_revoke_posts_both_tokens(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=ALL)
    fake_outbound.on("POST", f"{IDP}/revoke", lambda sent: response(200, body=b""))
    old = Token(
        server="idp", server_name="x", grant="g", scopes="", access_token="a", refresh_token="r"
    )
    assert grants.revoke(server, old) is True
    assert [s.form["token_type_hint"] for s in fake_outbound.sent] == [
        "refresh_token",
        "access_token",
    ]


def test_case45_spec_token_urls_are_never_used(
    echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """Case 45: the spec's tokenUrl (127.0.0.1:8000/idp) plays no part; only the admin's AS."""
    server = auth_server(echo, grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response())
    grants.client_credentials(server, ["echo.read"])
    assert {s.url for s in fake_outbound.sent} == {TOKEN_URL}


def test_enabling_a_legacy_grant_is_audited(auth_server: Any) -> None:
    from console.audit import record_grant_changes

    server = auth_server()
    before = server.grants
    server.set_grants([GRANT_AUTHORIZATION_CODE, GRANT_PASSWORD])
    server.save()
    record_grant_changes(server, before, "admin")
    entry = AuditEntry.objects.get()
    assert entry.action == "enabled password" and entry.actor == "admin"
    assert CallHistory.objects.count() == 0


def test_plain_http_endpoints_are_refused_outside_development(
    auth_server: Any, fake_outbound: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 6749: TLS for token endpoints; only the DEBUG run allows http (built-in provider)."""
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    server = auth_server(grants=ALL, token_url="http://idp.example/token")
    with pytest.raises(GrantError, match="insecure_transport"):
        grants.client_credentials(server, ["echo.read"])
    assert fake_outbound.sent == []


@pytest.mark.parametrize("value", [-3600, 10**12])
def test_an_expiry_in_the_past_or_far_future_is_kept_as_said(
    auth_server: Any, fake_outbound: Any, value: int
) -> None:
    server = auth_server(grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response(expires_in=value))
    token = grants.client_credentials(server, ["echo.read"])
    assert token.expires_in() is not None


def test_a_token_type_with_spaces_around_it_is_read_without_them(
    auth_server: Any, fake_outbound: Any
) -> None:
    server = auth_server(grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response(token_type=" bearer "))
    assert grants.client_credentials(server, ["echo.read"]).token_type == "bearer"

"""Each grant, with the authorization server answering through the outbound stand-in."""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from console import grants
from console.models import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_IMPLICIT,
    GRANT_PASSWORD,
    AuditEntry,
    CallHistory,
)
from console.tokens import Token
from tests.console.conftest import IDP, access_token, response

TOKEN_URL = f"{IDP}/token"
ALL = [GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_IMPLICIT, GRANT_PASSWORD]


def token_response(**extra: Any) -> dict[str, Any]:
    return {
        "access_token": access_token(),
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "r1",
        "scope": "echo.read",
        **extra,
    }


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
    with pytest.raises(grants.GrantError, match="invalid_client: bad secret") as exc:
        grants.client_credentials(server, ["echo.read"])
    assert "s3cret" not in str(exc.value)


def test_unreachable_token_endpoint_is_a_clear_error(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=[GRANT_CLIENT_CREDENTIALS])
    with pytest.raises(grants.GrantError, match="Could not reach https://idp.example/token"):
        grants.client_credentials(server, ["echo.read"])


def test_disabled_grant_is_refused_without_a_request(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server()  # authorization code only, the default
    for call in (
        lambda: grants.client_credentials(server, []),
        lambda: grants.password(server, [], "u", "p"),
    ):
        with pytest.raises(grants.GrantError, match="not enabled"):
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
    with pytest.raises(grants.GrantError, match="username and password"):
        grants.password(server, ["echo.read"], "ada", "")


def test_code_flow_with_pkce_s256_and_one_time_state(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=ALL, extra_authorize_params={"audience": "api://echo"})
    session: dict[str, Any] = {}
    started = grants.start_authorization(
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
    done = grants.complete_authorization(
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

    with pytest.raises(grants.GrantError, match="used or expired state"):
        grants.complete_authorization(session, {"code": "c1", "state": started.state})
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
    started = grants.start_authorization(
        server,
        GRANT_AUTHORIZATION_CODE,
        [],
        redirect_uri="http://t/cb",
        store=session,
        return_to="/",
    )
    params = dict(params)
    if "state" not in params and message != "unknown, used or expired state":
        params["state"] = started.state
    with pytest.raises(grants.GrantError, match=message):
        grants.complete_authorization(session, params)
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
    started = grants.start_authorization(
        server,
        GRANT_AUTHORIZATION_CODE,
        [],
        redirect_uri="http://t/cb",
        store=session,
        return_to="/",
    )
    assert started.url.startswith(f"{IDP}/auth?")
    with pytest.raises(grants.GrantError, match="no iss"):
        grants.complete_authorization(session, {"code": "c", "state": started.state})
    # Discovery was fetched once and cached on the row.
    assert [s.url for s in fake_outbound.sent] == [f"{IDP}/.well-known/openid-configuration"]


def test_state_of_another_grant_is_refused(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=ALL)
    session: dict[str, Any] = {}
    started = grants.start_authorization(
        server, GRANT_IMPLICIT, [], redirect_uri="http://t/cb", store=session, return_to="/"
    )
    with pytest.raises(grants.GrantError, match="different grant"):
        grants.complete_authorization(session, {"code": "c", "state": started.state})


def test_implicit_grant_from_the_posted_fragment(auth_server: Any, fake_outbound: Any) -> None:
    server = auth_server(grants=ALL)
    session: dict[str, Any] = {}
    started = grants.start_authorization(
        server,
        GRANT_IMPLICIT,
        ["echo.read"],
        redirect_uri="http://t/cb",
        store=session,
        return_to="/x",
    )
    assert parse_qs(urlsplit(started.url).query)["response_type"] == ["token"]
    value = access_token()
    done = grants.complete_implicit(
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
    with pytest.raises(grants.GrantError, match="insecure_transport"):
        grants.client_credentials(server, ["echo.read"])
    assert fake_outbound.sent == []


def test_implicit_fragment_without_a_token_is_refused(auth_server: Any) -> None:
    server = auth_server(grants=ALL)
    session: dict[str, Any] = {}
    started = grants.start_authorization(
        server, GRANT_IMPLICIT, [], redirect_uri="https://t/cb", store=session, return_to="/x"
    )
    with pytest.raises(grants.GrantError, match="missing_token") as exc:
        grants.complete_implicit(session, {"state": started.state, "token_type": "Bearer"})
    assert exc.value.return_to == "/x"


@pytest.mark.parametrize(
    "value",
    [12345, {"token": "x"}, ["a", "b"], True, "x" * (1024 * 1024), "Bearer\r\nX-Evil: 1"],
    ids=["number", "object", "list", "boolean", "one-megabyte", "line-break"],
)
def test_an_access_token_that_no_header_can_carry_is_refused_not_kept(
    auth_server: Any, fake_outbound: Any, value: Any
) -> None:
    """A hostile token endpoint's access_token that is no string (kept as its Python text,
    "{'token': 'x'}", and sent as the bearer token), or one no gateway takes (1 MB: the
    session row grew by it and every call failed on it), is refused with a clear message."""
    server = auth_server(grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response(access_token=value))

    with pytest.raises(grants.GrantError, match="access_token"):
        grants.client_credentials(server, ["echo.read"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token_type", {"x": 1}),
        ("token_type", "Bearer\r\nX-Evil: 1"),
        ("token_type", "not a scheme"),
        ("refresh_token", {"r": 1}),
        ("refresh_token", "r" * (1024 * 1024)),
    ],
    ids=["type-object", "type-line-break", "type-with-spaces", "refresh-object", "refresh-1mb"],
)
def test_a_token_type_or_refresh_token_no_request_can_carry_is_refused(
    auth_server: Any, fake_outbound: Any, field: str, value: Any
) -> None:
    server = auth_server(grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response(**{field: value}))

    with pytest.raises(grants.GrantError, match=field):
        grants.client_credentials(server, ["echo.read"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires_in", "abc"),
        ("expires_in", {"s": 1}),
        ("expires_in", [60]),
        ("scope", {"echo.read": True}),
        ("scope", 42),
        ("scope", [["echo.read"]]),
    ],
    ids=["expiry-text", "expiry-object", "expiry-list", "scope-object",
         "scope-number", "scope-nested"],
)  # fmt: skip
def test_a_token_response_of_the_wrong_types_is_a_clear_error_not_a_crash(
    auth_server: Any, fake_outbound: Any, field: str, value: Any
) -> None:
    """expires_in or scope of a type oauthlib does not expect raised TypeError or
    AttributeError out of the grant: a 500 on the console instead of the server's fault."""
    server = auth_server(grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response(**{field: value}))

    with pytest.raises(grants.GrantError):
        grants.client_credentials(server, ["echo.read"])


@pytest.mark.parametrize("body", [b"null", b"1", b"true", b'"access_token"', b'["access_token"]'])
@pytest.mark.parametrize("status", [200, 400])
def test_a_token_response_that_is_no_json_object_is_a_clear_error_not_a_crash(
    auth_server: Any, fake_outbound: Any, body: bytes, status: int
) -> None:
    """RFC 6749 5.1 and 5.2: a token response is a JSON object. A hostile or broken endpoint
    answering `null` or a number made oauthlib raise TypeError ('in' on None): a 500 on the
    console's Get token, and on every send whose token was due for a refresh."""
    server = auth_server(grants=ALL)
    fake_outbound.on(
        "POST",
        TOKEN_URL,
        lambda sent: response(status, body=body, Content_Type="application/json"),
    )
    with pytest.raises(grants.GrantError, match="not a JSON object"):
        grants.client_credentials(server, ["echo.read"])
    old = Token(
        server="idp", server_name="x", grant=GRANT_AUTHORIZATION_CODE, scopes="echo.read",
        access_token="old", refresh_token="r-old",
    )  # fmt: skip
    with pytest.raises(grants.GrantError, match="not a JSON object"):
        grants.refresh(server, old)


@pytest.mark.parametrize("value", [-3600, 10**12])
def test_an_expiry_in_the_past_or_far_future_is_kept_as_said(
    auth_server: Any, fake_outbound: Any, value: int
) -> None:
    server = auth_server(grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response(expires_in=value))
    token = grants.client_credentials(server, ["echo.read"])
    assert token.expires_in() is not None


@pytest.mark.parametrize("status", [200, 500])
def test_an_html_page_from_the_token_endpoint_is_named_as_such(
    auth_server: Any, fake_outbound: Any, status: int
) -> None:
    """A proxy's or a crashed server's HTML page is no refusal by the authorization server."""
    server = auth_server(grants=ALL)
    page = b"<html><body><h1>Internal Server Error</h1><script>x()</script></body></html>"
    fake_outbound.on(
        "POST", TOKEN_URL, lambda sent: response(status, body=page, Content_Type="text/html")
    )
    with pytest.raises(grants.GrantError) as raised:
        grants.client_credentials(server, ["echo.read"])
    assert "refused" not in str(raised.value)
    assert f"answered {status}" in str(raised.value) and "text/html" in str(raised.value)


@pytest.mark.parametrize(
    ("discovery_path", "configured_issuer"),
    [
        ("/.well-known/openid-configuration", ""),
        ("/.well-known/openid-configuration", IDP),
        ("/.well-known/oauth-authorization-server", ""),
    ],
)
def test_a_discovery_document_naming_another_issuer_is_refused(
    auth_server: Any, fake_outbound: Any, discovery_path: str, configured_issuer: str
) -> None:
    """OpenID Discovery 4.3 and RFC 8414 3.3: the issuer in the document must be the one its
    URL was made from (and the one configured). A document naming another issuer was used
    as is: its endpoints got the console's client secret and codes, and its issuer became
    the one an authorization response's `iss` was checked against."""
    url = f"{IDP}{discovery_path}"
    server = auth_server(
        grants=ALL, discovery_url=url, issuer=configured_issuer, authorize_url="", token_url=""
    )
    evil = "https://evil.example"
    fake_outbound.json(
        "GET",
        url,
        {"issuer": evil, "authorization_endpoint": f"{evil}/auth", "token_endpoint": f"{evil}/t"},
    )
    with pytest.raises(grants.GrantError, match="issuer"):
        grants.start_authorization(
            server, GRANT_AUTHORIZATION_CODE, [], redirect_uri="http://t/cb", store={},
            return_to="/",
        )  # fmt: skip
    with pytest.raises(grants.GrantError, match="issuer"):
        grants.client_credentials(server, ["echo.read"])
    assert all(s.method == "GET" for s in fake_outbound.sent), "no token request went out"


def test_a_discovery_document_of_its_own_issuer_is_used(
    auth_server: Any, fake_outbound: Any
) -> None:
    url = f"{IDP}/tenant/.well-known/openid-configuration"
    server = auth_server(grants=ALL, discovery_url=url, issuer="", token_url="")
    fake_outbound.json("GET", url, {"issuer": f"{IDP}/tenant", "token_endpoint": f"{IDP}/t"})
    fake_outbound.json("POST", f"{IDP}/t", token_response())
    assert grants.client_credentials(server, ["echo.read"]).access_token


def test_a_redirect_from_the_token_endpoint_is_named_not_followed(
    auth_server: Any, fake_outbound: Any
) -> None:
    """A 302 (to a login page, or to another host) was read as an empty token response:
    'The authorization server refused: missing_token'."""
    server = auth_server(grants=ALL)
    fake_outbound.on(
        "POST",
        TOKEN_URL,
        lambda sent: response(302, body=b"", Location="http://169.254.169.254/latest/"),
    )
    with pytest.raises(grants.GrantError) as raised:
        grants.client_credentials(server, ["echo.read"])
    assert "refused" not in str(raised.value) and "302" in str(raised.value)
    assert [s.url for s in fake_outbound.sent] == [TOKEN_URL]


def test_a_token_type_with_spaces_around_it_is_read_without_them(
    auth_server: Any, fake_outbound: Any
) -> None:
    server = auth_server(grants=ALL)
    fake_outbound.json("POST", TOKEN_URL, token_response(token_type=" bearer "))
    assert grants.client_credentials(server, ["echo.read"]).token_type == "bearer"


@pytest.mark.parametrize(
    "endpoint", ["authorization_endpoint", "token_endpoint", "revocation_endpoint"]
)
def test_an_https_discovery_document_naming_a_plain_http_endpoint_is_refused(
    auth_server: Any, fake_outbound: Any, endpoint: str
) -> None:
    """The document came over TLS from an https issuer; a plain-http endpoint in it would
    have the client secret, the code and the tokens cross the network in the clear (the
    portal's own sign-in refuses such a document)."""
    url = f"{IDP}/.well-known/openid-configuration"
    server = auth_server(grants=ALL, discovery_url=url, issuer="", token_url="", authorize_url="")
    plain = IDP.replace("https://", "http://", 1)
    doc = {
        "issuer": IDP,
        "authorization_endpoint": f"{IDP}/auth",
        "token_endpoint": f"{IDP}/t",
        "revocation_endpoint": f"{IDP}/r",
    }
    fake_outbound.json("GET", url, {**doc, endpoint: f"{plain}/{endpoint}"})
    fake_outbound.json("POST", f"{IDP}/t", token_response())
    fake_outbound.json("POST", f"{plain}/token_endpoint", token_response())
    with pytest.raises(grants.GrantError, match="plain http"):
        grants.client_credentials(server, ["echo.read"])
    assert all(s.method == "GET" for s in fake_outbound.sent), "no token request went out"

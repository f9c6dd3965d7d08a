"""What a token endpoint answers, checked before oauthlib reads it: fields no request could
carry, JSON of the wrong shape, HTML pages and redirects are clear errors, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from console import grants
from console.models import (
    GRANT_AUTHORIZATION_CODE,
)
from console.refusals import GrantError
from console.tokens import Token
from tests.console.conftest import ALL, TOKEN_URL, response, token_response


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

    with pytest.raises(GrantError, match="access_token"):
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

    with pytest.raises(GrantError, match=field):
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

    with pytest.raises(GrantError):
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
    with pytest.raises(GrantError, match="not a JSON object"):
        grants.client_credentials(server, ["echo.read"])
    old = Token(
        server="idp", server_name="x", grant=GRANT_AUTHORIZATION_CODE, scopes="echo.read",
        access_token="old", refresh_token="r-old",
    )  # fmt: skip
    with pytest.raises(GrantError, match="not a JSON object"):
        grants.refresh(server, old)


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
    with pytest.raises(GrantError) as raised:
        grants.client_credentials(server, ["echo.read"])
    assert "refused" not in str(raised.value)
    assert f"answered {status}" in str(raised.value) and "text/html" in str(raised.value)


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
    with pytest.raises(GrantError) as raised:
        grants.client_credentials(server, ["echo.read"])
    assert "refused" not in str(raised.value) and "302" in str(raised.value)
    assert [s.url for s in fake_outbound.sent] == [TOKEN_URL]

"""The console's pages and endpoints: who may use them, plain and htmx, CSRF, history."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apis.models import Api
from console.models import (
    GRANT_PASSWORD,
    LEGACY_WARNINGS,
    ApiAuthorizationServer,
    AuthorizationServer,
    CallHistory,
)
from console.tokens import TokenStore
from tests.console.conftest import ALL, GATEWAY, IDP, access_token, op, response

PAGE = "/apis/echo/operations/echoGet/"
HTMX = {"HX-Request": "true"}


def send_data(**extra: str) -> dict[str, str]:
    data = {
        "api": "echo",
        "version": "1.0.0",
        "operation": "echoGet",
        "server": f"{GATEWAY}/echo",
        "param.query.message": "hi",
    }
    data.update(extra)
    return data


def _password_form(echo: Any, required: list[str] | None = None) -> str:
    """echoPost's body made a form of `email` and a `format: password` field; its media type."""
    operation = op(echo, "echoPost")
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "email": {"type": "string"},
            "password": {"type": "string", "format": "password"},
        },
    }
    if required:
        schema["required"] = required
    media = "application/x-www-form-urlencoded"
    operation.data["requestBody"] = {"content": {media: {"schema": schema}}}
    operation.save()
    return media


def give_token(client: Client, **claims: Any) -> str:
    """A token from the authorization server `idp`, linked to echo when it is not yet: the
    console sends only the tokens of the API's own servers."""
    from console.tokens import Token

    echo = Api.objects.filter(slug="echo").first()
    if echo is not None and not AuthorizationServer.objects.filter(slug="idp").exists():
        server = AuthorizationServer.objects.create(
            slug="idp", name="Example IdP", issuer=IDP, authorize_url=f"{IDP}/authorize",
            token_url=f"{IDP}/token", client_id="console",
        )  # fmt: skip
        ApiAuthorizationServer.objects.create(api=echo, server=server)
    session = client.session

    token = TokenStore(session).put(
        Token(server="idp", server_name="Example IdP", grant="client_credentials",
              scopes="echo.read", access_token=access_token(**claims), expires_at=None)
    )  # fmt: skip
    session.save()
    return token.id


def test_anonymous_reader_sees_the_reference_and_a_sign_in_link(client: Client, echo: Any) -> None:
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="console"' in html
    assert "Sign in to try it" in html
    assert "/accounts/login/?next=%2Fapis%2Fecho%2Foperations%2FechoGet%2F%23console" in html
    assert 'id="console-form"' not in html


def test_signed_in_user_gets_the_prefilled_form(
    signed_in: Client, echo: Any, auth_server: Any
) -> None:
    auth_server(echo, grants=ALL, link_scopes="echo.read echo.write")
    html = signed_in.get(PAGE).content.decode()
    # Optional: empty, the example as a placeholder (test_credentials.py has the details).
    assert 'name="param.query.message" value="" placeholder="hello"' in html
    assert f'<option value="{GATEWAY}/echo" selected>' in html
    assert 'name="scopes.idp" value="echo.read echo.write"' in html
    for grant in ALL:
        assert f'value="idp:{grant}"' in html
    # Legacy grants carry RFC 9700's warning wherever they are offered.
    assert html.count("Legacy grant.") == 2
    assert "RFC 9700 §2.1.2" in html and "RFC 9700 §2.4" in html
    assert LEGACY_WARNINGS[GRANT_PASSWORD][:40] in html


def test_a_path_parameter_documented_empty_may_be_left_empty(
    signed_in: Client, import_spec: Any, tmp_path: Any
) -> None:
    """Matrix's `stateKey` (required, example "") is empty in the documented call; the
    input's `required` refused to submit it so. Still marked required, it may be empty;
    a required parameter with no such example keeps the browser's check."""
    from tests.console.test_calls import EMPTY_STATE_KEY

    spec = tmp_path / "rooms.yaml"
    spec.write_text(EMPTY_STATE_KEY)
    import_spec(spec, "rooms")
    html = signed_in.get("/apis/rooms/operations/state/").content.decode()
    empty = re.search(r'<input [^>]*name="param\.path\.stateKey"[^>]*>', html)
    filled = re.search(r'<input [^>]*name="param\.path\.eventType"[^>]*>', html)
    assert empty is not None and filled is not None
    assert " required" not in empty[0] and " required" in filled[0]
    row = html[html.rindex("<tr>", 0, html.index('name="param.path.stateKey"')) :]
    assert "may be empty" in row[: row.index("</tr>")]


def test_a_query_or_header_parameter_documented_empty_may_be_left_empty(
    signed_in: Client, import_spec: Any, tmp_path: Any
) -> None:
    """A required query or header parameter whose example (or default) is "" is sent empty,
    but the input's `required` refused to submit it so; as for a path parameter, it reads
    'may be empty' and has no `required` attribute. Any other required one keeps it."""
    from tests.console.test_calls import EMPTY_QUERY_AND_HEADER

    spec = tmp_path / "feed.yaml"
    spec.write_text(EMPTY_QUERY_AND_HEADER)
    import_spec(spec, "feed")
    html = signed_in.get("/apis/feed/operations/feed/").content.decode()
    for key, empty in [("query.filter", True), ("header.X-Since", True), ("query.page", False)]:
        field = re.search(rf'<input [^>]*name="param\.{re.escape(key)}"[^>]*>', html)
        assert field is not None, key
        assert (" required" not in field[0]) is empty, key
        row = html[html.rindex("<tr>", 0, html.index(f'name="param.{key}"')) :]
        assert ("may be empty" in row[: row.index("</tr>")]) is empty, key


def test_an_example_that_does_not_fit_is_said_beside_its_field(
    signed_in: Client, import_spec: Any, tmp_path: Any
) -> None:
    spec = tmp_path / "odd.yaml"
    spec.write_text("""openapi: 3.0.3
info: {title: Odd, version: '1'}
paths:
  /pets/{id}:
    get:
      operationId: pet
      parameters: [{name: id, in: path, required: true, schema: {type: integer}, example: abc}]
      responses: {'200': {description: ok}}
""")
    import_spec(spec, "odd")
    html = signed_in.get("/apis/odd/operations/pet/").content.decode()
    field = html[html.index('name="param.path.id"') :]
    assert field.startswith('name="param.path.id" value="abc" required aria-describedby="cp-1-')
    assert (
        "The documented example does not fit the schema: &#x27;abc&#x27; is not an integer"
        in field[: field.index("</td>")]
    )


def test_post_body_is_prefilled_from_the_example(signed_in: Client, echo: Any) -> None:
    html = signed_in.get("/apis/echo/operations/echoPost/").content.decode()
    # (echo.yaml writes its example as a YAML flow mapping, so the text is \"Hello".)
    assert "&quot;text&quot;: &quot;Hello, gateway&quot;" in html
    assert 'name="field.1.text" value="Hello, gateway"' in html  # form-urlencoded editor


def test_send_plain_and_htmx(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo)  # the token's server: a token from another API's is not sent
    fake_outbound.json(
        "GET", f"{GATEWAY}/echo/anything", {"method": "GET", "query": {"message": "hi"}}
    )
    token_id = give_token(signed_in)

    plain = signed_in.post("/console/send/", send_data(token=token_id))
    assert plain.status_code == 200
    html = plain.content.decode()
    assert "<html" in html and "data-status-code>200<" in html
    assert '<span class="j-key">&quot;method&quot;</span>' in html
    assert "matches the documented schema" in html
    assert fake_outbound.sent[0].header("Authorization").startswith("Bearer eyJ")

    fragment = signed_in.post("/console/send/", send_data(token=token_id), headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'id="console-result"' in fragment.content.decode()
    assert CallHistory.objects.count() == 2


def test_send_needs_sign_in_post_and_csrf(client: Client, echo: Any, user: Any) -> None:
    anonymous = client.post("/console/send/", send_data())
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(user)
    assert client.get("/console/send/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/console/send/", send_data()).status_code == 403
    assert strict.post("/console/send/", send_data(), headers=HTMX).status_code == 403


def test_unknown_operation_or_unpublished_api_is_404(signed_in: Client, echo: Any) -> None:
    assert signed_in.post("/console/send/", send_data(operation="nope")).status_code == 404
    echo.is_published = False
    echo.save()
    assert signed_in.post("/console/send/", send_data()).status_code == 404


def test_send_after_the_api_went_away_says_so_in_the_console(signed_in: Client, echo: Any) -> None:
    # The page was open when the API was unpublished: Send answered a bare "No Api matches
    # the given query", which under DEBUG replaced the whole page. The same words for an
    # operation that never existed: nothing tells a hidden API from a missing one.
    echo.is_published = False
    echo.save()
    gone = signed_in.post("/console/send/", send_data(), headers=HTMX)
    never = signed_in.post("/console/send/", send_data(operation="nope"), headers=HTMX)
    for answer in (gone, never):
        assert answer.status_code == 404
        html = answer.content.decode()
        assert 'id="console-result"' in html and "<html" not in html
        assert "This operation is not available" in html and "Reload the page" in html
    assert gone.content == never.content


def test_refused_target_is_422_before_any_request(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    # 422, not 400: under DEBUG django-htmx replaces the whole page with any 400 answer.
    page = signed_in.post(
        "/console/send/", send_data(server="http://169.254.169.254"), headers=HTMX
    )
    assert page.status_code == 422
    assert "The console only calls" in page.content.decode()
    assert fake_outbound.sent == []


def test_body_checked_before_sending(signed_in: Client, echo: Any, fake_outbound: Any) -> None:
    fake_outbound.json("POST", f"{GATEWAY}/echo/anything", {"method": "POST"})
    data = send_data(operation="echoPost", media_type="application/json")
    data["body.0"] = '{"priority": "urgent"}'
    refused = signed_in.post("/console/send/", data)
    assert refused.status_code == 422
    assert "&#x27;text&#x27; is a required property" in refused.content.decode()
    assert fake_outbound.sent == []
    forced = signed_in.post("/console/send/", {**data, "force": "1"})
    assert forced.status_code == 200 and len(fake_outbound.sent) == 1


def test_401_shows_the_gateways_reason_beside_the_token(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo)
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(
            401,
            {"title": "Invalid token", "status": 401, "check": "aud", "detail": "wrong audience"},
            Content_Type="application/problem+json",
            WWW_Authenticate='Bearer realm="gw", error="invalid_token"',
            X_Gateway_Check="aud",
        ),
    )
    token_id = give_token(signed_in, aud="api://petstore")
    html = signed_in.post("/console/send/", send_data(token=token_id)).content.decode()
    assert "The gateway refused the call" in html
    assert "The token&#x27;s aud is api://petstore; this API expects api://echo." in html


def test_a_backends_problem_json_is_shown_as_the_apis_refusal(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """A backend's own 403 in problem+json with a `check` was shown as the gateway's refusal;
    without the gateway's X-Gateway-Check header it is the API's, and says so."""
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(
            403,
            {"status": 403, "check": "scope", "detail": "ask the admin"},
            Content_Type="application/problem+json",
        ),
    )
    token_id = give_token(signed_in, aud="api://echo")
    html = signed_in.post("/console/send/", send_data(token=token_id)).content.decode()
    assert "The gateway refused the call" not in html
    assert "The API refused the call" in html and "after the gateway let the call through" in html
    assert "The API: ask the admin" in html


def test_case50_backend_html_is_shown_escaped_and_big_bodies_abort(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(200, body=b"<script>alert(1)</script>", Content_Type="text/html"),
    )
    html = signed_in.post("/console/send/", send_data()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html

    def too_big(sent: Any) -> Any:
        from portal.lib.outbound import OutboundError

        raise OutboundError(
            "the response is over the limit of 2,097,152 bytes; aborted", "too-large"
        )

    fake_outbound.on("GET", f"{GATEWAY}/echo/anything", too_big)
    page = signed_in.post("/console/send/", send_data(), headers=HTMX)
    assert page.status_code == 502
    assert "The call failed: the response is over the limit" in page.content.decode()


def test_a_deeply_nested_json_answer_is_shown_without_indentation_that_multiplies_it(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """Pretty-printing indents every value by its depth: 40 KB of numbers 200 arrays deep
    became an 8.7 MB page (a backend's 2 MiB answer, over 500 MB and minutes of a worker).
    Past a budget of indentation the JSON is shown compact, still highlighted, and says so."""
    body = b"[" * 200 + b"7," * 20_000 + b"7" + b"]" * 200
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(200, body=body, Content_Type="application/json"),
    )
    page = signed_in.post("/console/send/", send_data(), headers=HTMX)
    html = page.content.decode()
    assert page.status_code == 200
    assert len(html) < 20 * len(body)
    assert html.count('<span class="j-num">7</span>') == 20_001
    assert "Shown without indentation" in html

    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(200, {"a": {"b": [1, 2]}}),
    )
    html = signed_in.post("/console/send/", send_data(), headers=HTMX).content.decode()
    assert '\n      <span class="j-num">1</span>' in html  # three levels in: six spaces
    assert "without indentation" not in html


def test_images_are_shown_and_binaries_offered_for_download(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    fake_outbound.on(
        "GET", f"{GATEWAY}/echo/anything",
        lambda sent: response(200, body=b"\x89PNG\r\n", Content_Type="image/png"),
    )  # fmt: skip
    assert (
        'src="data:image/png;base64,iVBORw0K"'
        in signed_in.post("/console/send/", send_data()).content.decode()
    )
    fake_outbound.on(
        "GET", f"{GATEWAY}/echo/anything",
        lambda sent: response(200, body=b"\x00\x01", Content_Type="application/octet-stream"),
    )  # fmt: skip
    html = signed_in.post("/console/send/", send_data()).content.decode()
    assert 'download="response.bin"' in html and "Download the body" in html


def test_client_credentials_token_plain_and_htmx(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo, grants=ALL)
    fake_outbound.json(
        "POST",
        f"{IDP}/token",
        {"access_token": access_token(), "token_type": "Bearer", "expires_in": 60},
    )
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:client_credentials", "param.query.message": "kept"}  # fmt: skip
    plain = signed_in.post("/console/token/", data)
    assert plain.status_code == 302 and plain["Location"] == PAGE + "#console"
    page = signed_in.get(PAGE).content.decode()
    assert 'name="param.query.message" value="kept"' in page  # the form as the user left it
    assert 'data-claim="aud">api://echo<' in page

    fragment = signed_in.post("/console/token/", data, headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.content.decode().lstrip().startswith('<fieldset id="console-auth"')
    assert len(TokenStore(signed_in.session).all()) == 1  # same server and scopes: replaced


def test_code_flow_redirects_and_comes_back(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo, grants=ALL)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:authorization_code", "param.query.message": "kept",
            "password": "never-kept"}  # fmt: skip
    start = signed_in.post("/console/token/", data)
    assert start.status_code == 302
    location = start["Location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{IDP}/authorize?")
    assert query["redirect_uri"] == ["http://testserver/console/callback/"]
    htmx = signed_in.post("/console/token/", data, headers=HTMX)
    assert htmx["HX-Redirect"].startswith(f"{IDP}/authorize?")

    fake_outbound.json(
        "POST", f"{IDP}/token", {"access_token": access_token(), "token_type": "Bearer"}
    )
    back = signed_in.get(
        "/console/callback/", {"code": "c", "state": query["state"][0], "iss": IDP}
    )
    assert back.status_code == 302 and back["Location"] == PAGE + "#console"
    assert "never-kept" not in str(dict(signed_in.session))
    again = signed_in.get("/console/callback/", {"code": "c", "state": query["state"][0]})
    assert again.status_code == 400 and "used or expired state" in again.content.decode()


def test_implicit_callback_page_has_no_inline_script(signed_in: Client) -> None:
    page = signed_in.get("/console/callback/")
    html = page.content.decode()
    assert page.status_code == 200 and "data-console-implicit" in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None


def test_forget_and_sign_out_remove_tokens(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo, grants=ALL, revoke_url="")
    token_id = give_token(signed_in)
    forgotten = signed_in.post(f"/console/token/{token_id}/forget/", {"next": PAGE})
    assert forgotten.status_code == 302 and forgotten["Location"] == PAGE
    assert TokenStore(signed_in.session).all() == []
    assert signed_in.post("/console/token/nope/forget/").status_code == 404
    give_token(signed_in)
    from django.contrib.auth import logout
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = signed_in.session
    request.user = get_user_model().objects.get()
    logout(request)
    assert "console_tokens" not in request.session


def test_history_is_per_user_and_loads_back_into_the_form(
    signed_in: Client, echo: Any, fake_outbound: Any, client: Client
) -> None:
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {})
    signed_in.post("/console/send/", send_data(**{"param.query.message": "from-history"}))
    entry = CallHistory.objects.get()
    assert "from-history" in signed_in.get("/console/history/").content.decode()
    loaded = signed_in.get(f"/console/history/{entry.uuid}/")
    assert loaded.status_code == 302 and loaded["Location"] == PAGE + "#console"
    assert 'value="from-history"' in signed_in.get(PAGE).content.decode()

    other = Client()
    other.force_login(get_user_model().objects.create_user("eve", password="pw-eve-12345"))
    assert other.get(f"/console/history/{entry.uuid}/").status_code == 404
    assert "from-history" not in other.get("/console/history/").content.decode()
    assert other.post("/console/history/", {}).status_code == 405


def test_snippet_token_revealed_only_on_request(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {})
    token_id = give_token(signed_in)
    html = signed_in.post("/console/send/", send_data(token=token_id)).content.decode()
    assert "$ACCESS_TOKEN" in html and "Bearer eyJ" not in html
    entry = CallHistory.objects.get()
    revealed = signed_in.post(
        f"/console/history/{entry.uuid}/snippets/", {"token": token_id}, headers=HTMX
    )
    assert revealed.status_code == 200
    assert "Bearer eyJ" in revealed.content.decode()
    assert "<html" not in revealed.content.decode()


@pytest.mark.parametrize("path", ["/console/history/", "/console/callback/"])
def test_anonymous_is_sent_to_sign_in(client: Client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")


def test_case48_redirect_to_another_host_is_shown_not_followed(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """Case 48: one request only; the 302 is what the user sees."""
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(302, body=b"", Location="http://169.254.169.254/latest/"),
    )
    html = signed_in.post("/console/send/", send_data(token=give_token(signed_in))).content.decode()
    assert "data-status-code>302<" in html and "http://169.254.169.254/latest/" in html
    assert len(fake_outbound.sent) == 1


def test_legacy_grants_are_off_by_default(db: None) -> None:
    from console.models import AuthorizationServer

    assert AuthorizationServer(slug="x", name="x", client_id="c").grants == ["authorization_code"]


def test_case51_password_is_in_no_row_after_the_password_grant(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """Case 51: the password reaches the token endpoint once and is kept nowhere."""
    import io

    from django.core.management import call_command

    auth_server(echo, grants=ALL)
    fake_outbound.json(
        "POST", f"{IDP}/token", {"error": "invalid_grant", "error_description": "bad password"}, 400
    )
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:password", "username": "ada", "password": "pw-Zebra-4471"}  # fmt: skip
    refused = signed_in.post("/console/token/", data, headers=HTMX)
    assert "invalid_grant: bad password" in refused.content.decode()
    assert "pw-Zebra-4471" not in refused.content.decode()
    fake_outbound.json(
        "POST", f"{IDP}/token", {"access_token": access_token(), "token_type": "Bearer"}
    )
    assert signed_in.post("/console/token/", data).status_code == 302
    assert fake_outbound.sent[-1].form["password"] == "pw-Zebra-4471"
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    from django.contrib.sessions.models import Session

    decoded = [str(s.get_decoded()) for s in Session.objects.all()]
    assert "pw-Zebra-4471" not in dump.getvalue() + "".join(decoded)


def test_a_refused_password_grant_keeps_its_panel_open_with_the_username(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """A mistyped password closed the "Resource owner password" panel and emptied the
    username: the developer opened it again and retyped both. The password is not kept."""
    auth_server(echo, grants=ALL)
    fake_outbound.json(
        "POST", f"{IDP}/token", {"error": "invalid_grant", "error_description": "bad password"}, 400
    )
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:password", "username": "ada", "password": "pw-Zebra-4471"}  # fmt: skip
    html = signed_in.post("/console/token/", data, headers=HTMX).content.decode()
    assert "invalid_grant: bad password" in html
    assert re.search(r'<details class="console-legacy-grant" open>\s*<summary>Resource owner', html)
    assert re.search(r'<input type="text" id="username-idp" name="username" value="ada"', html)
    assert "pw-Zebra-4471" not in html
    # The other legacy grant's panel stays closed.
    assert re.search(r'<details class="console-legacy-grant">\s*<summary>Implicit', html)


def test_reference_servers_include(echo: Any, auth_server: Any) -> None:
    """`{% include "console/servers.html" %}` on an API page lists what the admin shows."""
    from django.template.loader import render_to_string

    auth_server(echo, grants=ALL, link_scopes="echo.read")
    auth_server(echo, slug="hidden", name="Hidden IdP", show_in_reference=False)
    html = render_to_string("console/servers.html", {"api": echo})
    assert "Example IdP" in html and "Hidden IdP" not in html
    assert "<code>echo.read</code>" in html and "s3cret" not in html
    assert "RFC 9700 §2.4" in html
    from apis.models import Api

    other = Api.objects.create(slug="other", name="Other")  # no servers: nothing rendered
    assert render_to_string("console/servers.html", {"api": other}).strip() == ""


def test_refused_authorization_offers_the_way_back(
    signed_in: Client, echo: Any, auth_server: Any
) -> None:
    auth_server(echo, grants=ALL)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:authorization_code"}  # fmt: skip
    state = query_state(signed_in.post("/console/token/", data)["Location"])
    page = signed_in.get(
        "/console/callback/", {"state": state, "error": "access_denied", "iss": IDP}
    )
    assert page.status_code == 400
    html = page.content.decode()
    # "The authorization server refused: access_denied." left a developer who had pressed
    # Deny to decode the error code.
    assert "You chose Deny, or the sign-in there was cancelled" in html
    assert "Get a token again and choose Allow" in html and "(access_denied)" in html
    assert f'href="{PAGE}#console"' in html


def query_state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_forget_with_htmx_swaps_the_token_area(
    signed_in: Client, echo: Any, auth_server: Any
) -> None:
    auth_server(echo, grants=ALL, revoke_url="")
    token_id = give_token(signed_in)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet"}
    page = signed_in.post(f"/console/token/{token_id}/forget/", data, headers=HTMX)
    html = page.content.decode()
    assert page.status_code == 200 and html.lstrip().startswith('<fieldset id="console-auth"')
    assert "Forgot the token from Example IdP." in html and 'data-token="' not in html


def test_implicit_hand_over_answers_json_to_console_js(
    signed_in: Client, echo: Any, auth_server: Any
) -> None:
    auth_server(echo, grants=ALL)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:implicit"}  # fmt: skip
    state = query_state(signed_in.post("/console/token/", data)["Location"])
    json_headers = {"Accept": "application/json"}
    fragment = {"access_token": access_token(), "token_type": "Bearer", "state": state}
    done = signed_in.post("/console/callback/implicit/", fragment, headers=json_headers)
    assert done.status_code == 200 and done.json() == {"redirect": PAGE + "#console"}
    again = signed_in.post("/console/callback/implicit/", fragment, headers=json_headers)
    assert again.status_code == 400
    assert "used or expired state" in again.json()["error"]
    assert len(TokenStore(signed_in.session).all()) == 1


def test_a_saved_form_fills_only_its_own_operation(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo, grants=ALL)
    fake_outbound.json(
        "POST", f"{IDP}/token", {"access_token": access_token(), "token_type": "Bearer"}
    )
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:client_credentials", "param.query.message": "for-echoGet"}  # fmt: skip
    signed_in.post("/console/token/", data)
    other = signed_in.get("/apis/echo/operations/echoPost/").content.decode()
    assert "for-echoGet" not in other


def test_send_reads_only_the_schemas_it_checks_not_the_whole_document(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """The send path checks the body and the response against the operation's schemas, read
    row by row: the normalised document (megabytes for the largest specs) is never loaded."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apis.documents import clear_cache

    clear_cache()  # nothing left by the page views of other tests
    fake_outbound.json("POST", f"{GATEWAY}/echo/anything", {"method": 5})
    data = send_data(operation="echoPost", media_type="application/json")
    data["body.0"] = '{"priority": "urgent"}'
    with CaptureQueriesContext(connection) as queries:
        refused = signed_in.post("/console/send/", data, headers=HTMX)
        answer = signed_in.post("/console/send/", {**data, "force": "1"}, headers=HTMX)
    assert "&#x27;text&#x27; is a required property" in refused.content.decode()
    assert "body.method: 5 is not of type &#x27;string&#x27;" in answer.content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "normalised" in q["sql"]]


def test_the_token_card_shows_all_claims_as_json(
    signed_in: Client, echo: Any, auth_server: Any
) -> None:
    # They showed as a Python dict ({'aud': 'api://echo', ...}), which no JWT tool reads.
    auth_server(echo, grants=ALL)
    give_token(signed_in, aud="api://echo")
    html = signed_in.get(PAGE).content.decode()
    start = html.index('class="console-all-claims"')
    claims = html[start : html.index("</details>", start)]
    assert "&quot;aud&quot;: &quot;api://echo&quot;" in claims and "&#x27;" not in claims


def test_a_parameter_the_spec_forbids_is_named_before_sending(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    # echoGet's `repeat` is an integer of at most 10: 99 and "abc" were sent without a word.
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    for value, problem in (
        ("99", "query repeat: 99 is greater than the maximum of 10"),
        ("abc", "query repeat: 'abc' is not an integer"),
    ):
        html = signed_in.post("/console/send/", send_data(**{"param.query.repeat": value}))
        page = unescape(html.content.decode())
        assert problem in page and "so it was not sent" in page, value
    assert fake_outbound.sent == []
    forced = signed_in.post(
        "/console/send/", send_data(**{"param.query.repeat": "99", "force": "1"})
    )
    assert "data-status-code>200<" in forced.content.decode()
    assert (
        signed_in.post("/console/send/", send_data(**{"param.query.repeat": "3"})).status_code
        == 200
    )


def test_a_refusal_names_the_fields_at_fault_for_the_form_to_mark(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """A call refused for a value that fails the schema said what was wrong, but not which
    field: a screen reader user could not find it. Each message names its field (console.js
    marks that field aria-invalid, described by the message's id)."""
    item = r'<li id="(console-problem-\d+)" data-console-field="([^"]+)"><code>(.*?)</code></li>'
    data = send_data(**{"param.query.repeat": "99"})
    html = signed_in.post("/console/send/", data, headers=HTMX).content.decode()
    (found,) = re.findall(item, html)
    assert found[1] == "param.query.repeat" and "greater than the maximum of 10" in found[2]
    assert f'name="{found[1]}"' in signed_in.get(PAGE).content.decode()
    body = send_data(operation="echoPost", media_type="application/json")
    body["body.0"] = '{"priority": "urgent"}'
    html = signed_in.post("/console/send/", body, headers=HTMX).content.decode()
    assert {field for _, field, _ in re.findall(item, html)} == {"body.0"}
    assert fake_outbound.sent == []


@pytest.mark.parametrize(
    "extra",
    [
        {"param.header.X-Request-Note": "5 \u20ac"},  # a header parameter typed with a euro sign
        {"param.header.X-Request-Note": "\U0001f600"},
        {"token": "pasted"},  # a pasted bearer token with a character HTTP cannot carry
    ],
)
def test_case49_a_header_value_http_cannot_carry_is_refused_not_a_server_error(
    signed_in: Client, echo: Any, settings: Any, extra: dict[str, str]
) -> None:
    # HTTP/1.1 headers are bytes (Latin-1 at most): "€" reached http.client's encoder and
    # the console answered 500.
    from tests.portal.loopback import Route, loopback_server

    with loopback_server({"/gateway/echo/anything": Route(200, body=b"{}")}) as gateway:
        settings.CONSOLE_GATEWAY_URL = gateway.url("/gateway")
        data = send_data(server=gateway.url("/gateway/echo"), **extra)
        if extra.get("token") == "pasted":
            session = signed_in.session
            from console.tokens import Token

            pasted = Token(server="pasted:echo", server_name="Pasted token", grant="pasted",
                           scopes="bearer", access_token="t\u00f6k\u20acn")  # fmt: skip
            data["token"] = TokenStore(session).put(pasted).id
            session.save()
        page = signed_in.post("/console/send/", data, headers=HTMX)
        assert page.status_code in (422, 502)
        assert "header" in unescape(page.content.decode())
        assert gateway.requests == []


@pytest.mark.parametrize(
    "lifetime",
    [
        b'"expires_in": 1e999',
        b'"expires_at": "inf"',
        b'"expires_at": "nan"',
        b'"expires_in": -1e999',
        b'"expires_at": 1' + b"0" * 400,
    ],
)
def test_a_token_lifetime_that_is_not_a_finite_number_breaks_no_page(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any, lifetime: bytes
) -> None:
    # 1e999 is infinity to Python's JSON reader: oauthlib's int() raised OverflowError (500),
    # and an "inf" expires_at was kept, so every later page with the console answered 500.
    auth_server(echo, grants=ALL)
    body = b'{"access_token": "%s", "token_type": "Bearer", %s}' % (
        access_token().encode(),
        lifetime,
    )
    fake_outbound.on(
        "POST",
        f"{IDP}/token",
        lambda sent: response(200, body=body, Content_Type="application/json"),
    )
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:client_credentials"}  # fmt: skip
    got = signed_in.post("/console/token/", data)
    assert got.status_code == 302
    assert signed_in.get(PAGE).status_code == 200


@pytest.mark.parametrize("expires_in", ["inf", "1e999", "nan", "-inf"])
def test_an_implicit_fragment_with_an_endless_lifetime_breaks_no_page(
    signed_in: Client, echo: Any, auth_server: Any, expires_in: str
) -> None:
    auth_server(echo, grants=ALL)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:implicit"}  # fmt: skip
    state = query_state(signed_in.post("/console/token/", data)["Location"])
    fragment = {"access_token": access_token(), "token_type": "Bearer", "state": state,
                "expires_in": expires_in}  # fmt: skip
    signed_in.post("/console/callback/implicit/", fragment, headers={"Accept": "application/json"})
    assert signed_in.get(PAGE).status_code == 200


@pytest.mark.parametrize("depth", [255, 1000])
def test_a_backend_answer_nested_deeper_than_the_printer_goes_is_shown_as_text(
    signed_in: Client, echo: Any, fake_outbound: Any, depth: int
) -> None:
    # orjson reads 1,024 levels but writes only 254: a backend answering JSON nested 255
    # deep made the console answer 500 instead of showing the body.
    deep = b'{"a":' * depth + b"1" + b"}" * depth
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(200, body=deep, Content_Type="application/json"),
    )
    page = signed_in.post("/console/send/", send_data(), headers=HTMX)
    assert page.status_code == 200
    assert "data-status-code>200<" in page.content.decode()
    assert "{&quot;a&quot;:{&quot;a&quot;:" in page.content.decode()


def test_a_forced_body_nested_too_deep_for_the_python_snippet_still_sends_and_shows(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    # Sent anyway with "force": the Python snippet pretty-printed the parsed body and hit the
    # recursion limit, so the call's page and its history's snippets answered 500.
    fake_outbound.json("POST", f"{GATEWAY}/echo/anything", {"ok": 1})
    data = send_data(operation="echoPost", media_type="application/json", force="1")
    data["body.0"] = "[" * 1000 + "]" * 1000
    page = signed_in.post("/console/send/", data)
    assert page.status_code == 200 and "data-status-code>200<" in page.content.decode()
    assert len(fake_outbound.sent) == 1
    entry = CallHistory.objects.get()
    revealed = signed_in.post(f"/console/history/{entry.uuid}/snippets/", {})
    assert revealed.status_code == 200 and "requests.request(" in unescape(
        revealed.content.decode()
    )


def test_a_form_bodys_array_field_is_sent_one_field_per_item(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """The echo demo's form body takes `labels` (an array) as JSON in its field; the
    console sent `labels=["demo","urgent"]`, where a form array is one field per item, as
    the operation page's request sample writes it."""
    fake_outbound.json("POST", f"{GATEWAY}/echo/anything", {"method": "POST"})
    data = send_data(
        operation="echoPost",
        media_type="application/x-www-form-urlencoded",
        **{"field.1.text": "hi", "field.1.labels": '["demo", "urgent"]'},
    )
    del data["param.query.message"]
    answer = signed_in.post("/console/send/", data)
    assert answer.status_code == 200, answer.content.decode()[:500]
    assert fake_outbound.sent[0].body == b"text=hi&labels=demo&labels=urgent"


def test_a_password_field_is_typed_hidden_and_kept_out_of_the_history(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """Traccar's POST /session takes `email` and `password` (`format: password`) as a form
    body: the console's field was plain text pre-filled with the generated `********` (sent
    as the password unless retyped), showed the real one as it was typed, and the call's
    history kept it in clear beside the other fields."""
    media = _password_form(echo, required=["email", "password"])
    page = signed_in.get("/apis/echo/operations/echoPost/").content.decode()
    field = re.search(r'<input [^>]*name="field\.0\.password"[^>]*>', page)
    assert field is not None and 'type="password"' in field[0]
    assert "********" not in field[0]
    fake_outbound.json("POST", f"{GATEWAY}/echo/anything", {"method": "POST"})
    data = send_data(
        operation="echoPost",
        media_type=media,
        **{"field.0.email": "ann@example.com", "field.0.password": "pw-of-ann-42"},
    )
    del data["param.query.message"]
    answer = signed_in.post("/console/send/", data)
    assert answer.status_code == 200, answer.content.decode()[:500]
    assert fake_outbound.sent[0].body == b"email=ann%40example.com&password=pw-of-ann-42"
    kept = CallHistory.objects.get().form
    assert kept["fields"] == {"email": "ann@example.com", "password": "$PASSWORD"}


def test_a_password_parameter_is_typed_hidden_and_shown_nowhere(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """A query or header parameter the spec marks `format: password` (a PIN in the query, a
    password header) was a plain text field pre-filled with its example, and the result,
    its snippets and the call's history (form and URL) showed it as typed; it is sent as
    typed, but typed hidden and shown as $PASSWORD, as a form body's password field is."""
    operation = op(echo, "echoGet")
    secret = {"type": "string", "format": "password", "example": "0000"}
    operation.data["parameters"] += [
        {"name": "pin", "in": "query", "required": True, "schema": secret},
        {"name": "X-Password", "in": "header", "schema": secret},
    ]
    operation.save()
    page = signed_in.get(PAGE).content.decode()
    for name in ("param.query.pin", "param.header.X-Password"):
        field = re.search(rf'<input [^>]*name="{re.escape(name)}"[^>]*>', page)
        assert field is not None and 'type="password"' in field[0], name
        assert 'value=""' in field[0]  # not the example, which would be sent
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    data = send_data(**{"param.query.pin": "pin-of-ann-42", "param.header.X-Password": "pw-ann-7"})
    answer = signed_in.post("/console/send/", data)
    assert answer.status_code == 200, answer.content.decode()[:500]
    (sent,) = fake_outbound.sent
    assert "pin=pin-of-ann-42" in sent.url and sent.headers["X-Password"] == "pw-ann-7"
    shown = answer.content.decode()
    assert "pin-of-ann-42" not in shown and "pw-ann-7" not in shown
    assert "pin=$PASSWORD" in shown
    kept = CallHistory.objects.get()
    assert kept.form["params"]["query"] == {"message": "hi", "pin": "$PASSWORD"}
    assert kept.form["params"]["header"] == {"X-Password": "$PASSWORD"}
    assert "pin-of-ann-42" not in kept.url


def test_the_form_says_how_to_type_an_array_or_object(signed_in: Client, echo: Any) -> None:
    """The console reads a form body's array or object typed as JSON and writes it as the
    body's encoding says (one field per item); nothing told the user to type JSON, and
    `demo, urgent` goes out as one label."""
    operation = op(echo, "echoGet")
    operation.data["parameters"].append(
        {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}
    )
    operation.save()
    html = signed_in.get("/apis/echo/operations/echoPost/").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "labels JSON array" in text
    html = signed_in.get(PAGE).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "ids query · array · comma-separated" in text


def test_an_array_of_files_takes_several_files_and_sends_each(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """A part that is an array of files (FastAPI's `list[UploadFile]`, Swagger's repeated
    file fields) took one file: the input had no `multiple` and the form kept the last file
    of the field, so a call with several could not be sent."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    operation = op(echo, "echoPost")
    binary = {"type": "string", "format": "binary"}
    schema = {"type": "object", "properties": {"attachments": {"type": "array", "items": binary}}}
    operation.data["requestBody"] = {"content": {"multipart/form-data": {"schema": schema}}}
    operation.save()
    page = signed_in.get("/apis/echo/operations/echoPost/").content.decode()
    assert re.search(r'<input type="file"[^>]*name="file\.0\.attachments"[^>]*multiple', page)
    files = [SimpleUploadedFile(f"a{i}.txt", f"file {i}".encode(), "text/plain") for i in (1, 2)]
    data = {**send_data(operation="echoPost", media_type="multipart/form-data")}
    del data["param.query.message"]
    signed_in.post("/console/send/", {**data, "file.0.attachments": files})
    (sent,) = fake_outbound.sent  # (no backend answers in this test: a 502 comes back)
    body = sent.body
    assert body.count(b'name="attachments"') == 2
    assert b"file 1" in body and b"file 2" in body


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The bytes Django writes to temporary upload files, counted as they are written."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    written = [0]
    receive = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self: Any, raw_data: bytes, start: int) -> Any:
        written[0] += len(raw_data)
        return receive(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    return written


def test_an_oversize_upload_is_not_spooled_to_disk_past_the_cap(
    signed_in: Client, echo: Any, spooled: list[int]
) -> None:
    """The console sends at most 2 MiB a file, yet Django wrote the whole upload (any size)
    to a temporary file before the form looked at it: a signed-in user could fill the disk."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from console.uploads import MAX_UPLOAD_BYTES

    big = SimpleUploadedFile("big.bin", b"x" * (MAX_UPLOAD_BYTES * 3))
    answer = signed_in.post("/console/send/", {**send_data(), "file.0.data": big}, headers=HTMX)
    assert spooled[0] <= MAX_UPLOAD_BYTES
    assert answer.status_code == 413
    assert "big.bin is larger than 2 MiB" in unescape(answer.content.decode())


def test_uploads_past_the_total_cap_are_not_spooled_to_disk(
    signed_in: Client, echo: Any, spooled: list[int]
) -> None:
    """Each file was capped at 2 MiB, but a request could still carry Django's 100 files:
    about 200 MiB written to temporary files by one send. The files of one call are capped
    together too."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from console.uploads import MAX_UPLOAD_BYTES, MAX_UPLOADS_TOTAL

    count = MAX_UPLOADS_TOTAL // MAX_UPLOAD_BYTES + 3
    files = {
        f"file.{i}.data": SimpleUploadedFile(f"part{i}.bin", b"x" * MAX_UPLOAD_BYTES)
        for i in range(count)
    }
    answer = signed_in.post("/console/send/", {**send_data(), **files}, headers=HTMX)
    assert spooled[0] <= MAX_UPLOADS_TOTAL
    assert answer.status_code == 413
    assert "files together are larger than 8 MiB; nothing was sent" in unescape(
        answer.content.decode()
    )


def test_uploads_need_no_writable_temporary_folder(
    signed_in: Client, echo: Any, fake_outbound: Any, settings: Any, tmp_path: Any
) -> None:
    """Files under the caps but together over Django's 2.5 MB in-memory threshold went to a
    temporary file: with the temporary folder read-only, missing or full, the send was a 500.
    They are bounded by MAX_UPLOADS_TOTAL, so they are held in memory."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "not-there")
    files = {
        f"file.{i}.data": SimpleUploadedFile(f"part{i}.bin", b"x" * 1_500_000) for i in range(2)
    }
    client = Client(raise_request_exception=False)
    client.cookies = signed_in.cookies
    answer = client.post("/console/send/", {**send_data(), **files}, headers=HTMX)
    assert answer.status_code != 500, answer.content[:300]
    assert len(fake_outbound.sent) == 1  # the call went out (502: no backend in this test)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "\ud800", "iss": "\udfff"},
        {"name": "x\ud83d"},
        {"iss": {"<b>": 1}, "aud": [{"x": 1}], "sub": ["a"], "scope": {"a": 1}},
        {"exp": float("inf"), "iat": float("nan"), "nbf": -1e308},
        {"exp": "<script>alert(1)</script>", "iss": "<img src=x onerror=alert(1)>"},
    ],
    ids=["lone-surrogates", "half-emoji", "wrong-types", "non-finite", "html"],
)
def test_the_token_card_draws_claims_of_any_shape(
    signed_in: Client, echo: Any, auth_server: Any, claims: dict[str, Any]
) -> None:
    """A token's payload says what it likes: a lone surrogate (\\ud800 in its JSON) is no
    text UTF-8 can carry, and the page that drew it failed to encode (a 500, on every visit
    while the token was kept)."""
    auth_server(echo, grants=ALL)
    give_token(signed_in, **claims)
    page = signed_in.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("idna", b"hello"),
        ("undefined", b"hello"),
        ("utf-7", b"a+2AA-b"),
        ("unicode_escape", b"a\\ud800b"),
        ("raw_unicode_escape", b"a\\udfffb"),
    ],
)
def test_a_backend_text_answer_in_any_charset_is_shown(
    signed_in: Client, echo: Any, fake_outbound: Any, charset: str, body: bytes
) -> None:
    """The backend names the charset: `idna` and `undefined` decode nothing with errors
    replaced (UnicodeError), and UTF-7 or unicode_escape make lone surrogates no page can
    encode; each was a 500 in place of the answer."""
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(200, body=body, Content_Type=f"text/plain; charset={charset}"),
    )
    page = signed_in.post("/console/send/", send_data(), headers=HTMX)
    assert page.status_code == 200
    assert "200" in page.content.decode()


def test_an_empty_history_leads_to_the_apis(signed_in: Client) -> None:
    # "No calls yet. Open an operation..." named no way to one.
    html = signed_in.get("/console/history/").content.decode()
    assert "No calls yet" in html and 'href="/apis/"' in html.split("No calls yet")[1]


def test_the_gateways_own_refusal_is_not_checked_against_the_apis_schema(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """A 429 or 401 the gateway made itself (X-Gateway-Check) was checked against the API's
    documented responses, and every refusal came with 'The response does not match the
    documented schema' about a body the API never wrote."""
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(
            429,
            {"title": "Too Many Requests", "status": 429, "detail": "Rate limit is exceeded."},
            Content_Type="application/problem+json",
            X_Gateway_Check="rate-limit",
        ),
    )
    html = signed_in.post("/console/send/", send_data()).content.decode()
    assert "429" in html and "Rate limit is exceeded." in html
    assert "does not match the documented schema" not in html
    # The same answer from the API's own server is checked: echo documents its 429 as a
    # problem whose status is a number.
    fake_outbound.on(
        "GET",
        f"{GATEWAY}/echo/anything",
        lambda sent: response(
            429,
            {"title": "Too Many Requests", "status": "429", "detail": "Rate limit is exceeded."},
            Content_Type="application/problem+json",
        ),
    )
    html = signed_in.post("/console/send/", send_data()).content.decode()
    assert "does not match the documented schema" in html


def test_a_past_calls_snippets_write_its_password_parameter_as_a_placeholder(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """The history kept a `format: password` parameter blank, so a past call's snippets
    (rebuilt from the history on 'reveal') were refused as missing that required parameter;
    they read $PASSWORD where it was sent, as the result's snippets do."""
    operation = op(echo, "echoGet")
    secret = {"type": "string", "format": "password"}
    operation.data["parameters"] += [
        {"name": "pin", "in": "query", "required": True, "schema": secret}
    ]
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    signed_in.post("/console/send/", send_data(**{"param.query.pin": "pin-of-ann-42"}))
    entry = CallHistory.objects.get()
    entry.form["params"]["query"]["pin"] = ""  # as an entry kept before $PASSWORD was
    entry.save()
    revealed = signed_in.post(f"/console/history/{entry.uuid}/snippets/", {})
    assert revealed.status_code == 200, revealed.content.decode()[:300]
    assert "pin=$PASSWORD" in revealed.content.decode()


def test_a_past_calls_snippets_keep_the_optional_password_parameters_it_sent(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """The history kept every `format: password` parameter and form field blank, so a past
    call's snippets could not tell an optional one that was sent from one left empty, and
    left it out: the revealed call was not the call made. What was sent reads $PASSWORD;
    what was not sent stays out; loaded back, the fields are still empty."""
    operation = op(echo, "echoGet")
    secret = {"type": "string", "format": "password"}
    operation.data["parameters"] += [
        {"name": "X-Password", "in": "header", "schema": secret},
        {"name": "otp", "in": "query", "schema": secret},
    ]
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    signed_in.post("/console/send/", send_data(**{"param.header.X-Password": "pw-ann-7"}))
    entry = CallHistory.objects.get()
    assert "pw-ann-7" not in str(entry.form)
    revealed = signed_in.post(f"/console/history/{entry.uuid}/snippets/", {})
    assert revealed.status_code == 200, revealed.content.decode()[:300]
    code = unescape(revealed.content.decode())
    assert "X-Password: $PASSWORD" in code and "otp=" not in code
    loaded = signed_in.get(f"/console/history/{entry.uuid}/", follow=True)
    field = re.search(
        r'<input [^>]*name="param\.header\.X-Password"[^>]*>', loaded.content.decode()
    )
    assert field is not None and 'value=""' in field[0]


def test_a_past_calls_snippets_keep_the_password_form_field_it_sent(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """A form body's `format: password` field was kept blank, so the past call's snippets
    sent `password=` (empty): they read $PASSWORD, as the result's snippets do."""
    media = _password_form(echo)
    fake_outbound.json("POST", f"{GATEWAY}/echo/anything", {"method": "POST"})
    data = send_data(
        operation="echoPost",
        media_type=media,
        **{"field.0.email": "ann@example.com", "field.0.password": "pw-of-ann-42"},
    )
    del data["param.query.message"]
    signed_in.post("/console/send/", data)
    entry = CallHistory.objects.get()
    assert "pw-of-ann-42" not in str(entry.form)
    revealed = signed_in.post(f"/console/history/{entry.uuid}/snippets/", {})
    assert revealed.status_code == 200, revealed.content.decode()[:300]
    assert "password=$PASSWORD" in unescape(revealed.content.decode())


def test_the_history_keeps_a_bounded_part_of_a_large_call(
    signed_in: Client, echo: Any, fake_outbound: Any, settings: Any
) -> None:
    """The history kept each call's form whole: a body of up to the request's 2.5 MB, fifty
    entries a user, so anyone could grow the database at will. An entry keeps at most
    CONSOLE_HISTORY_ENTRY_BYTES of it, the body cut first; the history says it was cut."""
    settings.CONSOLE_HISTORY_ENTRY_BYTES = 4096
    fake_outbound.json("POST", f"{GATEWAY}/echo/anything", {"method": "POST"})
    data = send_data(operation="echoPost", media_type="application/json")
    data["body.0"] = '{"text": "' + "a" * 200_000 + '"}'
    answer = signed_in.post("/console/send/", data)
    assert answer.status_code == 200, answer.content.decode()[:300]
    assert len(fake_outbound.sent[0].body) > 200_000  # sent whole
    entry = CallHistory.objects.get()
    assert len(orjson.dumps(entry.form)) + len(entry.url) <= 4096
    assert entry.form["body"].startswith('{"text": "aaaa')
    listed = signed_in.get("/console/history/").content.decode()
    assert "only its first" in listed
    small = send_data(operation="echoPost", media_type="application/json")
    small["body.0"] = '{"text": "hi"}'
    signed_in.post("/console/send/", small)
    assert signed_in.get("/console/history/").content.decode().count("only its first") == 1
    assert CallHistory.objects.order_by("-pk").first().form["body"] == '{"text": "hi"}'  # type: ignore[union-attr]


def _auth_fieldset(page: str) -> str:
    start = page.index('id="console-auth"')
    return page[start : page.index("</fieldset>", start)]


def test_coming_back_from_a_grant_the_console_says_so_where_it_opens(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """Back from the authorization server at #console, "Got a token from ..." was in the
    page's message list at the top, far out of view. The Authorization block, where the page
    opens, says it now (once: not also at the top), as the key picker does (3b70fff)."""
    auth_server(echo, grants=ALL)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "scopes.idp": "echo.read",
            "grant_choice": "idp:authorization_code"}  # fmt: skip
    start = signed_in.post("/console/token/", data)
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    fake_outbound.json(
        "POST", f"{IDP}/token", {"access_token": access_token(), "token_type": "Bearer"}
    )
    back = signed_in.get(
        "/console/callback/", {"code": "c", "state": state, "iss": IDP}, follow=True
    )
    ((where, _),) = back.redirect_chain
    assert where == PAGE + "#console"
    page = back.content.decode()
    assert "Got a token from Example IdP" in _auth_fieldset(page)
    assert page.count("Got a token from Example IdP") == 1


def test_forgetting_a_token_without_htmx_says_so_where_the_page_opens(
    signed_in: Client, echo: Any, auth_server: Any
) -> None:
    auth_server(echo, grants=ALL, revoke_url="")
    token_id = give_token(signed_in)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "next": PAGE + "#console"}
    done = signed_in.post(f"/console/token/{token_id}/forget/", data, follow=True)
    ((where, _),) = done.redirect_chain
    assert where == PAGE + "#console"
    page = done.content.decode()
    assert "Forgot the token from Example IdP." in _auth_fieldset(page)
    assert page.count("Forgot the token from Example IdP.") == 1

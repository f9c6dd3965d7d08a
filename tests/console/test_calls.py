"""Building and sending a call: where it may go, what it may carry (SECURITY.md 44-50)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import urllib3.util.connection

from apis.models import Operation
from console import calls
from console.calls import CallError, ConsoleInput
from console.tokens import Token
from portal.lib import outbound
from tests.console.conftest import GATEWAY, op, response

ECHO = f"{GATEWAY}/echo"


def put_spec_servers(api: Any, servers: list[dict[str, Any]]) -> None:
    version = api.default_version
    version.overview = {**version.overview, "servers": servers}
    version.save()
    for operation in version.operations.all():
        operation.data = {**operation.data, "servers": servers}
        operation.save()


def build(api: Any, slug: str, **fields: Any) -> calls.PreparedCall:
    operation = op(api, slug)
    media = list((operation.data.get("requestBody") or {}).get("content") or {})
    return calls.build_call(
        operation,
        ConsoleInput(**fields),
        calls.targets(api, api.default_version, operation),
        media_types=media,
    )


def test_gateway_is_the_default_target(echo: Any) -> None:
    operation = op(echo, "echoGet")
    options = calls.targets(echo, echo.default_version, operation)
    assert options[0] == calls.Target(ECHO, "Gateway", True, is_gateway=True)
    call = build(echo, "echoGet", params={"query": {"message": "hi there", "repeat": "2"}})
    assert call.url == f"{ECHO}/anything?message=hi+there&repeat=2"
    assert call.method == "GET"


def test_relative_server_is_the_portals_own_gateway(echo: Any) -> None:
    """The demo specs say `servers: [{url: /gateway/echo}]`: one target, not a dead second one."""
    put_spec_servers(echo, [{"url": "/gateway/echo"}])
    options = calls.targets(echo, echo.default_version, op(echo, "echoGet"))
    assert [o.url for o in options] == [ECHO]


@pytest.mark.parametrize(
    "server, reason",
    [
        ("http://169.254.169.254", "not on this portal's allowlist"),
        ("https://gw@evil.example", "user info"),
        ("file:///etc/passwd", "not an absolute http(s) URL"),
    ],
)
def test_case44_spec_servers_outside_the_allowlist_are_offered_disabled(
    echo: Any, server: str, reason: str, fake_outbound: Any
) -> None:
    """Case 44: a spec's servers are listed, refused, and never called."""
    put_spec_servers(echo, [{"url": server}])
    operation = op(echo, "echoGet")
    options = calls.targets(echo, echo.default_version, operation)
    spec = next(o for o in options if o.url == server.rstrip("/"))
    assert not spec.allowed and reason in spec.reason
    with pytest.raises(CallError, match="only calls http://127.0.0.1:8000/gateway/echo"):
        build(echo, "echoGet", server=server)
    assert fake_outbound.sent == []


@pytest.mark.parametrize(
    "wanted",
    [
        "https://127.0.0.1:8000/gateway/echo",  # https where http is configured
        "http://127.0.0.1:8001/gateway/echo",  # another port
        "http://127.0.0.1:8000/gateway/other",  # another API's route
        "http://gw@127.0.0.1:8000/gateway/echo",  # userinfo
    ],
)
def test_case46_targets_other_than_the_configured_ones_are_refused(echo: Any, wanted: str) -> None:
    """Case 46: refused before DNS or connect."""
    with pytest.raises(CallError):
        build(echo, "echoGet", server=wanted)


def test_allowlisted_spec_server_is_offered(echo: Any, settings: Any) -> None:
    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com"]
    put_spec_servers(
        echo, [{"url": "https://api.example.com/{base}", "variables": {"base": {"default": "v1"}}}]
    )
    call = build(echo, "echoGet", server="https://api.example.com/v1")
    assert call.url == "https://api.example.com/v1/anything"


def test_case47_allowlisted_name_resolving_to_a_private_address_is_blocked(
    echo: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case 47: the real wrapper resolves once, checks, and never connects to 10.0.0.5."""
    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com"]
    put_spec_servers(echo, [{"url": "https://api.example.com"}])
    connects: list[Any] = []
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))],
    )

    def no_connect(*args: Any, **kwargs: Any) -> Any:
        connects.append(args)
        raise OSError("the test never connects")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", no_connect)
    call = build(echo, "echoGet", server="https://api.example.com")
    with pytest.raises(outbound.OutboundError, match="non-public address"):
        calls.send(call, None)
    assert connects == []


def test_path_parameters_cannot_walk_out_of_the_route(echo: Any) -> None:
    call = build(echo, "echoPut", params={"path": {"id": ".."}}, media_type="")
    assert call.url == f"{ECHO}/anything/%2E%2E"
    call = build(echo, "echoPut", params={"path": {"id": "a/b?c#d"}})
    assert call.url == f"{ECHO}/anything/a%2Fb%3Fc%23d"


@pytest.mark.parametrize(
    "template",
    [
        "/anything/../../admin/",
        "/./admin",
        "/anything/%2e%2E/admin",
        "/anything/.%2E",
        # Separators a server may read as `/` (IIS decodes %5C; urllib3 encodes `\` so).
        "/anything/..%2F..%2Fadmin",
        "/anything\\..\\admin",
        "/anything/..%5cadmin",
    ],
)
def test_a_spec_path_with_dot_segments_cannot_walk_out_of_the_server(
    echo: Any, settings: Any, template: str
) -> None:
    """A spec's path template is attacker-controlled text: its `..` (plain, or encoded for a
    server that decodes before resolving) would take the user's token to another path of an
    allowlisted origin; urllib3 sends it as written."""
    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com"]
    put_spec_servers(echo, [{"url": "https://api.example.com/v1"}])
    Operation.objects.filter(pk=op(echo, "echoGet").pk).update(path=template)
    with pytest.raises(CallError, match="would leave the chosen server"):
        build(echo, "echoGet", server="https://api.example.com/v1")


@pytest.mark.parametrize(
    "template",
    [
        # Tomcat and Spring read `..;x` as `..` (the part after `;` is a path parameter).
        "/anything/..;/admin",
        "/anything/..;jsessionid=1/admin",
        "/anything/%2e%2e;/admin",
        # Double-encoded, for a server or proxy that decodes twice.
        "/anything/%252e%252e/admin",
        "/anything/..%252fadmin",
        # Fullwidth dots and solidus, which a backend applying NFKC reads as `../`.
        "/anything/\uff0e\uff0e\uff0fadmin",
        "/anything/%EF%BC%8E%EF%BC%8E/admin",
    ],
)
def test_spec_path_dot_segment_spellings_a_backend_resolves_cannot_walk_out(
    echo: Any, settings: Any, template: str
) -> None:
    """Variants of the dot-segment check: spellings a backend still resolves to `..`."""
    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com"]
    put_spec_servers(echo, [{"url": "https://api.example.com/v1"}])
    Operation.objects.filter(pk=op(echo, "echoGet").pk).update(path=template)
    with pytest.raises(CallError, match="would leave the chosen server"):
        build(echo, "echoGet", server="https://api.example.com/v1")


@pytest.mark.parametrize("template", ["/anything/a;b", "/anything/v1.2;x=1", "/anything/%25"])
def test_paths_with_semicolons_or_percent_signs_still_build(
    echo: Any, settings: Any, template: str
) -> None:
    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com"]
    put_spec_servers(echo, [{"url": "https://api.example.com/v1"}])
    Operation.objects.filter(pk=op(echo, "echoGet").pk).update(path=template)
    call = build(echo, "echoGet", server="https://api.example.com/v1")
    assert call.url.startswith("https://api.example.com/v1" + template)


def test_required_parameters_are_named(echo: Any) -> None:
    with pytest.raises(CallError, match=r"required parameters: id \(path\)"):
        build(echo, "echoPut")


@pytest.mark.parametrize(
    "name",
    [
        "Host",
        "Cookie",
        "Transfer-Encoding",
        "X-Forwarded-For",
        "Authorization",
        "X-User-Sub",
        "X-HTTP-Method-Override",
    ],
)
def test_forbidden_headers_are_refused(echo: Any, name: str) -> None:
    """Case 49: headers the console or the transport owns cannot be set by the user."""
    operation = op(echo, "echoGet")
    operation.data["parameters"].append(
        {"name": name, "in": "header", "schema": {"type": "string"}}
    )
    operation.save()
    # OpenAPI's own rule, and the framing the client writes (Host, Transfer-Encoding): not
    # even a field, and a value sent for one anyway goes nowhere.
    if name.lower() in calls.IGNORED_HEADER_PARAMS | outbound.FRAMING_HEADERS:
        call = build(echo, "echoGet", params={"header": {name: "x"}})
        assert all(v != "x" for k, v in call.headers.items() if k.lower() == name.lower())
        return
    with pytest.raises(CallError, match="does not send"):
        build(echo, "echoGet", params={"header": {name: "x"}})


def test_header_values_with_line_breaks_are_refused(echo: Any) -> None:
    with pytest.raises(CallError, match="line break"):
        build(echo, "echoGet", params={"header": {"X-Request-Note": "a\r\nX-Evil: 1"}})


def test_send_attaches_the_token_and_never_the_portal_cookies(
    echo: Any, fake_outbound: Any
) -> None:
    fake_outbound.on(
        "GET",
        f"{ECHO}/anything",
        lambda sent: response(200, {"ok": True}, Set_Cookie="sessionid=evil; Path=/"),
    )
    call = build(echo, "echoGet", params={"header": {"X-Request-Note": "note"}})
    token = Token(
        server="idp",
        server_name="IdP",
        grant="g",
        scopes="",
        access_token="tok",
        token_type="bearer",
    )

    result = calls.send(call, token)

    sent = fake_outbound.sent[0]
    assert sent.header("Authorization") == "Bearer tok"
    assert sent.header("X-Request-Note") == "note"
    assert sent.header("Cookie") == ""
    # Loopback is allowed only for the configured gateway.
    assert sent.allowed_private == [GATEWAY]
    assert result.status == 200
    assert all(k.lower() != "set-cookie" for k, _ in result.headers)


def test_json_body_and_form_body(echo: Any) -> None:
    call = build(echo, "echoPost", media_type="application/json", body='{"text": "hi"}')
    assert call.body == b'{"text": "hi"}' and call.headers["Content-Type"] == "application/json"
    with pytest.raises(CallError, match="not valid JSON"):
        build(echo, "echoPost", media_type="application/json", body="{nope")
    call = build(
        echo,
        "echoPost",
        media_type="application/x-www-form-urlencoded",
        fields={"text": "a&b", "priority": ""},
    )
    assert call.body == b"text=a%26b"
    with pytest.raises(CallError, match="takes application/json"):
        build(echo, "echoPost", media_type="text/html", body="<p>")


@pytest.mark.parametrize(
    ("media", "body", "sent"),
    [
        # ASP.NET Core's Swashbuckle lists application/*+json among every body's types
        # (DocuSign Rooms); springdoc writes */* for a body it cannot type.
        ("application/*+json", '{"a": 1}', "application/json"),
        ("*/*", '{"a": 1}', "application/json"),
        ("*/*", "plain words", "application/octet-stream"),
        ("text/*", "plain words", "text/plain"),
        ("application/*", "[1]", "application/json"),
    ],
)
def test_a_wildcard_media_type_is_sent_as_a_type(
    echo: Any, media: str, body: str, sent: str
) -> None:
    """A Content-Type names one type: `*` is the Accept header's, and a server given
    `application/*+json` or `*/*` for a body has no type to read it by."""
    operation = op(echo, "echoPost")
    operation.data["requestBody"]["content"][media] = {"schema": {}}
    operation.save()
    call = build(echo, "echoPost", media_type=media, body=body)
    assert call.headers["Content-Type"] == sent and call.body == body.encode()


def test_a_file_sent_for_a_wildcard_type_goes_as_its_own_type(echo: Any) -> None:
    operation = op(echo, "echoPost")
    operation.data["requestBody"]["content"]["*/*"] = {"schema": {"format": "binary"}}
    operation.save()
    png = calls.Upload("body", "a.png", "image/png", b"\x89PNG")
    call = build(echo, "echoPost", media_type="*/*", uploads=[png])
    assert call.headers["Content-Type"] == "image/png" and call.body == b"\x89PNG"


def test_multipart_with_a_file(echo: Any) -> None:
    operation = op(echo, "echoPost")
    operation.data["requestBody"]["content"]["multipart/form-data"] = {
        "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
    }
    operation.save()
    call = build(
        echo,
        "echoPost",
        media_type="multipart/form-data",
        fields={"note": "n"},
        uploads=[calls.Upload("file", "a.png", "image/png", b"\x89PNG")],
    )
    assert call.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'filename="a.png"' in call.body and b"\x89PNG" in call.body
    assert b'name="note"' in call.body


def test_cookie_parameters_become_one_cookie_header(echo: Any, fake_outbound: Any) -> None:
    operation = op(echo, "echoGet")
    operation.data["parameters"].append(
        {"name": "pref", "in": "cookie", "schema": {"type": "string"}}
    )
    operation.save()
    call = build(echo, "echoGet", params={"cookie": {"pref": "dark mode"}})
    assert call.headers["Cookie"] == "pref=dark%20mode"
    fake_outbound.json("GET", f"{ECHO}/anything", {})
    calls.send(call, None)
    assert fake_outbound.sent[0].header("Cookie") == "pref=dark%20mode"


def test_the_portal_request_id_travels_with_the_call(echo: Any, fake_outbound: Any) -> None:
    from portal.lib import requestlog

    fake_outbound.json("GET", f"{ECHO}/anything", {})
    token = requestlog.bind("rid-42")
    try:
        calls.send(build(echo, "echoGet"), None)
    finally:
        requestlog.unbind(token)
    assert fake_outbound.sent[0].header("X-Request-ID") == "rid-42"


def test_a_path_with_its_own_query_sends_that_query_once(import_spec: Any, tmp_path: Any) -> None:
    """Azure's `x-ms-paths` keys (`/?comp=list`) fix part of the query and declare it as a
    required parameter too: the call carries it once, whatever the form says."""
    from tests.apis.test_views_spec_features import AZURE_QUEUE

    spec = tmp_path / "queue.json"
    spec.write_text(AZURE_QUEUE)
    api = import_spec(spec, "queue")
    server = calls.Target("https://myaccount.queue.core.windows.net", "Spec", True)
    data = ConsoleInput(params={"query": {"comp": "list"}})
    call = calls.build_call(op(api, "Service_GetProperties"), data, [server])
    assert call.url == "https://myaccount.queue.core.windows.net/?restype=service&comp=properties"


QUERYSTRING = """openapi: 3.2.0
info: {title: Querystring, version: 1.0.0}
servers: [{url: 'https://search.example.org'}]
paths:
  /search:
    get:
      operationId: search
      parameters:
        - in: querystring
          name: q
          required: true
          content:
            application/x-www-form-urlencoded:
              schema: {type: object, properties: {term: {type: string}, limit: {type: integer}}}
              example: {term: cats, limit: 10}
      responses: {'200': {description: results}}
"""


def test_a_querystring_parameter_is_the_calls_query(import_spec: Any, tmp_path: Any) -> None:
    """OpenAPI 3.2's `in: querystring` is the whole query string: the console offers it as
    one field, filled from the example, sends it as written and asks for it when required."""
    from console.panel import param_fields

    spec = tmp_path / "qs.yaml"
    spec.write_text(QUERYSTRING)
    api = import_spec(spec, "qs")
    operation = op(api, "search")
    fields = param_fields(operation, {}, {})
    assert [(f.key, f.value) for f in fields] == [("param.querystring.q", "term=cats&limit=10")]
    server = calls.Target("https://search.example.org", "Spec", True)
    data = ConsoleInput(params={"querystring": {"q": "term=cats dogs&limit=5"}})
    call = calls.build_call(operation, data, [server])
    assert call.url == "https://search.example.org/search?term=cats%20dogs&limit=5"
    with pytest.raises(CallError, match=r"q \(querystring\)"):
        calls.build_call(operation, ConsoleInput(), [server])


OWNED_HEADERS = """swagger: '2.0'
info: {title: Owned headers, version: '1'}
host: api.example.org
schemes: [https]
paths:
  /things:
    post:
      operationId: makeThing
      consumes: [application/json]
      parameters:
        - {in: header, name: Authorization, required: true, type: string}
        - {in: header, name: content-type, required: true, type: string, enum: [text/plain]}
        - {in: header, name: Accept, required: true, type: string}
        - {in: header, name: X-Trace, required: true, type: string}
        - {in: body, name: body, schema: {type: object}}
      responses: {'200': {description: ok}}
"""


def test_accept_content_type_and_authorization_header_parameters_are_not_fields(
    import_spec: Any, tmp_path: Any
) -> None:
    """OpenAPI: a header parameter named Accept, Content-Type or Authorization "SHALL be
    ignored"; the console sets those itself. Yelp's v3 spec requires an Authorization header
    parameter on every operation: the console offered the field, asked for it, then refused
    to send it (case 49), so no operation could be called; a `content-type` field went out
    beside the body's own Content-Type."""
    from console.panel import param_fields

    spec = tmp_path / "owned.yaml"
    spec.write_text(OWNED_HEADERS)
    api = import_spec(spec, "owned")
    operation = op(api, "makeThing")
    assert [f.name for f in param_fields(operation, {}, {})] == ["X-Trace"]
    server = calls.Target("https://api.example.org", "Spec", True)
    data = ConsoleInput(
        params={
            "header": {
                "X-Trace": "t",
                "content-type": "text/plain",
                "Accept": "a/b",
                "Authorization": "x",
            }
        },
        media_type="application/json",
        body="{}",
    )
    call = calls.build_call(operation, data, [server], media_types=["application/json"])
    assert [k for k in call.headers if k.lower() == "content-type"] == ["Content-Type"]
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Accept"] != "a/b"
    assert call.headers["X-Trace"] == "t" and "Authorization" not in call.headers


STYLED_QUERY = """openapi: 3.0.0
info: {title: Styles, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /v1/apps/secrets:
    get:
      operationId: GetAppsSecrets
      parameters:
        - name: scope
          in: query
          required: true
          style: deepObject
          explode: true
          schema: {type: object, properties: {type: {type: string}, user: {type: string}}}
        - {name: filter, in: query, schema: {type: object}}
        - {name: ids, in: query, style: pipeDelimited, schema: {type: array, items: {type: string}}}
        - {name: tags, in: query, style: spaceDelimited, schema: {type: array, items: {type: string}}}
      responses: {'200': {description: ok}}
"""


def test_object_and_delimited_query_parameters_follow_their_style(
    import_spec: Any, tmp_path: Any
) -> None:
    """Stripe's `scope` is `style: deepObject`: Stripe reads `scope[type]=account`, and a
    JSON text in `scope=` is refused. A `form` object (the default) sends its fields as
    parameters of their own; `pipeDelimited` and `spaceDelimited` arrays join their items."""
    spec = tmp_path / "styles.yaml"
    spec.write_text(STYLED_QUERY)
    api = import_spec(spec, "styles")
    server = calls.Target("https://api.example.com", "Spec", True)
    query = {
        "scope": '{"type": "account", "user": "usr_1"}',
        "filter": '{"status": "open", "limit": 2}',
        "ids": "a,b",
        "tags": "x,y",
    }
    call = calls.build_call(
        op(api, "GetAppsSecrets"), ConsoleInput(params={"query": query}), [server]
    )
    assert call.url == (
        "https://api.example.com/v1/apps/secrets?scope%5Btype%5D=account&scope%5Buser%5D=usr_1"
        "&status=open&limit=2&ids=a%7Cb&tags=x+y"
    )


def test_a_query_object_named_by_reference_follows_its_style(
    import_spec: Any, tmp_path: Any
) -> None:
    # Typesense's search takes `searchParameters` (a `$ref` to an object, form, exploded) as
    # `q=...&query_by=...`: its type was read beside the `$ref` only, so the console and the
    # samples sent `searchParameters={"q": ...}`, which Typesense does not read.
    spec = tmp_path / "search.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: Search, version: '1'}\npaths:\n  /search:\n    get:\n"
        "      operationId: search\n      parameters:\n"
        "        - {name: searchParameters, in: query, required: true,"
        " schema: {$ref: '#/components/schemas/SearchParameters'}}\n"
        "        - {name: ids, in: query, style: pipeDelimited, explode: false,"
        " schema: {$ref: '#/components/schemas/Ids'}}\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  schemas:\n"
        "    SearchParameters: {type: object, required: [q], properties: {q: {type: string},"
        " query_by: {type: string}}}\n"
        "    Ids: {type: array, items: {type: string}}\n"
    )
    api = import_spec(spec, "search")
    server = calls.Target("https://api.example.com", "Spec", True)
    query = {"searchParameters": '{"q": "stark", "query_by": "name"}', "ids": "a,b"}
    call = calls.build_call(op(api, "search"), ConsoleInput(params={"query": query}), [server])
    assert call.url == "https://api.example.com/search?q=stark&query_by=name&ids=a%7Cb"


def test_an_optional_array_in_fastapis_spelling_is_sent_item_by_item(
    import_spec: Any, tmp_path: Any
) -> None:
    # FastAPI writes `status: list[Status] | None = Query(None)` as `anyOf: [array, null]`
    # (Gr4vy's list filters, 68 of them) and a `Query(...)` described enum list as a one-part
    # allOf: `a,b` in the field went as one item `status=a%2Cb`, which FastAPI reads as one
    # unknown status and answers 422; form, exploded, is `status=a&status=b`.
    spec = tmp_path / "fastapi.json"
    spec.write_text(
        '{"openapi": "3.1.0", "info": {"title": "Payments", "version": "1"}, "paths": {'
        '"/payment-methods": {"get": {"operationId": "list_payment_methods", "parameters": ['
        '{"name": "status", "in": "query", "required": false, "schema": {"anyOf": ['
        '{"type": "array", "items": {"$ref": "#/components/schemas/Status"}}, {"type": "null"}],'
        ' "title": "Status"}},'
        '{"name": "scheme", "in": "query", "schema": {"allOf": [{"$ref": "#/components/schemas/'
        'Schemes"}], "description": "Card schemes"}}],'
        ' "responses": {"200": {"description": "OK"}}}}},'
        ' "components": {"schemas": {"Status": {"type": "string", "enum": ["processing",'
        ' "succeeded", "failed"]}, "Schemes": {"type": "array", "items": {"type": "string"}}}}}'
    )
    api = import_spec(spec, "payments")
    server = calls.Target("https://api.example.com", "Spec", True)
    query = {"status": "processing, succeeded", "scheme": "visa,amex"}
    call = calls.build_call(
        op(api, "list_payment_methods"), ConsoleInput(params={"query": query}), [server]
    )
    assert call.url == (
        "https://api.example.com/payment-methods"
        "?status=processing&status=succeeded&scheme=visa&scheme=amex"
    )


STYLED_PATH = """openapi: 3.0.0
info: {title: Path styles, version: '1'}
servers: [{url: 'https://httpbin.org'}]
paths:
  /anything/path/{primitive}/{matrix}/{label}/{array}:
    get:
      operationId: paths
      parameters:
        - {name: primitive, in: path, required: true, schema: {type: string}}
        - {name: matrix, in: path, required: true, style: matrix, explode: true,
           schema: {type: array, items: {type: string}}}
        - {name: label, in: path, required: true, style: label, schema: {type: string}}
        - {name: array, in: path, required: true, schema: {type: array, items: {type: string}}}
      responses: {'200': {description: ok}}
"""


def test_path_parameters_follow_their_style(import_spec: Any, tmp_path: Any) -> None:
    """ReadMe's parameter-style examples: `matrix` writes `;name=value`, `label` `.value`,
    and a `simple` array's commas are separators, not text to percent-encode."""
    spec = tmp_path / "paths.yaml"
    spec.write_text(STYLED_PATH)
    api = import_spec(spec, "paths")
    server = calls.Target("https://httpbin.org", "Spec", True)
    path = {"primitive": "a b", "matrix": "x,y", "label": "l", "array": "3,4"}
    call = calls.build_call(op(api, "paths"), ConsoleInput(params={"path": path}), [server])
    assert call.url == "https://httpbin.org/anything/path/a%20b/;matrix=x;matrix=y/.l/3,4"


UNDECLARED_PATH = """openapi: 3.0.3
info: {title: Undeclared, version: '1'}
paths:
  /users/{user}/items/{item_id}:
    get:
      operationId: undeclared
      parameters:
        - {name: item_id, in: path, required: true, schema: {type: integer}}
      responses: {'200': {description: ok}}
"""


def test_a_path_template_name_no_parameter_declares_is_a_field_of_its_own(
    import_spec: Any, tmp_path: Any
) -> None:
    """Specs forget to declare a path parameter (the import warns): the console offered no
    field for `{user}` and then refused every call, "the path still has unfilled
    parameters", with no way to fill it."""
    spec = tmp_path / "undeclared.yaml"
    spec.write_text(UNDECLARED_PATH)
    operation = op(import_spec(spec, "undeclared"), "undeclared")
    fields = [(p.name, p.location, p.required) for p in calls.parameters(operation)]
    assert fields == [("item_id", "path", True), ("user", "path", True)]
    server = calls.Target("https://httpbin.org", "Spec", True)
    path = {"user": "ann b", "item_id": "7"}
    call = calls.build_call(operation, ConsoleInput(params={"path": path}), [server])
    assert call.url == "https://httpbin.org/users/ann%20b/items/7"
    with pytest.raises(CallError, match=r"Fill in the required parameters: user \(path\)"):
        calls.build_call(operation, ConsoleInput(params={"path": {"item_id": "7"}}), [server])


SWAGGER_COLLECTIONS = """swagger: '2.0'
info: {title: Collections, version: '1'}
host: api.example.com
schemes: [https]
paths:
  /items/{ids}:
    get:
      operationId: collections
      parameters:
        - {name: ids, in: path, required: true, type: array, items: {type: string}}
        - {name: X-Tags, in: header, type: array, items: {type: string}, collectionFormat: pipes}
        - {name: plain, in: query, type: array, items: {type: string}}
        - {name: tabbed, in: query, type: array, items: {type: string}, collectionFormat: tsv}
      responses: {'200': {description: ok}}
"""


def test_swagger_collection_formats_are_sent_as_the_api_reads_them(
    import_spec: Any, tmp_path: Any
) -> None:
    """A 2.0 array without collectionFormat is csv (`plain=a,b`), not one field per item;
    tsv joins with tabs and a pipes header with `|`, where the console sent `a,b` for all."""
    spec = tmp_path / "collections.yaml"
    spec.write_text(SWAGGER_COLLECTIONS)
    api = import_spec(spec, "collections")
    server = calls.Target("https://api.example.com", "Spec", True)
    params = {
        "path": {"ids": "a,b"},
        "header": {"X-Tags": "a,b"},
        "query": {"plain": "a,b", "tabbed": "a,b"},
    }
    call = calls.build_call(op(api, "collections"), ConsoleInput(params=params), [server])
    assert call.url == "https://api.example.com/items/a,b?plain=a%2Cb&tabbed=a%09b"
    assert call.headers["X-Tags"] == "a|b"


STYLED_OBJECTS = """openapi: 3.1.0
info: {title: Object styles, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /paint/{simple}/{exploded}/{label}/{matrix}/{matrixExploded}/{array}:
    get:
      operationId: paint
      parameters:
        - {name: simple, in: path, required: true, schema: {type: object}}
        - {name: exploded, in: path, required: true, explode: true, schema: {type: object}}
        - {name: label, in: path, required: true, style: label, schema: {type: object}}
        - {name: matrix, in: path, required: true, style: matrix, schema: {type: object}}
        - {name: matrixExploded, in: path, required: true, style: matrix, explode: true,
           schema: {type: object}}
        - {name: array, in: path, required: true, style: label, explode: true,
           schema: {type: array, items: {type: string}}}
        - {name: X-Color, in: header, schema: {type: object}}
        - {name: X-Color-Exploded, in: header, explode: true, schema: {type: object}}
        - {name: X-Ids, in: header, schema: {type: array, items: {type: string}}}
        - {name: color, in: cookie, explode: false, schema: {type: object}}
        - {name: shade, in: cookie, schema: {type: object}}
        - {name: ids, in: cookie, explode: false, schema: {type: array, items: {type: string}}}
        - name: filter
          in: query
          content: {application/json: {schema: {type: object}}}
        - name: X-Filter
          in: header
          content: {application/json: {schema: {type: object}}}
      responses: {'200': {description: ok}}
"""


def test_object_and_array_parameters_follow_their_style_in_path_header_and_cookie(
    import_spec: Any, tmp_path: Any
) -> None:
    """OpenAPI 3.1's style examples (§4.8.12.4) for R=100, G=200: `simple` reads
    `R,100,G,200` (`R=100,G=200` exploded), `label` `.R,100,G,200`, `matrix`
    `;matrix=R,100,G,200` (`;R=100;G=200` exploded), cookies are `form`. The console sent
    the typed JSON instead. A parameter described by `content` stays JSON."""
    spec = tmp_path / "objects.yaml"
    spec.write_text(STYLED_OBJECTS)
    api = import_spec(spec, "objects")
    server = calls.Target("https://api.example.com", "Spec", True)
    color = '{"R": 100, "G": 200}'
    params = {
        "path": {
            "simple": color,
            "exploded": color,
            "label": color,
            "matrix": color,
            "matrixExploded": color,
            "array": "a,b",
        },
        "header": {
            "X-Color": color,
            "X-Color-Exploded": color,
            "X-Ids": "a,b",
            "X-Filter": '{"a": 1}',
        },
        "cookie": {"color": color, "shade": '{"dark": true}', "ids": "a,b"},
        "query": {"filter": '{"a": [1, 2]}'},
    }
    call = calls.build_call(op(api, "paint"), ConsoleInput(params=params), [server])
    assert call.url == (
        "https://api.example.com/paint/R,100,G,200/R=100,G=200/.R,100,G,200"
        "/;matrix=R,100,G,200/;R=100;G=200/.a.b?filter=%7B%22a%22%3A+%5B1%2C+2%5D%7D"
    )
    assert call.headers["X-Color"] == "R,100,G,200"
    assert call.headers["X-Color-Exploded"] == "R=100,G=200"
    assert call.headers["X-Ids"] == "a,b"
    assert call.headers["X-Filter"] == '{"a": 1}'
    assert call.headers["Cookie"] == "color=R,100,G,200; dark=true; ids=a,b"


ENCODED_FORMS = """openapi: 3.1.0
info: {title: Encoded forms, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /v1/customers:
    post:
      operationId: PostCustomers
      requestBody:
        content:
          application/x-www-form-urlencoded:
            encoding:
              address: {explode: true, style: deepObject}
              metadata: {style: form, explode: true}
              tags: {style: pipeDelimited}
            schema: {$ref: '#/components/schemas/Customer'}
          multipart/form-data:
            encoding:
              tags: {style: pipeDelimited}
            schema: {$ref: '#/components/schemas/Customer'}
      responses: {'200': {description: ok}}
components:
  schemas:
    Customer:
      type: object
      properties:
        address: {type: object, properties: {city: {type: string}}}
        metadata: {type: object}
        tags: {type: array, items: {type: string}}
        locales: {type: array, items: {type: string}}
        extra: {type: object}
        name: {type: string}
"""


def test_fastapis_optional_list_form_field_is_sent_item_by_item(
    import_spec: Any, tmp_path: Any
) -> None:
    # FastAPI's `tags: list[str] | None = Form(None)` is `anyOf: [array, null]`: the field
    # says "JSON array", but `["a", "b"]` went as one text, `tags=%5B%22a%22...`, which
    # FastAPI reads as a single tag; an array without encoding is one field per item.
    spec = tmp_path / "notes.json"
    spec.write_text(
        '{"openapi": "3.1.0", "info": {"title": "Notes", "version": "1"}, "paths": {"/notes": {'
        '"post": {"operationId": "create_note", "requestBody": {"content": {'
        '"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {'
        '"tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},'
        ' "text": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}}}},'
        ' "responses": {"200": {"description": "OK"}}}}}}'
    )
    api = import_spec(spec, "notes")
    server = calls.Target("https://api.example.com", "Spec", True)
    form = ConsoleInput(
        media_type="application/x-www-form-urlencoded",
        fields={"tags": '["a", "b"]', "text": '["kept"]'},
    )
    call = calls.build_call(op(api, "create_note"), form, [server])
    assert call.body.decode() == "tags=a&tags=b&text=%5B%22kept%22%5D"


def test_a_form_body_field_declared_in_an_all_of_part_is_sent_as_its_type(
    import_spec: Any, tmp_path: Any
) -> None:
    # A body that is `allOf` parts (Onfido's document upload): the fields were typed by the
    # body's own `properties`, none here, so an array went as one JSON text, tags=%5B...
    spec = tmp_path / "docs.json"
    spec.write_text(
        '{"openapi": "3.0.3", "info": {"title": "Docs", "version": "1"}, "paths": {"/docs": {'
        '"post": {"operationId": "upload", "requestBody": {"content": {'
        '"application/x-www-form-urlencoded": {"schema": {"allOf": ['
        '{"$ref": "#/components/schemas/Tagged"}, {"type": "object", "properties": {'
        '"name": {"type": "string"}}}]}}}}, "responses": {"200": {"description": "OK"}}}}},'
        ' "components": {"schemas": {"Tagged": {"type": "object", "properties": {'
        '"tags": {"type": "array", "items": {"type": "string"}}}}}}}'
    )
    api = import_spec(spec, "docs")
    server = calls.Target("https://api.example.com", "Spec", True)
    form = ConsoleInput(
        media_type="application/x-www-form-urlencoded",
        fields={"tags": '["a", "b"]', "name": "passport"},
    )
    call = calls.build_call(op(api, "upload"), form, [server])
    assert call.body.decode() == "tags=a&tags=b&name=passport"


def test_a_required_content_length_parameter_is_left_to_the_http_client(
    import_spec: Any, tmp_path: Any
) -> None:
    # Webex Contact Center's flow import lists `Content-Length` as a required header
    # parameter: filled (the form started with its example, 10) the call was refused as a
    # header the console does not send, emptied it was refused as missing; it could not be
    # sent. The client writes the framing from the body; the form has no field for it.
    spec = tmp_path / "flows.json"
    spec.write_text(
        '{"openapi": "3.0.1", "info": {"title": "Flows", "version": "1"}, "paths": {'
        '"/flows/{orgId}:import": {"post": {"operationId": "importFlow", "parameters": ['
        '{"name": "Content-Length", "in": "header", "required": true,'
        ' "schema": {"type": "integer"}, "example": 10},'
        '{"name": "orgId", "in": "path", "required": true, "schema": {"type": "string"}}],'
        ' "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},'
        ' "responses": {"200": {"description": "OK"}}}}}}'
    )
    api = import_spec(spec, "flows")
    operation = op(api, "importFlow")
    assert [p.name for p in calls.parameters(operation)] == ["orgId"]
    server = calls.Target("https://api.example.com", "Spec", True)
    form = ConsoleInput(params={"path": {"orgId": "o1"}}, media_type="application/json", body="{}")
    call = calls.build_call(operation, form, [server])
    assert call.url == "https://api.example.com/flows/o1:import"
    assert "Content-Length" not in call.headers


def test_form_body_fields_are_sent_as_their_encoding_says(import_spec: Any, tmp_path: Any) -> None:
    """The console's form takes objects and arrays as JSON; Stripe reads `address[city]=`
    (deepObject) and refuses `address={"city": ...}`, which the console sent while the
    request sample wrote the fields. A `form`, exploded object is its own fields, a
    pipeDelimited array `a|b`, an array without encoding one field per item; an object
    without encoding, and a string that looks like JSON, stay as typed."""
    spec = tmp_path / "forms.yaml"
    spec.write_text(ENCODED_FORMS)
    api = import_spec(spec, "forms")
    server = calls.Target("https://api.example.com", "Spec", True)
    fields = {
        "address": '{"city": "Paris"}',
        "metadata": '{"plan": "gold"}',
        "tags": '["a", "b"]',
        "locales": '["fr", "en"]',
        "extra": '{"x": 1}',
        "name": '["Ada"]',
    }
    operation = op(api, "PostCustomers")
    form = ConsoleInput(media_type="application/x-www-form-urlencoded", fields=fields)
    call = calls.build_call(operation, form, [server])
    assert call.body.decode() == (
        "address%5Bcity%5D=Paris&plan=gold&tags=a%7Cb&locales=fr&locales=en"
        "&extra=%7B%22x%22%3A+1%7D&name=%5B%22Ada%22%5D"
    )
    multipart = ConsoleInput(media_type="multipart/form-data", fields=fields)
    body = calls.build_call(operation, multipart, [server]).body
    assert b'name="tags"\r\n\r\na|b\r\n' in body
    assert body.count(b'name="locales"') == 2


TYPED_PARTS = """openapi: 3.1.0
info: {title: Typed parts, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /reports:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            encoding:
              report: {contentType: 'text/csv, text/plain'}
              bad: {contentType: "text/plain\\r\\nX-Injected: 1"}
            schema:
              type: object
              properties:
                meta: {type: object}
                report: {type: string}
                bad: {type: string}
                note: {type: string}
      responses: {'200': {description: ok}}
"""


def test_multipart_parts_carry_their_encodings_content_type(
    import_spec: Any, tmp_path: Any
) -> None:
    """A multipart object part is JSON, `application/json` by default, and an encoding's
    contentType is the part's type: a server reading `meta` as JSON by its type got an
    untyped part. A contentType that is no media type is not sent."""
    spec = tmp_path / "parts.yaml"
    spec.write_text(TYPED_PARTS)
    api = import_spec(spec, "parts")
    server = calls.Target("https://api.example.com", "Spec", True)
    fields = {"meta": '{"a": 1}', "report": "a,b", "bad": "x", "note": "n"}
    data = ConsoleInput(media_type="multipart/form-data", fields=fields)
    body = calls.build_call(op(api, "upload"), data, [server]).body
    parts = {
        part.split(b'name="')[1].split(b'"')[0].decode(): part
        for part in body.split(b"--")
        if b'name="' in part
    }
    assert b'Content-Type: application/json\r\n\r\n{"a": 1}' in parts["meta"]
    assert b"Content-Type: text/csv\r\n\r\na,b" in parts["report"]
    assert b"Content-Type" not in parts["bad"] and b"X-Injected" not in body
    assert b"Content-Type" not in parts["note"]


RESERVED = """openapi: 3.1.0
info: {title: Reserved, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /go:
    get:
      operationId: go
      parameters:
        - {name: next, in: query, allowReserved: true, schema: {type: string}}
        - {name: plain, in: query, schema: {type: string}}
      responses: {'200': {description: ok}}
"""


def test_an_allow_reserved_query_value_keeps_its_reserved_characters(
    import_spec: Any, tmp_path: Any
) -> None:
    """`allowReserved: true` sends `/`, `:`, `?`, `,` as they are (and a percent-encoded
    triple unchanged); the console percent-encoded them all. `&`, `=`, `#`, `+`, `[`, `]`
    stay encoded: a query reads them (OpenAPI 3.1.1's note on allowReserved)."""
    spec = tmp_path / "reserved.yaml"
    spec.write_text(RESERVED)
    api = import_spec(spec, "reserved")
    server = calls.Target("https://api.example.com", "Spec", True)
    value = "https://x.example/a,b?q=1&r=%41 z"
    data = ConsoleInput(params={"query": {"next": value, "plain": value}})
    call = calls.build_call(op(api, "go"), data, [server])
    assert call.url == (
        "https://api.example.com/go?next=https://x.example/a,b?q%3D1%26r%3D%41+z"
        "&plain=https%3A%2F%2Fx.example%2Fa%2Cb%3Fq%3D1%26r%3D%2541+z"
    )


COLON_PATH = """openapi: 3.0.3
info: {title: Colon, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /users/:id/posts/:post:
    get:
      operationId: post
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: post, in: path, required: true, schema: {type: integer}}
      responses: {'200': {description: ok}}
  /v1/{name}:cancel/:x:
    post:
      operationId: cancel
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
"""


def test_a_path_written_with_colon_parameters_is_filled_not_sent_as_written(
    import_spec: Any, tmp_path: Any
) -> None:
    """`/users/:id` (Express, Go routers) with `id` declared in the path: the console sent
    `/users/:id/posts/:post` and the values typed for them went nowhere. A `:name` no
    parameter declares (`:x`), or Google's `{name}:cancel`, stays as written."""
    spec = tmp_path / "colon.yaml"
    spec.write_text(COLON_PATH)
    api = import_spec(spec, "colon")
    server = calls.Target("https://api.example.com", "Spec", True)
    data = ConsoleInput(params={"path": {"id": "a b", "post": "7"}})
    call = calls.build_call(op(api, "post"), data, [server])
    assert call.url == "https://api.example.com/users/a%20b/posts/7"
    with pytest.raises(CallError, match="id"):  # a required one left empty is still missing
        calls.build_call(op(api, "post"), ConsoleInput(params={"path": {"post": "7"}}), [server])
    data = ConsoleInput(params={"path": {"name": "ops/1"}})
    call = calls.build_call(op(api, "cancel"), data, [server])
    assert call.url == "https://api.example.com/v1/ops%2F1:cancel/:x"


@pytest.mark.parametrize(
    "server",
    [
        "https://api.example.com:99999/v1",
        "https://api.example.com:abc/v1",
        "https://api.example.com:-1/v1",
        "https://[::1/v1",
        "https://api.example.com:{port}/v1",
    ],
)
def test_a_spec_server_whose_port_or_host_cannot_be_read_is_offered_disabled(
    echo: Any, server: str, fake_outbound: Any
) -> None:
    """urlsplit raises ValueError on such a port or bracket; targets() let it out, so the
    operation page (its console) and every send answered 500 for the whole API."""
    put_spec_servers(echo, [{"url": server}])
    operation = op(echo, "echoGet")
    options = calls.targets(echo, echo.default_version, operation)
    assert options[0].is_gateway
    spec = next(o for o in options if not o.is_gateway)
    assert not spec.allowed and spec.reason
    with pytest.raises(CallError):
        build(echo, "echoGet", server=server)
    assert fake_outbound.sent == []


def test_the_operation_page_with_an_unreadable_server_port_is_drawn(
    echo: Any, signed_in: Any
) -> None:
    from console import panel

    put_spec_servers(echo, [{"url": "https://api.example.com:99999/v1"}])
    operation = op(echo, "echoGet")
    page = signed_in.get(panel.operation_page(echo, echo.default_version, operation))
    assert page.status_code == 200
    assert b"not a valid URL" in page.content
    overview = signed_in.get(f"/apis/{echo.slug}/")
    assert overview.status_code == 200


EMPTY_STATE_KEY = """openapi: 3.1.0
info: {title: Rooms, version: '1'}
paths:
  /rooms/{roomId}/state/{eventType}/{stateKey}:
    get:
      operationId: state
      parameters:
        - {name: roomId, in: path, required: true, schema: {type: string}, example: '!a:b.c'}
        - {name: eventType, in: path, required: true, schema: {type: string}}
        - name: stateKey
          in: path
          required: true
          description: The key of the state to look up. Defaults to an empty string.
          schema: {type: string}
          example: ''
      responses: {'200': {description: ok}}
"""


def test_a_path_parameter_documented_empty_may_be_sent_empty(
    import_spec: Any, tmp_path: Any
) -> None:
    """Matrix's `stateKey` is required, example "": an empty segment is the documented call
    (`.../state/m.room.name/`), which the console refused as an unfilled parameter. A
    parameter without such an example still has to be filled in."""
    spec = tmp_path / "rooms.yaml"
    spec.write_text(EMPTY_STATE_KEY)
    api = import_spec(spec, "rooms")
    server = calls.Target("https://httpbin.org", "Spec", True)
    path = {"roomId": "r1", "eventType": "m.room.name", "stateKey": ""}
    call = calls.build_call(op(api, "state"), ConsoleInput(params={"path": path}), [server])
    assert call.url == "https://httpbin.org/rooms/r1/state/m.room.name/"
    with pytest.raises(CallError, match=r"Fill in the required parameters: eventType \(path\)"):
        calls.build_call(
            op(api, "state"), ConsoleInput(params={"path": {**path, "eventType": ""}}), [server]
        )


EMPTY_QUERY_AND_HEADER = """openapi: 3.1.0
info: {title: Feed, version: '1'}
paths:
  /feed:
    get:
      operationId: feed
      parameters:
        - {name: filter, in: query, required: true, schema: {type: string}, example: ''}
        - {name: X-Since, in: header, required: true, schema: {type: string, default: ''}}
        - {name: page, in: query, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
"""


def test_a_query_or_header_parameter_documented_empty_may_be_sent_empty(
    import_spec: Any, tmp_path: Any
) -> None:
    """A required query or header parameter whose example (or default) is "" is sent empty
    (`filter=`, an empty `X-Since`), as a path parameter so documented is (an empty
    segment); the console refused both as unfilled. Any other still has to be filled in."""
    spec = tmp_path / "feed.yaml"
    spec.write_text(EMPTY_QUERY_AND_HEADER)
    api = import_spec(spec, "feed")
    server = calls.Target("https://httpbin.org", "Spec", True)
    data = ConsoleInput(params={"query": {"page": "2"}})
    call = calls.build_call(op(api, "feed"), data, [server])
    assert call.url == "https://httpbin.org/feed?filter=&page=2"
    assert call.headers["X-Since"] == ""
    typed = ConsoleInput(
        params={"query": {"page": "2", "filter": "new"}, "header": {"X-Since": "1"}}
    )
    call = calls.build_call(op(api, "feed"), typed, [server])
    assert call.url == "https://httpbin.org/feed?filter=new&page=2"
    assert call.headers["X-Since"] == "1"
    with pytest.raises(CallError, match=r"Fill in the required parameters: page \(query\)\."):
        calls.build_call(op(api, "feed"), ConsoleInput(), [server])

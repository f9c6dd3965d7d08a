"""Routes loaded from the database, reload on change, the mock backend, CORS, rate limits,
the demo seed, and problem answers for unknown routes."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson
import pytest
from django.core.management import call_command

from apis.models import Api
from gateway.app import Gateway
from gateway.config import Cors, RateLimit, RouteConfig, config_fingerprint, load_routes
from gateway.models import JwtPolicy, RequiredClaim, Route
from tests.conftest import DEMO_SPECS
from tests.gateway.conftest import (
    Harness,
    LoopbackServer,
    Provider,
    claims,
    make_route,
    mint,
    rsa_key,
)

Build = Callable[..., Harness]


@pytest.fixture
def petstore(db: Any) -> Api:
    call_command("importspec", str(DEMO_SPECS / "petstore.yaml"), slug="petstore",
                 publish=True, stdout=io.StringIO())  # fmt: skip
    return Api.objects.get(slug="petstore")


@pytest.fixture
def echo_api(db: Any) -> Api:
    call_command("importspec", str(DEMO_SPECS / "echo.yaml"), slug="echo", publish=True,
                 stdout=io.StringIO())  # fmt: skip
    return Api.objects.get(slug="echo")


def run(
    app: Gateway, method: str, path: str, headers: dict[str, str] | None = None, query: str = ""
) -> tuple[int, dict[str, str], bytes]:
    h = Harness({})
    h.app = app
    try:
        r = h.request(method, path, headers=headers, query=query)
    finally:
        h.close()
    return r.status, {k.decode(): v.decode() for k, v in r.headers}, r.body


@pytest.mark.django_db(transaction=True)
def test_routes_load_from_database_and_reload_on_change(petstore: Api, settings: Any) -> None:
    settings.GATEWAY_CONFIG_REFRESH = 0
    route = Route.objects.create(api=petstore, suffix="pets", backend="mock")
    app = Gateway()
    h = Harness({})
    h.app = app
    try:
        resp = h.request("GET", "/pets/pets")
        assert resp.status == 200, resp.body
        assert isinstance(resp.json(), list)
        route.suffix = "animals"
        route.save()
        deadline = time.monotonic() + 10
        # The first call notices the change and reloads in the background.
        while h.request("GET", "/animals/pets").status != 200 and time.monotonic() < deadline:
            h.loop.run_until_complete(asyncio.sleep(0.1))
        assert h.request("GET", "/animals/pets").status == 200
        assert h.request("GET", "/pets/pets").status == 404
    finally:
        h.close()


@pytest.mark.django_db
def test_fingerprint_changes_with_claims(petstore: Api) -> None:
    route = Route.objects.create(api=petstore, suffix="pets", backend="mock")
    policy = JwtPolicy.objects.create(route=route, openid_config=["https://idp.example/x"])
    before = config_fingerprint()
    RequiredClaim.objects.create(policy=policy, name="scope", values=["a"])
    assert config_fingerprint() != before
    loaded = load_routes()["pets"]
    assert loaded.policy is not None and loaded.policy.required_claims[0].values == ("a",)


@pytest.mark.django_db(transaction=True)  # the mock reads the document in a thread
def test_mock_answers_from_examples_and_schemas(petstore: Api) -> None:
    Route.objects.create(api=petstore, suffix="pets", backend="mock")
    app = Gateway(load_routes())
    status, headers, body = run(app, "GET", "/pets/pets/12")
    assert status == 200 and headers["content-type"].endswith("json")
    assert json.loads(body)["name"] == "Rex"  # the operation's own example
    status, _, body = run(app, "POST", "/pets/pets")
    assert status == 201 and json.loads(body)["id"] == 3
    status, _, body = run(app, "DELETE", "/pets/nothing/here")
    assert status == 404 and b'"check":"operation"' in body


@pytest.mark.django_db
def test_demo_seed_configures_echo_and_mocks(echo_api: Api, petstore: Api) -> None:
    out = io.StringIO()
    from gateway import demo

    demo.seed(out)
    demo.seed(out)  # idempotent
    assert Route.objects.count() == 2
    echo = Route.objects.get(suffix="echo")
    assert echo.backend == "echo" and Route.objects.get(suffix="petstore").backend == "mock"
    policy = echo.jwt_policy
    assert policy.audiences == ["api://echo"]
    assert policy.openid_config[0].endswith("/idp/.well-known/openid-configuration")
    assert sorted(c.values[0] for c in policy.claims.all()) == ["echo.read", "echo.write"]
    assert "unchanged" in out.getvalue()


def test_unknown_route_and_dot_segments(harness_for: Build, backend: LoopbackServer) -> None:
    gw = harness_for(make_route(None, backend.url, backend="upstream"))
    gw.app.routes["orders"].policy = None  # type: ignore[index]
    assert gw.request("GET", "/nowhere/x").status == 404
    resp = gw.request("GET", "/orders/a/%2e%2e/admin")
    assert resp.status == 400 and backend.recorder.count() == 0
    assert gw.request("GET", "/-/health").body == b"ok\n"


def test_cors_preflight_and_headers(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    route = make_route(provider, backend.url)
    route.cors = Cors(frozenset({"https://app.example"}), ("GET", "POST"), ("Authorization",),
                      ("X-Total",), False, 300)  # fmt: skip
    gw = harness_for(route)
    pre = gw.request(
        "OPTIONS",
        "/orders/x",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status == 204 and backend.recorder.count() == 0
    assert pre.header("access-control-allow-origin") == "https://app.example"
    assert pre.header("access-control-max-age") == "300"
    other = gw.request(
        "OPTIONS",
        "/orders/x",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.header("access-control-allow-origin") is None
    denied = gw.request("GET", "/orders/x", headers={"Origin": "https://app.example"})
    assert denied.status == 401
    assert denied.header("access-control-allow-origin") == "https://app.example"
    assert "WWW-Authenticate" in (denied.header("access-control-expose-headers") or "")


def test_rate_limit_by_subject(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    route = make_route(provider, backend.url)
    route.rate_limit = RateLimit(3, 60, "subject")
    gw = harness_for(route)
    alice = mint(provider.keys[0], claims(provider))
    bob = mint(provider.keys[0], claims(provider, sub="bob"))
    statuses = [gw.request("GET", "/orders/x", token=alice).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = gw.request("GET", "/orders/x", token=alice)
    assert limited.json()["check"] == "rate-limit"
    assert 1 <= int(limited.header("retry-after") or 0) <= 60
    assert limited.header("x-ratelimit-remaining") == "0"
    assert gw.request("GET", "/orders/x", token=bob).status == 200
    assert backend.recorder.count() == 4


@pytest.mark.parametrize("key", ["subject", "client_id"])
def test_rate_limit_by_subject_or_client_counts_each_issuer_apart(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    http_server: Callable[[], LoopbackServer],
    key: str,
) -> None:
    # A sub (or client_id) is unique within its issuer only (RFC 9068, RFC 7519 4.1.2): on a
    # route trusting two issuers, a user of one with the same sub as a user of the other
    # used up that user's limit.
    other = Provider(http_server(), [rsa_key("b1")])
    other.install()
    route = make_route(
        provider, backend.url, openid_config=(provider.discovery_url, other.discovery_url)
    )
    route.rate_limit = RateLimit(2, 60, key)
    gw = harness_for(route)
    ours = mint(provider.keys[0], claims(provider))
    theirs = mint(other.keys[0], claims(other))  # the same sub and client_id, another issuer
    assert [gw.request("GET", "/orders/x", token=theirs).status for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert gw.request("GET", "/orders/x", token=ours).status == 200


def test_rate_limit_shared_through_redis(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any, tmp_path: Any
) -> None:
    import shutil
    import socket
    import subprocess

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        settings.GATEWAY_REDIS_URL = f"redis://127.0.0.1:{port}/0"
        route = make_route(provider, backend.url)
        route.rate_limit = RateLimit(2, 60, "subject")
        first, second = harness_for(route), harness_for(route)  # two gateway "processes"
        token = mint(provider.keys[0], claims(provider))
        assert first.request("GET", "/orders/x", token=token).status == 200
        assert second.request("GET", "/orders/x", token=token).status == 200
        assert first.request("GET", "/orders/x", token=token).status == 429
        assert second.request("GET", "/orders/x", token=token).status == 429
    finally:
        proc.terminate()
        proc.wait(5)


def test_both_body_framings_refused(harness_for: Build, backend: LoopbackServer) -> None:
    route = make_route(None, backend.url)
    route.policy = None
    gw = harness_for(route)
    resp = gw.request("POST", "/orders/x", body=b"0\r\n\r\n",
                      headers={"Transfer-Encoding": "chunked"})  # fmt: skip
    assert resp.status == 400 and resp.json()["check"] == "request"
    assert backend.recorder.count() == 0
    assert gw.request("POST", "/orders/x", body=b"{}").status == 200


def test_trace_is_refused(harness_for: Build, backend: LoopbackServer) -> None:
    route = make_route(None, backend.url)
    route.policy = None
    resp = harness_for(route).request("TRACE", "/orders/x")
    assert resp.status == 405 and "GET" in (resp.header("allow") or "")
    assert backend.recorder.count() == 0


SAMPLED_SPEC = """
openapi: 3.1.0
info: {title: Ledger, version: "1"}
paths:
  /invoices/{id}:
    get:
      operationId: getInvoice
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: the invoice
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Invoice"}
components:
  schemas:
    Invoice:
      type: object
      properties:
        id: {type: string, example: in_1}
        customer: {$ref: "#/components/schemas/Customer"}
    Customer:
      type: object
      properties:
        email: {type: string, format: email}
    Unrelated:
      type: object
      properties:
        big: {type: string, example: never read}
"""


def _mock_answers(tmp_path: Any, slug: str, text: str, *paths: str) -> list[tuple[int, str, bytes]]:
    """What the mock backend answers to GET each of `paths` on the spec `text` (as `slug`)."""
    from gateway import backends

    spec = tmp_path / f"{slug}.yaml"
    spec.write_text(text)
    call_command("importspec", str(spec), slug=slug, publish=True, stdout=io.StringIO())
    Route.objects.create(api=Api.objects.get(slug=slug), suffix=slug, backend="mock")
    route = load_routes()[slug]
    answers = []
    for path in paths:
        match = route.match_operation("GET", path)
        assert match is not None
        answers.append(backends._mock_answer(route, match.slug, match.data))
    return answers


@pytest.mark.django_db
def test_mock_samples_from_the_schemas_it_reaches_not_the_whole_document(tmp_path: Any) -> None:
    """A mock answer generated from the response schema reads the component schemas it
    reaches, row by row: never the normalised document (7 MB for the largest specs)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apis.documents import clear_cache
    from gateway import backends

    spec = tmp_path / "ledger.yaml"
    spec.write_text(SAMPLED_SPEC)
    call_command("importspec", str(spec), slug="ledger", publish=True, stdout=io.StringIO())
    Route.objects.create(api=Api.objects.get(slug="ledger"), suffix="ledger", backend="mock")
    route = load_routes()["ledger"]
    match = route.match_operation("GET", "/invoices/7")
    assert match is not None
    clear_cache()
    with CaptureQueriesContext(connection) as queries:
        status, media_type, body = backends._mock_answer(route, match.slug, match.data)
    assert (status, media_type) == (200, "application/json")
    assert orjson.loads(body) == {"id": "in_1", "customer": {"email": "user@example.com"}}
    assert not [q["sql"] for q in queries.captured_queries if "normalised" in q["sql"]]


@pytest.mark.django_db
def test_an_xml_only_response_is_mocked_as_xml(tmp_path: Any) -> None:
    """An operation that answers only `application/xml` got its sample as JSON, under
    `application/json`: a client that asked for (and parses) XML could not read it."""
    spec = (
        "openapi: 3.0.3\ninfo: {title: Feed, version: '1'}\npaths:\n  /items/{id}:\n    get:\n"
        "      operationId: getItem\n"
        "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
        "      responses: {'200': {description: ok, content: {application/xml: {schema:"
        " {$ref: '#/components/schemas/Item'}}}}}\n"
        "components:\n  schemas:\n    Item:\n      type: object\n      xml: {name: item}\n"
        "      properties:\n        id: {type: string, example: i1, xml: {attribute: true}}\n"
        "        title: {type: string, example: 'A & B'}\n"
    )
    [(status, media_type, body)] = _mock_answers(tmp_path, "feed", spec, "/items/7")
    assert (status, media_type) == (200, "application/xml")
    assert body == b'<item id="i1">\n  <title>A &amp; B</title>\n</item>'


def _queue_routes(tmp_path: Any, *, plain: bool = False) -> dict[str, RouteConfig]:
    """The routes with Azure's queue service (its `x-ms-paths` operations share `/` and are
    told apart by query keys) on the mock backend; `plain` adds a `GET /` that holds no key,
    whose policy a call must not get by spelling a key another way."""
    from tests.apis.test_views_spec_features import AZURE_QUEUE

    spec = tmp_path / "queue.json"
    spec.write_text(AZURE_QUEUE)
    call_command("importspec", str(spec), slug="queue", publish=True, stdout=io.StringIO())
    Route.objects.create(api=Api.objects.get(slug="queue"), suffix="queue", backend="mock")
    routes = load_routes()
    if plain:
        route = routes["queue"]
        listing = next(op for op in route.operations if op.slug == "Service_ListQueuesSegment")
        route.operations.append(replace(listing, slug="plain", query=()))
    return routes


@pytest.mark.django_db(transaction=True)  # the mock reads the document in a thread
def test_operations_told_apart_by_their_query_are_matched_by_it(tmp_path: Any) -> None:
    """Azure's `x-ms-paths` keys (`/?comp=list`, `/?restype=service&comp=properties`) share
    the path `/`: the call's query picks the operation, so its policy and its mock answer
    are that operation's, and a call that holds no key's pairs matches none (404)."""
    route = _queue_routes(tmp_path)["queue"]
    for query, slug in (
        (b"comp=list", "Service_ListQueuesSegment"),
        (b"comp=list&timeout=5", "Service_ListQueuesSegment"),
        (b"restype=service&comp=properties", "Service_GetProperties"),
        (b"comp=properties&restype=service", "Service_GetProperties"),
        (b"comp=%6Cist", "Service_ListQueuesSegment"),  # decoded before it is compared
    ):
        match = route.match_operation("GET", "/", query)
        assert match is not None and match.slug == slug, query
    assert route.match_operation("GET", "/", b"") is None
    assert route.match_operation("GET", "/", b"comp=lists") is None
    # A fixed name twice: a backend may read either value, so no operation's policy applies.
    assert route.match_operation("GET", "/", b"restype=service&comp=properties&comp=list") is None
    # The same in another case: ASP.NET Core reads query names without case, so `COMP=list`
    # is comp=list to the backend, not the plain `GET /` beside it.
    listing = next(op for op in route.operations if op.slug == "Service_ListQueuesSegment")
    route.operations.append(replace(listing, slug="plain", query=()))
    assert route.match_operation("GET", "/", b"").slug == "plain"  # type: ignore[union-attr]
    assert route.match_operation("GET", "/", b"COMP=list") is None
    assert route.match_operation("GET", "/", b"comp=properties&Comp=list") is None
    # A `;` Rack (Rails) reads as a separator: `x=1;comp=list` is comp=list to such a
    # backend and the plain `GET /` to others, so no operation's policy applies either.
    assert route.match_operation("GET", "/", b"x=1;comp=list") is None
    assert route.match_operation("GET", "/", b"x=1;y=2").slug == "plain"  # type: ignore[union-attr]
    route.operations.pop()
    # Nor may a pass-through route forward such a query as matching nothing.
    assert route.loosely_matches("GET", "/", b"restype=service&comp=properties&comp=list")
    assert route.loosely_matches("GET", "/", b"COMP=list")
    assert route.loosely_matches("GET", "/", b"x=1;comp=list")
    assert not route.loosely_matches("GET", "/", b"other=1")
    # Two keys of as many pairs, both held: which one the backend runs is not the gateway's
    # to guess.
    listing = next(op for op in route.operations if op.slug == "Service_ListQueuesSegment")
    route.operations.append(replace(listing, slug="tied", query=(("restype", "x"),)))
    route.query_names |= {"restype"}
    assert route.match_operation("GET", "/", b"comp=list&restype=x") is None
    match = route.match_operation("GET", "/", b"comp=list")
    assert match is not None and match.slug == "Service_ListQueuesSegment"
    route.operations.pop()
    match = route.match_operation("DELETE", "/q1/messages/m1", b"popreceipt=abc")
    assert match is not None and match.slug == "MessageId_Delete"

    app = Gateway(load_routes())
    status, _, body = run(app, "GET", "/queue/", query="comp=list")
    assert status == 200 and b"ServiceEndpoint" in body, body  # that operation's sample
    status, _, body = run(app, "GET", "/queue/", query="comp=nothing")
    assert status == 404 and b'"check":"operation"' in body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "query",
    [
        "%u0063omp=list",  # IIS: System.Web's UrlDecode reads %u0063 as `c`
        "comp%00x=list",  # PHP reads a name as a C string, cut at the NUL
        "comp[]=list",  # PHP and Rack read a list under its name
        "%20comp=list",  # PHP drops a name's leading spaces
    ],
)
def test_a_query_key_in_a_spelling_a_backend_reads_as_it_matches_no_operation(
    tmp_path: Any, query: str
) -> None:
    """An `x-ms-paths` key's fixed name spelled as a backend decodes it (`%u0063omp=list` is
    comp=list to IIS) was no fixed name to the gateway: the call matched the plain `GET /`
    beside `/?comp=list` and its policy, while the backend ran the listing. Like a fixed name
    in another case, no operation's policy applies."""
    route = _queue_routes(tmp_path, plain=True)["queue"]
    assert route.match_operation("GET", "/", query.encode()) is None
    assert route.loosely_matches("GET", "/", query.encode())
    # Other names that only begin like a fixed one are other parameters.
    assert route.match_operation("GET", "/", b"compx=list").slug == "plain"  # type: ignore[union-attr]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("query", ["comp=%u006Cist", "comp=l%u0069st"])
def test_a_query_key_value_with_an_iis_escape_matches_no_operation(
    tmp_path: Any, query: str
) -> None:
    """`comp=%u006Cist` is comp=list to IIS (System.Web's UrlDecode) and comp=`%u006Cist` to
    other backends: the gateway matched the plain `GET /` and its policy while IIS ran the
    listing. Which operation runs depends on the backend, so none matches."""
    route = _queue_routes(tmp_path, plain=True)["queue"]
    assert route.match_operation("GET", "/", query.encode()) is None
    assert route.loosely_matches("GET", "/", query.encode())
    # A `%` that is no IIS escape is data, as before.
    assert route.match_operation("GET", "/", b"comp=50%25").slug == "plain"  # type: ignore[union-attr]


@pytest.mark.django_db(transaction=True)
def test_a_query_in_a_charset_the_match_cannot_read_is_refused_on_a_route_with_query_keys(
    tmp_path: Any,
) -> None:
    """System.Web decodes a query's escapes in the charset the Content-Type names, on a GET
    too: `%00c%00o%00m%00p=%00l%00i%00s%00t` in UTF-16BE is comp=list to it, and no query key
    to the gateway, which picked another operation's policy. A route whose operations a query
    key tells apart refuses such a call with 415, as the POST case is."""
    app = Gateway(_queue_routes(tmp_path, plain=True))
    query = "%00c%00o%00m%00p=%00l%00i%00s%00t"
    for charset in ("utf-16be", "UTF-7"):
        headers = {"content-type": f"text/plain; charset={charset}"}
        status, _, body = run(app, "GET", "/queue/", headers=headers, query=query)
        assert status == 415, (charset, body)
        # The refusal says what the gateway could not tell: the operation, not only _method.
        assert "cannot tell which operation or method override it names" in body.decode()
    # A query without escapes, or in UTF-8, goes on.
    utf16 = {"content-type": "text/plain; charset=utf-16be"}
    assert run(app, "GET", "/queue/", headers=utf16, query="comp=list")[0] == 200
    utf8 = {"content-type": "text/plain; charset=utf-8"}
    assert run(app, "GET", "/queue/", headers=utf8, query="comp=%6Cist")[0] == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("query", ["x=1#&comp=list", "comp=list#", "#comp=list"])
def test_a_raw_hash_in_the_query_is_refused(tmp_path: Any, query: str) -> None:
    """A `#` is no part of a request target (RFC 9112), yet many backends cut the query
    there: `?x=1#&comp=list` picks comp=list's operation and policy here while the backend
    sees `x=1` and runs another operation. Refused like a raw `#` in the path."""
    app = Gateway(_queue_routes(tmp_path))
    status, _, body = run(app, "GET", "/queue/", query=query)
    assert status == 400 and b'"check":"query"' in body, body
    status, _, body = run(app, "GET", "/queue/", query="comp=list&x=%23")
    assert status == 200, body  # an encoded `#` is data


def test_the_mock_skips_a_status_that_only_looks_like_digits() -> None:
    """A spec's response code "2²" passes str.isdigit() and then fails int(): the mock backend
    answered 500 for every call of that operation."""
    from gateway.backends import _pick_response

    assert _pick_response({"responses": {"2²": {}, "201": {"description": "made"}}})[0] == 201
    assert _pick_response({"responses": {"2²": {}}}) == (200, {})


@pytest.mark.django_db(transaction=True)  # the mock reads the document in a thread
def test_mock_answers_an_example_written_as_json_text_with_that_json(tmp_path: Any) -> None:
    # Elasticsearch writes every example as a string holding the JSON text: the mock sent
    # that text as one JSON string, `"{\n  \"took\": 5\n}"`, not the object.
    spec = tmp_path / "search.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: Search, version: '1'}\npaths:\n  /_search:\n    get:\n"
        "      operationId: search\n      responses:\n        '200':\n          description: ok\n"
        "          content:\n            application/json:\n"
        "              schema: {type: object}\n"
        '              examples: {one: {value: "{\\n  \\"took\\": 5\\n}"}}\n'
        "  /name:\n    get:\n      operationId: name\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/json:\n"
        "              schema: {type: string}\n              example: '{not an object}'\n"
    )
    call_command("importspec", str(spec), slug="search", publish=True, stdout=io.StringIO())
    Route.objects.create(api=Api.objects.get(slug="search"), suffix="search", backend="mock")
    app = Gateway(load_routes())
    status, _, body = run(app, "GET", "/search/_search")
    assert status == 200 and json.loads(body) == {"took": 5}
    status, _, body = run(app, "GET", "/search/name")
    assert status == 200 and json.loads(body) == "{not an object}"  # a string schema's text


@pytest.mark.django_db
def test_a_json_lines_response_is_mocked_as_its_text(tmp_path: Any) -> None:
    """`application/x-ndjson` ends in "json" but is lines of JSON, not JSON: the mock wrote its
    example as one quoted JSON string, and picked it over a plain JSON type listed after it."""
    spec = (
        "openapi: 3.0.3\ninfo: {title: Stream, version: '1'}\npaths:\n  /events:\n    get:\n"
        "      operationId: events\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/x-ndjson:\n"
        '              example: "{\\"n\\": 1}\\n{\\"n\\": 2}\\n"\n'
        "  /both:\n    get:\n      operationId: both\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n"
        "            application/x-ndjson: {example: 'x'}\n"
        "            application/json: {example: {n: 1}}\n"
    )
    events, both = _mock_answers(tmp_path, "stream", spec, "/events", "/both")
    assert events == (200, "application/x-ndjson", b'{"n": 1}\n{"n": 2}\n')
    status, media_type, body = both
    assert (status, media_type, orjson.loads(body)) == (200, "application/json", {"n": 1})

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import orjson
import pytest
from django.test import Client

from apis.models import Api, Operation
from tests.conftest import ImportSpec

pytestmark = pytest.mark.django_db


def test_api_page_overview(client: Client, petstore: Api) -> None:
    response = client.get("/apis/petstore/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Petstore</h1>" in html
    assert "<li>List, find, add and remove pets</li>" in html  # CommonMark description
    assert "<code>/gateway/petstore</code>" in html  # servers
    assert 'href="https://example.com/support"' in html  # contact
    assert 'href="https://opensource.org/licenses/MIT"' in html  # license
    assert "The Petstore guide" in html  # external docs
    assert "clientCredentials flow" in html and "petstore.write" in html  # security scheme
    assert 'id="tag-pets"' in html and 'id="tag-store"' in html  # grouped by tag
    assert 'href="./operations/listPets/"' in html  # relative to the API page
    assert "OpenAPI 3.0.3" in html


def test_api_page_for_unknown_and_unpublished(
    client: Client, admin_client: Client, import_spec: ImportSpec
) -> None:
    from tests.conftest import DEMO_SPECS

    import_spec(DEMO_SPECS / "petstore.yaml", "hidden", publish=False)
    assert client.get("/apis/nope/").status_code == 404
    assert client.get("/apis/hidden/").status_code == 404
    assert admin_client.get("/apis/hidden/").status_code == 200
    assert client.post("/apis/petstore/").status_code in (404, 405)


def test_operation_page(client: Client, petstore: Api) -> None:
    response = client.get("/apis/petstore/operations/listPets/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>List pets</h1>" in html
    assert 'class="method method-get">GET<' in html
    assert 'id="param-query-limit"' in html
    assert "integer &lt;int32&gt;" in html
    assert "<code>20</code>" in html  # default
    assert "<code>&quot;available&quot;</code>" in html  # enum of array items
    assert 'id="response-200"' in html and "x-next" in html  # response header
    assert "Rex" in html  # example
    assert 'aria-current="page"' in html  # current operation marked in the navigation


def test_operation_page_request_body_links_callbacks(client: Client, petstore: Api) -> None:
    html = client.get("/apis/petstore/operations/createPet/").content.decode()
    assert 'id="request-body"' in html and "badge-required" in html
    assert "Example: dog" in html and "Example: cat" in html
    assert "GetPetById" in html and "showPetById" in html  # response link
    # The link's target is a link to that operation's page.
    assert '<a href="/apis/petstore/operations/showPetById/"><code>showPetById</code></a>' in html
    order = client.get("/apis/petstore/operations/placeOrder/").content.decode()
    assert 'id="callbacks"' in order and "orderShipped" in order
    assert "write-only" in order


def test_an_operation_without_a_summary_is_headed_by_its_id_or_method_and_path(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """GET and DELETE of one path, neither with a summary, were both headed `/pets/{id}` (page
    and tab alike); Redoc heads such an operation by its operationId, Swagger UI by method
    and path."""
    spec = """openapi: 3.0.3
info: {title: Bare, version: '1'}
paths:
  /pets/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getPetById
      responses: {'200': {description: ok}}
    delete:
      responses: {'204': {description: gone}}
"""
    import_spec(write_spec("bare.yaml", spec), "bare")
    slugs = Operation.objects.filter(version__api__slug="bare").values_list("method", "slug")
    pages = {
        method: client.get(f"/apis/bare/operations/{slug}/").content.decode()
        for method, slug in slugs
    }
    assert "<h1>Get pet by id</h1>" in pages["get"]
    assert "<title>Get pet by id · " in pages["get"]
    assert "<h1>DELETE /pets/{id}</h1>" in pages["delete"]
    assert "<title>DELETE /pets/{id} · " in pages["delete"]


def test_recursive_schema_renders_with_a_marker(client: Client, petstore: Api) -> None:
    html = client.get("/apis/petstore/operations/showPetById/").content.decode()
    assert "recursive" in html
    # Pet is allOf NewPet + an object: shown merged, as one object with both parts' fields.
    assert "all of" not in html
    for name in ("name", "tag", "id", "status", "owner"):
        assert f'<code class="prop-name">{name}</code>' in html


def test_deprecated_operation(client: Client, petstore: Api) -> None:
    html = client.get("/apis/petstore/operations/deletePet/").content.decode()
    assert "badge-deprecated" in html


def test_unknown_operation_is_404(client: Client, petstore: Api) -> None:
    assert client.get("/apis/petstore/operations/nope/").status_code == 404
    assert client.get("/apis/nope/operations/listPets/").status_code == 404
    assert client.post("/apis/petstore/operations/listPets/").status_code == 405


def test_schema_page_and_htmx_fragment(client: Client, petstore: Api) -> None:
    page = client.get("/apis/petstore/schemas/Owner/")
    assert page.status_code == 200
    assert "<h1><code>Owner</code></h1>" in page.content.decode()
    fragment = client.get(
        "/apis/petstore/schemas/Owner/", headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<div class="lazy-loaded">')
    assert client.get("/apis/petstore/schemas/Nope/").status_code == 404


def test_versions_switch_and_default(client: Client, import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = "openapi: 3.0.0\ninfo: {{title: Versioned, version: '{v}'}}\npaths:\n  /{p}:\n    get: {{responses: {{'200': {{description: ok}}}}}}\n"
    import_spec(write_spec("a.yaml", spec.format(v="1.0", p="old")), "versioned")
    import_spec(write_spec("b.yaml", spec.format(v="2.0", p="new")), "versioned")
    html = client.get("/apis/versioned/").content.decode()
    assert re.search(r'<option value="2.0" selected>2.0 \(default\)</option>', html)
    assert "/new" in html and "/old" not in html
    old = client.get("/apis/versioned/?v=1.0").content.decode()
    assert "/old" in old and "?v=1.0" in old  # links stay on the chosen version
    assert client.get("/apis/versioned/?v=9.9").status_code == 404


def test_downloads(client: Client, petstore: Api) -> None:
    original = client.get("/apis/petstore/download/original/")
    assert original.status_code == 200
    assert original["Content-Disposition"] == 'attachment; filename="petstore-2.1.0.yaml"'
    assert original.content.startswith(b"openapi: 3.0.3")
    as_json = client.get("/apis/petstore/download/json/")
    assert as_json.json()["info"]["title"] == "Petstore"
    as_yaml = client.get("/apis/petstore/download/yaml/")
    assert b"title: Petstore" in as_yaml.content
    assert client.get("/apis/petstore/download/exe/").status_code == 404


def test_swagger2_is_shown_in_the_3x_shape(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec(
        "s.json",
        '{"swagger": "2.0", "info": {"title": "Old", "version": "1"}, "host": "api.example.com", "basePath": "/v1",'
        ' "schemes": ["https"], "paths": {"/items": {"post": {"operationId": "addItem", "consumes": ["application/json"],'
        ' "parameters": [{"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/Item"}}],'
        ' "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Item"}}}}}},'
        ' "definitions": {"Item": {"type": "object", "properties": {"name": {"type": "string"}}}}}',
    )
    import_spec(spec, "old")
    html = client.get("/apis/old/operations/addItem/").content.decode()
    assert 'id="request-body"' in html and "application/json" in html
    assert '<code class="prop-name">name</code>' in html
    assert "https://api.example.com/v1" in client.get("/apis/old/").content.decode()


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<div hx-get="/console/run" hx-trigger="load">x</div>',
    ],
)
def test_spec_text_never_becomes_markup(
    client: Client, import_spec: ImportSpec, write_spec, payload: str
) -> None:  # type: ignore[no-untyped-def]
    """SECURITY.md cases 40, 42, 43 through the whole page, not just the Markdown helper."""
    import json

    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": payload,
            "version": "1",
            "description": payload,
            "contact": {"url": "javascript:alert(1)", "name": payload},
        },
        "externalDocs": {"url": "data:text/html,x"},
        "tags": [{"name": payload, "description": payload}],
        "paths": {
            "/x": {
                "get": {
                    "operationId": "x",
                    "summary": payload,
                    "tags": [payload],
                    "parameters": [
                        {
                            "name": payload,
                            "in": "query",
                            "description": payload,
                            "schema": {"type": "string", "enum": [payload]},
                        }
                    ],
                    "responses": {"200": {"description": payload}},
                }
            }
        },
    }
    import_spec(write_spec("x.json", json.dumps(doc)), "xss")
    for url in ("/apis/", "/apis/xss/", "/apis/xss/operations/x/"):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert '<div hx-get="/console/run"' not in html
        assert 'href="javascript:' not in html and 'href="data:' not in html


def test_urls_with_userinfo_from_a_spec_are_not_links(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # `https://docs.example.com@evil.example/` shows one host and goes to another.
    import json

    bad = "https://docs.example.com@evil.example/"
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "Userinfo",
            "version": "1",
            "description": f"See [the docs]({bad}).",
            "termsOfService": bad,
            "contact": {"name": "Support", "url": "https://support:x@evil.example/"},
            "license": {"name": "MIT", "url": bad},
        },
        "externalDocs": {"url": bad, "description": "Guide"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "x",
                    "description": f"<{bad}>",
                    "externalDocs": {"url": bad, "description": "Op guide"},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    import_spec(write_spec("u.json", json.dumps(doc)), "userinfo")
    for url in ("/apis/userinfo/", "/apis/userinfo/operations/x/"):
        html = client.get(url).content.decode()
        assert "evil.example" not in "".join(re.findall(r'href="([^"]*)"', html)), url
    html = client.get("/apis/userinfo/").content.decode()
    assert "the docs" in html and "Support" in html and "MIT" in html  # the text stays


def test_import_warnings_are_shown_to_publishers_only(
    client: Client, admin_client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Two operations share an operationId: importable, but a problem worth telling the publisher.
    spec = (
        "openapi: 3.0.0\ninfo: {title: Dup, version: '1'}\npaths:\n"
        "  /a:\n    get: {operationId: same, responses: {'200': {description: ok}}}\n"
        "  /b:\n    get: {operationId: same, responses: {'200': {description: ok}}}\n"
    )
    api = import_spec(write_spec("dup.yaml", spec), "dup")
    assert api.default_version is not None and api.default_version.warnings
    staff_html = admin_client.get("/apis/dup/").content.decode()
    assert 'id="warnings"' in staff_html and "<code>/paths/~1b/get/operationId</code>" in staff_html
    assert 'id="warnings"' not in client.get("/apis/dup/").content.decode()


def test_operation_page_reads_only_the_schemas_it_draws(client: Client, petstore: Api) -> None:
    """A first view never loads the whole normalised document (7 MB for the largest specs)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/apis/petstore/operations/showPetById/").content.decode()
    assert '<code class="prop-name">owner</code>' in html  # Pet, NewPet and Owner drawn
    assert not [q["sql"] for q in queries if "normalised" in q["sql"]]
    schema_page = client.get("/apis/petstore/schemas/Owner/").content.decode()
    assert '<code class="prop-name">pets</code>' in schema_page


def test_response_link_by_operation_ref_is_a_link(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    spec = """openapi: 3.0.3
info: {title: Linked, version: '1'}
paths:
  /users:
    post:
      operationId: createUser
      responses:
        '201':
          description: created
          links:
            self: {operationRef: '#/paths/~1users~1{id}/get'}
            gone: {operationId: noSuchOperation}
  /users/{id}:
    get:
      operationId: getUser
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
"""
    import_spec(write_spec("linked.yaml", spec), "linked")
    html = client.get("/apis/linked/operations/createUser/").content.decode()
    assert (
        '<a href="/apis/linked/operations/getUser/"><code>#/paths/~1users~1{id}/get</code></a>'
        in html
    )
    assert "<code>noSuchOperation</code>" in html
    assert 'href="/apis/linked/operations/noSuchOperation/"' not in html


def test_parameter_constraints_are_shown(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    spec = """openapi: 3.0.3
info: {title: Bounded, version: '1'}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, exclusiveMaximum: true}}
        - {name: code, in: query, schema: {type: string, pattern: '^[A-Z]{3}$', maxLength: 3}}
      responses: {'200': {description: ok}}
"""
    import_spec(write_spec("bounded.yaml", spec), "bounded")
    html = client.get("/apis/bounded/operations/listItems/").content.decode()
    assert '<span class="meta-key">≥</span> <code>1</code>' in html
    assert '<span class="meta-key">&lt;</span> <code>100</code>' in html
    assert "<code>&quot;^[A-Z]{3}$&quot;</code>" in html
    assert '<span class="meta-key">max length</span> <code>3</code>' in html


def test_readers_pages_never_read_the_import_warnings(client: Client, petstore: Api) -> None:
    """On SQLite the warnings column sits after the multi-megabyte documents (migration 0004
    rebuilt the table), so reading it cost the Kubernetes page 36 ms: only publishers, who
    see the warnings, read it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in ("/apis/petstore/", "/apis/petstore/operations/showPetById/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert not [q["sql"] for q in queries if '"warnings"' in q["sql"]], url


def test_api_page_waits_for_no_stylesheet_or_script_request(client: Client, petstore: Api) -> None:
    """The long API page parses and paints without another request: its styles and the
    theme script are inline, under the response's CSP nonce; the rest of the portal links
    the hashed stylesheets and scripts (cached across pages)."""
    response = client.get("/apis/petstore/")
    html = response.content.decode()
    head = html.split("</head>")[0]
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert nonce and f"style-src 'self' 'nonce-{nonce[1]}'" in response["Content-Security-Policy"]
    assert f'<style nonce="{nonce[1]}">' in head and ".op-list a" in head  # the styles
    assert f'<script nonce="{nonce[1]}">' in head and "localStorage" in head  # the theme
    assert 'rel="stylesheet"' not in html and "theme." not in re.sub(r"<script[^>]*>", "", head)
    assert not _blocking_scripts(head)
    catalog = client.get("/apis/").content.decode().split("</head>")[0]
    assert 'rel="stylesheet"' in catalog and "<style" not in catalog
    assert "localStorage" not in catalog  # other pages: no inline script (CSP case)


def test_pages_wait_for_no_script_but_the_theme(
    client: Client, petstore: Api, django_user_model: Any
) -> None:
    """Only the theme runs before the page is parsed (so it never flashes). The time zone
    script (static/js/tz.js) waits for the load event, as its first Intl call is slow, and
    only signed-in pages carry it: nobody else is shown times (portal/lib/viewertz.py)."""
    for url in ("/apis/", "/apis/petstore/"):
        html = client.get(url).content.decode()
        head = html.split("</head>")[0]
        blocking = [re.findall(r'src="[^"]*/(\w+)\.', t) for t in _blocking_scripts(head)]
        assert blocking == ([["theme"]] if url == "/apis/" else [])
        assert "tz.js" not in head and "Intl.DateTimeFormat" not in html
    client.force_login(django_user_model.objects.create_user("reader", password="x"))
    head = client.get("/apis/").content.decode().split("</head>")[0]
    assert re.search(r'<script src="[^"]*/tz\.[^"]*" defer', head)
    head = client.get("/apis/petstore/").content.decode().split("</head>")[0]
    assert "Intl.DateTimeFormat" in head and 'addEventListener("load"' in head  # inline here


def _link(html: str, text: str) -> str:
    """Where the first link reading `text` leads ("" if there is none)."""
    found = re.search(rf'<a href="([^"]*)"[^>]*>{text}</a>', html)
    return found[1] if found else ""


def _blocking_scripts(html: str) -> list[str]:
    """Scripts the parser waits for: loaded from a URL, neither deferred nor async."""
    tags = re.findall(r"<script[^>]*>", html)
    return [t for t in tags if " src=" in t and " defer" not in t and " async" not in t]


def test_every_id_on_an_operation_page_is_unique(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Docker's SystemPing declares the same headers on its 200 and its 500: both rows were
    # `param-header-cache-control`, so a link to one landed on the other and the page was
    # invalid HTML.
    headers = "{Cache-Control: {schema: {type: string}}, Pragma: {schema: {type: string}}}"
    spec = (
        "openapi: 3.0.3\ninfo: {title: Ping, version: '1'}\npaths:\n  /_ping:\n    get:\n"
        "      operationId: ping\n"
        "      parameters: [{name: Cache-Control, in: header, schema: {type: string}}]\n"
        f"      responses:\n        '200': {{description: ok, headers: {headers}}}\n"
        f"        '500': {{description: down, headers: {headers}}}\n"
    )
    import_spec(write_spec("ping.yaml", spec), "ping")
    html = client.get("/apis/ping/operations/ping/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert [i for i in set(ids) if ids.count(i) > 1] == []
    assert 'id="param-header-cache-control"' in html  # a request parameter keeps its id
    assert 'id="response-500-header-pragma"' in html


def test_links_written_for_redoc_lead_to_the_operation_and_the_tag(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Docker's descriptions link `#operation/ContainerCreate` and `#tag/Container`, Redoc's
    # anchors: on our pages they named nothing (21 Docker pages).
    spec = (
        "openapi: 3.0.3\ninfo: {title: Engine, version: '1',"
        " description: 'Start with [create](#operation/ContainerCreate), read [containers]"
        "(#tag/Container%20Ops) and [gone](#operation/Nope).'}\n"
        "paths:\n  /containers/create:\n    post:\n      operationId: ContainerCreate\n"
        "      tags: [Container Ops]\n      description: 'Then [inspect](#operation/ContainerInspect).'\n"
        "      responses: {'200': {description: ok}}\n"
        "  /containers/{id}/json:\n    get:\n      operationId: ContainerInspect\n"
        "      tags: [Container Ops]\n"
        "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
        "      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("engine.yaml", spec), "engine")

    page = client.get("/apis/engine/").content.decode()
    assert _link(page, "create") == "/apis/engine/operations/ContainerCreate/"
    assert _link(page, "containers") == "/apis/engine/#tag-container-ops"
    assert 'id="tag-container-ops"' in page
    assert _link(page, "gone") == "#operation/Nope"  # no such operation: left as written
    op = client.get("/apis/engine/operations/ContainerCreate/").content.decode()
    assert _link(op, "inspect") == "/apis/engine/operations/ContainerInspect/"


def test_links_written_for_redoc_lead_to_a_section_of_the_description(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Docker's operations link "[the authentication section](#section/Authentication)", a
    # heading of info.description in Redoc: on our pages that named nothing (7 Docker pages).
    spec = (
        "openapi: 3.0.3\ninfo:\n  title: Engine\n  version: '1'\n  description: |\n"
        "    # Errors\n\n    Errors are JSON.\n\n    # Registry auth\n\n    Send a header.\n\n"
        "    # Errors\n\n    Again, elsewhere.\n\n    See [auth](#section/Registry-auth).\n"
        "paths:\n  /build:\n    post:\n      operationId: ImageBuild\n"
        "      description: 'Refer to the [authentication section](#section/Registry-auth) and"
        " [nowhere](#section/Nowhere).'\n"
        "      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("engine.yaml", spec), "engine")

    page = client.get("/apis/engine/").content.decode()
    ids = re.findall(r'<h2 id="([^"]+)">', page)
    assert ids == ["section-errors", "section-registry-auth", "section-errors-2"]
    assert _link(page, "auth") == "/apis/engine/#section-registry-auth"
    op = client.get("/apis/engine/operations/ImageBuild/").content.decode()
    assert _link(op, "authentication section") == "/apis/engine/#section-registry-auth"
    assert _link(op, "nowhere") == "#section/Nowhere"  # no such heading: left as written


def test_a_tag_named_webhooks_and_the_webhooks_are_two_groups(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Resend tags five endpoints "Webhooks" and has 17 webhooks: both went into one group,
    # listed twice under one id, with the endpoints and the webhooks mixed.
    spec = (
        "openapi: 3.1.0\ninfo: {title: Mail, version: '1'}\ntags: [{name: Webhooks}]\n"
        "paths:\n  /webhooks:\n    post: {operationId: createWebhook, tags: [Webhooks],"
        " responses: {'200': {description: ok}}}\n"
        "webhooks:\n  email.sent:\n    post: {operationId: emailSent, tags: [Webhook Events],"
        " responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("mail.yaml", spec), "mail")
    html = client.get("/apis/mail/").content.decode()
    ids = re.findall(r'\sid="(tag-[^"]+)"', html)
    assert sorted(ids) == ["tag-webhook-events", "tag-webhooks"]
    endpoints = html[html.index('id="tag-webhooks"') : html.index('id="tag-webhook-events"')]
    assert "createWebhook" in endpoints and "emailSent" not in endpoints
    assert "emailSent" in html[html.index('id="tag-webhook-events"') :]
    # A tag that says "webhook" already is not titled "Webhooks › Webhook Events".
    assert re.search(r'id="tag-webhook-events"><h3><a [^>]*>Webhook Events</a>', html)


def test_webhooks_are_grouped_by_their_tags_apart_from_the_operations(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Tagged webhooks (Redocly's Museum tags `publishNewEvent` "Events") all went into one
    # "Webhooks" group, whatever their tags, on the API page and in the side navigation.
    spec = (
        "openapi: 3.1.0\ninfo: {title: Zoo, version: '1'}\n"
        "tags: [{name: Pets}, {name: Events, description: Shows and talks}]\n"
        "paths:\n  /pets:\n    get: {operationId: listPets, tags: [Pets],"
        " responses: {'200': {description: ok}}}\n"
        "webhooks:\n"
        "  newEvent:\n    post: {operationId: newEvent, tags: [Events],"
        " responses: {'200': {description: ok}}}\n"
        "  petAdopted:\n    post: {operationId: petAdopted, tags: [Pets],"
        " responses: {'200': {description: ok}}}\n"
        "  ping:\n    post: {operationId: ping, responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("zoo.yaml", spec), "zoo")
    html = client.get("/apis/zoo/").content.decode()
    sections = re.findall(r'<section class="tag-group" id="([^"]+)"><h3>.*?>([^<]+)</a></h3>', html)
    assert sections == [
        ("tag-pets", "Pets"),
        ("tag-webhooks-pets", "Webhooks › Pets"),
        ("tag-events", "Webhooks › Events"),
        ("tag-webhooks", "Webhooks"),
    ]

    def section(anchor: str) -> str:
        start = html.index(f'id="{anchor}"')
        return html[start : html.index("</section>", start)]

    assert "listPets" in section("tag-pets") and "petAdopted" not in section("tag-pets")
    assert "petAdopted" in section("tag-webhooks-pets")
    events = section("tag-events")
    assert "newEvent" in events and "Shows and talks" in events
    assert "ping" in section("tag-webhooks") and "newEvent" not in section("tag-webhooks")
    page = client.get("/apis/zoo/operations/newEvent/").content.decode()
    nav = page[page.index('id="nav-tree"') :]
    opened = nav[nav.index("<details open>") :]
    assert opened.startswith("<details open><summary>Webhooks › Events")
    assert "aria-current" in opened[: opened.index("</details>")]


def test_tags_that_differ_only_in_punctuation_get_sections_of_their_own(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # "Pet store" and "pet-store" made one id twice: the navigation's and a Redoc-style link to the
    # second group both led to the first.
    spec = (
        "openapi: 3.0.3\ninfo: {title: Zoo, version: '1',"
        " description: 'See [the other](#tag/pet-store).'}\n"
        "tags: [{name: Pet store}, {name: pet-store}]\n"
        "paths:\n  /a:\n    get: {operationId: listA, tags: [Pet store],"
        " responses: {'200': {description: ok}}}\n"
        "  /b:\n    get: {operationId: listB, tags: [pet-store],"
        " responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("zoo.yaml", spec), "zoo")
    html = client.get("/apis/zoo/").content.decode()
    ids = re.findall(r'\sid="(tag-[^"]+)"', html)
    assert len(ids) == 2 and len(set(ids)) == 2
    second = html.index(f'id="{ids[1]}"')
    assert "listB" in html[second:] and "listB" not in html[html.index(f'id="{ids[0]}"') : second]
    assert re.search(rf'<a href="/apis/zoo/#{ids[1]}"[^>]*>the other</a>', html)
    nav = client.get("/apis/zoo/operations/listA/").content.decode()
    assert f'href="/apis/zoo/#{ids[1]}"' in nav  # the folded group's "all operations" link


def test_parameter_rows_have_ids_of_their_own(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # A duplicate parameter was drawn twice, two rows with id="param-query-files"; names that
    # differ only in punctuation (`filter[name]`, `filtername`) shared one id as well.
    spec = """swagger: '2.0'
info: {title: Duplicate parameter, version: '1.0'}
paths:
  /src:
    post:
      operationId: createCommit
      parameters:
        - {in: query, name: files, type: string, description: Files the request is manipulating.}
        - {in: query, name: files, type: string, description: The name of the branch.}
        - {in: query, name: 'filter[name]', type: string}
        - {in: query, name: filtername, type: string}
      responses:
        '201':
          description: created
          headers: {X-Files: {type: string}, x-files: {type: string}}
"""
    import_spec(write_spec("dup.yaml", spec), "dup")
    html = client.get("/apis/dup/operations/createCommit/").content.decode()
    assert html.count('id="param-query-files"') == 1
    assert "Files the request is manipulating." in html
    assert "The name of the branch." not in html
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_parameter_described_only_by_its_composed_schema_says_it_once(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # OpenSearch's expand_wildcards: no description of its own, a schema `oneOf: [enum, array
    # of enum]` with one. The row took the schema's description and the schema's tree below
    # it said it again; a parameter repeating its schema's description word for word did too.
    spec = """openapi: 3.1.0
info: {title: Said once, version: '1'}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: expand, in: query, schema: {$ref: '#/components/schemas/Expand'}}
        - name: mode
          in: query
          description: Which mode the listing uses.
          schema: {$ref: '#/components/schemas/Mode'}
        - name: depth
          in: query
          schema: {type: integer, description: How many levels the listing walks.}
      responses:
        '200': {description: ok}
components:
  schemas:
    Expand:
      description: Which kinds of items wildcards match.
      oneOf:
        - {type: string, enum: [all, open]}
        - {type: array, items: {type: string, enum: [all, open]}}
    Mode:
      description: Which mode the listing uses.
      anyOf: [{const: fast}, {const: full}]
"""
    import_spec(write_spec("once.yaml", spec), "once")
    html = client.get("/apis/once/operations/listItems/").content.decode()
    assert html.count("Which kinds of items wildcards match.") == 1
    assert html.count("Which mode the listing uses.") == 1
    assert html.count("How many levels the listing walks.") == 1  # a scalar: in its row


@pytest.mark.parametrize(
    "items",
    [
        # `grid: array of array of {enum: [...]}` (openapi-generator's test specs): the row
        # read "array of array of string".
        pytest.param("{type: array, items: {$ref: '#/components/schemas/Mark'}}", id="nested"),
        # `items: {allOf: [{$ref: Mark}], description: ...}` (3.0's way of describing one use
        # of a shared enum): the row read "array of Mark".
        pytest.param(
            "{allOf: [{$ref: '#/components/schemas/Mark'}], description: One mark.}",
            id="described-ref",
        ),
    ],
)
def test_a_parameter_of_arrays_lists_its_innermost_items_values(
    client: Client, import_spec: ImportSpec, write_spec: Any, items: str
) -> None:
    # In both, the values the parameter takes were nowhere on the page.
    spec = f"""openapi: 3.0.3
info: {{title: Grid, version: '1'}}
paths:
  /grid:
    get:
      operationId: getGrid
      parameters:
        - name: grid
          in: query
          schema:
            type: array
            items: {items}
      responses:
        '200': {{description: ok}}
components:
  schemas:
    Mark: {{type: string, enum: [cross, nought]}}
"""
    import_spec(write_spec("grid.yaml", spec), "grid")
    html = client.get("/apis/grid/operations/getGrid/").content.decode()
    row = html[html.find('id="param-query-grid"') :]
    row = row[: row.find("</tr>")]
    assert "<code>&quot;cross&quot;</code>" in row and "<code>&quot;nought&quot;</code>" in row


def test_parameter_styles_other_than_their_locations_default_are_shown(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """Stripe's `scope` is `deepObject`: a reader writing the call needs to know it is
    `scope[type]=…`, and that `ids` is `a,b` rather than `ids=a&ids=b`. A style that is
    the location's default (form, exploded, in a query; simple in a path) says nothing."""
    spec = """openapi: 3.1.0
info: {title: Styled, version: '1'}
paths:
  /items/{id}:
    get:
      operationId: listItems
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: scope, in: query, style: deepObject, explode: true, schema: {type: object}}
        - {name: ids, in: query, explode: false, schema: {type: array, items: {type: string}}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: X-Color, in: header, explode: true, schema: {type: object}}
        - {name: next, in: query, allowReserved: true, schema: {type: string}}
      responses: {'200': {description: ok}}
"""
    import_spec(write_spec("styled.yaml", spec), "styled")
    html = client.get("/apis/styled/operations/listItems/").content.decode()
    rows = {}
    names = ("path-id", "query-scope", "query-ids", "query-tags", "header-x-color", "query-next")
    for name in names:
        row = html[html.index(f'id="param-{name}"') :]
        rows[name] = " ".join(re.sub(r"<[^>]+>", "", row[: row.index("</tr>")]).split())
    assert "Style deepObject, exploded" in rows["query-scope"]
    assert "Style form, not exploded" in rows["query-ids"]
    assert "Style simple, exploded" in rows["header-x-color"]
    assert "Style" not in rows["path-id"] and "Style" not in rows["query-tags"]
    assert "Reserved characters sent as they are" in rows["query-next"]


def test_allow_empty_value_and_swagger_2_x_nullable_parameters_are_shown(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """A query flag sent as `?verbose=` (`allowEmptyValue`) and a 2.0 parameter that may be
    null (`x-nullable`, NSwag's and go-swagger's way) read as any other string: a reader
    could not know the empty value is accepted or that null is."""
    spec3 = """openapi: 3.0.3
info: {title: Flags, version: '1'}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: verbose, in: query, allowEmptyValue: true, schema: {type: string}}
        - {name: X-Trace, in: header, allowEmptyValue: true, schema: {type: string}}
      responses: {'200': {description: ok}}
"""
    spec2 = """swagger: '2.0'
info: {title: Flags2, version: '1'}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: verbose, in: query, type: string, allowEmptyValue: true}
        - {name: since, in: query, type: string, format: date-time, x-nullable: true}
        - {name: ids, in: query, type: array, items: {type: integer, x-nullable: true}}
      responses: {'200': {description: ok}}
"""
    import_spec(write_spec("flags.yaml", spec3), "flags")
    import_spec(write_spec("flags2.yaml", spec2), "flags2")

    def row(slug: str, name: str) -> str:
        html = client.get(f"/apis/{slug}/operations/listItems/").content.decode()
        text = html[html.index(f'id="param-{name}"') :]
        return " ".join(re.sub(r"<[^>]+>", "", text[: text.index("</tr>")]).split())

    assert "Empty value allowed (?verbose=)" in row("flags", "query-verbose")
    assert "Empty value" not in row("flags", "header-x-trace")  # OpenAPI: a query's only
    assert "Empty value allowed (?verbose=)" in row("flags2", "query-verbose")
    assert "string | null &lt;date-time&gt;" in row("flags2", "query-since")
    assert "integer | null" in row("flags2", "query-ids")


def test_a_form_bodys_field_encodings_are_shown(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """Stripe's form bodies write `address` as deepObject (`address[city]=…`); the page
    drew the schema alone, so nothing said how to write the field."""
    spec = """openapi: 3.1.0
info: {title: Customers, version: '1'}
paths:
  /customers:
    post:
      operationId: create
      requestBody:
        content:
          application/x-www-form-urlencoded:
            encoding:
              address: {style: deepObject, explode: true}
              tags: {style: pipeDelimited}
            schema: {type: object, properties: {address: {type: object}, tags: {type: array}}}
          multipart/form-data:
            encoding:
              avatar: {contentType: 'image/png, image/jpeg'}
            schema: {type: object, properties: {avatar: {type: string, format: binary}}}
      responses: {'200': {description: ok}}
"""
    import_spec(write_spec("customers.yaml", spec), "customers")
    html = client.get("/apis/customers/operations/create/").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert "Encoding address deepObject, exploded · tags pipeDelimited, not exploded" in text
    assert "Encoding avatar as image/png, image/jpeg" in text


def test_a_servers_name_is_shown(client: Client, import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    """OpenAPI 3.2 gives a server a `name` (`prod`, `sandbox`) beside its description; the
    API page listed the URL and description and never the name a reader is told to pick."""
    spec = """openapi: 3.2.0
info: {title: Named, version: '1'}
servers:
  - {url: 'https://api.example.com', name: prod, description: Production}
  - {url: 'https://sandbox.example.com', name: sandbox}
  - {url: 'https://old.example.com'}
paths: {}
"""
    import_spec(write_spec("named.yaml", spec), "named")
    html = client.get("/apis/named/").content.decode()
    section = html[
        html.index('id="servers"') : html.index("</section>", html.index('id="servers"'))
    ]
    text = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    assert "prod https://api.example.com Production" in text
    assert "sandbox https://sandbox.example.com" in text
    assert text.endswith("https://sandbox.example.com https://old.example.com")  # no name made up


def test_a_multipart_bodys_part_headers_are_shown(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """swagger-php's Encoding fixture gives the `avatar` part a header of its own
    (`X-Rate-Limit-Limit`); the page said the part's content type and nothing of the header
    the part carries. Content-Type among them is ignored, as OpenAPI says (the type is said)."""
    spec = """openapi: 3.2.0
info: {title: Uploads, version: '1'}
paths:
  /uploads:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            encoding:
              avatar:
                contentType: image/png
                headers:
                  X-Rate-Limit-Limit: {schema: {type: integer}}
                  Content-Type: {schema: {type: string}}
              meta:
                headers:
                  X-Trace: {$ref: '#/components/headers/Trace'}
            schema:
              type: object
              properties: {avatar: {type: string, format: binary}, meta: {type: object}}
      responses: {'200': {description: ok}}
components:
  headers:
    Trace: {required: true, schema: {type: string}}
"""
    import_spec(write_spec("uploads.yaml", spec), "uploads")
    html = client.get("/apis/uploads/operations/upload/").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert (
        "Encoding avatar as image/png; part header X-Rate-Limit-Limit · meta part header X-Trace"
        in text
    )
    assert "part header Content-Type" not in text


def test_an_operation_url_in_another_case_redirects_to_the_operation(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Docker's `ContainerCreate` typed (or linked) as `containercreate` was a 404. One
    # operation matching but for case: a permanent redirect, the query kept; two: still 404.
    spec = (
        "openapi: 3.0.3\ninfo: {title: Engine, version: '1'}\npaths:\n"
        "  /containers/create:\n    post: {operationId: ContainerCreate,"
        " responses: {'201': {description: ok}}}\n"
        "  /a:\n    get: {operationId: getItem, responses: {'200': {description: ok}}}\n"
        "  /b:\n    get: {operationId: GetItem, responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("engine.yaml", spec), "engine")
    response = client.get("/apis/engine/operations/containercreate/?v=1")
    assert response.status_code == 301
    assert response["Location"] == "/apis/engine/operations/ContainerCreate/?v=1"
    response = client.get("/apis/engine/operations/CONTAINERCREATE/")
    assert response.status_code == 301
    assert response["Location"] == "/apis/engine/operations/ContainerCreate/"
    assert client.get("/apis/engine/operations/ContainerCreate/").status_code == 200
    # Slugs are unique but for case since import (GetItem is GetItem-2); a version stored
    # before that may hold both, and then which one was meant cannot be told.
    Operation.objects.filter(version__api__slug="engine", slug="GetItem-2").update(slug="GetItem")
    assert client.get("/apis/engine/operations/GETITEM/").status_code == 404
    assert client.get("/apis/engine/operations/getItem/").status_code == 200
    assert client.get("/apis/engine/operations/containercreat/").status_code == 404


def test_xml_and_text_examples_are_shown_as_written(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # An XML or CSV example (a string) was shown as a JSON string, `"<pet>\n  <name>…"`, in
    # quotes and with its line breaks escaped; an XML body's example given as data, as JSON.
    spec = (
        "openapi: 3.0.3\ninfo: {title: Xml, version: '1'}\npaths:\n  /pets:\n    get:\n"
        "      operationId: listPets\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n"
        "            application/xml:\n              schema: {$ref: '#/components/schemas/Pet'}\n"
        '              example: "<pet>\\n  <name>Rex</name>\\n</pet>"\n'
        '            text/csv: {example: "id,name\\n1,Rex"}\n'
        "        '201':\n          description: made\n          content:\n"
        "            text/xml:\n              schema: {$ref: '#/components/schemas/Pet'}\n"
        "              example: {name: Tom}\n"
        "components:\n  schemas:\n    Pet:\n      type: object\n      xml: {name: pet}\n"
        "      properties: {name: {type: string}}\n"
    )
    import_spec(write_spec("xml.yaml", spec), "xmlex")
    page = client.get("/apis/xmlex/operations/listPets/").content.decode()
    samples = page[page.index('id="response-samples"') :]
    assert "<code>&lt;pet&gt;\n  &lt;name&gt;Rex&lt;/name&gt;\n&lt;/pet&gt;</code>" in samples
    assert "<code>id,name\n1,Rex</code>" in samples
    assert "<code>&lt;pet&gt;\n  &lt;name&gt;Tom&lt;/name&gt;\n&lt;/pet&gt;</code>" in samples


def test_links_written_for_redocly_lead_to_the_operation_and_the_section(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Lichess (written for Redocly) links "[Play chess moves](#tag/board/POST/api/board/game/
    # {gameId}/move/{move})" and "[ndjson](#description/streaming-with-nd-json)": the first led
    # to a tag anchor that does not exist, the second to nothing (100 links on its pages).
    spec = (
        "openapi: 3.1.0\ninfo:\n  title: Chess\n  version: '1'\n  description: |\n"
        "    # Streaming with ND-JSON\n\n    One object per line.\n\n"
        "    See [moves](#tag/board/POST/api/board/game/{gameId}/move/{move}).\n"
        "paths:\n  /api/board/game/{gameId}/move/{move}:\n    post:\n      tags: [board]\n"
        "      operationId: boardGameMove\n      responses: {'200': {description: ok}}\n"
        "  /api/stream/event:\n    get:\n      tags: [board]\n      operationId: apiStreamEvent\n"
        "      description: 'Streamed as [ndjson](#description/streaming-with-nd-json); see"
        " [moves](#tag/board/POST/api/board/game/{gameId}/move/{move}),"
        " [by id](#tag/board/operation/boardGameMove),"
        " [gone](#tag/board/GET/api/nowhere) and [nothing](#description/nothing).'\n"
        "      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("chess.yaml", spec), "chess")

    page = client.get("/apis/chess/").content.decode()
    assert _link(page, "moves") == "/apis/chess/operations/boardGameMove/"
    op = client.get("/apis/chess/operations/apiStreamEvent/").content.decode()
    assert _link(op, "ndjson") == "/apis/chess/#section-streaming-with-nd-json"
    assert _link(op, "moves") == "/apis/chess/operations/boardGameMove/"
    assert _link(op, "by id") == "/apis/chess/operations/boardGameMove/"
    # Nothing there: left as written.
    assert _link(op, "gone") == "#tag/board/GET/api/nowhere"
    assert _link(op, "nothing") == "#description/nothing"


def test_links_written_for_rapidoc_lead_to_the_tag(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # VRChat's description (written for RapiDoc) says "Read <a href="#tag--authentication">
    # Authentication</a> for how to log in": RapiDoc's id for a tag is `tag--` and its name
    # with spaces and `#:?&={}` as `-`; on our pages it named nothing.
    spec = (
        "openapi: 3.0.3\ninfo: {title: Worlds, version: '1', description: 'Read <a"
        ' href="#tag--authentication">Authentication</a>, [the spells](#tag--Spells--Lists)'
        " and [gone](#tag--nothing).'}\n"
        "tags: [{name: authentication}, {name: 'Spells: Lists'}]\n"
        "paths:\n  /auth/user:\n    get:\n      tags: [authentication]\n"
        "      responses: {'200': {description: ok}}\n"
        "  /spells:\n    get:\n      tags: ['Spells: Lists']\n"
        "      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("worlds.yaml", spec), "worlds")

    page = client.get("/apis/worlds/").content.decode()
    assert _link(page, "Authentication") == "/apis/worlds/#tag-authentication"
    assert 'id="tag-authentication"' in page
    assert _link(page, "the spells") == "/apis/worlds/#tag-spells--lists"
    assert 'id="tag-spells--lists"' in page
    assert _link(page, "gone") == "#tag--nothing"  # no such tag: left as written


def test_a_webhook_page_does_not_give_the_apis_servers_as_its_own(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Lago's 61 webhook pages said "Servers: https://api.getlago.com/api/v1": the API calls
    # a webhook at the URL its consumer registers, not at the API's own servers.
    spec = (
        "openapi: 3.1.0\ninfo: {title: Billing, version: '1'}\n"
        "servers: [{url: 'https://api.billing.test/v1'}]\n"
        "paths:\n  /invoices:\n    get:\n      operationId: listInvoices\n"
        "      responses: {'200': {description: ok}}\n"
        "webhooks:\n  invoiceCreated:\n    post:\n      operationId: invoiceCreated\n"
        "      responses: {'200': {description: ok}}\n"
        "  invoicePaid:\n    servers: [{url: 'https://hooks.billing.test'}]\n"
        "    post:\n      operationId: invoicePaid\n      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("billing.yaml", spec), "billing")
    operation = client.get("/apis/billing/operations/listInvoices/").content.decode()
    assert "Servers: <code>https://api.billing.test/v1</code>" in operation
    webhook = client.get("/apis/billing/operations/invoiceCreated/").content.decode()
    assert "webhook" in webhook and "https://api.billing.test" not in webhook
    # Servers the webhook's own path item names are still said.
    own = client.get("/apis/billing/operations/invoicePaid/").content.decode()
    assert "Servers: <code>https://hooks.billing.test</code>" in own


def test_a_server_of_an_empty_url_reads_as_the_root_it_stands_for(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # NetBox's spec (go-netbox api/openapi.yaml) says servers: [{url: '', description: NetBox}],
    # a URL relative to where the document is served: both pages said it as an empty <code>.
    spec = (
        "openapi: 3.0.3\ninfo: {title: Inventory, version: '1'}\n"
        "servers: [{url: '', description: NetBox}]\n"
        "paths:\n  /sites:\n    get:\n      operationId: listSites\n"
        "      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("inventory.yaml", spec), "inventory")
    for url in ("/apis/inventory/", "/apis/inventory/operations/listSites/"):
        html = client.get(url).content.decode()
        assert "<code></code>" not in html, url
        assert "<code>/</code>" in html, url


def test_a_webhook_page_does_not_give_the_apis_security_as_its_own(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # The API calls a webhook; the document's `security` says how callers of the API sign
    # in, not what the API sends to the subscriber. A webhook shows only its own.
    spec = (
        "openapi: 3.1.0\ninfo: {title: Billing, version: '1'}\n"
        "security: [{apiToken: []}]\n"
        "paths:\n  /invoices:\n    get:\n      operationId: listInvoices\n"
        "      responses: {'200': {description: ok}}\n"
        "webhooks:\n  invoiceCreated:\n    post:\n      operationId: invoiceCreated\n"
        "      responses: {'200': {description: ok}}\n"
        "  invoicePaid:\n    post:\n      operationId: invoicePaid\n"
        "      security: [{signature: []}]\n      responses: {'200': {description: ok}}\n"
        "components:\n  securitySchemes:\n"
        "    apiToken: {type: http, scheme: bearer}\n"
        "    signature: {type: apiKey, in: header, name: X-Signature}\n"
    )
    import_spec(write_spec("billing.yaml", spec), "billing")
    operation = client.get("/apis/billing/operations/listInvoices/").content.decode()
    assert 'id="security"' in operation and "<code>apiToken</code>" in operation
    webhook = client.get("/apis/billing/operations/invoiceCreated/").content.decode()
    assert "webhook" in webhook
    assert 'id="security"' not in webhook and "<code>apiToken</code>" not in webhook
    # Security the webhook declares itself is still said, and only that.
    own = client.get("/apis/billing/operations/invoicePaid/").content.decode()
    assert "<code>signature</code>" in own and "<code>apiToken</code>" not in own


# Component names OpenAPI allows (`.`, `..`) or real specs use (paths, spaces, non-ASCII)
# that a URL path reads otherwise: `.` and `..` are dot segments, `/` splits, `?` and `#`
# end the path, `%` starts an escape.
AWKWARD_NAMES = [
    ".", "..", "...", "a/b", "a/../b", "/", "100%", "%2E", "why?", "C#", "Order Line",
    "Prüfung", "名前", "~x", "a~1b", "~.",
]  # fmt: skip


def awkward_spec() -> str:
    """Each awkward name a schema with a property of its own that contains itself (drawn on
    the operation page with a link to its own page), all in one response."""

    def ref(name: str) -> str:
        # A JSON pointer in a URI fragment: `%` written as `%25`.
        token = name.replace("~", "~0").replace("/", "~1").replace("%", "%25")
        return "#/components/schemas/" + token

    schemas = {
        name: {
            "type": "object",
            "properties": {f"field{n}": {"type": "string"}, "next": {"$ref": ref(name)}},
        }
        for n, name in enumerate(AWKWARD_NAMES)
    }
    body = {
        "type": "object",
        "properties": {f"p{n}": {"$ref": ref(name)} for n, name in enumerate(AWKWARD_NAMES)},
    }
    return orjson.dumps(
        {
            "openapi": "3.1.0",
            "info": {"title": "Names", "version": "1"},
            "paths": {
                "/things": {
                    "get": {
                        "operationId": "getThings",
                        "responses": {
                            "200": {
                                "description": "ok",
                                "content": {"application/json": {"schema": body}},
                            }
                        },
                    }
                }
            },
            "components": {"schemas": schemas},
        }
    ).decode()


def schema_links(html: str) -> dict[str, str]:
    """The recursion markers' links, by the schema name they show."""
    found = re.findall(r'↻ recursive: <a href="([^"]*)">([^<]*)</a>', html)
    return {htmllib.unescape(name): htmllib.unescape(href) for href, name in found}


def test_awkward_schema_names_link_to_their_own_pages(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    import_spec(write_spec("names.json", awkward_spec()), "names")
    links = schema_links(client.get("/apis/names/operations/getThings/").content.decode())
    assert set(links) == set(AWKWARD_NAMES)
    for n, name in enumerate(AWKWARD_NAMES):
        href = links[name]
        # What a browser sends for the link: no dot segment is left for it to remove.
        dots = [p for p in href.split("/") if p.lower().replace("%2e", ".") in (".", "..")]
        assert not dots, href
        page = client.get(href)
        assert page.status_code == 200, (name, href)
        html = page.content.decode()
        # That schema's page, not another's.
        assert f"<h1><code>{htmllib.escape(name)}</code></h1>" in html
        assert f'<code class="prop-name">field{n}</code>' in html
        # Its own link to itself leads to the same page; so do its cut parts and fragments.
        assert schema_links(html)[name] == href
        fragment = client.get(href, headers={"HX-Request": "true"}).content.decode()
        assert f'<code class="prop-name">field{n}</code>' in fragment
        part = client.get(href + "?at=/properties/next")
        assert part.status_code == 200 and f"field{n}" in part.content.decode()


def test_a_parameter_schemas_31_examples_are_shown(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Train Travel's `search` query parameter gives `schema: {examples: [Milano Centrale,
    # Paris]}` (JSON Schema's list, OpenAPI 3.1): its row showed no example at all.
    spec = (
        "openapi: 3.1.0\ninfo: {title: Trains, version: '1'}\npaths:\n  /stations:\n    get:\n"
        "      operationId: getStations\n      parameters:\n"
        "        - {name: search, in: query, schema: {type: string, examples: [Milano Centrale, Paris]}}\n"
        "        - {name: limit, in: query, schema: {type: integer, example: 10, examples: [20]}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("trains.yaml", spec), "trains")
    page = client.get("/apis/trains/operations/getStations/").content.decode()
    rows = page[page.index("Query parameters") :]
    search = rows[rows.index(">search<") : rows.index(">limit<")]
    assert (
        '<span class="meta-key">Example</span> <code>&quot;Milano Centrale&quot;</code>' in search
    )
    assert '<span class="meta-key">Example</span> <code>&quot;Paris&quot;</code>' in search
    limit = rows[rows.index(">limit<") :]
    assert limit.count('<span class="meta-key">Example</span>') == 1  # `example` wins, as before


def test_a_short_response_description_is_said_once(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """The response's heading line shows its description when it has no summary; a short
    plain one was then said again below it ("200 Success." then "Success.")."""
    spec = """openapi: 3.0.3
info: {title: Said, version: '1'}
paths:
  /things:
    get:
      operationId: listThings
      responses:
        '200': {description: Success with the list.}
        '404': {description: 'Not found: see [the guide](https://example.com/guide).'}
        '500': {description: "The server failed.\\n\\nRetry after a minute; if it fails again, write to support."}
"""
    import_spec(write_spec("said.yaml", spec), "said")
    html = client.get("/apis/said/operations/listThings/").content.decode()
    responses = html[html.index('id="responses"') :]
    assert responses.count("Success with the list.") == 1
    # A link, or a second paragraph, is more than the heading line can say: shown in full.
    assert '<a href="https://example.com/guide"' in responses
    assert responses.count("Retry after a minute") == 2


def test_a_header_parameter_openapi_ignores_says_so(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """OpenAPI: a header parameter named Accept, Content-Type or Authorization "SHALL be
    ignored" (Yelp's spec requires an Authorization one on every operation). The console
    leaves them out; the page listed them as any other, "required", with nothing said."""
    spec = """openapi: 3.0.3
info: {title: Headed, version: '1'}
paths:
  /items:
    post:
      operationId: addItem
      parameters:
        - {name: Authorization, in: header, required: true, schema: {type: string}}
        - {name: content-type, in: header, schema: {type: string}}
        - {name: X-Request-Id, in: header, schema: {type: string}}
        - {name: accept, in: query, schema: {type: string}}
      responses:
        '200':
          description: ok
          headers: {Authorization: {schema: {type: string}}}
"""
    import_spec(write_spec("headed.yaml", spec), "headed")
    html = client.get("/apis/headed/operations/addItem/").content.decode()
    rows = {}
    for name in (
        "header-authorization",
        "header-content-type",
        "header-x-request-id",
        "query-accept",
    ):
        row = html[html.index(f'id="param-{name}"') :]
        rows[name] = " ".join(re.sub(r"<[^>]+>", "", row[: row.index("</tr>")]).split())
    note = "Ignored: OpenAPI leaves this header to the call"
    assert note in rows["header-authorization"] and note in rows["header-content-type"]
    assert note not in rows["header-x-request-id"] and note not in rows["query-accept"]
    assert html.count(note) == 2  # not the response's header: no call sets that


def test_a_required_header_openapi_ignores_is_not_marked_required(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """Yelp's spec requires an Authorization header parameter on every operation: its row read
    "Authorization required ... Ignored", one word contradicting the other. The call's own
    credentials set it; nothing of the reader's is required there."""
    spec = """openapi: 3.0.3
info: {title: Headed, version: '1'}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: Authorization, in: header, required: true, schema: {type: string}}
        - {name: X-Tenant, in: header, required: true, schema: {type: string}}
      responses:
        '200': {description: ok}
"""
    import_spec(write_spec("headed.yaml", spec), "headed")
    html = client.get("/apis/headed/operations/listItems/").content.decode()

    def row(name: str) -> str:
        tail = html[html.index(f'id="param-{name}"') :]
        return " ".join(re.sub(r"<[^>]+>", "", tail[: tail.index("</tr>")]).split())

    assert "Ignored" in row("header-authorization")
    assert "required" not in row("header-authorization")
    assert "required" in row("header-x-tenant")


EXAMPLE_DESCRIPTIONS = """openapi: 3.1.0
info: {title: Ex, version: '1'}
paths:
  /items:
    post:
      operationId: make
      requestBody:
        content:
          application/json:
            schema: {type: object}
            examples:
              normal:
                summary: A normal item
                description: Sent by **most** clients.
                value: {name: a}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
              examples:
                made:
                  summary: Made
                  description: Echoes the item <script>x</script> back.
                  value: {name: a}
"""


def test_an_example_objects_description_is_shown(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """FastAPI's openapi_examples write each Example object's `description` (CommonMark);
    the page showed its name and summary and dropped the description."""
    import_spec(write_spec("ex.yaml", EXAMPLE_DESCRIPTIONS), "ex")
    html = client.get("/apis/ex/operations/make/").content.decode()
    assert "Sent by <strong>most</strong> clients." in html
    assert "Echoes the item" in html
    assert "<script>x</script>" not in html


NAMED_PARAMETER_EXAMPLES = """openapi: 3.1.0
info: {title: Px, version: '1'}
paths:
  /items:
    get:
      operationId: list
      parameters:
        - name: ids
          in: query
          schema: {type: array, items: {type: integer}}
          examples:
            single: {summary: Just one, description: The *usual* call., value: [1]}
            many: {summary: Several, value: [1, 2, 3]}
      responses:
        '200': {description: ok}
"""


def test_a_parameters_named_examples_keep_their_name_summary_and_description(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """FastAPI's Query(openapi_examples=...) names its examples and sums each up; the
    parameter's row showed each value as a bare "Example", which one was which unsaid."""
    import_spec(write_spec("px.yaml", NAMED_PARAMETER_EXAMPLES), "px")
    html = client.get("/apis/px/operations/list/").content.decode()
    assert "Example: single" in html and "Just one" in html
    assert "The <em>usual</em> call." in html
    assert "Example: many" in html and "Several" in html


SHARED_RESPONSE_SCHEMA = """openapi: 3.0.3
info: {title: Shared, version: '1'}
paths:
  /orders:
    post:
      operationId: authorize
      responses:
        '200':
          description: again
          content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}}
        '201':
          description: made
          content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}}
components:
  schemas:
    Order: {type: object, properties: {id: {type: string}}}
"""


def test_responses_naming_one_schema_are_sampled_once(
    client: Client, import_spec: ImportSpec, write_spec, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """PayPal's orders.authorize answers 200 and 201 with the same large schema; the page
    built its sample twice, a sixth of its first view."""
    import apis.reference as reference

    calls: list[Any] = []
    real = reference.sample

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(reference, "sample", counting)
    import_spec(write_spec("shared.yaml", SHARED_RESPONSE_SCHEMA), "shared")
    html = client.get("/apis/shared/operations/authorize/").content.decode()
    assert len(calls) == 1
    assert html.count("&quot;id&quot;: &quot;string&quot;") >= 2


def test_a_parameter_whose_items_are_objects_draws_their_properties(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Zulip's GET /messages `narrow`: `content: {application/json: {schema: {type: array,
    # items: {oneOf: [{type: object, properties: {operator, operand}}, ...]}}}}`. The row read
    # "array of one of" and nothing else: neither the variants nor a property of them.
    spec = """openapi: 3.0.1
info: {title: Narrow, version: '1'}
paths:
  /messages:
    get:
      operationId: getMessages
      parameters:
        - name: narrow
          in: query
          content:
            application/json:
              schema:
                type: array
                items:
                  oneOf:
                    - type: object
                      required: [operator]
                      properties:
                        operator: {type: string, description: The filter's operator.}
                        operand: {type: string}
                    - {type: array, items: {type: string}}
        - name: sort
          in: query
          schema:
            type: array
            items: {$ref: '#/components/schemas/Sort'}
        - {name: ids, in: query, schema: {type: array, items: {type: integer}}}
      responses:
        '200': {description: ok}
components:
  schemas:
    Sort:
      type: object
      properties:
        field: {type: string}
        direction: {type: string, enum: [asc, desc]}
"""
    import_spec(write_spec("narrow.yaml", spec), "narrow")
    html = client.get("/apis/narrow/operations/getMessages/").content.decode()
    narrow = html[html.index('id="param-query-narrow"') : html.index('id="param-query-sort"')]
    assert '<code class="prop-name">operator</code>' in narrow
    assert "The filter&#x27;s operator." in narrow or "The filter's operator." in narrow
    sort = html[html.index('id="param-query-sort"') : html.index('id="param-query-ids"')]
    assert '<code class="prop-name">direction</code>' in sort
    assert "&quot;desc&quot;" in sort
    ids = html[html.index('id="param-query-ids"') :]
    assert "schema-props" not in ids[: ids.index("</tr>")]  # scalars' items: no tree


def test_a_deep_and_wide_example_does_not_multiply_the_operation_page(
    client: Client, import_spec: Any, write_spec: Any
) -> None:
    """The request sample and the console's body editor pretty-printed a spec's example: each
    value indented by its depth, so 20,000 numbers 120 arrays deep (40 KB in the spec) made
    every operation page carry megabytes of spaces. Past a budget of indentation the example
    is written compact, as the console's result already is."""
    deep = "[" * 120 + "7," * 20_000 + "7" + "]" * 120
    spec = (
        '{"openapi": "3.0.3", "info": {"title": "Deep", "version": "1"}, "paths": {"/x": {"post": {'
        '"operationId": "postX", "requestBody": {"content": {"application/json": {'
        '"schema": {"type": "array"}, "example": ' + deep + "}}},"
        '"responses": {"200": {"description": "ok"}}}}}}'
    )
    import_spec(write_spec("deep.json", spec), "deep")
    page = client.get("/apis/deep/operations/postX/")
    assert page.status_code == 200
    assert len(page.content) < 1_000_000

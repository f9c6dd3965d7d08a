"""Operations, slugs, overview and lenient warnings from a normalised document."""

from __future__ import annotations

import pytest

from apis.openapi import ParsedSpec, load_bytes, normalise
from apis.openapi.normalise import (
    OperationSpec,
    operation_slug,
    summary_from_description,
    unique_slugs,
)


def load_yaml(text: str) -> ParsedSpec:
    return load_bytes(text.encode(), "doc.yaml")


DOC = """\
openapi: 3.1.0
info:
  title: Shop
  version: '2'
  description: |
    The **Shop** API sells [things](https://example.com).

    Second paragraph.
servers: [{url: 'https://api.example.com'}]
security: [{key: []}]
tags: [{name: items, description: Items}]
paths:
  /items/{id}:
    servers: [{url: 'https://items.example.com'}]
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      - {name: trace, in: header, schema: {type: string}}
    get:
      operationId: getItem
      tags: [items, extra]
      summary: Get an item
      parameters:
        - {name: trace, in: header, description: own, schema: {type: integer}}
    delete:
      operationId: delete item!
      security: []
      deprecated: true
    query:
      summary: Search with a body
  /items:
    get:
      operationId: getItem
    post: {}
webhooks:
  itemSold:
    post:
      summary: An item was sold
"""


def test_operations_inherit_parameters_servers_and_security() -> None:
    spec = load_yaml(DOC)
    ops = {(op.method, op.path): op for op in spec.operations}
    get = ops[("get", "/items/{id}")]
    params = {(p["name"], p["in"]): p for p in get.data["parameters"]}
    assert params[("trace", "header")]["description"] == "own"  # operation overrides path
    assert ("id", "path") in params
    assert get.data["servers"] == [{"url": "https://items.example.com"}]
    assert get.data["security"] == [{"key": []}]
    assert get.tag == "items"
    assert ops[("delete", "/items/{id}")].data["security"] == []  # explicit none is kept
    assert ops[("delete", "/items/{id}")].deprecated is True
    assert ops[("get", "/items")].data["servers"] == [{"url": "https://api.example.com"}]


def test_slugs_follow_the_rules_and_are_unique() -> None:
    spec = load_yaml(DOC)
    slugs = [(op.kind, op.method, op.path, op.slug) for op in spec.operations]
    assert slugs == [
        ("operation", "get", "/items/{id}", "getItem"),
        ("operation", "delete", "/items/{id}", "delete-item"),
        ("operation", "query", "/items/{id}", "query-items-id"),
        ("operation", "get", "/items", "getItem-2"),
        ("operation", "post", "/items", "post-items"),
        ("webhook", "post", "itemSold", "post-itemsold"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "slug"),
    [
        ("get", "/a", "list.Pets_v2~x", "list.Pets_v2~x"),
        ("get", "/a", "List pets (v2)", "list-pets-v2"),
        ("get", "/pets/{petId}/toys", "", "get-pets-petid-toys"),
        ("get", "/", "", "get"),
        ("post", "/a", "!!!", "post-a"),
        # A slash separates words (Google's `projects/locations.list`): "pets/list" read
        # "petslist", and "pet/slist" the same.
        ("get", "/a", "pets/list", "pets-list"),
        ("get", "/a", "v1/projects/locations.list", "v1-projects-locations-list"),
        # A dot segment as a slug: `operations/./` is the operations folder and
        # `operations/../` the API page, so the operation's page could not be reached.
        ("get", "/a/b", ".", "get-a-b"),
        ("get", "/a/b", "..", "get-a-b"),
        ("get", "/a/b", "...", "..."),
        # `$` matched before a last line break: the slug kept it (a %0A in the page's URL).
        ("get", "/a", "listPets\n", "listpets"),
    ],
)
def test_operation_slug(method: str, path: str, operation_id: str, slug: str) -> None:
    assert operation_slug(method, path, operation_id) == slug


def test_duplicate_operation_ids_get_their_numbers_in_linear_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each clash tried -2, -3, ... from the start: 20,000 operations sharing one
    operationId (a 1.7 MB document) took 200 million lookups, 75 s of one import, past its
    time limit, which nothing checked there. The slugs are the same as before."""
    lookups = [0]

    class CountingSet(set[str]):
        def __contains__(self, item: object) -> bool:
            lookups[0] += 1
            return super().__contains__(item)

    monkeypatch.setattr(normalise, "set", CountingSet, raising=False)
    ops = [
        OperationSpec("operation", "get", f"/p{i}", "dup", "", "", False, {}) for i in range(2000)
    ]
    ops.insert(1, OperationSpec("operation", "get", "/x", "dup-3", "", "", False, {}))
    unique_slugs(ops)
    assert [op.slug for op in ops[:5]] == ["dup", "dup-3", "dup-2", "dup-4", "dup-5"]
    assert len({op.slug.lower() for op in ops}) == len(ops)
    assert lookups[0] < 5 * len(ops)


def test_overview_and_webhooks() -> None:
    spec = load_yaml(DOC)
    assert spec.operation_count == 5
    assert spec.webhook_count == 1
    overview = spec.overview
    assert overview["info"]["title"] == "Shop"
    assert overview["servers"] == [{"url": "https://api.example.com"}]
    assert overview["webhooks"] == ["itemSold"]
    assert [t["name"] for t in overview["tags"]] == ["items", "extra"]
    assert overview["security"] == [{"key": []}]


def test_lenient_checks_are_warnings_not_refusals() -> None:
    text = """\
openapi: 3.0.3
info: {title: Loose}
paths:
  /users/{id}:
    get:
      operationId: dup
      parameters:
        - {name: other, in: path, required: true, schema: {type: string}}
        - {in: query}
        - {name: q, in: body}
  /files/{name}:
    parameters: [{name: name, in: path, schema: {type: string}}]
    get: {responses: [1]}
  nopath:
    post:
      operationId: dup
      responses: {'200': {description: ok}}
    put: not-an-object
"""
    spec = load_yaml(text)
    warnings = "\n".join(spec.warnings)
    assert "/info/version: `info.version` is required" in warnings
    # Present but empty (Ory Kratos, SendGrid) is not "required".
    empty = "\n".join(load_yaml(text.replace("info: {", "info: {version: '', ", 1)).warnings)
    assert "/info/version: `info.version` is empty; shown as `unversioned`" in empty
    assert "path parameter {id} is not declared" in warnings
    assert "'other' is declared `in: path` but not in the path" in warnings
    colon = "\n".join(
        load_yaml(text.replace("/files/{name}:", "/files/:name:", 1)).warnings
    )  # Express's template: said as such, with what to write
    assert (
        "writes parameter 'name' as `:name`, which OpenAPI reads as text; write `{name}`" in colon
    )
    assert "needs `name` and `in`" in warnings
    assert "/paths/~1users~1{id}/get: an operation needs `responses`" in warnings
    assert "/paths/nopath: a path must start with /" in warnings
    assert "duplicate operationId 'dup'" in warnings
    assert "/paths/nopath/put: an operation must be an object; ignored" in warnings
    assert "/paths/~1users~1{id}/get/parameters/2/in: unknown parameter location 'body'" in warnings
    assert (
        "/paths/~1files~1{name}/parameters/0: a path parameter must have `required: true`"
        in warnings
    )
    assert "/paths/~1files~1{name}/get/responses: `responses` must be an object" in warnings
    assert spec.label == "unversioned"
    assert spec.operation_count == 3


def test_a_method_written_in_capitals_is_not_an_operation_and_says_so() -> None:
    # Mermade's fail/pathitem-property: `GET:` under a path. Path item fields are lower case;
    # the API imported with no operation and no word why.
    spec = load_yaml(
        "openapi: 3.0.1\ninfo: {title: T, version: '1'}\npaths:\n  /:\n"
        "    GET: {responses: {'200': {description: OK}}}\n"
        "    post: {responses: {'200': {description: OK}}}\n"
    )
    assert [op.method for op in spec.operations] == ["post"]
    assert spec.warnings == [
        "/paths/~1/GET: not an operation: HTTP methods are written in lower case (get); ignored"
    ]


@pytest.mark.parametrize(
    ("head", "paths"),
    [
        ("openapi: 3.0.0", ""),
        ("openapi: 3.0.3", "paths:\n"),
        ("swagger: '2.0'", ""),
    ],
)
def test_a_3_0_or_2_0_document_without_paths_says_it_has_no_operations(
    head: str, paths: str
) -> None:
    # Mattermost's api/v4/source/introduction.yaml ends in a bare `paths:`; their Makefile
    # appends the other files to it. Imported as a folder, the root stood alone: 0 operations
    # and no word why. `paths` is required before 3.1.
    spec = load_yaml(f"{head}\ninfo: {{title: T, version: '1'}}\n{paths}")
    assert spec.operation_count == 0
    assert spec.warnings == [
        "/paths: `paths` is required before OpenAPI 3.1; the document has no operations"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n",
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\n",
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n",
    ],
)
def test_paths_empty_or_absent_where_allowed_is_no_warning(text: str) -> None:
    assert load_yaml(text).warnings == []


def test_a_path_parameter_the_spec_forgot_is_added_as_a_required_string() -> None:
    # Grafana's /provisioning/mute-timings/{name} declares no `name`: the page listed no path
    # parameter and the console had no field for it, so every call stopped at "the path
    # still has unfilled parameters".
    spec = load_yaml(
        "swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths:\n"
        "  /timings/{name}/rules/{id}:\n    get:\n"
        "      parameters: [{name: id, in: path, required: true, type: integer}]\n"
        "      responses: {'200': {description: ok}}\n"
    )
    [op] = spec.operations
    assert op.data["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
    ]
    assert any(
        "path parameter {name} is not declared; shown as a required string" in w
        for w in spec.warnings
    )


@pytest.mark.parametrize("value", ["{a: 1}", "[1, 2]", "true"])
def test_an_info_title_or_version_that_is_not_text_falls_back_with_a_warning(value: str) -> None:
    """An object title was stored as Python's `{'a': 1}` (catalog, page title), silently."""
    spec = load_yaml(f"openapi: 3.0.0\ninfo: {{title: {value}, version: {value}}}\npaths: {{}}\n")
    assert spec.title == "doc" and spec.label == "unversioned"
    warnings = "\n".join(spec.warnings)
    assert "/info/title: `info.title` must be text; shown as the file's name" in warnings
    assert "/info/version: `info.version` must be text; shown as `unversioned`" in warnings


def test_a_number_as_info_version_is_its_text() -> None:
    spec = load_yaml("openapi: 3.0.0\ninfo: {title: 2024, version: 1.5}\npaths: {}\n")
    assert (spec.title, spec.label, spec.warnings) == ("2024", "1.5", [])


def test_3_2_query_additional_operations_and_hierarchical_tags() -> None:
    text = """\
openapi: 3.2.0
info: {title: New, version: '1'}
tags:
  - {name: flights, summary: Flights, kind: nav}
  - {name: intl, parent: flights, kind: nav}
paths:
  /search:
    query:
      tags: [intl]
      requestBody:
        content:
          application/jsonl: {itemSchema: {$ref: '#/components/schemas/Item'}}
      responses:
        '200':
          description: stream
          content:
            text/event-stream: {itemSchema: {type: object}}
    additionalOperations:
      COPY: {operationId: copyIt, responses: {'200': {description: ok}}}
      "bad method!": {}
components:
  schemas:
    Item: {type: object}
"""
    spec = load_yaml(text)
    assert [(op.method, op.slug) for op in spec.operations] == [
        ("query", "query-search"),
        ("copy", "copyIt"),
    ]
    assert spec.overview["tags"][1] == {"name": "intl", "parent": "flights", "kind": "nav"}
    assert any("not a usable HTTP method" in w for w in spec.warnings)
    stream = spec.operations[0].data["responses"]["200"]["content"]["text/event-stream"]
    assert stream == {"itemSchema": {"type": "object"}}
    body = spec.operations[0].data["requestBody"]["content"]["application/jsonl"]
    assert body == {"itemSchema": {"$ref": "#/components/schemas/Item"}}  # kept as a reference


def test_an_additional_operation_taking_a_method_already_there_is_left_out() -> None:
    # OpenAPI 3.2: additionalOperations holds no method a fixed field has (no POST entry, the
    # `post` field says it). `GET` beside `get`, and `purge` beside `PURGE`, made two
    # operations of one method and path: two pages and two entries in the navigation for
    # one call, the second unreachable at the gateway.
    text = """\
openapi: 3.2.0
info: {title: Dup, version: '1'}
paths:
  /things:
    get: {operationId: list, responses: {'200': {description: ok}}}
    additionalOperations:
      GET: {operationId: listAgain, responses: {'200': {description: ok}}}
      PURGE: {operationId: purge, responses: {'200': {description: ok}}}
      purge: {operationId: purgeAgain, responses: {'200': {description: ok}}}
      POST: {operationId: create, responses: {'201': {description: made}}}
"""
    spec = load_yaml(text)
    assert [(op.method, op.slug) for op in spec.operations] == [
        ("get", "list"),
        ("purge", "purge"),
        ("post", "create"),
    ]
    warnings = [w for w in spec.warnings if "additionalOperations" in w]
    assert len(warnings) == 3, warnings
    assert "/paths/~1things/additionalOperations/GET: the path item's get already" in warnings[0]
    assert "/additionalOperations/purge: PURGE already" in warnings[1]
    assert "/additionalOperations/POST: write it as the path item's post" in warnings[2]


def test_an_additional_operation_whose_method_ends_in_a_line_break_is_left_out() -> None:
    # `$` let "PURGE\n" through the method check: the operation's method was "purge\n" and
    # its slug "purge\n-a", a line break in the page's URL, the badge and the console's
    # request line.
    text = """\
openapi: 3.2.0
info: {title: Crlf, version: '1'}
paths:
  /a:
    additionalOperations:
      "PURGE\\n": {responses: {'200': {description: ok}}}
      "LOCK\\r": {responses: {'200': {description: ok}}}
      COPY: {responses: {'200': {description: ok}}}
"""
    spec = load_yaml(text)
    assert [(op.method, op.slug) for op in spec.operations] == [("copy", "copy-a")]
    assert sum("not a usable HTTP method" in w for w in spec.warnings) == 2


def test_case43_unsafe_urls_in_overview_are_dropped() -> None:
    text = """\
openapi: 3.0.3
info:
  title: Links
  version: '1'
  contact: {name: Me, url: 'javascript:alert(1)'}
  license: {name: MIT, url: 'https://opensource.org/licenses/MIT'}
  x-logo: {url: 'data:image/svg+xml,<svg onload=alert(1)>'}
externalDocs: {url: ' JaVaScRiPt:alert(1)'}
tags: [{name: t, externalDocs: {url: 'data:text/html,x'}}]
paths: {}
"""
    spec = load_yaml(text)
    overview = spec.overview
    assert "url" not in overview["info"]["contact"]
    assert overview["info"]["license"]["url"] == "https://opensource.org/licenses/MIT"
    assert "url" not in overview["info"]["x-logo"]
    assert "url" not in overview["externalDocs"]
    assert "url" not in overview["tags"][0]["externalDocs"]
    assert sum("dropped" in w for w in spec.warnings) == 4


def test_urls_with_userinfo_in_overview_are_dropped_with_a_warning() -> None:
    # `https://docs.example.com@evil.example/` goes to evil.example; the publisher is told why
    # the link is not shown.
    text = """\
openapi: 3.0.3
info:
  title: Links
  version: '1'
  contact: {name: Me, url: 'https://docs.example.com@evil.example/'}
  license: {name: MIT, url: 'https://opensource.org/licenses/MIT'}
externalDocs: {url: 'https://user:pass@evil.example/'}
paths: {}
"""
    spec = load_yaml(text)
    assert "url" not in spec.overview["info"]["contact"]
    assert "url" not in spec.overview["externalDocs"]
    assert spec.overview["info"]["license"]["url"] == "https://opensource.org/licenses/MIT"
    assert sum("userinfo" in w for w in spec.warnings) == 2


@pytest.mark.parametrize(
    ("description", "summary"),
    [
        ("# Title\n\nThe **best** API, see [docs](https://x).\n\nMore.", "Title"),
        ("The **best** API, see [docs](https://x).\n\nMore.", "The best API, see docs."),
        ("<p>Hello <b>there</b></p>", "Hello there"),
        ("", ""),
        # The card showed a script's or style's text, a comment's words, and `&amp;` as
        # written (the page escapes it again): the rendered description shows none of them.
        ("Use <script>alert(1)</script>it <style>p {color: red}</style>now.", "Use it now."),
        ("<!-- draft\n\nnotes -->\n\nAT&amp;T&#39;s &lt;API&gt;.", "AT&T's <API>."),
    ],
)
def test_summary_from_description(description: str, summary: str) -> None:
    assert summary_from_description(description) == summary


def test_summary_is_cut_at_300_characters() -> None:
    text = summary_from_description("word " * 200)
    assert len(text) <= 300 and text.endswith("…")


def test_duplicate_parameters_keep_one_and_warn() -> None:
    # Bitbucket's create_repositories_by_username_by_repo_slug_src declares query `files`
    # twice (the second was meant to be `branch`): OpenAPI says a list MUST NOT do that.
    text = """\
openapi: 3.0.3
info: {title: Dups, version: '1'}
paths:
  /src/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      - {name: X-Trace, in: header, description: path level, schema: {type: string}}
    post:
      parameters:
        - {name: files, in: query, description: Files the request is manipulating.}
        - {name: files, in: query, description: The name of the branch.}
        - {name: files, in: header, description: Another place so another parameter.}
        - {name: x-trace, in: header, description: operation level}
      responses: {'201': {description: created}}
"""
    spec = load_yaml(text)
    params = spec.operations[0].data["parameters"]
    assert [(p["in"], p["name"], p.get("description")) for p in params] == [
        ("path", "id", None),
        ("query", "files", "Files the request is manipulating."),
        ("header", "files", "Another place so another parameter."),
        # Header names are case-insensitive: the operation's overrides the path item's.
        ("header", "x-trace", "operation level"),
    ]
    assert spec.warnings == [
        "/paths/~1src~1{id}/post/parameters/1: duplicate parameter 'files' in query "
        "(also at /paths/~1src~1{id}/post/parameters/0); ignored"
    ]


def test_extensions_under_paths_are_not_paths() -> None:
    """The Paths object may carry `x-` extensions (Mermade's extensionsEverywhere keeps a path
    item there for a `$ref`): they are neither operations nor worth a warning, and a real path
    may still point at one."""
    text = """\
openapi: 3.0.3
info: {title: Ext, version: '1'}
paths:
  x-an-extension-null: null
  x-an-extension-object:
    get: {description: not an operation, responses: {default: {description: ok}}}
  x-shared:
    get: {description: shared, responses: {default: {description: ok}}}
  /thingyref: {$ref: '#/paths/x-shared'}
"""
    spec = load_yaml(text)
    assert spec.warnings == []
    assert [(op.method, op.path) for op in spec.operations] == [("get", "/thingyref")]


@pytest.mark.parametrize(
    ("groups", "kept"),
    [
        (
            "[{name: People, tags: [users, teams]}]",
            [{"name": "People", "tags": ["users", "teams"]}],
        ),
        # Entries of other shapes go; a number is a name as YAML reads `2024`.
        (
            "[junk, 3, {tags: [a]}, {name: ' '}, {name: {a: b}}, {name: 2024, tags: [a, 7, {}]}]",
            [{"name": "2024", "tags": ["a", "7"]}],
        ),
        ("{name: People, tags: [users]}", None),
        ("not a list", None),
        ("[]", None),
    ],
)
def test_redoc_tag_groups_are_kept_in_the_overview_only_when_they_name_something(
    groups: str, kept: list[dict[str, object]] | None
) -> None:
    for head in ("openapi: 3.1.0", "swagger: '2.0'"):
        spec = load_yaml(
            f"{head}\ninfo: {{title: T, version: '1'}}\nx-tagGroups: {groups}\npaths: {{}}\n"
        )
        assert spec.overview.get("tagGroups") == kept


def test_redoc_x_webhooks_are_the_webhooks_of_a_document_without_webhooks() -> None:
    # OpenAPI 3.0 has no `webhooks`: Clerk's webhook events and Svix's server document write
    # them under Redoc's `x-webhooks`. Clerk's imported as an API of "0 operations" with no
    # event shown, Svix's without its seven events.
    text = """\
openapi: 3.0.3
info: {title: Events, version: '1'}
paths: {}
x-webhooks:
  user.created:
    post:
      operationId: user.created
      tags: [Users]
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {id: {type: string}}}
      responses: {'200': {description: received}}
"""
    spec = load_yaml(text)
    assert [(op.kind, op.method, op.path) for op in spec.operations] == [
        ("webhook", "post", "user.created")
    ]
    assert spec.webhook_count == 1
    assert spec.overview["webhooks"] == ["user.created"]
    broken = load_yaml(text + "  broken: 1\n")
    assert "/x-webhooks/broken: a path item must be an object; ignored" in broken.warnings
    # An extension's events owe no `responses` (Clerk's 45 have none: 45 warnings hid the
    # rest); an operation still does.
    bare = load_yaml(text.replace("      responses: {'200': {description: received}}\n", ""))
    assert bare.webhook_count == 1
    assert not [w for w in bare.warnings if "responses" in w]
    # A 3.1 document that writes both (Svix's client document) lists each event once.
    both = text.replace("3.0.3", "3.1.0").replace("x-webhooks:", "webhooks:", 1)
    both += "x-webhooks:\n  old.event:\n    post: {responses: {'200': {description: ok}}}\n"
    spec = load_yaml(both)
    assert [op.path for op in spec.operations] == ["user.created"]
    assert spec.overview["webhooks"] == ["user.created"]

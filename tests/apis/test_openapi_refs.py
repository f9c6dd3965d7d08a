"""`$ref` resolution: cycles (case 37), refs that must never be followed (case 38), bundles."""

from __future__ import annotations

import io
import os
import re
import socket
import stat
import sys
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import override_settings

from apis.models import ApiVersion
from apis.openapi import load, load_bytes, load_path
from apis.openapi.bundle import FolderBundle, ZipBundle
from apis.openapi.errors import LimitExceeded, RefError, SpecError

HEAD = "openapi: 3.0.3\ninfo: {title: Refs, version: '1'}\n"

# Files opened while `_watching` is on; an audit hook cannot be removed, so it is installed
# once and only records when a test asks it to.
_opened: list[str] = []
_watching = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watching and event == "open" and args and isinstance(args[0], str | bytes | Path):
        _opened.append(str(args[0]))


sys.addaudithook(_audit)


@contextmanager
def no_outside_access() -> Iterator[list[str]]:
    """Records every file opened inside the block; any DNS lookup or connection fails."""
    global _watching

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(socket.socket, "connect", refuse)
        _opened.clear()
        _watching = True
        try:
            yield _opened
        finally:
            _watching = False


def spec_with_ref(ref: str) -> bytes:
    return (
        HEAD + "paths:\n  /a:\n    get:\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/json:\n"
        f"              schema: {{$ref: '{ref}'}}\n"
    ).encode()


def param_with_ref(ref: str) -> bytes:
    return (
        HEAD + "paths:\n  /a:\n    get:\n      parameters:\n"
        f"        - $ref: '{ref}'\n      responses: {{'200': {{description: ok}}}}\n"
    ).encode()


BAD_REFS = [
    ("file:///etc/passwd", "ref-url"),
    ("http://169.254.169.254/latest/meta-data/", "ref-url"),
    ("https://example.com/schemas.yaml#/Pet", "ref-url"),
    ("//evil.example/x.yaml", "ref-url"),
    ("../settings.py", "ref-escape"),
    ("/etc/passwd", "ref-escape"),
    ("other.yaml#/Pet", "ref-file"),
    ("#components/schemas/Pet", "ref-pointer"),
    ("", "ref-pointer"),
    ("#", "ref-pointer"),
]


@pytest.mark.parametrize("build", [spec_with_ref, param_with_ref], ids=["schema", "parameter"])
@pytest.mark.parametrize(("ref", "rule"), BAD_REFS, ids=[r for r, _ in BAD_REFS])
def test_case_38_single_document_refs_are_refused_without_any_access(
    ref: str, rule: str, build: Any
) -> None:
    data = build(ref)
    with no_outside_access() as opened, pytest.raises(RefError) as info:
        load_bytes(data, "api.yaml")
    assert info.value.rule == rule
    assert info.value.pointer is not None and info.value.pointer.endswith("/$ref")
    assert str(info.value).startswith("api.yaml#/paths/~1a/get/")
    assert opened == []


def test_a_parameter_the_document_names_but_lacks_is_refused() -> None:
    with pytest.raises(RefError) as info:
        load_bytes(param_with_ref("#/components/parameters/Missing"), "api.yaml")
    assert info.value.rule == "ref-missing"
    assert str(info.value).startswith("api.yaml#/paths/~1a/get/parameters/0/$ref: $ref target")


def test_a_schema_or_response_the_document_names_but_lacks_is_shown_and_warned_of() -> None:
    """Square's official document names a schema it lacks, Grafana's a response: the whole API
    was refused for it. The schema now reads as any value, the response as undocumented, and
    the publisher is told where."""
    text = (
        HEAD + "paths:\n  /a:\n    get:\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/Box'}\n"
        "        '202': {$ref: '#/components/responses/Accepted'}\n"
        "components:\n  schemas:\n    Box:\n      type: object\n      properties:\n"
        "        kind: {$ref: '#/components/schemas/Missing', description: What it is}\n"
    )
    parsed = load_bytes(text.encode(), "api.yaml")
    kind = parsed.normalised["components"]["schemas"]["Box"]["properties"]["kind"]
    assert kind == {"x-unresolved-ref": "#/components/schemas/Missing", "description": "What it is"}
    accepted = parsed.normalised["paths"]["/a"]["get"]["responses"]["202"]
    assert accepted == {"description": "Not documented: the spec names a response it lacks."}
    assert any(
        w.startswith("api.yaml#/components/schemas/Box/properties/kind/$ref: $ref target")
        and "shown as any value" in w
        for w in parsed.warnings
    )
    assert any("responses/202/$ref" in w and "shown undocumented" in w for w in parsed.warnings)


def test_a_yaml_null_in_a_type_list_is_the_null_type_and_warned_of() -> None:
    """Unkey's split spec writes `type: [object, null]` with null unquoted: YAML's null, not
    the text "null". The pages read `object | None` and the console's check had no such
    type; the Go bundler that makes their single file writes "null", as the author meant.
    A 3.1 schema's `type: null` alone (`anyOf: [{type: string}, {type: null}]`) read as any
    value; in 3.0, which has no null type, it is left as written."""
    text = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths: {}\ncomponents:\n"
        "  schemas:\n    Credits:\n      type:\n        - object\n        - null\n"
        "      properties:\n        left: {type: [integer, null, 'null']}\n"
        "        kind: {anyOf: [{type: string}, {type: null}]}\n"
    )
    parsed = load_bytes(text.encode(), "api.yaml")
    credits = parsed.normalised["components"]["schemas"]["Credits"]
    assert credits["type"] == ["object", "null"]
    assert credits["properties"]["left"]["type"] == ["integer", "null"]
    assert credits["properties"]["kind"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    at = "api.yaml#/components/schemas/Credits"
    said = ' itself (YAML\'s unquoted null), not the text "null"; read as "null"'
    assert sorted(w for w in parsed.warnings if "null" in w) == [
        f"{at}/properties/kind/anyOf/1/type: a type given as null{said}",
        f"{at}/properties/left/type: a type listed as null{said}",
        f"{at}/type: a type listed as null{said}",
    ]
    parsed = load_bytes(text.replace("3.1.0", "3.0.3").encode(), "api.yaml")
    kind = parsed.normalised["components"]["schemas"]["Credits"]["properties"]["kind"]
    assert kind == {"anyOf": [{"type": "string"}, {"type": None}]}


@pytest.mark.parametrize("ref", ["0", "[a]", "{x: 1}", "null", "true"])
def test_a_schema_ref_that_is_not_text_is_shown_as_any_value_and_warned_of(ref: str) -> None:
    """`$ref: 0` read as any value with nothing said, so the publisher never learnt of it."""
    text = (
        HEAD + "paths: {}\ncomponents:\n  schemas:\n    Box:\n      type: object\n"
        f"      properties:\n        kind: {{$ref: {ref}, description: What it is}}\n"
    )
    parsed = load_bytes(text.encode(), "api.yaml")
    kind = parsed.normalised["components"]["schemas"]["Box"]["properties"]["kind"]
    assert kind == {"description": "What it is"}
    assert any(
        w.startswith("api.yaml#/components/schemas/Box/properties/kind/$ref: ")
        and "not text" in w
        and "shown as any value" in w
        for w in parsed.warnings
    ), parsed.warnings


def test_a_ref_that_is_not_text_elsewhere_is_left_out_and_warned_of() -> None:
    text = (
        HEAD + "paths:\n  /a:\n    post:\n      requestBody: {$ref: [1]}\n"
        "      responses: {'200': {$ref: 5, description: ok}}\n"
    )
    parsed = load_bytes(text.encode(), "api.yaml")
    post = parsed.normalised["paths"]["/a"]["post"]
    assert post == {"requestBody": {}, "responses": {"200": {"description": "ok"}}}
    assert sorted(parsed.warnings) == [
        "api.yaml#/paths/~1a/post/requestBody/$ref: $ref is a list, not text; left out",
        "api.yaml#/paths/~1a/post/responses/200/$ref: $ref is a number, not text; left out",
    ]


@pytest.mark.parametrize(
    ("ref", "rule"),
    [
        ("../settings.py", "ref-escape"),
        ("../../outside.yaml", "ref-escape"),
        ("sub/../../outside.yaml", "ref-escape"),
        ("/etc/passwd", "ref-escape"),
        ("file:///etc/passwd", "ref-url"),
        ("http://169.254.169.254/latest/meta-data/", "ref-url"),
        ("missing.yaml", "ref-missing"),
    ],
)
def test_case_38_bundle_refs_stay_inside_the_bundle(ref: str, rule: str, tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("secret: 1\n")
    (tmp_path / "settings.py").write_text("SECRET = 1\n")
    bundle = tmp_path / "bundle"
    (bundle / "sub").mkdir(parents=True)
    (bundle / "api.yaml").write_bytes(spec_with_ref(ref))
    (bundle / "schemas.yaml").write_text("Pet: {type: object}\n")
    with no_outside_access() as opened, pytest.raises(RefError) as info:
        load_path(bundle)
    assert info.value.rule == rule
    assert opened, "the root document itself is read"
    assert [p for p in opened if not p.startswith(str(bundle) + "/")] == []


def test_symlink_out_of_a_folder_bundle_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("Pet: {type: object}\n")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (bundle / "api.yaml").write_bytes(spec_with_ref("link.yaml#/Pet"))
    with no_outside_access() as opened, pytest.raises(RefError, match="no file 'link.yaml'"):
        load_path(bundle)
    assert [p for p in opened if not p.startswith(str(bundle) + "/")] == []


def test_a_folder_with_a_stray_link_out_or_a_dangling_link_still_imports(tmp_path: Path) -> None:
    """A link no $ref names (`shared.yaml -> ../common/shared.yaml`, a broken link) refused
    the whole folder: "shared.yaml is not a file inside the bundle"."""
    (tmp_path / "secret.yaml").write_text("openapi: 3.0.0\n")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "shared.yaml").symlink_to(tmp_path / "secret.yaml")
    (bundle / "broken.yaml").symlink_to(tmp_path / "missing.yaml")
    (bundle / "api.yaml").write_bytes(HEAD.encode() + b"paths: {}\n")
    with no_outside_access() as opened:
        spec = load_path(bundle)
    assert spec.root_path == "api.yaml"
    assert [p for p in opened if not p.startswith(str(bundle) + "/")] == []


def test_case_37_schema_cycles_import_and_stay_references() -> None:
    text = HEAD + (
        "paths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"
        "          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/A'}\n"
        "components:\n  schemas:\n"
        "    A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}\n"
        "    B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}\n"
        "    Self: {type: array, items: {$ref: '#/components/schemas/Self'}}\n"
    )
    spec = load_bytes(text.encode(), "cycle.yaml")
    schemas = spec.normalised["components"]["schemas"]
    assert schemas["A"]["properties"]["b"] == {"$ref": "#/components/schemas/B"}
    assert schemas["B"]["properties"]["a"] == {"$ref": "#/components/schemas/A"}
    assert schemas["Self"]["items"] == {"$ref": "#/components/schemas/Self"}
    assert len(spec.normalised_bytes) < 2000  # nothing was expanded


def test_a_ref_to_an_anchor_names_the_schema_that_declares_it() -> None:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12, where `$ref: '#pet'` names the schema
    # that declares `$anchor: pet`. It was refused as "not a JSON pointer".
    text = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json: {schema: {$ref: '#pet'}}\n"
        "components:\n  schemas:\n    Pet:\n      $anchor: pet\n      type: object\n"
        "      properties: {tag: {$ref: '#tag'}, owner: {$ref: '#/components/schemas/Pet'}}\n"
        "    Wrapper: {properties: {inner: {$anchor: tag, type: string}}}\n"
    )
    spec = load_bytes(text.encode(), "t.yaml")
    schemas = spec.normalised["components"]["schemas"]
    body = spec.normalised["paths"]["/a"]["get"]["responses"]["200"]["content"]
    # The same schema whichever way it is named: one component, not two.
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    assert schemas["Pet"]["properties"]["owner"] == {"$ref": "#/components/schemas/Pet"}
    tag = schemas["Pet"]["properties"]["tag"]["$ref"].rsplit("/", 1)[-1]
    assert schemas[tag]["type"] == "string"


@pytest.mark.parametrize(
    ("anchors", "message"),
    [("", "no schema declares $anchor 'pet'"), ("pet", "2 schemas declare $anchor 'pet'")],
)
def test_an_anchor_that_names_no_schema_or_two_is_a_clear_error(anchors: str, message: str) -> None:
    extra = f"    B: {{$anchor: {anchors}, type: string}}\n" if anchors else ""
    text = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json: {schema: {$ref: '#pet'}}\n"
        "components:\n  schemas:\n    A: {type: object, example: {$anchor: pet}}\n"
        f"    C: {{$anchor: {anchors or 'other'}, type: object}}\n{extra}"
    )
    with pytest.raises(RefError, match=re.escape(message)) as info:
        load_bytes(text.encode(), "t.yaml")
    assert info.value.rule == "ref-missing"
    assert info.value.pointer is not None and info.value.pointer.endswith("/schema/$ref")


def test_non_schema_cycle_is_left_out_with_a_warning() -> None:
    text = HEAD + (
        "paths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/R'}\n"
        "components:\n  responses:\n    R: {$ref: '#/components/responses/S'}\n"
        "    S: {$ref: '#/components/responses/R'}\n"
    )
    spec = load_bytes(text.encode(), "loop.yaml")
    assert spec.operation_count == 1
    assert any("circular $ref" in w for w in spec.warnings)


def test_non_schema_refs_are_inlined_and_3_1_overrides_apply() -> None:
    text = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      parameters:\n        - {$ref: '#/components/parameters/Limit', description: Own}\n"
        "      responses:\n        '200': {$ref: '#/components/responses/Ok'}\n"
        "components:\n  parameters:\n    Limit: {name: limit, in: query, description: Max,"
        " schema: {$ref: '#/components/schemas/Int'}}\n"
        "  responses:\n    Ok: {description: fine}\n  schemas:\n    Int: {type: integer}\n"
    )
    spec = load_bytes(text.encode(), "t.yaml")
    op = spec.normalised["paths"]["/a"]["get"]
    assert op["parameters"][0] == {
        "name": "limit",
        "in": "query",
        "description": "Own",
        "schema": {"$ref": "#/components/schemas/Int"},
    }
    assert op["responses"]["200"] == {"description": "fine"}


@pytest.mark.parametrize("swagger2", [True, False])
def test_a_parameter_also_named_as_a_schema_is_still_a_parameter_where_one_is_listed(
    swagger2: bool,
) -> None:
    # Opsgenie's Swagger 2.0 document writes `schema: {$ref: '#/parameters/TeamId'}` under
    # one operation and lists `$ref: '#/parameters/TeamId'` under the next: the first use made
    # the parameter a schema, and the second kept a schema reference where a parameter was
    # listed, so that operation lost its `teamId` query parameter ("needs name and in").
    at = "#/parameters/TeamId" if swagger2 else "#/components/parameters/TeamId"
    team = "{name: teamId, in: query, %s}" % (
        "type: string" if swagger2 else "schema: {type: string}"
    )
    ops = (
        "paths:\n  /a:\n    get:\n      parameters:\n"
        f"        - {{name: other, in: query, schema: {{$ref: '{at}'}}}}\n"
        "      responses: {'200': {description: ok}}\n"
        f"    put:\n      parameters:\n        - {{$ref: '{at}'}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    if swagger2:
        text = "swagger: '2.0'\ninfo: {title: T, version: '1'}\n" + ops
        text += f"parameters:\n  TeamId: {team}\n"
    else:
        text = HEAD + ops + f"components:\n  parameters:\n    TeamId: {team}\n"
    spec = load_bytes(text.encode(), "t.yaml")
    put = spec.normalised["paths"]["/a"]["put"]
    assert put["parameters"] == [{"name": "teamId", "in": "query", "schema": {"type": "string"}}]
    assert not any("needs `name` and `in`" in w for w in spec.warnings)


def test_a_parameter_kept_under_components_schemas_is_a_parameter_where_one_is_listed() -> None:
    # Alchemy's Notify spec keeps its Parameter objects under components/schemas and lists
    # `$ref: '#/components/schemas/X-Alchemy-Token'` in each operation's parameters: the
    # reference stayed a schema reference, so every operation lost its parameters (the auth
    # header among them) and each was warned "needs name and in". A target that has a
    # `name` and an `in` is a parameter where a parameter is listed.
    text = HEAD + (
        "paths:\n  /variables/{variable}:\n    get:\n      parameters:\n"
        "        - $ref: '#/components/schemas/X-Alchemy-Token'\n"
        "        - $ref: '#/components/schemas/variable'\n"
        "        - {$ref: '#/components/schemas/Limit', description: Own}\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  schemas:\n"
        "    X-Alchemy-Token: {name: X-Alchemy-Token, in: header, required: true,"
        " schema: {type: string}}\n"
        "    variable: {name: variable, in: path, required: true, schema: {type: string}}\n"
        "    Limit: {type: integer}\n"
    )
    spec = load_bytes(text.encode(), "notify.yaml")
    params = spec.normalised["paths"]["/variables/{variable}"]["get"]["parameters"]
    assert [(p.get("name"), p.get("in")) for p in params[:2]] == [
        ("X-Alchemy-Token", "header"),
        ("variable", "path"),
    ]
    assert params[0]["schema"] == {"type": "string"}
    # A real schema listed as a parameter is still the slip it was: no parameter made of it.
    assert params[2] == {"$ref": "#/components/schemas/Limit"}
    assert sum("needs `name` and `in`" in w for w in spec.warnings) == 1
    assert not any("is not declared" in w for w in spec.warnings)


def test_ref_bomb_through_shared_targets_is_refused() -> None:
    # Each level references the previous one ten times: 10^7 expanded nodes from ~60 lines.
    lines = [HEAD, "paths: {}\ncomponents:\n  examples:\n    e0: {summary: x}\n"]
    for n in range(1, 8):
        refs = ", ".join(f"k{i}: {{$ref: '#/components/examples/e{n - 1}'}}" for i in range(10))
        lines.append(f"    e{n}: {{summary: x, x-more: {{{refs}}}}}\n")
    with pytest.raises(SpecError) as info:
        load_bytes("".join(lines).encode(), "refbomb.yaml")
    assert info.value.rule == "node-limit"


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


BUNDLE_ROOT = HEAD + (
    "paths:\n  /pets:\n    $ref: 'paths/pets.yaml'\n"
    "  /pets/{id}:\n    get:\n      $ref: 'paths/pet_get.yaml'\n"
)
BUNDLE_FILES: dict[str, str | bytes] = {
    "api/openapi.yaml": BUNDLE_ROOT,
    "api/paths/pets.yaml": (
        "get:\n  operationId: listPets\n  responses:\n    '200':\n      description: ok\n"
        "      content:\n        application/json:\n"
        "          schema: {type: array, items: {$ref: '../models/pet.yaml'}}\n"
        "    default: {$ref: '../shared/responses.yaml#/Error'}\n"
    ),
    "api/paths/pet_get.yaml": (
        "operationId: getPet\nparameters:\n  - {name: id, in: path, required: true,"
        " schema: {type: string}}\nresponses:\n  '200':\n    description: ok\n"
        "    content:\n      application/json:\n        schema: {$ref: '../models/pet.yaml'}\n"
    ),
    "api/models/pet.yaml": "type: object\nproperties:\n  owner: {$ref: 'owner.json#/Owner'}\n",
    "api/models/owner.json": '{"Owner": {"type": "object", "properties": {"pet": {"$ref": "pet.yaml"}}}}',
    "api/shared/responses.yaml": "Error:\n  description: failed\n  content:\n    application/json:\n"
    "      schema: {type: object}\n",
}


def check_bundle_result(spec: Any) -> None:
    assert spec.operation_count == 2
    assert [op.slug for op in spec.operations] == ["listPets", "getPet"]
    schemas = spec.normalised["components"]["schemas"]
    assert set(schemas) == {"pet", "Owner"}
    assert schemas["pet"]["properties"]["owner"] == {"$ref": "#/components/schemas/Owner"}
    assert schemas["Owner"]["properties"]["pet"] == {"$ref": "#/components/schemas/pet"}
    default = spec.normalised["paths"]["/pets"]["get"]["responses"]["default"]
    assert default["description"] == "failed"
    assert b"yaml" not in orjson.dumps(spec.normalised["paths"])


def test_zip_bundle_resolves_relative_refs_into_one_document() -> None:
    data = make_zip(BUNDLE_FILES)
    spec = load_bytes(data, "api.zip")
    assert spec.source_format == "bundle"
    assert spec.root_path == "api/openapi.yaml"
    assert spec.original == data
    check_bundle_result(spec)


def test_a_root_path_past_the_stored_length_is_cut_like_the_source_name() -> None:
    # ApiVersion.root_path holds 500 characters; a zip's names may be far longer, and a
    # longer root failed the insert on PostgreSQL (SQLite does not check lengths).
    root = "deep/" * 120 + "openapi.yaml"
    spec = load_bytes(make_zip({root: HEAD + "paths: {}\n"}), "api.zip")
    assert spec.operation_count == 0
    assert spec.root_path == root[: ApiVersion._meta.get_field("root_path").max_length]


def test_folder_bundle_finds_its_root_and_keeps_a_zip_of_the_used_files(tmp_path: Path) -> None:
    for name, content in BUNDLE_FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else content.decode())
    (tmp_path / "api/unused.yaml").write_text("x: 1\n")
    spec = load_path(tmp_path / "api")
    check_bundle_result(spec)
    kept = zipfile.ZipFile(io.BytesIO(spec.original)).namelist()
    assert "openapi.yaml" in kept and "models/owner.json" in kept and "unused.yaml" not in kept


def test_bundle_with_two_roots_needs_root(tmp_path: Path) -> None:
    files = {**BUNDLE_FILES, "api/other.yaml": HEAD + "paths: {}\n"}
    data = make_zip(files)
    with pytest.raises(SpecError, match="several files look like root documents.*name the root"):
        load_bytes(data, "api.zip")
    spec = load(ZipBundle(data, "api.zip", root="api/openapi.yaml"))
    check_bundle_result(spec)
    with pytest.raises(SpecError, match="not in the bundle"):
        load(ZipBundle(data, "api.zip", root="../etc/passwd"))


def test_a_redocly_config_with_an_openapi_section_is_not_a_root(tmp_path: Path) -> None:
    # Redocly's redocly.yaml sits at a repository's top with `openapi:` holding the
    # reference docs' settings (Rebilly's api-definitions); a folder or a GitHub zip of the
    # repository was refused as having two root documents. A root's `openapi` is a version.
    config = "apis:\n  main:\n    root: api/openapi.yaml\nopenapi:\n  hideDownloadButton: true\n"
    files = {**BUNDLE_FILES, "redocly.yaml": config, "swagger.json": '{"swagger": {"x": 1}}'}
    check_bundle_result(load_bytes(make_zip(files), "repo.zip"))
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else content.decode())
    check_bundle_result(load_path(tmp_path))


def test_a_root_named_inside_the_zips_one_folder_is_found_there(tmp_path: Path) -> None:
    # `zip -r api.zip api/` (a folder of Camunda's or OpenProject's split files) holds
    # `api/openapi.yaml`; the publisher names `openapi.yaml`, as it sits in the folder. That
    # was refused as "not in the bundle" though only one file could be meant.
    files = {**BUNDLE_FILES, "api/other.yaml": HEAD + "paths: {}\n"}
    check_bundle_result(load(ZipBundle(make_zip(files), "api.zip", root="openapi.yaml")))
    for name, content in files.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else content.decode())
    check_bundle_result(load_path(tmp_path / "src", root="openapi.yaml"))
    # Two files of that name: the message names both, and neither is taken.
    twice = {**files, "old/openapi.yaml": HEAD + "paths: {}\n"}
    with pytest.raises(SpecError, match=r"not in the bundle \(api/openapi.yaml or old/openapi"):
        load(ZipBundle(make_zip(twice), "api.zip", root="openapi.yaml"))
    with pytest.raises(SpecError, match="not in the bundle"):
        load(ZipBundle(make_zip(files), "api.zip", root="penapi.yaml"))
    # Written from the zip's top, as a path in it (`/api/openapi.yaml`): the same file. It
    # was "not in the bundle", though the file is; only a relative path was looked for.
    for root in ("/api/openapi.yaml", "/openapi.yaml"):
        check_bundle_result(load(ZipBundle(make_zip(files), "api.zip", root=root)))
    check_bundle_result(load_path(tmp_path / "src", root="/api/openapi.yaml"))
    with pytest.raises(SpecError, match="not in the bundle"):
        load(ZipBundle(make_zip(files), "api.zip", root="/../api/openapi.yaml"))


def test_a_ref_to_another_files_empty_pointer_means_that_whole_file() -> None:
    # `paths/items.yaml#/` (schemathesis's relative_files) is read as the whole file, as
    # Python's jsonschema and other resolvers do, unless the file has a key "".
    files: dict[str, str | bytes] = {
        "api/openapi.yaml": HEAD + "paths:\n  /items:\n    $ref: 'paths/items.yaml#/'\n",
        "api/paths/items.yaml": (
            "get:\n  operationId: listItems\n  responses:\n    '200':\n"
            "      description: ok\n      content:\n        application/json:\n"
            "          schema: {$ref: '../models.yaml#/Item'}\n"
        ),
        "api/models.yaml": "Item: {type: object, properties: {name: {$ref: 'name.yaml#/'}}}\n",
        "api/name.yaml": "'': {type: integer}\ntype: string\n",
    }
    spec = load_bytes(make_zip(files), "api.zip")
    assert [op.slug for op in spec.operations] == ["listItems"]
    schemas = spec.normalised["components"]["schemas"]
    name = schemas["Item"]["properties"]["name"]
    if "$ref" in name:
        name = schemas[name["$ref"].rsplit("/", 1)[1]]
    assert name == {"type": "integer"}  # a real key "" is still what `#/` names
    root = {**files, "api/openapi.yaml": HEAD + "paths:\n  /x:\n    $ref: '#/'\n"}
    with pytest.raises(RefError, match="whole root document"):
        load_bytes(make_zip(root), "api.zip")


def test_discriminator_default_mapping_to_another_file_is_rewritten_like_mapping() -> None:
    head = "openapi: 3.2.0\ninfo: {title: Refs, version: '1'}\n"
    files: dict[str, str | bytes] = {
        "api/openapi.yaml": head + "paths:\n  /pets:\n    get:\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/json:\n"
        "              schema: {$ref: 'pet.yaml'}\n",
        "api/pet.yaml": (
            "oneOf: [{$ref: 'cat.yaml'}, {$ref: 'dog.yaml'}]\n"
            "discriminator: {propertyName: kind, mapping: {cat: 'cat.yaml'},"
            " defaultMapping: 'dog.yaml'}\n"
        ),
        "api/cat.yaml": "type: object\n",
        "api/dog.yaml": "type: object\nproperties: {bark: {type: boolean}}\n",
    }
    spec = load_bytes(make_zip(files), "api.zip")
    discriminator = spec.normalised["components"]["schemas"]["pet"]["discriminator"]
    assert discriminator["mapping"] == {"cat": "#/components/schemas/cat"}
    assert discriminator["defaultMapping"] == "#/components/schemas/dog"


def test_a_swagger_2_bare_definition_name_ref_names_that_definition() -> None:
    # Swagger 2.0's shorthand `$ref: Pets` for `#/definitions/Pets` (OpenAPI.NET's V2 samples,
    # old Swagger tooling): refused as "no file 'Pets'".
    spec = load_bytes(
        b"swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths:\n  /pets:\n    get:\n"
        b"      responses:\n        '200':\n          description: ok\n"
        b"          schema: {$ref: Pets}\n"
        b"definitions:\n  Pets: {type: array, items: {$ref: Pet}}\n  Pet: {type: object}\n",
        "pets.yaml",
    )
    schemas = spec.normalised["components"]["schemas"]
    assert schemas["Pets"]["items"] == {"$ref": "#/components/schemas/Pet"}
    content = spec.normalised["paths"]["/pets"]["get"]["responses"]["200"]["content"]
    assert next(iter(content.values()))["schema"] == {"$ref": "#/components/schemas/Pets"}
    with pytest.raises(RefError, match="Nope"):  # a name no definition has is still an error
        load_bytes(
            b"swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths: {}\n"
            b"definitions:\n  Pet: {properties: {a: {$ref: Nope}}}\n",
            "pets.yaml",
        )


def test_a_swagger_2_ref_to_components_schemas_names_the_definition() -> None:
    # A 2.0 document written with its 3.0 conversion in mind (Mermade's fiendish
    # ref-encoding2): swagger2openapi resolves #/components/schemas/X to definitions/X.
    spec = load_bytes(
        b"swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths:\n  /:\n    get:\n"
        b"      responses:\n        default:\n          description: ok\n"
        b"          schema: {$ref: '#/components/schemas/Box/properties/with%20space'}\n"
        b"definitions:\n  Box:\n    properties:\n      with space: {type: string}\n",
        "box.yaml",
    )
    content = spec.normalised["paths"]["/"]["get"]["responses"]["default"]["content"]
    ref = next(iter(content.values()))["schema"]["$ref"]
    assert spec.normalised["components"]["schemas"][ref.rpartition("/")[2]] == {"type": "string"}


def test_a_plus_in_a_ref_fragment_reads_as_a_space_only_when_no_key_has_the_plus() -> None:
    # Mermade's fiendish ref-encoding3: `with+space`, form-encoded, for the key "with space".
    def doc(keys: bytes) -> bytes:
        return (
            b"openapi: 3.0.1\ninfo: {title: T, version: '1'}\npaths:\n  /:\n    get:\n"
            b"      responses:\n        default:\n          description: ok\n"
            b"          content:\n            text/xml:\n              schema:\n"
            b"                $ref: '#/components/schemas/Box/properties/with+space'\n"
            b"components:\n  schemas:\n    Box:\n      properties:\n" + keys
        )

    def shown(spec: Any) -> Any:
        content = spec.normalised["paths"]["/"]["get"]["responses"]["default"]["content"]
        ref = content["text/xml"]["schema"]["$ref"]
        return spec.normalised["components"]["schemas"][ref.rpartition("/")[2]]

    spaced = load_bytes(doc(b"        with space: {type: string}\n"), "box.yaml")
    assert shown(spaced) == {"type": "string"}
    both = load_bytes(
        doc(b"        with space: {type: string}\n        with+space: {type: integer}\n"),
        "box.yaml",
    )
    assert shown(both) == {"type": "integer"}
    neither = load_bytes(doc(b"        other: {type: string}\n"), "box.yaml")
    assert any("with+space does not exist; shown as any value" in w for w in neither.warnings)


@pytest.mark.parametrize("name", ["../evil.yaml", "/abs/evil.yaml", "a/../../evil.yaml"])
def test_zip_with_paths_outside_its_folder_is_refused(name: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("openapi.yaml", HEAD + "paths: {}\n")
        zf.writestr(zipfile.ZipInfo(name), "x: 1\n")
    with pytest.raises(SpecError) as info:
        load_bytes(buffer.getvalue(), "evil.zip")
    assert info.value.rule == "zip-path"


def test_zip_directory_entries_and_links_in_ignored_folders_still_import() -> None:
    """A link the bundle could read is refused (tests in test_admin and test_importspec);
    directory entries and hidden or `__MACOSX` entries are skipped as before, links too."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("api/"), "")
        for name, content in BUNDLE_FILES.items():
            zf.writestr(name, content)
        for name in ("api/.git/HEAD", "__MACOSX/api/openapi.yaml"):
            link = zipfile.ZipInfo(name)
            link.create_system = 3
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(link, "/etc/passwd")
    check_bundle_result(load_bytes(buffer.getvalue(), "api.zip"))


def test_zip_without_root_and_broken_zip() -> None:
    with pytest.raises(SpecError, match="no root document"):
        load_bytes(make_zip({"a.yaml": "x: 1\n"}), "none.zip")
    with pytest.raises(SpecError, match="not a readable zip"):
        load_bytes(b"PK\x03\x04garbage", "broken.zip")


def test_empty_zip_is_read_as_a_zip_not_as_yaml() -> None:
    """An archive with no entries starts with the end-of-directory record (PK\\x05\\x06), not
    a file header: it was parsed as YAML and refused for "unacceptable character #x0005"."""
    with pytest.raises(SpecError, match="no root document") as info:
        load_bytes(make_zip({}), "empty.zip")
    assert "YAML" not in str(info.value)


def test_zip_bomb_member_is_cut_at_the_limit(settings: Any) -> None:
    settings.APIS_MAX_SPEC_BYTES = 100_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("openapi.yaml", BUNDLE_ROOT.replace("paths/pets.yaml", "big.yaml"))
        zf.writestr("big.yaml", b"x: '" + b"a" * 5_000_000 + b"'\n")
    data = buffer.getvalue()
    assert len(data) < 100_000
    with pytest.raises(SpecError) as info:
        load_bytes(data, "bomb.zip")
    assert info.value.status == 413


def test_folder_with_too_many_files_is_refused(tmp_path: Path, settings: Any) -> None:
    settings.APIS_MAX_BUNDLE_FILES = 5
    for n in range(6):
        (tmp_path / f"f{n}.yaml").write_text("x: 1\n")
    with pytest.raises(SpecError) as info:
        FolderBundle(tmp_path)
    assert info.value.rule == "file-limit"


def test_path_item_ref_keeps_sibling_operations() -> None:
    text = HEAD + (
        "paths:\n  /a:\n    $ref: '#/components/pathItems/A'\n"
        "    post: {operationId: postA, responses: {'200': {description: ok}}}\n"
        "components:\n  pathItems:\n"
        "    A: {get: {operationId: getA, responses: {'200': {description: ok}}}}\n"
    )
    spec = load_bytes(text.encode(), "p.yaml")
    assert [op.slug for op in spec.operations] == ["getA", "postA"]


def test_example_data_that_looks_like_a_ref_is_kept_with_a_warning() -> None:
    text = HEAD + (
        "paths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"
        "          content:\n            application/json:\n"
        "              example: {$ref: 'https://json-schema.org/draft/2020-12/schema'}\n"
        "              schema: {$ref: '#/components/schemas/A/properties/b'}\n"
        "components:\n  schemas:\n    A: {properties: {b: {$ref: '#/components/schemas/A'}}}\n"
    )
    spec = load_bytes(text.encode(), "e.yaml")
    media = spec.normalised["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]
    assert media["example"] == {"$ref": "https://json-schema.org/draft/2020-12/schema"}
    assert any("kept as example data" in w for w in spec.warnings)
    assert media["schema"] == {"$ref": "#/components/schemas/b"}
    assert spec.normalised["components"]["schemas"]["b"] == {"$ref": "#/components/schemas/A"}


def test_damaged_zip_archives_are_clear_errors() -> None:
    """Flipped bytes anywhere in a bundle give a SpecError, never another exception."""
    import random

    data = make_zip(BUNDLE_FILES)
    rng = random.Random(7)
    outcomes = set()
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            load_bytes(bytes(damaged), "damaged.zip")
            outcomes.add("imported")
        except SpecError:
            outcomes.add("refused")
    assert "refused" in outcomes


def deflated_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def test_case84_zip_member_past_the_compression_ratio_is_refused_by_name(settings: Any) -> None:
    # Case 84: 2 MB of padding compresses to about 2 KB; it is never even needed by the
    # spec, yet the old importer inflated it while looking for the root document.
    settings.APIS_MAX_ZIP_RATIO = 100
    data = deflated_zip({**to_bytes(BUNDLE_FILES), "api/padding.yaml": b"#" * 2_000_000})
    with pytest.raises(SpecError) as info:
        load_bytes(data, "ratio.zip")
    assert info.value.rule == "zip-ratio"
    assert "api/padding.yaml" in str(info.value)
    assert "APIS_MAX_ZIP_RATIO" in str(info.value)


def test_case84_zip_member_past_the_ratio_that_nothing_reads_does_not_refuse_the_bundle(
    settings: Any,
) -> None:
    # A repository downloaded as a zip (Rebilly's api-definitions from GitHub) carries a
    # site's favicon.ico: mostly zero pixels, 297 bytes inflating to 33 KB (111 times).
    # Neither a spec file nor named by a $ref, it is never inflated: no reason to refuse.
    settings.APIS_MAX_ZIP_RATIO = 100
    icon = b"\x00\x00\x01\x00" + b"\x00" * 40_000
    data = deflated_zip({**to_bytes(BUNDLE_FILES), "web/favicon.ico": icon})
    check_bundle_result(load_bytes(data, "repo.zip"))
    # Named by a $ref it is read, and refused before it is inflated.
    files = to_bytes(BUNDLE_FILES)
    files["api/paths/pet_get.yaml"] += b"description: {$ref: '../../web/favicon.ico'}\n"
    with pytest.raises(SpecError) as info:
        load_bytes(deflated_zip({**files, "web/favicon.ico": icon}), "repo.zip")
    assert info.value.rule == "zip-ratio"
    assert "web/favicon.ico" in str(info.value)


def test_case84_zip_whose_files_add_up_past_the_size_limit_is_refused(settings: Any) -> None:
    settings.APIS_MAX_SPEC_BYTES = 200_000
    # Each file is under the limit and barely compresses; together they pass it.
    files = to_bytes(BUNDLE_FILES)
    for n in range(5):
        files[f"api/extra{n}.yaml"] = os.urandom(60_000).hex()[:60_000].encode()
    data = deflated_zip(files)
    with pytest.raises(SpecError) as info:
        load_bytes(data, "big.zip")
    assert info.value.rule == "size-limit"
    assert info.value.status == 413
    assert "uncompressed" in str(info.value)


def test_zip_with_the_same_name_twice_is_refused_naming_the_entry() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it writes
        for name, content in BUNDLE_FILES.items():
            zf.writestr(name, content)
        zf.writestr("api/models/pet.yaml", "type: string\n")
    with pytest.raises(SpecError) as info:
        load_bytes(buffer.getvalue(), "twice.zip")
    assert info.value.rule == "zip-duplicate"
    assert "api/models/pet.yaml" in str(info.value)


def test_zip_with_utf8_names_written_without_the_utf8_flag_reads_them_as_utf8() -> None:
    """Info-ZIP's `zip` (3.0, the one Linux distributions ship) stores a non-ASCII name as its
    UTF-8 bytes without the flag that says so; zipfile read `schemas/用户.yaml` as cp437
    (`schemas/τö¿µê╖.yaml`), and a bundle a folder import took was refused: "no file
    'api/schemas/用户.yaml' in the bundle". A name not UTF-8 stays cp437, as zip says."""
    files: dict[str, str | bytes] = {
        "api/openapi.yaml": HEAD
        + "paths:\n  /users:\n    get:\n      operationId: listUsers\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n"
        "            application/json:\n              schema:\n"
        "                $ref: 'schemas/%E7%94%A8%E6%88%B7.yaml'\n"
        "        default: {description: no, content: {application/json: {schema:"
        " {$ref: 'schemas/用户.yaml'}}}}\n",
        "api/schemas/XXXXXX.yaml": "title: user\ntype: object\n",
        "api/schemas/YY.yaml": "type: string\n",
    }
    data = make_zip(files)
    assert data.count(b"XXXXXX") == 2 and data.count(b"YY.yaml") == 2  # local + central
    data = data.replace(b"XXXXXX", "用户".encode()).replace(b"YY.yaml", b"\x82\x8a.yaml")
    spec = load_bytes(data, "users.zip")
    assert b'"title":"user"' in spec.normalised_bytes
    assert ZipBundle(data, "users.zip").names == [
        "api/openapi.yaml",
        "api/schemas/éè.yaml",
        "api/schemas/用户.yaml",
    ]


def test_zip_names_that_normalise_to_the_same_file_are_refused() -> None:
    files = {**BUNDLE_FILES, "api/./models/pet.yaml": "type: string\n"}
    with pytest.raises(SpecError) as info:
        load_bytes(make_zip(files), "twice.zip")
    assert info.value.rule == "zip-duplicate"
    assert "api/./models/pet.yaml" in str(info.value)


@override_settings(APIS_MAX_IMPORT_SECONDS=0)
def test_case84_import_time_limit_covers_opening_the_zip() -> None:
    with pytest.raises(LimitExceeded) as info:
        ZipBundle(make_zip(BUNDLE_FILES), "slow.zip")
    assert info.value.rule == "time-limit"
    assert info.value.source == "slow.zip"


def to_bytes(files: dict[str, str | bytes]) -> dict[str, bytes]:
    return {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}


def test_a_ref_to_a_code_or_markdown_file_is_its_text(tmp_path: Path) -> None:
    # Redocly's layout: code samples and long descriptions kept as their own files. Read as
    # YAML, the C# sample's lines ran together into one ("using System; using System.Net...").
    (tmp_path / "code").mkdir()
    (tmp_path / "code/get.cs").write_text('using System;\n\nclass P {\n  // "hi": 1\n}\n')
    (tmp_path / "intro.md").write_text("# Pets\n\n- one: two\n- three\n")
    (tmp_path / "openapi.yaml").write_text(
        HEAD
        + "paths:\n  /pets:\n    get:\n      description: {$ref: intro.md}\n"
        + "      x-codeSamples:\n        - {lang: 'C#', source: {$ref: code/get.cs}}\n"
        + "      responses: {'200': {description: ok}}\n"
    )
    op = load_path(tmp_path).normalised["paths"]["/pets"]["get"]
    assert op["description"] == "# Pets\n\n- one: two\n- three\n"
    assert op["x-codeSamples"][0]["source"] == 'using System;\n\nclass P {\n  // "hi": 1\n}\n'
    # A pointer into text names nothing.
    (tmp_path / "openapi.yaml").write_text(
        HEAD + "paths:\n  /pets:\n    get:\n      description: {$ref: 'intro.md#/a'}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    with pytest.raises(RefError) as info:
        load_path(tmp_path)
    assert info.value.rule == "ref-missing"


def test_a_schemas_description_by_ref_to_a_markdown_file_is_its_text(tmp_path: Path) -> None:
    # Redocly reads `description: {$ref: x.md}` wherever it stands; in a schema (the body's
    # or a property's) it was kept as the object, and the page showed the raw `$ref` in
    # the schema's JSON with no description.
    (tmp_path / "models").mkdir()
    (tmp_path / "pet.md").write_text("A **pet**.\n")
    (tmp_path / "name.md").write_text("Its name.\n")
    (tmp_path / "models/pet.yaml").write_text(
        "type: object\ndescription: {$ref: ../pet.md}\n"
        "properties:\n  name: {type: string, description: {$ref: ../name.md}}\n"
    )
    (tmp_path / "openapi.yaml").write_text(
        HEAD + "paths:\n  /pets:\n    get:\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/json:\n"
        "              schema: {$ref: models/pet.yaml}\n"
    )
    pet = load_path(tmp_path, root="openapi.yaml").normalised["components"]["schemas"]["pet"]
    assert pet["description"] == "A **pet**.\n"
    assert pet["properties"]["name"]["description"] == "Its name.\n"
    # A file that is not there: the publisher is told, and the import goes on without it.
    (tmp_path / "name.md").unlink()
    spec = load_path(tmp_path, root="openapi.yaml")
    name = spec.normalised["components"]["schemas"]["pet"]["properties"]["name"]
    assert "description" not in name
    assert any("name.md" in w and "description left out" in w for w in spec.warnings)


def test_a_file_imported_from_disk_reads_the_files_its_refs_name_beside_it(
    tmp_path: Path,
) -> None:
    # `importspec api/openapi.yaml` on a Redocly-style layout was refused ("import the folder
    # instead"): every bundler reads relative refs from the file's own folder. Only the files
    # named are opened (the folder may be a home directory), and none outside it.
    api = tmp_path / "api"
    (api / "schemas").mkdir(parents=True)
    (api / "schemas/pet.yaml").write_text("type: object\nproperties: {name: {type: string}}\n")
    (api / "unrelated.yaml").write_text("x: 1\n")
    (tmp_path / "secret.yaml").write_text("type: object\n")
    (api / ".hidden.yaml").write_text("type: object\n")
    (api / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (api / "openapi.yaml").write_bytes(spec_with_ref("schemas/pet.yaml"))
    with no_outside_access() as opened:
        spec = load_path(api / "openapi.yaml")
    assert {Path(p).name for p in opened} == {"openapi.yaml", "pet.yaml"}
    assert spec.root_path == "openapi.yaml" and spec.source_format == "bundle"
    assert zipfile.ZipFile(io.BytesIO(spec.original)).namelist() == [
        "openapi.yaml",
        "schemas/pet.yaml",
    ]
    for ref, rule in [
        ("../secret.yaml", "ref-escape"),
        (".hidden.yaml", "ref-missing"),
        ("link.yaml", "ref-missing"),
    ]:
        (api / "openapi.yaml").write_bytes(spec_with_ref(ref))
        with pytest.raises(RefError) as info:
            load_path(api / "openapi.yaml")
        assert info.value.rule == rule, ref
        if rule == "ref-escape":  # says what to do instead
            assert "import the folder that holds every file" in str(info.value)
    # A file naming no other file imports as the single file it is.
    (api / "alone.yaml").write_text(HEAD + "paths: {}\n")
    alone = load_path(api / "alone.yaml")
    assert alone.original == (api / "alone.yaml").read_bytes()
    assert alone.source_format == "yaml" and alone.root_path == ""


def test_a_ref_to_a_binary_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    (tmp_path / "openapi.yaml").write_text(
        HEAD + "paths:\n  /a:\n    get:\n      description: {$ref: logo.png}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    with pytest.raises(SpecError) as info:
        load_path(tmp_path)
    assert info.value.rule == "encoding" and "logo.png is not UTF-8 text" in str(info.value)


@pytest.mark.parametrize("version", ["openapi: 3.0.3", "swagger: '2.0'"])
def test_a_schemas_section_that_is_a_ref_to_another_file_brings_every_schema(
    tmp_path: Path, version: str
) -> None:
    # `components: {schemas: {$ref: './spec/schemas.json'}}` (SendGrid's v3 layout): the
    # section's own $ref was read as a schema named "$ref", and the file's schemas arrived
    # only when some operation named them, under whatever name came first.
    swagger2 = version.startswith("swagger")
    section = "definitions" if swagger2 else "components:\n  schemas"
    body = "      responses:\n        '200':\n          description: ok\n" + (
        "          schema: {$ref: '#/definitions/Pet'}\n"
        if swagger2
        else "          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/Pet'}\n"
    )
    root = (
        f"{version}\ninfo: {{title: Split, version: '1'}}\npaths:\n  /pets:\n    get:\n"
        f"{body}  /owners:\n    get: {{$ref: 'spec/owners.yaml'}}\n"
        f"{section}: {{$ref: 'spec/schemas.yaml'}}\n"
    )
    owners = "responses:\n  '200':\n    description: ok\n" + (
        "    schema: {$ref: 'schemas.yaml#/Owner'}\n"
        if swagger2
        else "    content: {application/json: {schema: {$ref: 'schemas.yaml#/Owner'}}}\n"
    )
    (tmp_path / "spec").mkdir()
    (tmp_path / "api.yaml").write_text(root)
    (tmp_path / "spec" / "owners.yaml").write_text(owners)
    (tmp_path / "spec" / "schemas.yaml").write_text(
        "Pet: {type: object, properties: {owner: {$ref: '#/Owner'}}}\n"
        "Owner: {type: object, properties: {name: {type: string}}}\n"
        "Unused: {type: string}\n"
    )
    doc = load_path(tmp_path / "api.yaml").normalised  # OpenAPI 3 (2.0 is converted)
    schemas = doc["components"]["schemas"]
    assert list(schemas) == ["Pet", "Owner", "Unused"]  # every one, by its own name, in order
    owner = {"$ref": "#/components/schemas/Owner"}
    assert schemas["Pet"]["properties"]["owner"] == owner
    answer = doc["paths"]["/owners"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == owner


def test_root_schemas_that_are_refs_to_files_keep_their_names(tmp_path: Path) -> None:
    # Google Maps' bundle: components/schemas is `$ref: ./schemas/_index.yml`, which names
    # each schema as `DirectionsStep: {$ref: ./DirectionsStep.yml}`. Each file was taken in
    # again under its file's name, so pages showed DirectionsStep_2 and the like.
    (tmp_path / "schemas").mkdir()
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Maps, version: '1'}\npaths:\n  /pets:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json: {schema: {$ref: '#/components/schemas/Pet'}}\n"
        "  /owner:\n    get:\n      responses:\n        '200':\n          description: ok\n"
        "          content:\n            application/json: {schema: {$ref: 'schemas/Owner.yaml'}}\n"
        "components: {schemas: {$ref: 'schemas/_index.yaml'}}\n"
    )
    (tmp_path / "schemas" / "_index.yaml").write_text(
        "Pet: {$ref: ./Pet.yaml}\nOwner: {$ref: './Owner.yaml'}\nInline: {type: string}\n"
    )
    (tmp_path / "schemas" / "Pet.yaml").write_text(
        "type: object\nproperties: {owner: {$ref: './Owner.yaml'}}\n"
    )
    (tmp_path / "schemas" / "Owner.yaml").write_text("type: object\nproperties: {name: {}}\n")
    doc = load_path(tmp_path / "api.yaml").normalised
    schemas = doc["components"]["schemas"]
    assert list(schemas) == ["Pet", "Owner", "Inline"]
    assert schemas["Pet"]["properties"]["owner"] == {"$ref": "#/components/schemas/Owner"}
    assert schemas["Owner"]["properties"] == {"name": {}}
    owner = doc["paths"]["/owner"]["get"]["responses"]["200"]["content"]["application/json"]
    assert owner["schema"] == {"$ref": "#/components/schemas/Owner"}


def test_a_schema_file_with_a_non_ascii_name_is_named_after_it(tmp_path: Path) -> None:
    # Each of these was named "Schema" (then "Schema_2"...): every letter outside ASCII
    # was taken for punctuation. A percent-encoded ref and a decomposed (macOS) name read
    # as the name written; characters that are no letter still give way to "_".
    (tmp_path / "schemas").mkdir()
    names = ["Straße", "ユーザー", "Über", "Café", "a b"]
    files = ["Straße", "ユーザー", "Über", "Cafe\u0301", "a b"]
    for name in files:
        (tmp_path / "schemas" / f"{name}.yaml").write_text("type: object\n")
    refs = ["Straße", "%E3%83%A6%E3%83%BC%E3%82%B6%E3%83%BC", "%C3%9Cber", "Cafe\u0301", "a%20b"]
    paths = "".join(
        f"  /p{n}:\n    get:\n      responses:\n        '200':\n          description: ok\n"
        f"          content:\n            application/json:\n"
        f"              schema: {{$ref: 'schemas/{ref}.yaml'}}\n"
        for n, ref in enumerate(refs)
    )
    (tmp_path / "api.yaml").write_text(
        f"openapi: 3.0.3\ninfo: {{title: Names, version: '1'}}\npaths:\n{paths}"
    )
    doc = load_path(tmp_path / "api.yaml").normalised
    assert list(doc["components"]["schemas"]) == [*names[:4], "a_b"]


def test_a_schema_named_by_a_pointer_into_a_oneof_is_named_after_it_not_the_keyword(
    tmp_path: Path,
) -> None:
    # Lob's resource_proof_editable.yml maps its discriminator to `#/oneOf/0`, `#/oneOf/1`:
    # the options became schemas named "oneOf", "oneOf_2", "oneOf_3" in the schema list. An
    # option's title names it; without one, the schema it is an option of.
    (tmp_path / "proof.yaml").write_text(
        "oneOf:\n  - {title: Postcard Proof, type: object, properties: {kind: {enum: [card]}}}\n"
        "  - {type: object, properties: {kind: {enum: [letter]}}}\n"
        "discriminator:\n  propertyName: kind\n"
        "  mapping: {card: '#/oneOf/0', letter: '#/oneOf/1'}\n"
    )
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Proofs, version: '1'}\npaths:\n  /proofs:\n    post:\n"
        "      requestBody:\n        content:\n          application/json:\n"
        "            schema: {$ref: 'proof.yaml'}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    schemas = load_path(tmp_path / "api.yaml").normalised["components"]["schemas"]
    assert sorted(schemas) == ["Postcard_Proof", "proof", "proof_oneOf"]
    assert schemas["proof"]["discriminator"]["mapping"] == {
        "card": "#/components/schemas/Postcard_Proof",
        "letter": "#/components/schemas/proof_oneOf",
    }
    # A title with no word in it (`..` would be a segment of the schema's URL) names nothing.
    text = (tmp_path / "proof.yaml").read_text().replace("Postcard Proof", "'..'")
    (tmp_path / "proof.yaml").write_text(text)
    schemas = load_path(tmp_path / "api.yaml").normalised["components"]["schemas"]
    assert sorted(schemas) == ["proof", "proof_oneOf", "proof_oneOf_2"]


def test_a_files_schema_that_is_a_ref_to_another_files_schema_is_that_schema(
    tmp_path: Path,
) -> None:
    # Audiobookshelf's split spec: each controller file names the shared schemas it uses,
    # `authorName: {$ref: '../objects/Author.yaml#/components/schemas/authorName'}`, and refs
    # them as `#/components/schemas/authorName`. The schema list had authorName, a bare
    # reference to authorName_2, which held the schema: two pages, the real one misnamed.
    (tmp_path / "controllers").mkdir()
    (tmp_path / "objects").mkdir()
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Books, version: '1'}\n"
        "paths:\n  /authors: {$ref: 'controllers/Author.yaml#/paths/~1authors'}\n"
    )
    (tmp_path / "controllers" / "Author.yaml").write_text(
        "paths:\n  /authors:\n    get:\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/json:\n"
        "              schema: {type: object, properties: {name: {$ref: '#/components/schemas/authorName'}}}\n"
        "components:\n  schemas:\n"
        "    authorName: {$ref: '../objects/Author.yaml#/components/schemas/authorName'}\n"
    )
    (tmp_path / "objects" / "Author.yaml").write_text(
        "components:\n  schemas:\n    authorName: {type: string, description: The name.}\n"
    )
    doc = load_path(tmp_path / "api.yaml").normalised
    schemas = doc["components"]["schemas"]
    assert list(schemas) == ["authorName"]
    assert schemas["authorName"]["type"] == "string"
    answer = doc["paths"]["/authors"]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"]["properties"]["name"] == {"$ref": "#/components/schemas/authorName"}


def test_a_missing_file_under_an_extension_leaves_the_extension_out_with_a_warning(
    tmp_path: Path,
) -> None:
    # Bump.sh's Train Travel API refs guide pages from `x-topics`; one file absent refused the
    # whole import, though no reader of the API needs the extension.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "here.md").write_text("# Here\n")
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: Trains, version: '1'}\n"
        "x-topics:\n  - {title: Start, content: {$ref: './docs/missing.md'}}\n"
        "x-guide: {content: {$ref: './docs/here.md'}}\n"
        "paths:\n  /trips:\n    get:\n      x-extra: {$ref: './docs/gone.yaml#/x'}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    spec = load_path(tmp_path / "api.yaml")
    assert "x-topics" not in spec.normalised
    assert spec.normalised["x-guide"] == {"content": "# Here\n"}
    assert "x-extra" not in spec.normalised["paths"]["/trips"]["get"]
    assert spec.operation_count == 1
    assert sum("extension x-topics left out" in w for w in spec.warnings) == 1
    assert sum("extension x-extra left out" in w for w in spec.warnings) == 1
    # A ref that leaves the folder is still refused, extension or not.
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\nx-a: {$ref: '../outside.yaml'}\npaths: {}\n"
    )
    with pytest.raises(RefError) as info:
        load_path(tmp_path / "api.yaml")
    assert info.value.rule == "ref-escape"


@pytest.mark.parametrize("index", ["²", "①", "0²"])
def test_a_pointer_index_that_only_looks_like_digits_is_an_unresolvable_ref(index: str) -> None:
    """`²` and `①` pass str.isdigit() and then fail int(): a spec pointing into a list with
    one gave a ValueError from the importer instead of saying the reference is broken (it is
    now shown as any value, with a warning, like any schema the document lacks)."""
    text = f"""openapi: 3.1.0
info: {{title: T, version: '1'}}
paths: {{}}
components:
  schemas:
    Pet: {{allOf: [{{type: object}}]}}
    Odd: {{$ref: '#/components/schemas/Pet/allOf/{index}'}}
"""
    spec = load_bytes(text.encode(), "t.yaml")
    assert spec.normalised["components"]["schemas"]["Odd"] == {
        "x-unresolved-ref": f"#/components/schemas/Pet/allOf/{index}"
    }
    assert any(f"Pet/allOf/{index} does not exist" in w for w in spec.warnings)


def test_a_single_document_whose_extension_refs_another_file_imports_without_it() -> None:
    """Dropbox Sign's openapi.yaml takes its `x-codeSamples` from files beside it
    (`source: {$ref: examples/AccountCreateExample.php}`). Imported alone, the whole document
    was refused, though its operations and schemas need nothing from those files."""
    text = b"""openapi: 3.0.3
info: {title: Sign, version: '3'}
paths:
  /account/create:
    post:
      x-codeSamples:
        - {lang: PHP, source: {$ref: examples/AccountCreateExample.php}}
      responses: {'200': {description: ok}}
"""
    spec = load_bytes(text, "openapi.yaml")
    operation = spec.normalised["paths"]["/account/create"]["post"]
    assert "x-codeSamples" not in operation
    assert spec.operation_count == 1
    warning = next(w for w in spec.warnings if "x-codeSamples left out" in w)
    assert "import the folder or a zip of it" in warning
    # Outside an extension, a ref to another file still refuses a single document.
    with pytest.raises(RefError) as info:
        load_bytes(
            text.replace(
                b"x-codeSamples:\n        - {lang: PHP, source: ", b"requestBody: "
            ).replace(b"examples/AccountCreateExample.php}}", b"bodies/Account.yaml}"),
            "openapi.yaml",
        )
    assert info.value.rule == "ref-file"


def test_a_components_extension_that_refs_another_file_is_left_out_of_a_single_document() -> None:
    """Spotify's official spec keeps `components: {x-spotify-policy: {policies: {$ref:
    ../policies.yaml}}}` (here a file beside it: one out of the folder is refused, case 38).
    An extension elsewhere is left out when its file is not there, but one directly under
    `components` refused the whole upload."""
    text = b"""openapi: 3.0.3
info: {title: Music, version: '1'}
paths:
  /albums:
    get:
      x-policy-list: {$ref: '#/components/x-policy/metadataPolicyList'}
      responses: {'200': {description: ok}}
components:
  x-policy:
    policies: {$ref: policies.yaml}
    metadataPolicyList: [{$ref: '#/components/x-policy/policies/Downloading'}]
  schemas:
    Album: {type: object}
"""
    spec = load_bytes(text, "openapi.yaml")
    assert "x-policy" not in spec.normalised["components"]
    assert "Album" in spec.normalised["components"]["schemas"]
    assert spec.operation_count == 1
    assert any("extension x-policy left out" in w for w in spec.warnings)


@pytest.mark.parametrize(
    "ref", ["../settings.py", "/etc/passwd", "sub/../../x.yaml", "file:///etc/x"]
)
def test_case38_variant_a_ref_out_of_a_single_document_is_refused_in_an_extension_too(
    ref: str,
) -> None:
    """An extension whose file is not there is left out with a warning; one that climbs out of
    the document's folder is still refused, as anywhere else (case 38), and nothing is read."""
    data = (HEAD + f"x-guide: {{content: {{$ref: '{ref}'}}}}\npaths: {{}}\n").encode()
    with no_outside_access() as opened, pytest.raises(RefError) as info:
        load_bytes(data, "api.yaml")
    assert info.value.rule in ("ref-escape", "ref-url")
    assert opened == []


def test_a_ref_to_a_schemas_own_id_names_that_schema() -> None:
    # JSON Schema 2020-12 (OpenAPI 3.1): `$ref: https://pets.example/schemas/pet` names the
    # schema whose `$id` it is, here in the document. The whole import was refused as "points
    # at a URL"; nothing is fetched either way.
    text = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json:\n"
        "              schema: {items: {$ref: 'https://pets.example/schemas/pet'}}\n"
        "            application/xml:\n"
        "              schema: {$ref: 'https://pets.example/schemas/pet#/$defs/owner'}\n"
        "components:\n  schemas:\n    Pet:\n      $id: 'https://pets.example/schemas/pet'\n"
        "      type: object\n      properties: {name: {type: string}}\n"
        "      $defs: {owner: {type: object, properties: {email: {type: string}}}}\n"
    )
    spec = load_bytes(text.encode(), "t.yaml")
    schemas = spec.normalised["components"]["schemas"]
    content = spec.normalised["paths"]["/a"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Pet"}
    owner = content["application/xml"]["schema"]
    owner = schemas[owner["$ref"].rsplit("/", 1)[-1]] if "$ref" in owner else owner
    assert owner["properties"] == {"email": {"type": "string"}}


def test_a_ref_by_the_documents_own_self_uri_names_a_place_in_it(tmp_path: Path) -> None:
    # OpenAPI 3.2's `$self` is the document's URI and the base its relative `$ref`s resolve
    # against: `https://shop.example/api/shop.yaml#/components/schemas/Item` and
    # `shop.yaml#/...` name the document itself (whatever the imported file is called), and
    # `https://shop.example/api/common/money.yaml` the bundle's common/money.yaml. All were
    # refused as pointing at a URL or at another file; nothing is fetched either way.
    text = (
        "openapi: 3.2.0\n$self: 'https://shop.example/api/shop.yaml'\n"
        "info: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json:\n"
        "              schema: {$ref: 'https://shop.example/api/shop.yaml#/components/schemas/Item'}\n"
        "            application/xml:\n"
        "              schema: {$ref: 'shop.yaml#/components/schemas/Item'}\n"
        "components:\n  schemas:\n    Item:\n      type: object\n"
        "      properties: {name: {type: string}}\n"
    )
    with no_outside_access() as opened:
        spec = load_bytes(text.encode(), "openapi.yaml")
    assert opened == []
    content = spec.normalised["paths"]["/a"]["get"]["responses"]["200"]["content"]
    for media in ("application/json", "application/xml"):
        assert content[media]["schema"] == {"$ref": "#/components/schemas/Item"}, media
    assert spec.normalised["components"]["schemas"]["Item"]["properties"] == {
        "name": {"type": "string"}
    }

    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "money.yaml").write_text(
        "Money: {type: object, properties: {amount: {type: number}}}\n"
    )
    (tmp_path / "shop.yaml").write_text(
        text.replace(
            "'shop.yaml#/components/schemas/Item'",
            "'https://shop.example/api/common/money.yaml#/Money'",
        )
    )
    spec = load_path(tmp_path, root="shop.yaml")
    content = spec.normalised["paths"]["/a"]["get"]["responses"]["200"]["content"]
    money = content["application/xml"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec.normalised["components"]["schemas"][money]["properties"] == {
        "amount": {"type": "number"}
    }
    # Another host is still a URL, refused as before.
    other = text.replace(
        "https://shop.example/api/shop.yaml#", "https://other.example/api/shop.yaml#"
    )
    with pytest.raises(RefError) as info:
        load_bytes(other.encode(), "openapi.yaml")
    assert info.value.rule == "ref-url"


@pytest.mark.parametrize("split_schemas", [False, True], ids=["inline", "schemas-file"])
def test_a_split_files_local_ref_to_a_place_only_the_root_has_reads_the_root(
    tmp_path: Path, split_schemas: bool
) -> None:
    # Box's multi-file spec (content/paths/*.yml, built with Stoplight's resolver): a path
    # file writes `$ref: '#/components/schemas/File--Full'`, meaning the root document's
    # schema, as if it stood there. Each such ref was "does not exist; shown as any value"
    # (501 warnings): every body and answer of the API read as any value.
    schemas = "Item: {type: object, required: [name], properties: {name: {type: string}}}\n"
    if split_schemas:
        (tmp_path / "schemas.yaml").write_text(schemas)
        components = "components:\n  schemas: {$ref: './schemas.yaml'}\n"
    else:
        components = "components:\n  schemas:\n    " + schemas
    components += "  parameters:\n    Limit: {name: limit, in: query, schema: {type: integer}}\n"
    (tmp_path / "openapi.yaml").write_text(
        HEAD + "paths:\n  /items: {$ref: 'paths/items.yaml'}\n" + components
    )
    (tmp_path / "paths").mkdir()
    (tmp_path / "paths" / "items.yaml").write_text(
        "get:\n  parameters: [{$ref: '#/components/parameters/Limit'}]\n"
        "  responses:\n    '200':\n      description: ok\n      content:\n"
        "        application/json:\n          schema:\n            type: array\n"
        "            items: {$ref: '#/components/schemas/Item'}\n"
        "    '404':\n      description: gone\n      content:\n"
        "        application/json: {schema: {$ref: '#/components/schemas/Gone'}}\n"
    )
    spec = load_path(tmp_path, root="openapi.yaml")
    get = spec.normalised["paths"]["/items"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["items"] == {"$ref": "#/components/schemas/Item"}
    assert spec.normalised["components"]["schemas"]["Item"]["required"] == ["name"]
    assert get["parameters"][0]["name"] == "limit"
    assert any(w.startswith("/: 2 references in other files name with") for w in spec.warnings)
    # A place neither the file nor the root has is still missing, and said so.
    assert [w for w in spec.warnings if "does not exist" in w] == [
        "paths/items.yaml#/get/responses/404/content/application~1json/schema/$ref: $ref target "
        "#/components/schemas/Gone does not exist; shown as any value"
    ]


def test_a_schemas_example_given_as_a_ref_to_a_file_is_that_files_data(tmp_path: Path) -> None:
    """Matrix's split spec writes a schema's example as a file (`example: {$ref:
    ../examples/transaction.json}` in definitions/transaction.yaml, 17 such in its APIs), as
    it does beside a media type. There it was read; in a schema it stayed the reference, so
    the request sample and the console's body were `{"$ref": "../examples/transaction.json"}`
    and the console's own check refused that pre-fill."""
    (tmp_path / "definitions").mkdir()
    (tmp_path / "examples").mkdir()
    (tmp_path / "openapi.yaml").write_text(
        HEAD + "paths:\n  /send:\n    put:\n      requestBody:\n        content:\n"
        "          application/json:\n            schema: {$ref: definitions/transaction.yaml}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    (tmp_path / "definitions" / "transaction.yaml").write_text(
        "type: object\nexample:\n  $ref: '../examples/transaction.json'\n"
        "properties:\n  origin: {type: string}\nrequired: [origin]\n"
    )
    (tmp_path / "examples" / "transaction.json").write_text('{"origin": "matrix.org"}')
    spec = load(FolderBundle(tmp_path, "openapi.yaml"))
    (schema,) = spec.normalised["components"]["schemas"].values()
    assert schema["example"] == {"origin": "matrix.org"}

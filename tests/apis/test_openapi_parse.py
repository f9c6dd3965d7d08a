"""Parsing and the limits that protect it (SECURITY.md cases 33, 34, 35, 36)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from apis.models import ApiVersion
from apis.openapi import load_bytes
from apis.openapi.errors import LimitExceeded, SpecError, SyntaxProblem, TooLarge

MINIMAL = b"openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n"


def billion_laughs(levels: int = 9, width: int = 9) -> bytes:
    lines = ["openapi: 3.0.3", "info: {title: Bomb, version: '1'}", "paths: {}"]
    lines.append("x-a: &a [" + ", ".join(['"lol"'] * width) + "]")
    prev = "a"
    for n in range(1, levels):
        name = chr(ord("a") + n)
        lines.append(f"x-{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
        prev = name
    return ("\n".join(lines) + "\n").encode()


def merge_key_bomb(levels: int = 9, width: int = 9) -> bytes:
    """Merge keys copy (key, value) pairs without de-duplicating: exponential on construct."""
    lines = ["openapi: 3.0.3", "info: {title: Bomb, version: '1'}", "paths: {}"]
    lines.append("x-a: &a {" + ", ".join(f"k{i}: {i}" for i in range(width)) + "}")
    prev = "a"
    for n in range(1, levels):
        name = chr(ord("a") + n)
        lines.append(f"x-{name}: &{name} {{<<: [" + ", ".join([f"*{prev}"] * width) + "]}")
        prev = name
    return ("\n".join(lines) + "\n").encode()


def json_style_bomb(levels: int = 9, width: int = 9) -> bytes:
    """Flow style with JSON keys: `"k":&a` has no space before the anchor."""
    parts = ['"openapi":"3.0.3"', '"x-a":&a [' + ",".join(['"lol"'] * width) + "]"]
    prev = "a"
    for n in range(1, levels):
        name = chr(ord("a") + n)
        parts.append(f'"x-{name}":&{name} [' + ",".join([f"*{prev}"] * width) + "]")
        prev = name
    return ("{" + ",".join(parts) + "}\n").encode()


@pytest.mark.parametrize("bomb", [billion_laughs, merge_key_bomb, json_style_bomb])
def test_case_33_alias_bombs_are_refused_fast_with_bounded_memory(bomb: Any) -> None:
    data = bomb()
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        load_bytes(data, "bomb.yaml")
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "aliases expand past the limit" in str(info.value)
    assert info.value.rule == "alias-limit"
    assert elapsed < 1.0
    assert peak < 20 * 1024 * 1024


def test_a_few_honest_anchors_import() -> None:
    text = (
        b"openapi: 3.0.3\ninfo: {title: Anchors, version: '1'}\n"
        b"x-common: &err {description: failed}\n"
        b"paths:\n  /a:\n    get:\n      responses:\n        '500': *err\n"
        b"  /b:\n    get:\n      responses:\n        '500': *err\n"
    )
    spec = load_bytes(text, "anchors.yaml")
    assert spec.operation_count == 2
    assert spec.normalised["paths"]["/b"]["get"]["responses"]["500"] == {"description": "failed"}


def test_an_anchor_named_again_is_the_one_its_later_aliases_mean() -> None:
    # YAML lets an anchor name a second node, later aliases meaning the most recent (go-swagger's
    # compose-auth-example.yml names `&multipleOrdersResponse` twice); libyaml's composer
    # refused the file, saying only "not valid YAML: second occurrence".
    text = (
        b"openapi: 3.0.3\ninfo: {title: Anchors, version: '1'}\npaths:\n"
        b"  /a:\n    get:\n      responses: &resp\n        '200': {description: first}\n"
        b"  /b:\n    get:\n      responses: *resp\n"
        b"  /c:\n    get:\n      responses: &resp\n        '201': {description: second}\n"
        b"  /d:\n    get:\n      responses: *resp\n"
    )
    paths = load_bytes(text, "again.yaml").normalised["paths"]
    assert paths["/b"]["get"]["responses"] == {"200": {"description": "first"}}
    assert paths["/d"]["get"]["responses"] == {"201": {"description": "second"}}
    # A bomb that names two anchors again, level after level, is measured as any other.
    lines = ["openapi: 3.0.3", "info: {title: Bomb, version: '1'}", "paths: {}"]
    lines.append("x-0: &a [" + ", ".join(['"lol"'] * 9) + "]")
    for n in range(1, 9):
        name, other = ("b", "a") if n % 2 else ("a", "b")
        lines.append(f"x-{n}: &{name} [" + ", ".join([f"*{other}"] * 9) + "]")
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        load_bytes(("\n".join(lines) + "\n").encode(), "bomb.yaml")
    assert info.value.rule == "alias-limit"
    assert time.monotonic() - started < 1.0


def test_recursive_yaml_alias_is_refused() -> None:
    text = b"openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\nx-loop: &loop [*loop]\n"
    with pytest.raises(SpecError) as info:
        load_bytes(text, "loop.yaml")
    assert info.value.rule in ("alias-cycle", "yaml")


def nested_json(depth: int) -> bytes:
    return b'{"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {}, "x": ' + (
        b"[" * depth + b"]" * depth + b"}"
    )


def nested_yaml_flow(depth: int) -> bytes:
    return MINIMAL + b"x-deep: " + b"[" * depth + b"]" * depth + b"\n"


def nested_yaml_block(depth: int) -> bytes:
    lines = [MINIMAL.decode(), "x-deep:\n"]
    lines.extend(" " * (i + 1) + "a:\n" for i in range(depth))
    lines.append(" " * (depth + 1) + "b: 1\n")
    return "".join(lines).encode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deep.json", nested_json(10_000)),
        ("deep.json", nested_json(300)),  # under orjson's own limit, over ours
        ("deep.yaml", nested_yaml_flow(2_000)),
        ("deep.yaml", nested_yaml_block(2_000)),
        ("deep.yaml", nested_yaml_flow(400)),  # under libyaml's limit, over ours
    ],
    ids=["json-10000", "json-300", "yaml-flow-2000", "yaml-block-2000", "yaml-flow-400"],
)
def test_case_34_too_deep_is_a_clear_error_not_a_crash(name: str, data: bytes) -> None:
    with pytest.raises(LimitExceeded) as info:
        load_bytes(data, name)
    assert info.value.rule == "depth-limit"
    assert "nested" in str(info.value)


@override_settings(APIS_MAX_SPEC_BYTES=1000)
def test_case_35_too_big_is_refused_before_parsing() -> None:
    data = MINIMAL + b"x-pad: '" + b"a" * 2000 + b"'\n"
    with pytest.raises(TooLarge) as info:
        load_bytes(data, "big.yaml")
    assert info.value.status == 413
    assert "over the limit of 1,000 bytes" in str(info.value)
    assert "APIS_MAX_SPEC_BYTES" in str(info.value)


@override_settings(APIS_MAX_NODES=500)
def test_too_many_nodes_is_refused() -> None:
    items = ", ".join(str(i) for i in range(1000))
    with pytest.raises(LimitExceeded) as info:
        load_bytes(MINIMAL + f"x-many: [{items}]\n".encode(), "many.yaml")
    assert info.value.rule == "node-limit"


@pytest.mark.parametrize(
    "payload",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        '!!python/object/apply:subprocess.check_output [["touch", "{marker}"]]',
        "!!python/object/new:os.system [touch {marker}]",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_case_36_python_tags_are_refused_and_never_run(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = MINIMAL + f"x-evil: {payload.format(marker=marker)}\n".encode()
    with pytest.raises(SyntaxProblem) as info:
        load_bytes(text, "evil.yaml")
    assert info.value.rule == "yaml-tag"
    assert info.value.line == 4
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "data", "line", "column", "rule"),
    [
        ("bad.json", b'{\n  "openapi": "3.0.3",\n  "info": {,}\n}', 3, 12, "json"),
        ("bad.json", b'{"openapi": "3.0.3"', 1, 20, "json"),
        ("bad.yaml", b"openapi: 3.0.3\ninfo:\n  title: [unclosed\n", 4, 1, "yaml"),
        ("bad.yaml", b"openapi: 3.0.3\n  info: x\n bad: indent\n", 2, 7, "yaml"),
    ],
)
def test_syntax_errors_name_line_and_column(
    name: str, data: bytes, line: int, column: int, rule: str
) -> None:
    with pytest.raises(SyntaxProblem) as info:
        load_bytes(data, name)
    assert (info.value.line, info.value.column, info.value.rule) == (line, column, rule)
    assert str(info.value).startswith(f"{name}:{line}:{column}: not valid ")


def test_a_yaml_document_named_json_is_read_as_yaml() -> None:
    # A file called openapi.json that holds YAML (`openapi: 3.0.3` on its first line): it
    # was refused as "not valid JSON: unexpected character" at 1:1, though nothing else
    # could be meant. A broken JSON document is still told as JSON.
    data = b"# exported\nopenapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n"
    assert load_bytes(data, "openapi.json").normalised["info"]["title"] == "T"
    with pytest.raises(SyntaxProblem) as info:
        load_bytes(b'{"openapi": "3.0.3",\n "info": }', "openapi.json")
    assert info.value.rule == "json"


def test_a_json_document_named_yaml_is_read_as_json() -> None:
    # JSON is YAML 1.2, but not to libyaml (YAML 1.1): an emoji escaped as JSON writes it,
    # a surrogate pair (`"\\ud83d\\ude00"`, Python's json.dumps and many others), was refused
    # as "found invalid Unicode character escape code" in a file named openapi.yaml.
    data = (
        b'{"openapi": "3.0.3", "info": {"title": "Smile \\ud83d\\ude00", "version": "1"},'
        b' "paths": {}}'
    )
    assert load_bytes(data, "openapi.yaml").normalised["info"]["title"] == "Smile \U0001f600"
    # YAML's own flow style, which starts the same way, is still read as YAML.
    flow = b"{openapi: 3.0.3, info: {title: Flow, version: '1'}, paths: {}}"
    assert load_bytes(flow, "openapi.yaml").normalised["info"]["title"] == "Flow"


def test_a_tab_indenting_yaml_is_named_as_a_tab() -> None:
    # IBM's openapi-validator fixture clean-with-tabs.yml (`info:` then tab-indented keys):
    # libyaml says "found character that cannot start any token", and a tab cannot be seen.
    data = b"openapi: 3.0.3\ninfo:\n\ttitle: T\n\tversion: '1'\npaths: {}\n"
    with pytest.raises(SyntaxProblem) as info:
        load_bytes(data, "tabs.yaml")
    assert (info.value.line, info.value.column, info.value.rule) == (3, 1, "yaml")
    assert str(info.value) == (
        "tabs.yaml:3:1: not valid YAML: a tab character here; YAML indents with spaces, "
        "never tabs [yaml]"
    )


@pytest.mark.parametrize(
    ("data", "pointer", "rule", "message"),
    [
        (b'{"foo": 1}', "", "openapi", "no top-level `openapi` or `swagger` key"),
        (b"[1, 2]", "", "openapi", "the top level must be an object"),
        (b"just text\n", "", "openapi", "the top level must be an object"),
        (b"swagger: '1.2'\n", "/swagger", "version", "unsupported Swagger version '1.2'"),
        (b"openapi: 4.0.0\n", "/openapi", "version", "unsupported OpenAPI version '4.0.0'"),
        # YAML reads 3.0 (and 3.10) as a number: said so, with what to write instead.
        (b"openapi: 3.0\n", "/openapi", "version", 'YAML read 3.0 as a number: write "3.0.x"'),
        (b"openapi: 3.10\n", "/openapi", "version", "YAML read 3.1 as a number"),
        (b"openapi: 3.0.3\npaths: [1]\n", "/paths", "type", "must be an object"),
        # Opsgenie's multi-file layout lists files for its own tool to merge: said so, with
        # what to do, instead of only "must be an object".
        (
            b"swagger: '2.0'\npaths:\n  - $ref: ./paths/alert.yaml\n",
            "/paths",
            "type",
            "`paths` must be an object, not a list of files to merge: bundle them into one",
        ),
        # Redocly's redocly.yaml keeps the reference docs' settings under `openapi:`: the
        # message dumped them all as the "unsupported OpenAPI version".
        (
            b"apis: {main: {root: openapi.yaml}}\nopenapi: {theme: {colors: {}}}\n",
            "/openapi",
            "openapi",
            "not an OpenAPI document: its `openapi` key holds settings, not a version",
        ),
        (b"swagger: [2.0]\n", "/swagger", "openapi", "its `swagger` key holds settings"),
    ],
)
def test_not_openapi_or_unsupported(data: bytes, pointer: str, rule: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        load_bytes(data, "doc.yaml")
    assert info.value.pointer == pointer
    assert info.value.rule == rule
    assert message in str(info.value)


@pytest.mark.parametrize("name", ["openapi.json", "openapi.yaml"])
def test_a_git_lfs_pointer_is_named_as_one(name: str) -> None:
    # Jellyfin's SDKs keep openapi.json in Git LFS: a copy taken from the repository without
    # LFS is this pointer, which was refused as "the top level must be an object".
    data = (
        b"version https://git-lfs.github.com/spec/v1\n"
        b"oid sha256:f073a3e661f1c7249c8dc7df257b31f290c8931950f8563e9df537a46717f700\n"
        b"size 942835\n"
    )
    with pytest.raises(SpecError) as info:
        load_bytes(data, name)
    assert (info.value.pointer, info.value.rule) == ("", "openapi")
    assert "a Git LFS pointer to the document (942835 bytes), not the document" in str(info.value)


@pytest.mark.parametrize("version", ["3.0.3-rc.1", "3.0.1-5,Gzt", "3.1.0-draft+2 (x)"])
def test_a_pre_release_suffix_of_any_text_is_accepted_as_the_official_schemas_do(
    version: str,
) -> None:
    # The OpenAPI 3.0 and 3.1 JSON Schemas check `openapi` with ^3\.N\.\d+(-.+)?$: any
    # text after the hyphen, not only semver's [0-9A-Za-z.-] identifiers.
    data = f"openapi: '{version}'\ninfo: {{title: T, version: '1'}}\npaths: {{}}\n".encode()
    assert load_bytes(data, "doc.yaml").spec_version == version


def test_a_long_pre_release_suffix_fits_the_stored_spec_version() -> None:
    # ApiVersion.spec_version holds 20 characters: a longer string failed the insert on
    # PostgreSQL (SQLite does not check lengths). Cut like the title and the label.
    version = "3.0.0-" + "x" * 40
    data = f"openapi: {version}\ninfo: {{title: T, version: '1'}}\npaths: {{}}\n".encode()
    stored = load_bytes(data, "doc.yaml").spec_version
    assert stored == version[: ApiVersion._meta.get_field("spec_version").max_length]


def test_empty_and_binary_files_are_refused() -> None:
    with pytest.raises(SyntaxProblem, match="empty"):
        load_bytes(b"", "empty.yaml")
    with pytest.raises(SyntaxProblem, match="not UTF-8"):
        load_bytes(b"\x89PNG\r\n\x1a\n\xff\x00garbage", "blob.bin")


def test_yaml_keeps_dates_and_numbers_json_shaped() -> None:
    text = (
        b"openapi: 3.0.3\ninfo: {title: T, version: 2023-08-16}\npaths:\n  /a:\n    get:\n"
        b"      responses:\n        200: {description: ok}\n"
        b"x-big: 123456789012345678901234567890\nx-set: !!set {a, b}\n"
    )
    spec = load_bytes(text, "dates.yaml")
    assert spec.label == "2023-08-16"
    assert "200" in spec.normalised["paths"]["/a"]["get"]["responses"]
    assert spec.normalised["x-big"] == "123456789012345678901234567890"
    assert spec.normalised["x-set"] == {"a": None, "b": None}


def test_a_yaml_integer_past_pythons_digit_limit_keeps_its_text_like_any_big_one() -> None:
    """30 digits kept their text, 5,000 were refused as "not a valid integer" (Python's int()
    stops at 4,300 digits) with all 5,000 quoted in the message."""
    digits = "9" * 5000
    for written in (digits, "-" + digits, "0x" + "f" * 5000, "0o" + "7" * 5000):
        text = MINIMAL + f"x-big: {written}\nx-small: 0000000000000000000000000042\n".encode()
        doc = load_bytes(text, "big.yaml").normalised
        assert doc["x-big"] == written
        assert doc["x-small"] == 42


@pytest.mark.parametrize(
    "data",
    [
        MINIMAL + b"x: !" + b"a" * 5000 + b" 1\n",  # an unknown tag, quoted
        MINIMAL + b"x: !!float " + b"z" * 5000 + b"\n",  # a bad scalar, quoted
        MINIMAL.replace(b"paths: {}", b"paths: {/a: {get: {parameters: [{$ref: '#/")
        + b"x" * 5000
        + b"'}], responses: {'200': {description: ok}}}}}",  # a missing $ref target, named
        # twice (pointer and message)
    ],
    ids=["tag", "scalar", "ref"],
)
def test_an_error_quoting_a_huge_value_stays_readable(data: bytes) -> None:
    """The message quoted the whole value: 5,000 characters of one word on the import page."""
    with pytest.raises(SpecError) as info:
        load_bytes(data, "long.yaml")
    text = str(info.value)
    assert len(text) < 1200
    assert "…" in text and text.startswith("long.yaml")


@override_settings(APIS_MAX_IMPORT_SECONDS=0)
def test_import_time_limit() -> None:
    items = ", ".join(f"{{a: {i}}}" for i in range(20_000))
    with pytest.raises(LimitExceeded) as info:
        load_bytes(MINIMAL + f"x-many: [{items}]\n".encode(), "slow.yaml")
    assert info.value.rule == "time-limit"
    assert "APIS_MAX_IMPORT_SECONDS" in str(info.value)


def test_lone_surrogate_from_yaml_is_a_clear_error() -> None:
    with pytest.raises(SpecError) as info:
        load_bytes(MINIMAL + b'x-bad: "\\ud800"\n', "s.yaml")
    assert info.value.rule in ("yaml", "encoding")  # libyaml refuses it first


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"!!int abc", "'abc' is not a valid integer"),
        (b"!!float abc", "'abc' is not a valid number"),
        (b"!!bool maybe", "'maybe' is not a valid boolean"),
        (b"!!int 0x_", "'0x_' is not a valid integer"),
        (b"{? [a, b] : 1}", "found unhashable key"),
        (b"{<<: 1}", "for merging"),
        (b"!custom 1", "unsupported YAML tag ('!custom')"),
        (b"!!map [1]", "does not fit a sequence"),
        (b"!!set [a]", "does not fit a sequence"),
        (b"!!pairs x", "does not fit a scalar"),
        (b"!!omap [1]", "expected a mapping of length 1"),
    ],
)
def test_bad_yaml_scalars_and_keys_are_syntax_errors(value: bytes, message: str) -> None:
    with pytest.raises(SyntaxProblem) as info:
        load_bytes(MINIMAL + b"x-v: " + value + b"\n", "v.yaml")
    assert message in str(info.value)
    assert info.value.line == 4


def test_yaml_merge_keys_follow_the_spec_order() -> None:
    text = MINIMAL + (
        b"x-base: &base {a: base, b: base, c: base}\n"
        b"x-more: &more {a: more, d: more}\n"
        b"x-merged: {<<: [*more, *base], c: own}\n"
    )
    spec = load_bytes(text, "merge.yaml")
    assert spec.normalised["x-merged"] == {"a": "more", "b": "base", "c": "own", "d": "more"}


def test_recursive_alias_is_named() -> None:
    text = MINIMAL + b"x-loop: &loop {self: *loop}\n"
    with pytest.raises(LimitExceeded) as info:
        load_bytes(text, "loop.yaml")
    assert info.value.rule == "alias-cycle"
    assert info.value.line == 4


def test_yaml_reads_plain_words_and_numbers_as_yaml_1_2_does() -> None:
    # OpenAPI documents are YAML 1.2, as js-yaml reads them for Swagger UI and Redoc. Read as
    # YAML 1.1, a property named `on` became "true", Norway's `NO` became false, a time
    # `12:30` became 750 and `017` became 15: the page then showed another API than the spec.
    text = MINIMAL + (
        b"x-props: {on: 1, off: 2, yes: 3, no: 4, y: 5, n: 6}\n"
        b"x-countries: [NO, SE, Yes, off]\n"
        b"x-times: [12:30, 1:20:30, 1_000, 2024-01-02]\n"
        b"x-numbers: [017, 0o17, 0x1F, -5, +7, 1e3, 1.5, .5, -.inf, .NaN]\n"
        b"x-words: [true, False, TRUE, null, ~, Null]\n"
        b"x-empty:\n"
    )
    doc = load_bytes(text, "words.yaml").normalised
    assert list(doc["x-props"]) == ["on", "off", "yes", "no", "y", "n"]
    assert doc["x-countries"] == ["NO", "SE", "Yes", "off"]
    assert doc["x-times"] == ["12:30", "1:20:30", "1_000", "2024-01-02"]
    numbers = doc["x-numbers"]
    assert numbers[:5] == [17, 15, 31, -5, 7] and all(type(n) is int for n in numbers[:5])
    assert numbers[5:8] == [1000.0, 1.5, 0.5] and numbers[8] == float("-inf")
    assert numbers[9] != numbers[9]  # NaN
    assert doc["x-words"] == [True, False, True, None, None, None]
    assert doc["x-empty"] is None


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),  # Windows PowerShell's `> openapi.json`
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),  # JSON's own rule tells UTF-16 by its zero bytes
        ("utf-32-le", b"\xff\xfe\x00\x00"),
    ],
)
def test_utf_16_and_32_documents_import(encoding: str, bom: bytes) -> None:
    # Browsers read these by their byte-order mark, so Swagger UI shows them; the import
    # said "not valid JSON: str is not valid UTF-8: surrogates not allowed".
    doc = '{"openapi": "3.0.3", "info": {"title": "Zürich", "version": "1"}, "paths": {}}'
    assert load_bytes(bom + doc.encode(encoding), "windows.json").title == "Zürich"
    yaml_doc = "openapi: 3.0.3\ninfo: {title: Zürich, version: '1'}\npaths: {}\n"
    assert load_bytes(bom + yaml_doc.encode(encoding), "windows.yaml").title == "Zürich"


def test_broken_utf_16_is_a_clear_error() -> None:
    with pytest.raises(SyntaxProblem) as info:
        load_bytes(b"\xff\xfe" + '{"a": 1}'.encode("utf-16-le")[:-1], "odd.json")
    assert info.value.rule == "encoding" and "UTF-16" in str(info.value)


def test_a_key_written_twice_is_told_to_the_publisher() -> None:
    # Two `/pets:` blocks: the first one's operations vanished without a word (js-yaml, under
    # Swagger UI, refuses such a file; JSON.parse keeps the last key, as we do).
    text = MINIMAL.replace(b"paths: {}\n", b"") + (
        b"paths:\n"
        b"  /pets:\n    get: {operationId: listPets, responses: {'200': {description: ok}}}\n"
        b"  /pets:\n    post: {operationId: createPet, responses: {'200': {description: ok}}}\n"
    )
    spec = load_bytes(text, "twice.yaml")
    assert [op.operation_id for op in spec.operations] == ["createPet"]
    assert "twice.yaml: line 6: the key '/pets' appears twice in one mapping; the last is used" in (
        spec.warnings
    )
    data = (
        b'{"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {'
        b'"/a": {"get": {"operationId": "x", "responses": {}}},'
        b'"/a": {"post": {"operationId": "y", "responses": {}}}}}'
    )
    spec = load_bytes(data, "twice.json")
    assert "twice.json: the key '/a' appears twice in one object; the last is used" in (
        spec.warnings
    )
    assert not load_bytes(MINIMAL, "once.yaml").warnings

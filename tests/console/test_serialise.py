"""The one writer of parameter values: OpenAPI 3.1's style examples (§4.8.12.4), for
`color` as "blue", ["blue", "black", "brown"] and {"R": 100, "G": 200, "B": 150}."""

from __future__ import annotations

from urllib.parse import unquote, urlencode

import pytest

from apis.openapi.model import Parameter
from console import serialise

VALUES = {
    "string": ("blue", "blue"),
    "array": ("array", "blue,black,brown"),
    "object": ("object", '{"R": 100, "G": 200, "B": 150}'),
}


def param(location: str, style: str, explode: bool, kind: str) -> Parameter:
    schema = {"type": kind}
    return Parameter("color", location, True, False, "", schema, "", (), explode, "", style)


@pytest.mark.parametrize(
    ("style", "explode", "kind", "expected"),
    [
        ("matrix", False, "string", ";color=blue"),
        ("matrix", False, "array", ";color=blue,black,brown"),
        ("matrix", False, "object", ";color=R,100,G,200,B,150"),
        ("matrix", True, "array", ";color=blue;color=black;color=brown"),
        ("matrix", True, "object", ";R=100;G=200;B=150"),
        ("label", False, "string", ".blue"),
        ("label", False, "array", ".blue,black,brown"),
        ("label", False, "object", ".R,100,G,200,B,150"),
        ("label", True, "array", ".blue.black.brown"),
        ("label", True, "object", ".R=100.G=200.B=150"),
        ("simple", False, "string", "blue"),
        ("simple", False, "array", "blue,black,brown"),
        ("simple", False, "object", "R,100,G,200,B,150"),
        ("simple", True, "array", "blue,black,brown"),
        ("simple", True, "object", "R=100,G=200,B=150"),
    ],
)
def test_path_styles(style: str, explode: bool, kind: str, expected: str) -> None:
    schema_type, raw = VALUES[kind]
    written = serialise.path_text(param("path", style, explode, schema_type), raw)
    assert written == expected


@pytest.mark.parametrize(
    ("style", "explode", "kind", "expected"),
    [
        ("form", False, "string", "color=blue"),
        ("form", False, "array", "color=blue,black,brown"),
        ("form", False, "object", "color=R,100,G,200,B,150"),
        ("form", True, "array", "color=blue&color=black&color=brown"),
        ("form", True, "object", "R=100&G=200&B=150"),
        ("spaceDelimited", False, "array", "color=blue black brown"),
        ("spaceDelimited", False, "object", "color=R 100 G 200 B 150"),
        ("pipeDelimited", False, "array", "color=blue|black|brown"),
        ("pipeDelimited", False, "object", "color=R|100|G|200|B|150"),
        ("deepObject", True, "object", "color[R]=100&color[G]=200&color[B]=150"),
    ],
)
def test_query_styles(style: str, explode: bool, kind: str, expected: str) -> None:
    schema_type, raw = VALUES[kind]
    pairs = serialise.query_pairs(param("query", style, explode, schema_type), raw)
    assert unquote(urlencode(pairs, quote_via=lambda s, *_: s)) == expected


@pytest.mark.parametrize(
    ("explode", "kind", "expected"),
    [
        (False, "array", "blue,black,brown"),
        (False, "object", "R,100,G,200,B,150"),
        (True, "object", "R=100,G=200,B=150"),
    ],
)
def test_header_is_simple_and_not_percent_encoded(explode: bool, kind: str, expected: str) -> None:
    schema_type, raw = VALUES[kind]
    assert serialise.header_text(param("header", "simple", explode, schema_type), raw) == expected


def test_a_content_parameter_is_its_text_whatever_its_schema() -> None:
    content = Parameter(
        "color", "query", True, False, "", {"type": "object"}, "", (), True, "application/json"
    )
    raw = VALUES["object"][1]
    assert serialise.query_pairs(content, raw) == [("color", raw)]
    assert serialise.header_text(content, raw) == raw


@pytest.mark.parametrize(
    ("style", "explode", "kind", "expected"),
    [
        ("form", False, "array", "color=blue,black,brown"),
        ("form", False, "object", "color=R,100,G,200,B,150"),
        # OpenAPI's form, as its table writes it; 3.2's `cookie` style is what cookie
        # parsers read (`; ` between pairs, nothing percent-encoded).
        ("form", True, "array", "color=blue&color=black&color=brown"),
        ("form", True, "object", "R=100&G=200&B=150"),
        ("cookie", True, "array", "color=blue; color=black; color=brown"),
        ("cookie", True, "object", "R=100; G=200; B=150"),
        ("cookie", False, "array", "color=blue,black,brown"),
    ],
)
def test_cookie_styles(style: str, explode: bool, kind: str, expected: str) -> None:
    schema_type, raw = VALUES[kind]
    assert serialise.cookie_text(param("cookie", style, explode, schema_type), raw) == expected


def test_an_array_item_typed_as_json_is_not_split_at_its_commas() -> None:
    """Docker's `platform` query parameter is an array (collectionFormat: multi) of
    JSON-encoded OCI platforms, `{"os": "linux", "architecture": "amd64"}`: the field was
    split at every comma, so the call sent `platform={"os": "linux"` and a second broken
    half, which the daemon refuses. A JSON object is one item; a JSON array lists them."""
    platform = Parameter(
        "platform", "query", False, False, "", {"type": "array", "items": {"type": "string"}},
        "", (), True, "", "form",
    )  # fmt: skip
    one = '{"os": "linux", "architecture": "amd64"}'
    assert serialise.query_pairs(platform, one) == [("platform", one)]
    many = '[{"os": "linux"}, "{\\"os\\": \\"windows\\"}", 3]'
    assert serialise.query_pairs(platform, many) == [
        ("platform", '{"os":"linux"}'),
        ("platform", '{"os": "windows"}'),
        ("platform", "3"),
    ]
    assert serialise.query_pairs(platform, "a, b") == [("platform", "a"), ("platform", "b")]


def test_a_cookie_styles_explode_defaults_to_true_as_for_form() -> None:
    """OpenAPI 3.2: explode is true by default "when style is form or cookie"."""
    from apis.openapi.model import operation_model

    raw = {"name": "color", "in": "cookie", "style": "cookie", "schema": {"type": "array"}}
    assert operation_model({"parameters": [raw]}).parameters[0].explode is True


def test_an_array_field_with_a_content_type_and_no_style_is_written_whole() -> None:
    """An Encoding object's contentType governs when no style or explode is given:
    `tags: {contentType: application/json}` is the JSON array in one field or part, where
    it was split into one field per item; with no encoding at all it is still split."""
    typed = [("tags", ["a", "b"], '["a", "b"]')]
    pairs, types = serialise.body_fields(
        typed, {"tags": {"contentType": "application/json"}}, multipart=True
    )
    assert (pairs, types) == ([("tags", '["a", "b"]')], {"tags": "application/json"})
    pairs, types = serialise.body_fields(typed, {}, multipart=True)
    assert (pairs, types) == ([("tags", "a"), ("tags", "b")], {})

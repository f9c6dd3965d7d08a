"""apis.openapi.xml_sample: XML samples named as OpenAPI's `xml` object says, escaped."""

from __future__ import annotations

from typing import Any
from xml.dom.minidom import parseString

import pytest

from apis.openapi.xml_sample import is_xml, xml_sample, xml_text

DOC: dict[str, Any] = {
    "components": {
        "schemas": {
            "Book": {
                "type": "object",
                "xml": {"name": "book"},
                "properties": {
                    "isbn": {"type": "string", "example": 'a"b<c', "xml": {"attribute": True}},
                    "authors": {"type": "array", "items": {"type": "string", "example": "Ann"}},
                    "aliases": {
                        "type": "array",
                        "items": {"type": "string", "example": "Al", "xml": {"name": "alias"}},
                    },
                    "next": {"$ref": "#/components/schemas/Book"},
                    "odd name": {"type": "integer"},
                    "title": {"type": "string", "example": "T", "xml": {"nodeType": "text"}},
                },
            }
        }
    }
}


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/xml", True),
        ("text/xml; charset=utf-8", True),
        ("application/atom+xml", True),
        ("application/json", False),
        ("application/xml-dtd", False),
    ],
)
def test_is_xml(media_type: str, expected: bool) -> None:
    assert is_xml(media_type) is expected


def test_unwrapped_arrays_repeat_the_item_element_and_attributes_are_escaped() -> None:
    text = xml_sample({"$ref": "#/components/schemas/Book"}, DOC, 4)
    parseString(text)  # well-formed, whatever the property names and values hold
    assert text.startswith('<book isbn="a&quot;b&lt;c">')
    assert "\n  <authors>Ann</authors>\n" in text  # unwrapped: the property's name
    assert "\n  <alias>Al</alias>\n" in text  # unwrapped: the items' own name
    assert "<odd_name>0</odd_name>" in text
    # The cycle stops there: the optional `next`, back to Book, is left out.
    assert text.count("<book") == 1
    # A referenced schema's own `xml.name` names its element, as Swagger UI does (and
    # Petstore's `category: $ref Category` expects).
    doc = {"components": {"schemas": {"Category": {"type": "object", "xml": {"name": "kind"}}}}}
    pet = {"type": "object", "properties": {"category": {"$ref": "#/components/schemas/Category"}}}
    assert "\n  <kind/>\n" in xml_sample(pet, doc, 4)


def test_a_top_level_array_is_wrapped_in_one_root() -> None:
    schema = {
        "type": "array",
        "xml": {"name": "books"},
        "items": {"$ref": "#/components/schemas/Book"},
    }
    text = xml_text(schema, DOC, [{"isbn": "1"}, {"isbn": "2"}])
    assert text == '<books>\n  <book isbn="1"/>\n  <book isbn="2"/>\n</books>'


def test_a_top_level_array_names_its_items_for_their_component() -> None:
    # Petstore's `findPets` answers `type: array, items: {$ref: Pet}` in XML: the items
    # were named for the root, `<root><root>…`.
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/Plain"}}
    doc = {"components": {"schemas": {"Plain": {"type": "object"}}}}
    assert xml_text(schema, doc, [{}]) == "<root>\n  <Plain/>\n</root>"


def test_text_node_and_inline_root() -> None:
    schema = {
        "type": "object",
        "properties": {"v": {"type": "boolean", "xml": {"nodeType": "text"}}},
    }
    assert xml_text(schema, DOC, {"v": True}) == "<root>true</root>"
    assert xml_text({"type": "string"}, DOC, "<&>") == "<root>&lt;&amp;&gt;</root>"


def test_all_of_parts_reached_twice_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Levels of `allOf: [$ref next, $ref next]` (a 9 KB spec of 60 levels) read every path
    through the diamonds, 2**24 reads down to the depth bound, for every element: the
    console's XML body kept an operation page (anonymous readers' too) rendering for
    minutes. Each part is read once per object; the properties are the same."""
    from apis.openapi import xml_sample

    levels = 60
    schemas: dict[str, Any] = {
        f"S{i}": {
            "allOf": [{"$ref": f"#/components/schemas/S{i + 1}"}] * 2,
            "properties": {f"x{i}": {"type": "string"}},
        }
        for i in range(levels)
    }
    schemas[f"S{levels}"] = {"type": "object", "properties": {"z": {"type": "string"}}}
    calls = [0]
    read = xml_sample._Writer.properties

    def counted(self: Any, *args: Any) -> Any:
        calls[0] += 1
        assert calls[0] < 10_000, "the allOf parts are read again and again"
        return read(self, *args)

    monkeypatch.setattr(xml_sample._Writer, "properties", counted)
    text = xml_text(
        {"$ref": "#/components/schemas/S0"},
        {"components": {"schemas": schemas}},
        {"x0": "a", "x5": "b"},
    )
    assert text == "<S0>\n  <x0>a</x0>\n  <x5>b</x5>\n</S0>"


def test_the_writing_stops_where_the_text_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrays of arrays of `minItems: 3` (30 levels, a few KB of spec) made a sample of
    half a million leaves, shared; the writer walked them all, each past its 20,000
    characters only to drop the line (10 s on an operation page). The text is the same."""
    from apis.openapi import xml_sample

    value: Any = {"z": "string"}
    for _ in range(12):
        value = [value] * 3
    calls = [0]
    element = xml_sample._Writer.element

    def counted(self: Any, *args: Any) -> None:
        calls[0] += 1
        assert calls[0] < 20_000, "still writing past the cut"
        element(self, *args)

    monkeypatch.setattr(xml_sample._Writer, "element", counted)
    schema: dict[str, Any] = {"type": "object", "properties": {"z": {"type": "string"}}}
    for _ in range(12):
        schema = {"type": "array", "items": schema}
    text = xml_text(schema, DOC, value)
    assert text.endswith("\n…") and len(text) <= 20_002

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

"""What the reference says of a schema before it is drawn: type labels, `$ref`s followed."""

from __future__ import annotations

from typing import Any

from apis.schema_reader import SchemaReader


def reader(schemas: dict[str, Any]) -> SchemaReader:
    return SchemaReader({"components": {"schemas": schemas}})


def test_a_30_nullable_without_a_type_reads_as_its_composition_or_null() -> None:
    """DigitalOcean's inference `stop`: `nullable: true, oneOf: [string, array]` and no
    `type`. The row's type read "null", as if the field could hold nothing else."""
    r = reader({"Pet": {"type": "object"}})
    one_of = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    assert r.type_label({"nullable": True, **one_of}) == "one of | null"
    assert r.type_label({"nullable": True, "allOf": [{"$ref": "#/components/schemas/Pet"}]}) == (
        "Pet | null"
    )
    assert r.type_label({"nullable": True, "properties": {"a": {}}}) == "object | null"
    assert r.type_label({"nullable": True}) == "any"  # nothing narrows it: null included
    # A type of its own: as before.
    assert r.type_label({"nullable": True, "type": "string"}) == "string | null"


def test_an_array_of_a_union_brackets_the_items_type() -> None:
    """Discord's allowed mentions: `type: [array, null]`, items `oneOf: [null, Snowflake]`.
    The row read "array of Snowflake | null | null": which null was whose?"""
    r = reader({"Snowflake": {"type": "string"}})
    items = {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Snowflake"}]}
    schema = {"type": ["array", "null"], "items": items}
    assert r.type_label(schema) == "array of (Snowflake | null) | null"
    assert r.type_label({"type": "array", "items": {"type": ["string", "integer"]}}) == (
        "array of (string | integer)"
    )
    assert r.type_label({"type": "array", "items": items}) == "array of (Snowflake | null)"
    # One type needs no brackets, nor does a nullable array of it.
    assert r.type_label({"type": ["array", "null"], "items": {"type": "string"}}) == (
        "array of string | null"
    )

from __future__ import annotations

from typing import Any

from apis.schema_tree import SchemaRenderer


def renderer(schemas: dict[str, Any], **kwargs: Any) -> SchemaRenderer:
    doc = {"components": {"schemas": schemas}}
    return SchemaRenderer(
        doc, schema_url=lambda n: f"/s/{n}/", fragment_url=lambda n: f"/s/{n}/", **kwargs
    )


def test_object_properties_types_and_required() -> None:
    html = renderer({}).block(
        {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "description": "The **name**."},
                "born": {"type": "string", "format": "date"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "nick": {"type": ["string", "null"]},
                "legacy": {"type": "integer", "nullable": True, "readOnly": True},
            },
        }
    )
    assert '<code class="prop-name">name</code>' in html
    assert "badge-required" in html
    assert "string &lt;date&gt;" in html
    assert "array of string" in html
    assert "string | null" in html
    assert "integer | null" in html
    assert "read-only" in html
    assert "<strong>name</strong>" in html
    assert "JSON Schema" in html


def test_recursive_schema_is_a_marker_not_an_expansion() -> None:
    """SECURITY.md case 37: cycles render with a marker."""
    schemas = {
        "Node": {
            "type": "object",
            "properties": {
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
            },
        }
    }
    html = renderer(schemas).block({"$ref": "#/components/schemas/Node"})
    assert "recursive" in html
    assert html.count('class="prop-name">children<') == 1


def test_mutual_recursion_terminates() -> None:
    schemas = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
    }
    html = renderer(schemas).block({"$ref": "#/components/schemas/A"})
    assert "recursive" in html


def test_compositions_and_discriminator() -> None:
    schemas = {
        "Cat": {"type": "object", "properties": {"meows": {"type": "boolean"}}},
        "Dog": {"type": "object", "properties": {"barks": {"type": "boolean"}}},
    }
    html = renderer(schemas).block(
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat"},
            },
        }
    )
    assert "one of" in html
    assert "meows" in html and "barks" in html
    assert "Discriminator" in html and "<code>kind</code>" in html


def test_additional_properties_and_enum() -> None:
    html = renderer({}).block(
        {"type": "object", "additionalProperties": {"type": "string", "enum": ["a", "b"]}}
    )
    assert "[additional properties]" in html
    assert "<code>&quot;a&quot;</code>" in html


def test_deep_named_schemas_become_lazy_links() -> None:
    schemas = {
        f"S{i}": {
            "type": "object",
            "properties": {"next": {"$ref": f"#/components/schemas/S{i + 1}"}},
        }
        for i in range(10)
    }
    html = renderer(schemas, max_named_depth=3).block({"$ref": "#/components/schemas/S0"})
    assert 'href="/s/S3/"' in html
    assert "hx-get" in html
    assert "S9" not in html


def test_row_budget_bounds_the_output() -> None:
    big = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5000)}}
    html = renderer({}, budget=100).block(big)
    assert html.count('class="prop"') <= 101
    assert "More properties" in html


def test_spec_text_is_escaped() -> None:
    html = renderer({}).block(
        {
            "type": "object",
            "properties": {"<script>alert(1)</script>": {"type": "string", "format": "<b>"}},
        }
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>" not in html


def test_dangling_ref_is_reported_not_raised() -> None:
    html = renderer({}).block({"$ref": "#/components/schemas/Missing"})
    assert "Missing" in html

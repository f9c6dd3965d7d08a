from __future__ import annotations

import re
from typing import Any

import pytest

from apis.schema_tree import SchemaRenderer


def renderer(schemas: dict[str, Any], **kwargs: Any) -> SchemaRenderer:
    doc = {"components": {"schemas": schemas}}
    return SchemaRenderer(
        doc,
        schema_url=lambda n: f"/s/{n}/",
        fragment_url=lambda n: f"/s/{n}/",
        part_url=lambda root, pointer: f"/part/{root}{pointer}",
        **kwargs,
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


def test_pattern_and_additional_properties_of_an_all_of_part_are_rows_of_the_whole() -> None:
    # OpenProject's VersionWriteModel is allOf [CustomFieldProperties, {name, status...}];
    # CustomFieldProperties holds only `patternProperties: {^customField\\d+$: ...}`. The
    # merged rows showed name and status but not the customFieldN values it also takes.
    schemas = {
        "Custom": {"type": "object", "patternProperties": {"^cf\\d+$": {"type": "string"}}},
        "Labels": {"type": "object", "additionalProperties": {"type": "integer"}},
    }
    html = renderer(schemas).block(
        {
            "allOf": [
                {"$ref": "#/components/schemas/Custom"},
                {"$ref": "#/components/schemas/Labels"},
                {"type": "object", "properties": {"name": {"type": "string"}}},
            ]
        }
    )
    rows = re.findall(r'<code class="prop-name[^"]*">([^<]*)</code>', html)
    assert rows == ["name", "[additional properties]", "/^cf\\d+$/"]
    # A part's own `additionalProperties` gives way to the schema's.
    own = renderer(schemas).block(
        {"allOf": [{"$ref": "#/components/schemas/Labels"}], "additionalProperties": False}
    )
    assert "[additional properties]" not in own


def test_an_array_reached_through_all_of_shows_its_items() -> None:
    # `allOf: [{$ref: Items}]` beside a description (how 3.0 writes a described $ref) or with
    # a `minItems` part: the label said "Items array of Item", and nothing below it did.
    schemas = {
        "Item": {"type": "object", "properties": {"id": {"type": "string"}}},
        "Items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        "Pair": {"type": "array", "prefixItems": [{"type": "object", "properties": {"k": {}}}]},
    }
    items = {"$ref": "#/components/schemas/Items"}
    for schema in (
        {"allOf": [items], "description": "Described."},
        {"allOf": [items, {"minItems": 1}]},
        {"type": "object", "properties": {"list": {"allOf": [items], "description": "d"}}},
        {"allOf": [{"type": "array", "items": {"$ref": "#/components/schemas/Item"}}, {}]},
    ):
        html = renderer(schemas).block(schema)
        assert '<code class="prop-name">id</code>' in html, schema
    html = renderer(schemas).block({"allOf": [{"$ref": "#/components/schemas/Pair"}]})
    assert "item 1" in html and '<code class="prop-name">k</code>' in html


def test_a_scalar_all_of_reads_as_its_type_and_shows_each_parts_constraints() -> None:
    # `allOf: [{$ref: Code}, {minLength: 2}]`: the row read "all of" and showed neither the
    # string nor Code's pattern nor the added minimum length.
    schemas = {"Code": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO code"}}
    code = {"$ref": "#/components/schemas/Code"}
    html = renderer(schemas).block(
        {"type": "object", "properties": {"x": {"allOf": [code, {"minLength": 2}]}}}
    )
    row = html.split('<code class="prop-name">x</code>')[1].split('<details class="raw')[0]
    assert '<span class="type">string</span>' in row
    assert "^[A-Z]{3}$" in row and "ISO code" in row
    assert '<span class="meta-key">min length</span> <code>2</code>' in row
    # A described use of Code alone is still Code with its description, not a composition.
    html = renderer(schemas).block(
        {"type": "object", "properties": {"y": {"allOf": [code], "description": "Own."}}}
    )
    assert "composition" not in html and "Own." in html


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


def _prop_rows(html: str) -> list[str]:
    return re.findall(r'<code class="prop-name">([^<]*)</code>', html)


def test_budget_cuts_depth_never_breadth() -> None:
    """A real 3.1 payments body lost 25 of its 73 top-level properties to the row budget."""
    nested = {"type": "object", "properties": {f"n{i}": {"type": "string"} for i in range(20)}}
    body = {
        "type": "object",
        "required": ["p0", "p72"],
        "properties": {f"p{i}": nested for i in range(73)},
    }
    html = renderer({}, budget=50).block(body, where=("", "/requestBody"))
    names = _prop_rows(html)
    assert all(f"p{i}" in names for i in range(73))
    assert html.count("badge-required") == 2
    # The later siblings' children are cut, and the cut says so where it is, as a link that
    # loads the part in place (htmx) and works without scripts (href).
    assert 'href="/part//requestBody/properties/p72"' in html
    assert 'hx-get="/part//requestBody/properties/p72"' in html
    assert "More properties" not in html


def test_budget_never_drops_variants_or_named_properties() -> None:
    schemas = {
        "Big": {"type": "object", "properties": {f"b{i}": {"type": "integer"} for i in range(40)}},
        "Card": {"type": "object", "required": ["number"], "properties": {"number": {}}},
    }
    body = {
        "type": "object",
        "properties": {
            "first": {"$ref": "#/components/schemas/Big"},
            "method": {
                "oneOf": [{"$ref": "#/components/schemas/Card"}, {"type": "string"}],
            },
            "last": {"$ref": "#/components/schemas/Big"},
        },
    }
    html = renderer(schemas, budget=10).block(body, where=("", ""))
    names = _prop_rows(html)
    assert {"first", "method", "last"} <= set(names)
    # Past the budget a level below is a link: to the named schema's page, or to the part.
    assert 'href="/s/Big/"' in html
    assert 'href="/part//properties/method"' in html


def test_top_level_of_every_body_is_drawn_even_when_the_page_budget_is_spent() -> None:
    schemas = {"Pet": {"type": "object", "properties": {"name": {}, "age": {}}}}
    r = renderer(schemas, budget=1)
    r.block({"type": "object", "properties": {f"x{i}": {} for i in range(5)}})
    html = r.block({"$ref": "#/components/schemas/Pet"})
    assert set(_prop_rows(html)) == {"name", "age"}


def test_required_beside_allof_marks_merged_properties() -> None:
    schemas = {
        "Base": {"type": "object", "properties": {"id": {"type": "string"}, "note": {}}},
    }
    html = renderer(schemas).block(
        {
            "required": ["id", "amount"],
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "properties": {"amount": {"type": "integer"}}},
            ],
        }
    )
    rows = re.findall(r'<li class="prop">(.*?)</div>', html)
    marked = {m for row in rows for m in _prop_rows(row) if "badge-required" in row}
    assert marked == {"id", "amount"}
    assert set(_prop_rows(html)) == {"id", "note", "amount"}
    assert "all of" not in html  # merged into one object, as Redoc shows it


def test_required_beside_oneof_applies_to_each_variant() -> None:
    html = renderer({}).block(
        {
            "required": ["kind"],
            "oneOf": [
                {"type": "object", "properties": {"kind": {"type": "string"}}},
                {"type": "object", "properties": {"kind": {"type": "string"}, "b": {}}},
            ],
        }
    )
    assert html.count("badge-required") == 2


def test_allof_cycle_terminates() -> None:
    schemas = {
        "A": {"allOf": [{"$ref": "#/components/schemas/B"}], "properties": {"a": {}}},
        "B": {"allOf": [{"$ref": "#/components/schemas/A"}], "properties": {"b": {}}},
    }
    html = renderer(schemas).block({"$ref": "#/components/schemas/A"})
    assert {"a", "b"} <= set(_prop_rows(html))


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        ({"type": "integer", "minimum": 1, "exclusiveMinimum": True}, "&gt; <code>1</code>"),
        ({"type": "integer", "maximum": 9, "exclusiveMaximum": True}, "&lt; <code>9</code>"),
        ({"type": "integer", "exclusiveMinimum": 0}, "&gt; <code>0</code>"),
        ({"type": "integer", "exclusiveMaximum": 100}, "&lt; <code>100</code>"),
        ({"type": "integer", "minimum": 1}, "≥ <code>1</code>"),
        ({"type": "number", "multipleOf": 0.5}, "multiple of</span> <code>0.5</code>"),
        ({"type": "string", "minLength": 2, "maxLength": 8}, "max length</span> <code>8</code>"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "<code>&quot;^[a-z]+$&quot;</code>"),
        # As written, not JSON-escaped: ReadMe's `a\w+b` must not read `a\\w+b`.
        ({"type": "string", "pattern": "a\\w+b"}, "<code>&quot;a\\w+b&quot;</code>"),
        ({"type": "array", "minItems": 1, "uniqueItems": True}, "unique items"),
        ({"type": "string", "format": "uuid"}, "string &lt;uuid&gt;"),
        ({"type": "string", "default": "eur"}, "<code>&quot;eur&quot;</code>"),
        ({"type": "string", "const": "card"}, "const &quot;card&quot;"),
        ({"type": "string", "deprecated": True}, "deprecated"),
        ({"type": "string", "readOnly": True}, "read-only"),
        ({"type": "string", "writeOnly": True}, "write-only"),
    ],
)
def test_constraints_are_shown(schema: dict[str, Any], shown: str) -> None:
    html = renderer({}).block({"type": "object", "properties": {"field": schema}})
    assert shown in html
    assert "&gt; <code>true</code>" not in html and "&lt; <code>true</code>" not in html


@pytest.mark.parametrize(
    ("schema", "label"),
    [
        ({"type": "string", "contentEncoding": "base64"}, "string &lt;base64&gt;"),
        (
            {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"},
            "string &lt;base64&gt; image/png",
        ),
        ({"type": "string", "contentMediaType": "application/pdf"}, "string application/pdf"),
        # Both the 3.0 format and the 3.1 keyword, saying one thing: said once.
        (
            {"type": "string", "format": "base64", "contentEncoding": "base64"},
            "string &lt;base64&gt;",
        ),
        (
            {"type": "string", "format": "byte", "contentEncoding": "base64"},
            "string &lt;byte&gt; &lt;base64&gt;",
        ),
    ],
)
def test_content_encoding_and_media_type_are_shown_beside_the_type(
    schema: dict[str, Any], label: str
) -> None:
    # OpenAPI 3.1's binary strings (`contentEncoding: base64`, `contentMediaType: image/png`)
    # read "string" in the tree: what the text holds showed only in the raw JSON.
    html = renderer({}).block({"type": "object", "properties": {"file": schema}}, raw=False)
    assert re.findall(r'<span class="type">([^<]*)</span>', html) == ["object", label]


def test_discriminator_mapping_targets_are_links() -> None:
    schemas = {"Cat": {"type": "object"}, "Dog": {"type": "object"}}
    html = renderer(schemas).block(
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat", "dog": "Dog"},
            },
        }
    )
    assert '<code>cat</code> → <a href="/s/Cat/">Cat</a>' in html
    assert '<code>dog</code> → <a href="/s/Dog/">Dog</a>' in html


def test_discriminator_default_mapping_of_openapi_3_2_is_shown() -> None:
    # 3.2: a value the mapping does not name picks `defaultMapping`'s schema.
    schemas = {"Cat": {"type": "object"}, "Dog": {"type": "object"}}
    html = renderer(schemas).block(
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat"},
                "defaultMapping": "#/components/schemas/Dog",
            },
        }
    )
    assert (
        '<code>cat</code> → <a href="/s/Cat/">Cat</a>, any other → <a href="/s/Dog/">Dog</a>'
        in html
    )


def test_json_schema_2020_tuples_and_boolean_schemas() -> None:
    # OpenAPI 3.1: a [longitude, latitude] tuple, and properties that are `true` or `false`.
    html = renderer({}).block(
        {
            "type": "object",
            "properties": {
                "point": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}]},
                "pair": {"prefixItems": [{"type": "integer"}, {"type": "integer"}]},
                "anything": True,
                "removed": False,
                "either": {"oneOf": [{"type": "string"}, True]},
            },
        }
    )
    assert "array [number, string]" in html and "array [integer, integer]" in html
    assert re.search(r"prop-name\">anything</code> <span class=\"type\">any value<", html)
    assert re.search(r"prop-name\">removed</code> <span class=\"type\">no value allowed<", html)
    # A `true` variant is one a value may match, not one to leave out.
    assert '<span class="variant-index">2</span> <span class="type">any value</span>' in html


def test_json_schema_2020_conditionals_contains_and_dependent_required() -> None:
    """if/then/else, contains and dependentRequired (OpenAPI 3.1) are drawn, not only left in
    the raw JSON: a property that only `then` adds is something a reader must see."""
    html = renderer({}).block(
        {
            "type": "object",
            "properties": {
                "country": {"type": "string"},
                "tags": {"type": "array", "contains": {"type": "object", "properties": {"primary": {"type": "boolean"}}}},
            },
            "if": {"properties": {"country": {"const": "US"}}},
            "then": {"properties": {"zip": {"type": "string", "pattern": "^[0-9]{5}$"}}, "required": ["zip"]},
            "else": {"properties": {"postcode": {"type": "string"}}},
            "dependentRequired": {"card": ["billing_address", "cvc"]},
        }
    )  # fmt: skip
    for label in ("if", "then", "else", "contains"):
        assert f'<div class="composition-label">{label}</div>' in html, label
    for name in ("zip", "postcode", "primary"):
        assert f'prop-name">{name}</code>' in html, name
    assert "^[0-9]{5}$" in html
    assert "card" in html and "billing_address, cvc" in html


def test_the_positions_of_a_tuple_are_drawn() -> None:
    # Redoc's 3.1 demo: a User's `addresses` is a tuple of an address object and a number,
    # then strings. Only its type was shown (`array [object, number]`): city, country and
    # street were nowhere but in the raw JSON, and nothing said what follows the tuple.
    html = renderer({}).block(
        {
            "type": "object",
            "properties": {
                "addresses": {
                    "type": "array",
                    "prefixItems": [
                        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                        {"type": "number"},
                    ],
                    "items": {"type": "string"},
                }
            },
        },
        raw=False,
    )  # fmt: skip
    assert "array [object, number]" in html
    assert '<span class="meta-key">item 1</span> <span class="type">object</span>' in html
    assert re.search(r'prop-name">city</code> <span class="type">string</span>.*required', html)
    assert '<span class="meta-key">further items</span> <span class="type">string</span>' in html


def test_a_variant_that_only_requires_names_says_which() -> None:
    # Redoc's 3.1 demo: `if userStatus is 10, then required: [phone]` read "then 1 any", and
    # `anyOf: [{required: [name]}, {required: [email]}]` (at least one of them, as GitHub
    # writes) read "1 any", "2 any": what each variant asks for was not on the page.
    html = renderer({}).block(
        {
            "type": "object",
            "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                           "phone": {"type": "string"}, "userStatus": {"type": "integer"}},
            "anyOf": [{"required": ["name"]}, {"required": ["email", "phone"]}, {"required": [{"x": 1}]}],
            "if": {"properties": {"userStatus": {"const": 10}}},
            "then": {"required": ["phone"]},
        },
        raw=False,
    )  # fmt: skip
    variants = re.findall(r'<li class="variant">(.*?)</li>', html)
    said = [re.sub(r"<[^>]+>", " ", v) for v in variants]
    assert [" ".join(s.split()) for s in said][:2] == [
        "1 any required name",
        "2 any required email, phone",
    ]
    then = html[html.index('composition-label">then') :]
    assert "required" in then and "phone" in then


def test_an_all_of_that_wraps_one_reference_to_describe_it_shows_that_description() -> None:
    # OpenAPI 3.0 ignores keywords beside a $ref, so Asana (79 times) and many others wrap
    # it: `enum_value: {allOf: [{$ref: EnumOption}, {type: object, description: ...}]}`.
    # The row read "enum_value object", without the description or the schema's name.
    schemas = {"EnumOption": {"type": "object", "properties": {"gid": {"type": "string"}}}}
    html = renderer(schemas).block(
        {
            "type": "object",
            "properties": {
                "enum_value": {
                    "allOf": [
                        {"$ref": "#/components/schemas/EnumOption"},
                        {"type": "object", "nullable": True, "description": "The *chosen* option."},
                    ]
                },
                "merged": {
                    "allOf": [
                        {"$ref": "#/components/schemas/EnumOption"},
                        {"type": "object", "properties": {"extra": {"type": "string"}}},
                    ]
                },
            },
        },
        raw=False,
    )  # fmt: skip
    row = html[html.index('prop-name">enum_value') : html.index('prop-name">gid')]
    # Its `nullable` too, as its author meant it (3.0 strictly lets a nullable allOf part
    # allow null only if every part does; Asana's API answers null there).
    assert '<span class="type">EnumOption</span> <span class="type-of">object | null</span>' in row
    assert "The <em>chosen</em> option." in row
    assert 'prop-name">gid' in html  # its properties are still drawn
    # An allOf that adds properties is a new object, not a description of one.
    merged = html[html.index('prop-name">merged') :]
    assert merged.startswith('prop-name">merged</code> <span class="type">object</span></div>')


def test_a_one_part_all_of_with_annotations_beside_it_shows_the_referenced_enum() -> None:
    # Pydantic and FastAPI write a described use of a shared enum as `{allOf: [{$ref: Color}],
    # default: red, description: ...}`: the row read "string Default red", the allowed
    # values (and the schema's name) nowhere on the page.
    schemas = {"Color": {"type": "string", "enum": ["red", "green", "blue"]}}
    r = renderer(schemas)
    status = {
        "allOf": [{"$ref": "#/components/schemas/Color"}],
        "default": "red",
        "description": "The status.",
    }
    html = r.block({"type": "object", "properties": {"status": status}}, raw=False)
    assert '<span class="type">Color</span> <span class="type-of">string</span>' in html
    assert "&quot;green&quot;" in html and "The status." in html
    assert r.shown(status)["enum"] == ["red", "green", "blue"]  # a parameter's Enum too
    # One that adds keywords of its own is a new schema, not a description of Color's use.
    extended = {"allOf": [{"$ref": "#/components/schemas/Color"}], "maxLength": 3}
    assert r.wrapped_ref(extended) is None


def test_a_type_written_beside_a_ref_does_not_hide_the_targets_type() -> None:
    # Reckon One (and other generators) write `{type: object, $ref: AmountTaxStatus}` for
    # a string enum: the row read "AmountTaxStatus object" with no allowed value anywhere,
    # while the sample showed "NonTaxed". OpenAPI 3.0 ignores keys beside a $ref; the
    # description and example there still describe this use.
    schemas = {"Status": {"type": "string", "enum": ["NonTaxed", "Inclusive"]}}
    r = renderer(schemas)
    beside = {"type": "object", "description": "The status.", "$ref": "#/components/schemas/Status"}
    wrapped = {"type": "object", "allOf": [{"$ref": "#/components/schemas/Status"}]}
    html = r.block({"type": "object", "properties": {"status": beside}}, raw=False)
    assert '<span class="type">Status</span> <span class="type-of">string</span>' in html
    assert "&quot;Inclusive&quot;" in html and "The status." in html
    for status in (beside, wrapped):
        assert r.shown(status)["type"] == "string"
        assert r.shown(status)["enum"] == ["NonTaxed", "Inclusive"]


def test_an_array_of_scalars_shows_what_its_items_allow() -> None:
    # `tags: {type: array, items: {type: string, enum: [...]}}` (a Swagger 2.0 formData
    # `collectionFormat: multi` field, a filter list): the row read "array of string", the
    # allowed values nowhere, though a parameter's row listed them.
    schemas = {"Color": {"type": "string", "enum": ["red", "green"]}}
    html = renderer(schemas).block(
        {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
                "colors": {"type": "array", "items": {"$ref": "#/components/schemas/Color"}},
                "ids": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                "plain": {"type": "array", "items": {"type": "string"}},
            },
        },
        raw=False,
    )
    rows = {
        name: html[html.index(f'prop-name">{name}<') :].split('<li class="prop">')[0]
        for name in ("tags", "colors", "ids", "plain")
    }
    assert "&quot;x&quot;" in rows["tags"] and "&quot;y&quot;" in rows["tags"]
    assert "&quot;green&quot;" in rows["colors"]
    assert "≥" in rows["ids"]
    assert "schema-items" not in rows["plain"]  # nothing more to say about a bare string


def test_a_reference_to_an_alias_shows_what_the_alias_names() -> None:
    # `CodeAlias: {$ref: Code}` (what bundling a `$ref` to another file leaves), or Codat's
    # `DataType: {$ref: '#/components/schemas/DataStatus/properties/dataType'}`: the row
    # read "c CodeAlias Code", the enum (and that it is an integer) nowhere.
    schemas = {
        "Code": {"type": "integer", "enum": [200, 404]},
        "CodeAlias": {"$ref": "#/components/schemas/Code"},
        "Status": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["a"]}}},
        "Kind": {"$ref": "#/components/schemas/Status/properties/kind", "description": "Alias."},
        "Loop": {"$ref": "#/components/schemas/Loop"},
    }
    r = renderer(schemas)
    html = r.block(
        {
            "type": "object",
            "properties": {
                "c": {"$ref": "#/components/schemas/CodeAlias"},
                "k": {"$ref": "#/components/schemas/Kind"},
                "l": {"$ref": "#/components/schemas/Loop"},
            },
        },
        raw=False,
    )
    c = html[html.index('prop-name">c<') : html.index('prop-name">k<')]
    assert '<span class="type-of">integer</span>' in c and "<code>404</code>" in c
    k = html[html.index('prop-name">k<') : html.index('prop-name">l<')]
    assert "&quot;a&quot;" in k and "Alias." in k  # the alias's own description kept
    assert r.shown({"$ref": "#/components/schemas/CodeAlias"})["enum"] == [200, 404]


def test_31_dependent_schemas_property_names_and_contains_counts_are_said() -> None:
    # JSON Schema 2020-12 keywords a 3.1 body may use: what a card number brings with it
    # (a required cvv), what the keys of a map must look like, how many items must match.
    html = renderer({}).block(
        {
            "type": "object",
            "properties": {
                "card": {
                    "type": "object",
                    "properties": {"number": {"type": "string"}},
                    "dependentSchemas": {
                        "number": {"required": ["cvv"], "properties": {"cvv": {"type": "string"}}}
                    },
                },
                "meta": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[a-z]+$"},
                    "additionalProperties": {"type": "integer"},
                },
                "tags": {"type": "array", "contains": {"const": "admin"}, "minContains": 2},
            },
        },
        raw=False,
    )
    card = html[html.index('prop-name">card<') : html.index('prop-name">meta<')]
    assert "with number" in card and 'prop-name">cvv<' in card
    meta = html[html.index('prop-name">meta<') : html.index('prop-name">tags<')]
    assert "property names" in meta and "^[a-z]+$" in meta
    tags = html[html.index('prop-name">tags<') :]
    assert "min contains" in tags


@pytest.mark.parametrize("distinct", [False, True])
def test_nested_variants_of_shared_schemas_are_drawn_once(distinct: bool) -> None:
    # 15 levels of oneOf, each variant a $ref to the next level: a 1 KB spec drew 3**15
    # variants (a 1.1 GB page, 148 s), since the top level's variants are never cut.
    # With three distinct schemas per level it is the same explosion.
    levels, fan = 15, 3

    def name(level: int, i: int) -> str:
        return f"L{level}x{i if distinct else 0}"

    schemas: dict[str, Any] = {}
    for level in range(levels):
        for i in range(fan if distinct else 1):
            schemas[name(level, i)] = {
                "oneOf": [
                    {"$ref": f"#/components/schemas/{name(level + 1, j)}"} for j in range(fan)
                ]
            }
    for i in range(fan if distinct else 1):
        schemas[name(levels, i)] = {"type": "object", "properties": {"leaf": {"type": "string"}}}
    html = renderer(schemas).block({"$ref": f"#/components/schemas/{name(0, 0)}"}, raw=False)
    assert len(html) < 500_000
    assert '<code class="prop-name">leaf</code>' in html  # the deepest level is drawn, once
    assert 'href="/s/' in html  # the repeats link to it


@pytest.mark.parametrize("key", ["anyOf", "oneOf"])
def test_a_31_nullable_reference_reads_as_its_type_or_null(key: str) -> None:
    """OpenAPI 3.1 writes a nullable reference as `anyOf: [{$ref}, {type: "null"}]`; the row
    said only "any of", so a reader had to open it to learn it is an Owner or nothing."""
    r = renderer({"Owner": {"type": "object", "properties": {"id": {"type": "integer"}}}})
    prop = {key: [{"$ref": "#/components/schemas/Owner"}, {"type": "null"}]}
    assert r.type_label(prop) == "Owner | null"
    assert r.type_label(
        {key: [{"type": "null"}, {"type": "array", "items": {"type": "string"}}]}
    ) == ("array of string | null")
    html = r.block({"type": "object", "properties": {"owner": prop}})
    assert '<span class="type">Owner | null</span>' in html
    # Two real alternatives are still "one of"/"any of".
    assert (
        r.type_label({key: [{"type": "string"}, {"type": "integer"}]})
        == key.replace("Of", " of").lower()
    )


def test_a_required_read_only_property_says_it_is_required_in_responses_only() -> None:
    """`id` required and readOnly (Petstore's shape) read "required" on the request body
    too, where a client must not send it at all."""
    html = renderer({}).block({
        "type": "object",
        "required": ["id", "password", "name"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "password": {"type": "string", "writeOnly": True},
            "name": {"type": "string"},
        },
    })  # fmt: skip
    rows = dict(re.findall(r'<code class="prop-name">(\w+)</code>(.*?)</div>', html))
    assert "required in responses" in rows["id"]
    assert "required in requests" in rows["password"]
    assert '<span class="badge badge-required">required</span>' in rows["name"]


def test_a_propertys_title_is_shown_beside_its_name() -> None:
    """Stripe and Kubernetes name fields with `title` (`Customer email`); the row showed
    only the key and the type."""
    html = renderer({"Email": {"type": "string", "title": "Customer email"}}).block(
        {
            "type": "object",
            "properties": {
                "email": {"$ref": "#/components/schemas/Email"},
                "plan": {"type": "string", "title": "Plan <b>name</b>"},
            },
        }
    )
    rows = html.split('<li class="prop">')[1:]
    assert "Customer email" in rows[0]
    assert "Plan &lt;b&gt;name&lt;/b&gt;" in rows[1]


def test_a_dynamic_ref_reads_as_the_item_type_its_caller_binds() -> None:
    # Scalar Galaxy's `PaginatedResource<T>` (JSON Schema 2020-12): `data` is a list of
    # `$dynamicRef: '#itemType'`, which the response binds to Planet in its `$defs`. The page
    # said "array of any" and drew none of a planet's fields.
    schemas = {
        "Planet": {"type": "object", "properties": {"name": {"type": "string"}}},
        "Page": {
            "$defs": {"itemType": {"$dynamicAnchor": "itemType", "not": {}}},
            "type": "object",
            "properties": {"data": {"type": "array", "items": {"$dynamicRef": "#itemType"}}},
        },
    }
    html = renderer(schemas).block(
        {
            "$defs": {
                "itemType": {"$dynamicAnchor": "itemType", "$ref": "#/components/schemas/Planet"}
            },
            "$ref": "#/components/schemas/Page",
        },
        raw=False,
    )
    assert re.search(r'prop-name">data</code> <span class="type">array of Planet</span>', html)
    assert re.search(r'prop-name">name</code> <span class="type">string</span>', html)


def test_a_part_cut_below_a_dynamic_ref_is_found_in_the_bound_schema() -> None:
    # Past the budget, a bound schema's nested fields are a link to load them: by their place
    # in the schema the caller binds (here the response's `$defs`), not under the `$dynamicRef`
    # of Page, where nothing is; the link carries that binding's place along.
    schemas = {
        "Page": {
            "$defs": {"itemType": {"$dynamicAnchor": "itemType", "not": {}}},
            "type": "object",
            "properties": {"data": {"type": "array", "items": {"$dynamicRef": "#itemType"}}},
        },
    }
    planet = {
        "$dynamicAnchor": "itemType",
        "type": "object",
        "properties": {"orbit": {"type": "object", "properties": {"period": {"type": "number"}}}},
    }

    def scoped(url: str, places: list[tuple[str, str]]) -> str:
        return url + "?dyn=" + ",".join(f"{root}:{pointer}" for root, pointer in places)

    html = renderer(schemas, budget=1, scoped_url=scoped).block(
        {"$defs": {"itemType": planet}, "$ref": "#/components/schemas/Page"},
        raw=False,
        where=("", "/schema"),
    )
    assert 'prop-name">orbit</code>' in html and "period" not in html
    link = "/part//schema/$defs/itemType/properties/orbit?dyn=:/schema/$defs/itemType"
    assert f'href="{link}"' in html


def test_a_variant_names_itself_by_its_title() -> None:
    # Train Travel's payment `source: oneOf: [{title: Card, ...}, {title: Bank Account, ...}]`
    # read "1 object", "2 object": the names the spec gives its variants were not on the page.
    schemas = {"Iban": {"title": "IBAN transfer", "type": "object"}}
    html = renderer(schemas).block(
        {"oneOf": [
            {"title": "Card", "type": "object", "properties": {"number": {"type": "string"}}},
            {"title": "Bank <b>Account</b>", "type": "object"},
            {"$ref": "#/components/schemas/Iban"},
            {"type": "string"},
        ]},
        raw=False,
    )  # fmt: skip
    heads = [
        " ".join(re.sub(r"<[^>]+>", " ", h).split())
        for h in re.findall(r'<div class="variant-head">(.*?)</div>', html)
    ]
    assert heads == [
        "1 object Card",
        "2 object Bank &lt;b&gt;Account&lt;/b&gt;",
        "3 Iban IBAN transfer",
        "4 string",
    ]


def test_untitled_variants_of_one_type_are_told_apart() -> None:
    # `oneOf` of inline objects with no title read "1 object", "2 object", "3 object": a
    # reader had to open each to learn which was which. Each is named, as Redoc's option
    # labels do, by what sets it apart: a property fixed to one value (a discriminator
    # written by hand), else the properties it requires, else those it has; a scalar by its
    # values. A variant of a type no other has needs no such name.
    html = renderer({}).block(
        {"oneOf": [
            {"type": "object", "properties": {"kind": {"const": "card"}, "number": {}},
             "required": ["kind", "number"]},
            {"type": "object", "properties": {"kind": {"enum": ["bank"]}, "iban": {}}},
            {"type": "object", "properties": {"email": {}, "name": {}}, "required": ["email"]},
            {"type": "object", "properties": {"phone": {}, "fax": {}}},
            {"type": "string", "enum": ["a", "b"]},
            {"type": "string", "format": "date"},
            {"type": "string"},
            {"type": "integer"},
        ]},
        raw=False,
    )  # fmt: skip
    heads = [
        " ".join(re.sub(r"<[^>]+>", " ", h).split())
        for h in re.findall(r'<div class="variant-head">(.*?)</div>', html)
    ]
    assert heads == [
        "1 object kind: &quot;card&quot;",
        "2 object kind: &quot;bank&quot;",
        "3 object with email",
        "4 object with phone, fax",
        "5 string &quot;a&quot; | &quot;b&quot;",
        "6 string &lt;date&gt;",
        "7 string",
        "8 integer",
    ]


def test_a_title_that_only_repeats_the_schemas_name_is_not_shown_again() -> None:
    # Plaid titles each schema with its own name (`RequestID: {title: RequestID, ...}`): every
    # row read "request_id RequestID string RequestID". A title that says more is still shown.
    schemas = {
        "RequestID": {"title": "RequestID", "type": "string"},
        "Location": {"title": "Transaction Location", "type": "object"},
        "Street": {"title": "street", "type": "string"},
    }
    html = renderer(schemas).block(
        {"type": "object", "properties": {
            "request_id": {"$ref": "#/components/schemas/RequestID"},
            "location": {"$ref": "#/components/schemas/Location"},
            "street": {"$ref": "#/components/schemas/Street"},
            "either": {"oneOf": [{"$ref": "#/components/schemas/RequestID"},
                                 {"$ref": "#/components/schemas/Location"}]},
        }},
        raw=False,
    )  # fmt: skip
    titles = re.findall(r'<span class="prop-title">([^<]*)</span>', html)
    assert titles == ["Transaction Location", "Transaction Location"]


@pytest.mark.parametrize("key, label", [("oneOf", "one of"), ("anyOf", "any of")])
def test_top_level_composition_is_labelled_once(key: str, label: str) -> None:
    """A body that is only a `oneOf` (Intercom's create-contact body) read "one of" as its
    type line and "one of" again as the label of the variants right below it."""
    schemas = {"Cat": {"type": "object", "properties": {"purrs": {"type": "boolean"}}}}
    html = renderer(schemas).block(
        {key: [{"$ref": "#/components/schemas/Cat"}, {"type": "string"}], "description": "A pet."}
    )
    assert html.count(label) == 1, html
    assert f'<div class="composition-label">{label}</div>' in html
    assert "A pet." in html
    # Beside a name the type still says what the value is.
    row = renderer(schemas).block(
        {"type": "object", "properties": {"pet": {key: [{"type": "string"}, {"type": "integer"}]}}}
    )
    assert f'<span class="type">{label}</span>' in row


def test_a_property_named_by_the_empty_string_reads_as_that_string() -> None:
    # SendGrid's v3 segment schemas declare a property "": its row had a blank name.
    html = renderer({}).block(
        {"type": "object", "required": [""], "properties": {"": {"type": "string"}}}
    )
    assert '<code class="prop-name">""</code>' in html
    assert "<code" + ' class="prop-name"></code>' not in html
    assert "badge-required" in html


@pytest.mark.parametrize("distinct", [False, True])
def test_nested_all_of_parts_of_shared_schemas_are_merged_once(
    distinct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """allOf's twin of the test above: levels of `allOf: [$ref next, $ref next]` merged every
    path through the diamond (2**16 merges for each level drawn, the 16-level cut), and the
    type line read each part's label 8 levels down (fan**8). A 9 KB spec of 60 such levels
    kept its operation page rendering for 220 s. Each schema is merged, and labelled, once."""
    levels, fan = 40, 4 if distinct else 2
    calls = {"merge": 0, "label": 0}
    limit = 50 * levels * fan  # far above the linear work, far below the old explosion
    merge, label = SchemaRenderer._merge, SchemaRenderer.type_label

    def counted(kind: str) -> None:
        calls[kind] += 1
        assert calls[kind] < limit, f"{kind}: over {limit} calls"  # fails fast on a blow-up

    def counted_merge(self: SchemaRenderer, *args: Any) -> None:
        counted("merge")
        merge(self, *args)

    def counted_label(self: SchemaRenderer, *args: Any) -> str:
        counted("label")
        return label(self, *args)

    monkeypatch.setattr(SchemaRenderer, "_merge", counted_merge)
    monkeypatch.setattr(SchemaRenderer, "type_label", counted_label)

    def name(level: int, i: int) -> str:
        return f"L{level}x{i if distinct else 0}"

    schemas: dict[str, Any] = {}
    for level in range(levels):
        for i in range(fan if distinct else 1):
            schemas[name(level, i)] = {
                "allOf": [
                    {"$ref": f"#/components/schemas/{name(level + 1, j)}"} for j in range(fan)
                ],
                "properties": {f"p{level}": {"type": "string"}},
            }
    for i in range(fan if distinct else 1):
        schemas[name(levels, i)] = {"type": "object", "properties": {"leaf": {"type": "string"}}}
    html = renderer(schemas).block({"$ref": f"#/components/schemas/{name(0, 0)}"}, raw=False)
    assert '<code class="prop-name">p0</code>' in html
    assert '<code class="prop-name">p15</code>' in html  # merged as far as before


def test_an_all_of_part_naming_a_property_again_without_a_type_keeps_the_first_parts_type() -> None:
    """Zulip's responses: allOf [$ref JsonSuccessBase, {additionalProperties: false,
    properties: {result: {}, msg: {}, ...}}], the empty schemas only there to name the base's
    properties for additionalProperties. A value must fit both parts: the row is the base's
    string, not `any`; a later part's nullable or description is laid over it."""
    schemas = {
        "Base": {
            "type": "object",
            "properties": {
                "result": {"type": "string", "enum": ["success"]},
                "id": {"type": "integer", "description": "The unique message ID."},
                "avatar": {"type": "string", "description": "The avatar's URL."},
                "owner": {"$ref": "#/components/schemas/Owner"},
            },
        },
        "Owner": {"type": "object", "properties": {"name": {"type": "string"}}},
    }
    html = renderer(schemas).block(
        {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {
                    "additionalProperties": False,
                    "properties": {
                        "result": {},
                        "id": {},
                        "avatar": {"nullable": True},
                        "owner": {"description": "Who owns it."},
                        "extra": {"type": "boolean"},
                    },
                },
            ]
        }
    )
    rows = dict(
        re.findall(
            r'<code class="prop-name">([^<]+)</code>(.*?)(?=<code class="prop-name">|$)', html, re.S
        )
    )
    assert set(rows) >= {"result", "id", "avatar", "owner", "extra"}
    assert ">string<" in rows["result"] and "&quot;success&quot;" in rows["result"]
    assert ">integer<" in rows["id"] and "The unique message ID." in rows["id"]
    assert "string | null" in rows["avatar"] and "The avatar's URL." in rows["avatar"]
    assert "Owner" in rows["owner"] and "Who owns it." in rows["owner"]
    assert ">any<" not in html


def test_an_any_of_a_reference_and_a_bare_nullable_reads_as_that_reference_or_null() -> None:
    """Qdrant (schemars, OpenAPI 3.0) writes each optional field `anyOf: [{$ref:
    WalConfigDiff}, {nullable: true}]`, 3.0's way of 3.1's `{type: "null"}`. The row read
    "any of", its variants "1 WalConfigDiff 2 any"; as the 3.1 form does, it reads
    "WalConfigDiff | null", the second variant "null"."""
    schemas = {"W": {"type": "object", "properties": {"a": {"type": "integer"}}}}
    html = renderer(schemas).block(
        {
            "type": "object",
            "properties": {
                "w": {
                    "description": "WAL.",
                    "anyOf": [{"$ref": "#/components/schemas/W"}, {"nullable": True}],
                }
            },
        },
        raw=False,
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert text.startswith("object w W | null WAL."), text
    assert "2 null" in text and "2 any" not in text


def test_a_one_variant_one_of_reads_as_its_variant() -> None:
    """utoipa (Meilisearch's GetLogs) writes a described enum field `mode: {oneOf: [{$ref:
    LogMode, description: ...}], default: Human}`. The row's type read "one of", the same
    words as the composition drawn below it; it names the one variant, as a one-part allOf
    does."""
    schemas = {"LogMode": {"type": "string", "enum": ["human", "json"]}}
    html = renderer(schemas).block(
        {
            "type": "object",
            "properties": {
                "mode": {
                    "oneOf": [{"$ref": "#/components/schemas/LogMode", "description": "Format."}],
                    "default": "human",
                },
                "either": {"anyOf": [{"type": "integer"}]},
            },
        },
        raw=False,
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert text.startswith("object mode LogMode Default"), text
    assert "either integer" in text

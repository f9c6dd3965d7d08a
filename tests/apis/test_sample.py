"""apis.openapi.sample: examples first, then values generated from schemas, cycle-safe."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest

from apis.openapi.examples import json_text_value
from apis.openapi.sample import media_example, sample
from apis.openapi.values import is_number

DOC: dict[str, Any] = {
    "components": {
        "schemas": {
            "Pet": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "name": {"type": "string"},
                    "born": {"type": "string", "format": "date"},
                    "status": {"type": "string", "enum": ["available", "sold"]},
                    "owner": {"$ref": "#/components/schemas/Owner"},
                    "secret": {"type": "string", "writeOnly": True},
                },
            },
            "Owner": {
                "type": "object",
                "properties": {
                    "pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
                },
            },
            "Node": {
                "type": "object",
                "properties": {"next": {"$ref": "#/components/schemas/Node"}},
            },
        }
    }
}


def test_generated_from_schema_with_formats_enums_and_minimums() -> None:
    value = sample({"$ref": "#/components/schemas/Pet"}, DOC)
    assert value["id"] == 1 and value["name"] == "string" and value["born"] == "2024-01-01"
    assert value["status"] == "available"
    assert "secret" not in value


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        # OpenAPI 3.0 (and Swagger 2.0) write an exclusive bound as a flag beside it.
        ({"type": "integer", "minimum": 5, "exclusiveMinimum": True}, 6),
        ({"type": "integer", "minimum": 5, "maximum": 7, "multipleOf": 3}, 6),
        ({"type": "integer", "minimum": 5, "exclusiveMinimum": True, "multipleOf": 3}, 6),
        ({"type": "integer", "multipleOf": 4, "minimum": 1}, 4),
        ({"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5}, 1.0),
        ({"type": "integer", "maximum": 0, "exclusiveMaximum": True}, -1),
        ({"type": "integer", "exclusiveMaximum": 0, "multipleOf": 5}, -5),
        ({"type": "number", "minimum": 0.1, "multipleOf": 0.1}, 0.1),
    ],
)
def test_a_generated_number_keeps_to_its_bounds_and_step(
    schema: dict[str, Any], expected: float
) -> None:
    # Swagger Parser's issue-673 body (`multipleOf: 3, minimum: 5, exclusiveMinimum: true`):
    # the console pre-filled 5, then said "5 is not a multiple of 3".
    assert sample(schema, DOC) == expected


def test_a_scalar_whose_all_of_parts_only_constrain_it_is_sampled_as_that_scalar() -> None:
    # 3GPP's `Ipv6Prefix: {type: string, allOf: [{pattern: ...}, {pattern: ...}]}`: the
    # parts have no type of their own, and the sample was `{}`, "not of type 'string'".
    schema = {"type": "string", "nullable": True, "allOf": [{"pattern": "^ab"}, {"maxLength": 4}]}
    value = sample(schema, DOC)
    assert isinstance(value, str) and value.startswith("ab") and len(value) <= 4
    assert sample({"type": "integer", "allOf": [{"minimum": 3}]}, DOC) == 3


def test_a_null_example_or_default_a_schema_does_not_allow_is_none() -> None:
    # HubSpot writes `example: null` on every schema (swagger-core output); ReadMe's
    # schema-types example a `default: null` on plain strings. The sample was `null`.
    schema = {
        "type": "object",
        "example": None,
        "properties": {
            "id": {"type": "string", "example": None},
            "n": {"type": "integer", "default": None},
            "gone": {"type": ["string", "null"], "example": None},
            "off": {"type": "string", "nullable": True, "default": None},
        },
    }
    assert sample(schema, DOC) == {"id": "string", "n": 0, "gone": None, "off": None}
    media = {"example": None, "schema": {"$ref": "#/components/schemas/Node"}}
    assert media_example(media, DOC) == {}
    assert media_example({"example": None}, DOC) is None  # no schema: null is a value


def test_a_null_default_beside_an_enum_without_null_gives_way_to_an_enum_value() -> None:
    # Rebilly's AmlPriority: `type: [string, null], default: null, enum: [p0, p1, p2, p3]`.
    # The enum still refuses null, and the console refused the PutAmlSettings body it had
    # pre-filled ("None is not one of ['p0', ...]"). 3.0's `nullable: true` adds null to it.
    priority = {"type": ["string", "null"], "default": None, "enum": ["p0", "p1"]}
    assert sample(priority, DOC) == "p0"
    assert sample({**priority, "enum": ["p0", None]}, DOC) is None
    nullable = {"type": "string", "nullable": True, "default": None, "enum": ["p0"]}
    assert sample(nullable, DOC) is None


def test_cycles_stop_instead_of_recursing() -> None:
    started = time.perf_counter()
    # Where a cycle closes, an optional property is left out and a list is empty: `null`
    # there (`{"pets": [null]}`) was a body the console pre-filled and then refused as not
    # fitting its own schema ("children[0]: None is not of type 'object'").
    value = sample({"$ref": "#/components/schemas/Node"}, DOC)
    assert value == {}
    pet = sample({"$ref": "#/components/schemas/Pet"}, DOC)
    assert pet["owner"] == {"pets": []}
    node = {
        "type": "object",
        "required": ["next"],
        "properties": DOC["components"]["schemas"]["Node"]["properties"],
    }
    assert sample(node, DOC) == {"next": {}}  # a required one is still there
    assert time.perf_counter() - started < 0.5


def test_a_cycle_closed_through_a_one_part_allof_is_left_out_too() -> None:
    # Redoc's demo: Pet.friend is `allOf: [$ref Pet]` (to add a description). The cycle was
    # cut at `{}`, and the console's body failed its own check ("friend: 'name' is a
    # required property").
    schemas: dict[str, Any] = {
        "Pet": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "friend": {"description": "a friend", "allOf": [{"$ref": "#/components/schemas/Pet"}]},
            "rival": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/Pet"}]},
        }},
    }  # fmt: skip
    assert sample({"$ref": "#/components/schemas/Pet"}, {"components": {"schemas": schemas}}) == {
        "name": "string"
    }


def test_a_cycle_closed_through_one_of_its_options_takes_another_or_is_left_out() -> None:
    # OpenSearch's query DSL: BoolQuery.filter is `oneOf: [$ref Query, array of $ref Query]`.
    # The first option closed the cycle, so every body the console pre-filled carried
    # `"filter": null` and failed its own check ("None is not valid under any of the given
    # schemas"). The option that does not close it is taken; with none, it is left out.
    schemas: dict[str, Any] = {
        "Query": {"type": "object", "properties": {
            "term": {"type": "string"},
            "filter": {"oneOf": [
                {"$ref": "#/components/schemas/Query"},
                {"type": "array", "items": {"$ref": "#/components/schemas/Query"}},
            ]},
            "must": {"anyOf": [{"$ref": "#/components/schemas/Query"}]},
        }},
    }  # fmt: skip
    value = sample({"$ref": "#/components/schemas/Query"}, {"components": {"schemas": schemas}})
    assert value == {"term": "string", "filter": []}


def test_an_optional_list_that_must_not_be_empty_and_closes_a_cycle_is_left_out() -> None:
    # Kong's metering API (OpenMeter): QueryFilterString.and is `type: array, minItems: 1,
    # items: $ref QueryFilterString`. Inside the cycle the list sampled as [], which its
    # minItems refuses: the console pre-filled a body its own check refused ("[] should be
    # non-empty"). One that may be empty stays, as [].
    schemas: dict[str, Any] = {
        "Filter": {"type": "object", "properties": {
            "eq": {"type": "string"},
            "and": {"type": "array", "minItems": 1,
                    "items": {"$ref": "#/components/schemas/Filter"}},
            "any": {"type": "array", "items": {"$ref": "#/components/schemas/Filter"}},
        }},
    }  # fmt: skip
    value = sample({"$ref": "#/components/schemas/Filter"}, {"components": {"schemas": schemas}})
    assert value == {"eq": "string", "any": []}


def test_optional_properties_past_the_size_bound_are_left_out_not_null() -> None:
    # OpenSearch's rank_eval body: its query DSL spent the sample's node budget and every
    # property after that read `null` ("metric: None is not of type 'object'"), a body the
    # console pre-filled and then refused. Past the bound, optional ones are left out.
    wide = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(50)}}
    schema = {
        "type": "object",
        "required": ["last"],
        "properties": {
            **{f"o{i}": wide for i in range(40)},
            "tail": {"type": "object", "properties": {"x": {"type": "string"}}},
            "list": {"type": "array", "items": wide},
            "last": {"type": "string"},
        },
    }

    def nulls(value: Any) -> int:
        if isinstance(value, dict):
            return sum(nulls(v) for v in value.values())
        if isinstance(value, list):
            return sum(nulls(v) for v in value)
        return int(value is None)

    value = sample(schema, DOC)
    assert nulls({k: v for k, v in value.items() if k != "last"}) == 0
    assert "last" in value and "tail" not in value


def test_an_object_sample_keeps_to_max_properties_required_ones_first() -> None:
    # OpenSearch's QueryContainer: 50 optional query kinds and `maxProperties: 1`, one query
    # per container. The sample held all of them, and every search body the console
    # pre-filled failed its own check ("has too many properties").
    schema = {
        "type": "object",
        "maxProperties": 2,
        "required": ["range"],
        "properties": {
            "match": {"type": "string"},
            "term": {"type": "string"},
            "range": {"type": "integer"},
        },
    }
    assert sample(schema, DOC) == {"range": 0, "match": "string"}
    assert sample({**schema, "maxProperties": 1, "required": []}, DOC) == {"match": "string"}


def test_a_map_whose_values_close_a_cycle_is_empty() -> None:
    # OpenSearch's aggregations: `aggs: {additionalProperties: {$ref: Aggregation}}` inside
    # Aggregation. The sample's map read `{"key": null}`, which the console's body then
    # refused ("None is not of type 'object'").
    schemas: dict[str, Any] = {
        "Agg": {"type": "object", "properties": {
            "field": {"type": "string"},
            "aggs": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Agg"}},
        }},
    }  # fmt: skip
    value = sample({"$ref": "#/components/schemas/Agg"}, {"components": {"schemas": schemas}})
    assert value == {"field": "string", "aggs": {}}


def test_a_formats_sample_keeps_to_the_length_bounds() -> None:
    # openapi-generator's FormatTest: `password: {format: password, minLength: 10}` sampled
    # as the format's "********" (8 characters), which the console's body then refused as
    # too short.
    password = sample({"type": "string", "format": "password", "minLength": 10}, DOC)
    assert isinstance(password, str) and len(password) >= 10
    short = sample({"type": "string", "format": "uuid", "maxLength": 8}, DOC)
    assert isinstance(short, str) and len(short) <= 8
    assert sample({"type": "string", "format": "date", "minLength": 4}, DOC) == "2024-01-01"


def test_a_discriminated_oneof_keeps_the_variants_own_value_for_the_property() -> None:
    # OpenSearch's mapping Property: `discriminator: {propertyName: type}` with no mapping and
    # `oneOf: [$ref BinaryProperty, ...]`, each variant's `type` an enum of its own word
    # (`binary`). The sample wrote the implicit name, "type": "BinaryProperty", and every
    # index-creation body the console pre-filled failed its own check.
    schemas: dict[str, Any] = {
        "Property": {"type": "object", "discriminator": {"propertyName": "type"}, "oneOf": [
            {"$ref": "#/components/schemas/BinaryProperty"},
        ]},
        "BinaryProperty": {"allOf": [
            {"type": "object", "properties": {"store": {"type": "boolean"}}},
            {"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": ["binary"]},
            }},
        ]},
        "Named": {"type": "object", "discriminator": {"propertyName": "kind"}, "oneOf": [
            {"$ref": "#/components/schemas/Cat"},
        ]},
        "Cat": {"type": "object", "properties": {"kind": {"type": "string"}}},
    }  # fmt: skip
    doc = {"components": {"schemas": schemas}}
    assert sample({"$ref": "#/components/schemas/Property"}, doc) == {
        "store": True,
        "type": "binary",
    }
    assert sample({"$ref": "#/components/schemas/Named"}, doc) == {"kind": "Cat"}  # as before


def test_properties_a_not_required_rules_out_together_are_not_all_sampled() -> None:
    # OpenSearch's bucket aggregations: `aggregations` and `aggs` are one field's two names,
    # `not: {required: [aggregations, aggs]}`. The sample held both, and every search body
    # with aggregations the console pre-filled failed its own check.
    schema = {
        "type": "object",
        "properties": {
            "aggregations": {"type": "object"},
            "aggs": {"type": "object"},
            "meta": {"type": "string"},
        },
        "not": {"type": "object", "required": ["aggregations", "aggs"]},
    }
    assert sample(schema, DOC) == {"aggregations": {}, "meta": "string"}
    required = {**schema, "required": ["aggs"]}
    assert sample(required, DOC) == {"aggs": {}, "meta": "string"}  # the required one stays


def test_an_array_with_contains_holds_what_it_must_contain() -> None:
    # JSON Schema 2020-12's `contains` / `minContains` (oasdiff's 3.1 checker specs): the
    # sample was one item from `items`, which the console's body refused ("does not contain
    # items matching the given schema").
    schema = {
        "type": "array",
        "items": {"type": "string"},
        "contains": {"type": "string", "enum": ["urgent"]},
        "minContains": 2,
    }
    assert sample(schema, DOC) == ["urgent", "urgent"]
    assert sample(
        {"type": "array", "items": {"type": "integer"}, "contains": {"const": 3}}, DOC
    ) == [3]
    more = {"type": "array", "items": {"type": "integer"}, "contains": {"const": 3}, "minItems": 2}
    assert sample(more, DOC) == [3, 0]
    assert sample({"type": "array", "contains": {"const": 3}}, DOC) == [3]  # no `items`


def test_an_allof_parts_pinned_value_is_not_overwritten_by_the_schemas_own_loose_one() -> None:
    # Swagger UI's bug 11018: `mode: {type: string}` beside `allOf: [{oneOf: [{properties:
    # {mode: {enum: [short]}}}, ...]}]`. The schema's own properties were sampled last and
    # wrote over the parts', so the body read "mode": "string", which fits no variant; the
    # console refused its own body. The value an enum, const, default or example pins wins.
    schema = {
        "type": "object",
        "required": ["mode"],
        "properties": {"mode": {"type": "string"}, "size": {"type": "integer"}},
        "allOf": [{"oneOf": [
            {"properties": {"mode": {"type": "string", "enum": ["short"]}}},
            {"properties": {"mode": {"type": "string", "enum": ["long"]}}},
        ]}],
    }  # fmt: skip
    assert sample(schema, DOC) == {"mode": "short", "size": 0}
    own_pins = {
        "type": "object",
        "properties": {"kind": {"type": "string", "enum": ["x"]}},
        "allOf": [{"properties": {"kind": {"type": "string"}}}],
    }
    assert sample(own_pins, DOC) == {"kind": "x"}  # the schema's own pinned value, as before


def test_items_written_as_a_list_are_a_tuple() -> None:
    # Draft-04's `items: [{...}]` (Redoc's demo): the sample was `[null]`.
    schema = {
        "type": "array",
        "items": [{"type": "object", "properties": {"city": {"type": "string"}}}],
    }
    assert sample(schema, DOC) == [{"city": "string"}]


def test_examples_win_over_generation() -> None:
    assert media_example({"example": {"a": 1}, "schema": {"type": "string"}}, DOC) == {"a": 1}
    media = {"examples": {"one": {"summary": "x", "value": [1, 2]}}}
    assert media_example(media, DOC) == [1, 2]
    # A list, JSON Schema's shape, where OpenAPI wants a map: its first value.
    assert media_example({"examples": [{"a": 1}, {"a": 2}], "schema": {}}, DOC) == {"a": 1}
    assert sample({"type": "string", "example": "hi"}, DOC) == "hi"
    assert sample({"type": "integer", "default": 7}, DOC) == 7


def test_composition_and_types() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "boolean"}}},
            {"type": "object", "properties": {"b": {"type": ["null", "number"]}}},
        ]
    }
    assert sample(schema, DOC) == {"a": True, "b": 0.0}
    assert (
        sample({"oneOf": [{"type": "string", "format": "uuid"}, {"type": "integer"}]}, DOC)
        == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    )
    assert sample({"type": "array", "items": {"type": "integer"}, "minItems": 2}, DOC) == [0, 0]
    # minItems past 3 (oasdiff's `minItems: 10`) sampled one item, which the console's body
    # then refused as too short: as many as it asks (up to 50, while the copies stay small).
    assert (
        sample({"type": "array", "items": {"type": "string"}, "minItems": 10}, DOC)
        == ["string"] * 10
    )
    assert sample({"$ref": "#/components/schemas/Missing"}, DOC) is None
    assert sample({"$ref": "https://evil.example/x"}, DOC) is None


def test_bounded_size_for_wide_schemas() -> None:
    wide = {
        "type": "object",
        "properties": {
            f"p{i}": {
                "type": "object",
                "properties": {f"q{j}": {"type": "string"} for j in range(100)},
            }
            for i in range(100)
        },
    }
    value = sample(wide, DOC)
    assert len(value) <= 50
    assert sum(len(v) for v in value.values() if isinstance(v, dict)) <= 2000


def test_schemas_read_row_by_row_are_fetched_a_level_at_a_time(db: Any) -> None:
    """With a version's schemas read lazily (the mock backend, the console), a sample fetches
    the schemas it reaches a level per query, not one query per schema it meets."""
    import io

    import orjson
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apis.documents import clear_cache, schema_document
    from apis.models import Api, Schema
    from tests.conftest import DEMO_SPECS

    call_command("importspec", str(DEMO_SPECS / "petstore.yaml"), slug="pets", publish=True,
                 stdout=io.StringIO())  # fmt: skip
    version = Api.objects.get(slug="pets").default_version
    assert version is not None
    leaves = {
        f"Leaf{i}": {"type": "object", "properties": {"n": {"example": i}}} for i in range(10)
    }
    root = {"type": "object", "properties": {
        name.lower(): {"$ref": f"#/components/schemas/{name}"} for name in leaves}}  # fmt: skip
    Schema.objects.bulk_create(
        Schema(version=version, name=name, data=orjson.dumps(schema))
        for name, schema in {"Root": root, **leaves}.items()
    )
    clear_cache()
    with CaptureQueriesContext(connection) as queries:
        value = sample({"$ref": "#/components/schemas/Root"}, schema_document(version.pk))
    assert value == {f"leaf{i}": {"n": i} for i in range(10)}
    assert len(queries.captured_queries) == 2  # Root, then the ten leaves together


def test_tuples_sample_each_prefix_item() -> None:
    # JSON Schema 2020-12 (OpenAPI 3.1): a [longitude, latitude] pair, no further items.
    point = {"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}]}
    assert sample({**point, "items": False}, DOC) == [0.0, "string"]
    assert sample(point, DOC) == [0.0, "string"]


def test_fields_several_refs_and_compositions_away_still_get_typed_values() -> None:
    # Nexmo's message body (oneOf -> allOf -> $ref -> allOf -> $ref) came out as
    # {"client_ref": null, "to": null, ...}: every ref and composition cost a level of the
    # page's six, and past them a value was null.
    schemas: dict[str, Any] = {
        "Message": {"oneOf": [{"$ref": "#/components/schemas/Sms"}]},
        "Sms": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {
            "text": {"$ref": "#/components/schemas/Text"}}}]},
        "Base": {"allOf": [{"properties": {"to": {"$ref": "#/components/schemas/Number"},
                                           "mode": {"allOf": [{"$ref": "#/components/schemas/Mode"}]}}}]},
        "Number": {"allOf": [{"$ref": "#/components/schemas/Digits"}]},
        "Digits": {"type": "string", "example": "447700900000"},
        "Text": {"type": "string", "maxLength": 3},
        "Mode": {"type": "integer", "enum": [0, 1, 2]},
    }  # fmt: skip
    doc = {"components": {"schemas": schemas}}
    value = sample({"$ref": "#/components/schemas/Message"}, doc, max_depth=2)
    assert value == {"to": "447700900000", "mode": 0, "text": "str"}


def test_past_the_depth_a_value_is_an_empty_one_of_its_type_not_null() -> None:
    deep: dict[str, Any] = {"type": "string", "minLength": 2}
    for kind in ("object", "array", "object"):
        deep = (
            {"type": "object", "properties": {"x": deep}}
            if kind == "object"
            else {"type": "array", "items": deep}
        )
    assert sample(deep, DOC, max_depth=1) == {"x": [{}]}
    assert sample(deep, DOC, max_depth=0) == {"x": []}
    enum_deep = {"type": "object", "properties": {"s": {"type": "object", "properties": {
        "t": {"$ref": "#/components/schemas/Pet"}}}}}  # fmt: skip
    assert sample(enum_deep, DOC, max_depth=1) == {"s": {"t": {}}}


def test_past_the_depth_an_object_keeps_its_required_fields() -> None:
    # Argo Workflows' CronWorkflow body: twelve levels down, an HTTP header came out `{}`,
    # and the console refused its own pre-filled body ("'name' is a required property").
    header = {
        "type": "object",
        "required": ["name", "value", "meta"],
        "properties": {
            "name": {"type": "string"},
            "value": {"type": "string", "example": "v"},
            "meta": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
            "note": {"type": "string"},
        },
    }
    deep = {"type": "object", "properties": {"h": {"type": "array", "items": header}}}
    assert sample(deep, DOC, max_depth=1) == {
        "h": [{"name": "string", "value": "v", "meta": {"n": 0}}]
    }
    assert sample(deep, DOC, max_depth=0) == {"h": []}


def test_a_sample_meets_the_then_of_the_if_it_makes_true() -> None:
    # JSON Schema's if/then (3.1): `kind: card` needs `number`. The sample said
    # `kind: "string"` or `card` without `number`, and the console refused its own body.
    jsonschema = pytest.importorskip("jsonschema")
    schema = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": ["card", "bank"]}, "number": {"type": "string"}},
        "if": {"properties": {"kind": {"const": "card"}}, "required": ["kind"]},
        "then": {"required": ["number"], "properties": {"number": {"minLength": 12}}},
        "else": {"required": ["iban"], "properties": {"iban": {"type": "string"}}},
    }
    value = sample(schema, DOC)
    jsonschema.Draft202012Validator(schema).validate(value)
    only_else = {k: v for k, v in schema.items() if k not in ("if", "then")}
    only_else["if"] = schema["if"]
    value = sample(only_else, DOC)
    jsonschema.Draft202012Validator(only_else).validate(value)


def _nulls(value: Any, path: str = "") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}[{i}]")]
    return []


def test_a_sample_too_big_to_finish_leaves_optional_fields_out_rather_than_null() -> None:
    # Argo Workflows' CreateWorkflow body (a Kubernetes pod spec, thousands of fields):
    # past the sampler's budget every remaining field was `null`, so the console pre-filled
    # a body it then refused ("securityContext.privileged: None is not of type 'boolean'").
    leaf = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}} | {f"p{i}": {"type": "string"} for i in range(48)},
    }
    root = {
        "type": "object",
        "required": ["last"],
        "properties": {f"f{i}": {"$ref": "#/components/schemas/Leaf"} for i in range(48)}
        | {"tags": {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}}}
        | {"last": {"$ref": "#/components/schemas/Leaf"}},
    }
    doc = {"components": {"schemas": {"Leaf": leaf, "Root": root}}}
    value = sample({"$ref": "#/components/schemas/Root"}, doc)
    assert _nulls(value) == []
    assert "f0" in value and len(value["f0"]) == 49  # the first fields in full
    assert "f47" not in value and "tags" not in value  # optional ones past the budget: out
    assert value["last"] == {"id": "string"}  # a required one: its required fields


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"pattern": "^[A-Z]{3}$"}, "AAA"),  # a currency code
        ({"pattern": r"^\d{4}-\d{2}-\d{2}$"}, "0000-00-00"),
        ({"pattern": "^(foo|bar)_[0-9]{2}$"}, "foo_00"),
        ({"pattern": "^[a-z0-9-]+$", "minLength": 3}, "string"),  # "string" fits: kept
        ({"pattern": "^[0-9a-f]+$", "minLength": 8, "maxLength": 8}, "00000000"),
        ({"pattern": r"^acct_\w+$"}, "acct_a"),
        ({"pattern": r"^[^\s@]+@[^\s@]+\.[a-z]{2,}$"}, "a@a.aa"),
        ({"pattern": r"^(\w)-\1$"}, "a-a"),  # a back-reference
        ({"pattern": "[A-Z]"}, "A"),  # unanchored, as JSON Schema reads it: a capital somewhere
        ({"pattern": "^[0-9]+$", "format": "uuid"}, "0"),  # the format's sample would not fit
    ],
)
def test_generated_strings_match_their_pattern(schema: dict[str, Any], expected: str) -> None:
    # Sent untouched, a body with "string" for `^[A-Z]{3}$` was refused by the console's
    # own check ("the request does not match") and by any backend that validates.
    value = sample({"type": "string", **schema}, {})
    assert value == expected
    assert re.search(schema["pattern"], value)


@pytest.mark.parametrize(
    "pattern",
    ["(?=x)y", "[", "^(?!a)a$", "^a{5000}$", 42],  # never matches, invalid, too long, not a string
)
def test_a_pattern_it_cannot_meet_leaves_the_plain_sample(pattern: Any) -> None:
    assert sample({"type": "string", "pattern": pattern}, {}) == "string"


def test_a_backtracking_pattern_is_never_run_on_long_text() -> None:
    # `^(\w+)*-$` takes 2**n steps to refuse n word characters: run on "string" padded to
    # minLength 60 it would never return, and every page showing the sample with it.
    value = sample({"type": "string", "pattern": r"^(\w+)*-$", "minLength": 60}, {})
    assert len(value) >= 60 and value.endswith("-")


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"minLength": [3]}, "abc"),  # not a count: no bound (it crashed the page)
        ({"minLength": 10**9}, "string" * 166 + "stri"),  # never met: plain text, at once
        ({"minLength": 900, "maxLength": 5}, "strin"),  # contradictory: plain text
    ],
)
def test_odd_bounds_beside_a_pattern(bounds: dict[str, Any], expected: str) -> None:
    assert sample({"type": "string", "pattern": "^abc$", **bounds}, {}) == expected


@pytest.mark.parametrize("mapped", [True, False])
def test_a_discriminated_variant_carries_its_discriminator_value(mapped: bool) -> None:
    # Ory Kratos' login body is a oneOf of methods told apart by `method`: the sample (and
    # the curl command, and the console's prefilled body) sent `"method": "string"`, which
    # names no variant. The value is the mapping's key, or by default the schema's name.
    schemas: dict[str, Any] = {
        "WithPassword": {
            "type": "object",
            "required": ["method", "password"],
            "properties": {"method": {"type": "string"}, "password": {"type": "string"}},
        },
        "WithOidc": {
            "type": "object",
            "properties": {"method": {"type": "string"}, "provider": {"type": "string"}},
        },
    }
    discriminator: dict[str, Any] = {"propertyName": "method"}
    if mapped:
        discriminator["mapping"] = {
            "oidc": "#/components/schemas/WithOidc",
            "password": "WithPassword",  # a bare name, as 3.0 allows
        }
    body = {
        "oneOf": [{"$ref": "#/components/schemas/WithPassword"}, {"$ref": "#/components/schemas/WithOidc"}],
        "discriminator": discriminator,
    }  # fmt: skip
    value = sample(body, {"components": {"schemas": schemas}})
    assert value == {"method": "password" if mapped else "WithPassword", "password": "string"}


def test_a_schema_extending_a_discriminated_parent_carries_its_own_value() -> None:
    # Redoc's 3.1 demo: Cat is allOf [Pet, {...}] and Pet's discriminator maps `cat` to Cat;
    # a sample of a Cat said `"petType": "string"`, which names no pet.
    schemas: dict[str, Any] = {
        "Pet": {
            "type": "object",
            "properties": {"petType": {"type": "string"}, "name": {"type": "string"}},
            "discriminator": {"propertyName": "petType", "mapping": {"cat": "#/components/schemas/Cat"}},
        },
        "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"properties": {"lives": {"type": "integer"}}}]},
        "Dog": {"allOf": [{"$ref": "#/components/schemas/Pet"}]},  # not mapped: its name
    }  # fmt: skip
    doc = {"components": {"schemas": schemas}}
    assert sample({"$ref": "#/components/schemas/Cat"}, doc) == {
        "petType": "cat",
        "name": "string",
        "lives": 0,
    }
    assert sample({"$ref": "#/components/schemas/Dog"}, doc)["petType"] == "Dog"
    assert sample({"$ref": "#/components/schemas/Pet"}, doc)["petType"] == "string"


def test_a_child_whose_own_enum_excludes_its_name_keeps_a_value_of_that_enum() -> None:
    # Redoc's big demo: CouponRestriction is allOf [GenericRestriction (discriminator on
    # `type`, no mapping), {type: {enum: [...]}}]. The name "CouponRestriction" is no value
    # of that enum, and the sample failed its own body check; the enum's value stands.
    schemas: dict[str, Any] = {
        "Generic": {"type": "object", "properties": {"type": {"type": "string"}},
                    "discriminator": {"propertyName": "type"}},
        "Coupon": {"allOf": [{"$ref": "#/components/schemas/Generic"},
                             {"properties": {"type": {"type": "string", "enum": ["per-plan", "total"]}}}]},
        "Fixed": {"allOf": [{"$ref": "#/components/schemas/Generic"},
                            {"properties": {"type": {"const": "fixed"}}}]},
        "Named": {"allOf": [{"$ref": "#/components/schemas/Generic"},
                            {"properties": {"type": {"enum": ["Named", "other"]}}}]},
    }  # fmt: skip
    doc = {"components": {"schemas": schemas}}
    assert sample({"$ref": "#/components/schemas/Coupon"}, doc)["type"] == "per-plan"
    assert sample({"$ref": "#/components/schemas/Fixed"}, doc)["type"] == "fixed"
    assert sample({"$ref": "#/components/schemas/Named"}, doc)["type"] == "Named"


def test_a_child_takes_its_x_discriminator_value_or_a_value_its_parent_allows() -> None:
    # Swagger 2.0 specs written for swagger-codegen name a child's discriminator value with
    # `x-discriminator-value` (Opsgenie: 327 of them), and the parent's own `type` enum lists
    # those values, not the schema names: the console's prefilled body said
    # `"type": "EscalationRecipient"` and failed its own check. The child's value stands;
    # without one, a name the parent's enum does not allow leaves the enum's value.
    schemas: dict[str, Any] = {
        "Recipient": {"type": "object", "discriminator": {"propertyName": "type"},
                      "properties": {"type": {"type": "string", "enum": ["all", "user", "team"]}}},
        "UserRecipient": {"x-discriminator-value": "user",
                          "allOf": [{"$ref": "#/components/schemas/Recipient"},
                                    {"properties": {"username": {"type": "string"}}}]},
        "TeamRecipient": {"allOf": [{"$ref": "#/components/schemas/Recipient"}]},
        "Any": {"type": "object", "discriminator": {"propertyName": "kind"},
                "oneOf": [{"$ref": "#/components/schemas/Tagged"}]},
        "Tagged": {"x-discriminator-value": "tagged", "type": "object",
                   "properties": {"kind": {"type": "string"}}},
    }  # fmt: skip
    doc = {"components": {"schemas": schemas}}
    assert sample({"$ref": "#/components/schemas/UserRecipient"}, doc) == {
        "type": "user",
        "username": "string",
    }
    assert sample({"$ref": "#/components/schemas/TeamRecipient"}, doc)["type"] == "all"
    assert sample({"$ref": "#/components/schemas/Any"}, doc) == {"kind": "tagged"}


def test_an_object_example_written_as_json_text_is_that_object() -> None:
    # Typesense writes `example: |` then JSON text under 9 object schemas: the samples sent
    # the text as one JSON string, `--data-raw '"{\"log-slow-requests-time-ms\": 2000}\n"'`.
    schema = {
        "type": "object",
        "properties": {"log-slow-requests-time-ms": {"type": "integer"}},
        "example": '{"log-slow-requests-time-ms": 2000}\n',
    }
    assert sample(schema, {}) == {"log-slow-requests-time-ms": 2000}
    listed = {"type": "array", "items": {"type": "string"}, "examples": ['["a", "b"]']}
    assert sample(listed, {}) == ["a", "b"]
    # A string schema's example is a string, whatever it holds; text that is not JSON is no
    # object, and the object is generated instead.
    assert sample({"type": "string", "example": '{"a": 1}'}, {}) == '{"a": 1}'
    assert sample({"type": "object", "example": "{not json"}, {}) == {}


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"},
        {"type": "string", "contentEncoding": "base64url"},
        {"type": "string", "format": "base64"},
    ],
)
def test_base64_strings_get_base64_text(schema: dict[str, Any]) -> None:
    # 3.1's `contentEncoding: base64` sampled as "string", which no base64 decoder accepts
    # (six characters), so a copied request was refused.
    value = sample(schema, DOC)
    assert isinstance(value, str) and base64.urlsafe_b64decode(value.encode())


def test_a_dynamic_ref_takes_the_item_type_its_caller_binds() -> None:
    # Scalar Galaxy's `PaginatedResource<T>` (JSON Schema 2020-12): the list's items are
    # `$dynamicRef: '#itemType'`, bound by the response's `$defs` to Planet. The sample's
    # list read `[null]`.
    document: dict[str, Any] = {
        "components": {
            "schemas": {
                "Planet": {"type": "object", "properties": {"name": {"examples": ["Mars"]}}},
                "Page": {
                    "$id": "https://galaxy.example/schemas/Page",
                    "$defs": {"itemType": {"$dynamicAnchor": "itemType", "not": {}}},
                    "type": "object",
                    "properties": {
                        "data": {"type": "array", "items": {"$dynamicRef": "#itemType"}},
                    },
                },
            }
        }
    }
    planets = {
        "$defs": {
            "itemType": {"$dynamicAnchor": "itemType", "$ref": "#/components/schemas/Planet"}
        },
        "$ref": "#/components/schemas/Page",
    }
    assert sample(planets, document) == {"data": [{"name": "Mars"}]}
    # Unbound: the page's own `not: {}` allows nothing, so no item is made up.
    assert sample({"$ref": "#/components/schemas/Page"}, document) == {"data": []}


def test_json_text_nested_deeper_than_a_document_may_be_stays_text() -> None:
    # The document's own nesting is limited at import (APIS_MAX_DEPTH); JSON text in an
    # example is not parsed there, and 300 levels read from it broke the operation page
    # (orjson writes 254 at most: "Recursion limit reached", a 500).
    deep = "[" * 300 + "]" * 300
    assert json_text_value(deep, {"type": "array"}) == deep
    # A schema's example too: left as text, which is no array, so an array is generated.
    assert sample({"type": "array", "example": deep}, {}) == []
    shallow = "[" * 50 + "]" * 50
    assert isinstance(json_text_value(shallow, {"type": "array"}), list)
    wide = '{"a": [' + ", ".join(["{}"] * 5000) + "]}"
    assert len(json_text_value(wide, {})["a"]) == 5000


@pytest.mark.parametrize(
    "schema, expected",
    [
        # Plaid lists `4.1` and `4.2` as numbers under `type: string`: the console's body then
        # failed its own check. A value of the schema's type is picked first...
        ({"type": "string", "enum": [4.1, "4.2"]}, "4.2"),
        ({"type": "integer", "enum": ["one", 1]}, 1),
        ({"type": "number", "enum": [True, 2.5]}, 2.5),
        ({"type": ["string", "null"], "enum": [None, "on"]}, "on"),
        # ...else a string schema gets the first value's JSON text.
        ({"type": "string", "enum": [4.1, 5]}, "4.1"),
        ({"type": "string", "enum": [True]}, "true"),
        # A value of the right type, or no type said: the first, as before.
        ({"type": "string", "enum": ["a", "b"]}, "a"),
        ({"enum": [3, "x"]}, 3),
    ],
)
def test_an_enum_sample_has_the_schemas_type(schema: dict[str, Any], expected: Any) -> None:
    assert sample(schema, {}) == expected


def test_an_object_whose_any_of_variants_only_require_its_properties_is_that_object() -> None:
    # Apideck's CustomField: `type: object, properties: {id, name}, anyOf: [{required: [id]},
    # {required: [name]}]`. The first variant alone has no type: the sample was null, and the
    # console's body for an array of them was [null].
    schema = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        "anyOf": [{"required": ["id"]}, {"required": ["name"]}],
    }
    assert sample(schema, DOC) == {"id": "string", "name": "string"}
    one_of = {**schema, "oneOf": schema["anyOf"]}
    del one_of["anyOf"]
    # As oneOf, the first variant only: with both names the value would fit both.
    assert sample(one_of, DOC) == {"id": "string"}
    # A variant with its own type is still the variant.
    typed = {
        "type": "object",
        "oneOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}],
    }
    assert sample(typed, DOC) == {"a": 0}


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        # Discord's bulk delete: `minItems: 2, uniqueItems: true` of snowflake strings.
        ({"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}, ["0", "1"]),
        ({"type": "string"}, ["string", "string1"]),
        ({"type": "integer", "minimum": 5, "multipleOf": 5}, [5, 10]),
        ({"type": "string", "enum": ["a", "b", "c"]}, ["a", "b"]),
        ({"$ref": "#/components/schemas/Id"}, ["0", "1"]),
    ],
)
def test_unique_items_get_distinct_values(items: dict[str, Any], expected: list[Any]) -> None:
    doc = {"components": {"schemas": {"Id": {"type": "string", "pattern": "^[0-9]+$"}}}}
    schema = {"type": "array", "items": items, "minItems": 2, "uniqueItems": True}
    assert sample(schema, doc) == expected


def test_many_unique_items_stay_distinct() -> None:
    # minItems past 10 with uniqueItems: the last digit alone has ten values to turn through.
    schema = {"type": "array", "minItems": 12, "uniqueItems": True,
              "items": {"type": "string", "example": "id1"}}  # fmt: skip
    values = sample(schema, DOC)
    assert len(values) == 12 and len(set(values)) == 12


def test_unique_items_it_cannot_vary_within_bounds_stay_as_they_are() -> None:
    # Nothing better to offer: the repeated value, as before.
    schema = {
        "type": "array",
        "minItems": 2,
        "uniqueItems": True,
        "items": {"type": "integer", "minimum": 1, "maximum": 1},
    }
    assert sample(schema, DOC) == [1, 1]


def test_a_scalar_example_of_an_array_or_object_schema_is_passed_over() -> None:
    # Ory Hydra's client: `audience: {type: array, items: {type: string}, example:
    # "https://a, https://b"}`. Sent as written, the console's own body check refused it.
    schema = {"type": "array", "items": {"type": "string"}, "example": "https://a, https://b"}
    assert sample(schema, DOC) == ["string"]
    obj = {"type": "object", "properties": {"a": {"type": "integer"}}, "example": 5}
    assert sample(obj, DOC) == {"a": 0}
    # JSON text of the right shape is still read (Typesense), a fitting example still wins.
    assert sample({**schema, "example": '["x"]'}, DOC) == ["x"]
    assert sample({**obj, "example": {"a": 9}}, DOC) == {"a": 9}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        # Apideck's `total_tax: {type: integer, nullable: true, example: 2.75}`.
        ({"type": "integer", "nullable": True, "example": 2.75}, 0),
        ({"type": "integer", "example": "5"}, 0),
        ({"type": ["number", "null"], "examples": ["1.5"]}, 0.0),
        ({"type": "boolean", "default": "yes"}, True),
        # A number or true/false under a string schema is its JSON text, as enums are.
        ({"type": "string", "example": 42}, "42"),
        ({"type": "string", "example": True}, "true"),
        # Of its type, or no type to hold it to: as written.
        ({"type": "number", "example": 3}, 3),
        ({"type": ["integer", "null"], "examples": [None]}, None),
        ({"example": 2.75}, 2.75),
        # SendGrid's 2.0 body `{type: array, items: {type: integer}, example: ["recipient_id1",
        # "recipient_id2"]}`: the console pre-filled the names and refused them as no integers.
        ({"type": "array", "items": {"type": "integer"}, "example": ["id1", "id2"]}, [0]),
        ({"type": "array", "items": {"type": "integer"}, "example": [3, 4]}, [3, 4]),
        ({"type": "array", "items": {"type": "string"}, "example": [7]}, ["7"]),
        ({"type": "array", "items": {"$ref": "#/components/schemas/X"}, "example": [1]}, [1]),
    ],
)
def test_an_example_not_of_its_schemas_type_is_read_as_that_type_or_passed_over(
    schema: dict[str, Any], expected: Any
) -> None:
    assert sample(schema, DOC) == expected


def test_a_required_property_no_schema_declares_is_sampled_too() -> None:
    """DigitalOcean's logtail spec requires `endpoint` and declares only `token`; its
    uptime check requires `method` beside an allOf that does not declare it either. Each
    sample lacked it, and the console's check refused the body it pre-filled. A declared
    one left out (readOnly in a request) stays out."""
    doc: dict[str, Any] = {"components": {"schemas": {"Base": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "id": {"type": "string", "readOnly": True}},
    }}}}  # fmt: skip
    logtail = {"type": "object", "properties": {"token": {"type": "string"}},
               "required": ["endpoint"]}  # fmt: skip
    assert sample(logtail, doc, request=True) == {"token": "string", "endpoint": "string"}
    check = {"type": "object", "allOf": [{"$ref": "#/components/schemas/Base"}],
             "required": ["name", "method", "id"]}  # fmt: skip
    assert sample(check, doc, request=True) == {"name": "string", "method": "string"}
    counts = {"type": "object", "additionalProperties": {"type": "integer"}, "required": ["a"]}
    assert sample(counts, doc) == {"a": 0}
    closed = {"type": "object", "additionalProperties": False, "required": ["a"]}
    assert sample(closed, doc) == {}


def test_an_object_whose_one_of_variants_require_one_property_each_has_only_the_first() -> None:
    # OpenAI's tool_resources.file_search: `type: object, properties: {vector_store_ids,
    # vector_stores}, oneOf: [{required: [vector_store_ids]}, {required: [vector_stores]}]`.
    # The sample had both, so it fit both variants, which oneOf refuses: the console refused
    # the body it had pre-filled for createAssistant ("not valid under any of"). anyOf keeps
    # both.
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "string"}},
            "stores": {"type": "array", "items": {"type": "string"}},
            "name": {"type": "string"},
        },
        "oneOf": [{"required": ["ids"]}, {"required": ["stores"]}],
    }
    assert sample(schema, DOC) == {"ids": ["string"], "name": "string"}
    any_of = {**schema, "anyOf": schema["oneOf"]}
    del any_of["oneOf"]
    assert set(sample(any_of, DOC)) == {"ids", "stores", "name"}


def test_an_object_with_properties_beside_its_one_of_keeps_them_in_the_sample() -> None:
    # Svix's IngestSourceIn (a Rust struct with a flattened tagged enum): `type: object,
    # required: [name], properties: {name, uid}, oneOf: [{type: generic}, {type: cron,
    # config}]`. The sample was the first option alone, {"type": "generic"}: the console
    # pre-filled a body its own check refused ("'name' is a required property").
    own: dict[str, Any] = {"name": {"type": "string"}, "uid": {"type": "string"}}
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["name"],
        "properties": own,
        "oneOf": [
            {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"type": "string", "enum": ["generic"]}},
            },
            {
                "type": "object",
                "required": ["type", "config"],
                "properties": {"type": {"enum": ["cron"]}, "config": {"type": "object"}},
            },
        ],
    }
    assert sample(schema, DOC) == {"name": "string", "uid": "string", "type": "generic"}
    any_of = {**schema, "anyOf": schema["oneOf"]}
    del any_of["oneOf"]
    assert sample(any_of, DOC) == {"name": "string", "uid": "string", "type": "generic"}
    # An option's own value for a shared name stands (it pins the variant).
    shared = {**schema, "properties": {**own, "type": {"type": "string"}}}
    assert sample(shared, DOC)["type"] == "generic"


def test_an_option_that_only_requires_or_forbids_a_property_beside_it_keeps_its_schema() -> None:
    # Rebilly's RiskScoreBracket: `start` and `end` are `[integer, null]` beside oneOf
    # [{required: [start], properties: {end: {not: {}}}}, {required: [end], ...}, {required:
    # [start, end]}]. The first option's sample named `start` with no schema of its own,
    # "string", which stood against the integer, and `end: null`, which `not: {}` forbids:
    # the console pre-filled PutRiskScoreRules with a body its own check refused.
    jsonschema = pytest.importorskip("jsonschema")
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["value"],
        "properties": {
            "start": {"type": ["integer", "null"], "minimum": 0},
            "end": {"type": ["integer", "null"], "minimum": 1},
            "value": {"type": "integer"},
        },
        "oneOf": [
            {"required": ["start"], "properties": {"end": {"not": {}}}},
            {"required": ["end"], "properties": {"start": {"not": {}}}},
            {"required": ["start", "end"]},
        ],
    }
    value = sample(schema, DOC, request=True)
    assert value == {"start": 0, "value": 0}
    jsonschema.validate(value, schema)


def test_a_one_of_sample_is_one_no_other_option_also_fits() -> None:
    """hey-api's `import` body: oneOf [Model (requires foo, bar, baz; bar readOnly),
    Other (requires nothing)]. The first option's sample, {foo, baz}, fits Other too, so
    the console's check refused it ("valid under each of"); the next option's fits only
    itself. Where every option fits every sample the first stays."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "Model": {"type": "object", "required": ["foo", "bar", "baz"], "properties": {
            "foo": {"type": "string"}, "bar": {"type": "string", "readOnly": True},
            "baz": {"type": "string"}}},
        "Other": {"type": "object", "properties": {
            "prop": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}},
            "size": {"type": "number"}}},
        "Loose": {"type": "object", "properties": {"x": {"type": "string"}}},
    }}}  # fmt: skip

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    body = {"type": "object", "oneOf": [ref("Model"), ref("Other")]}
    value = sample(body, doc, request=True)
    assert set(value) == {"prop", "size"}
    assert sample({"oneOf": [ref("Other"), ref("Model")]}, doc, request=True) == value
    # Both loose: no sample tells them apart, and the first is kept.
    assert sample({"oneOf": [ref("Loose"), ref("Other")]}, doc) == {"x": "string"}
    # A string and an object never both fit: the first, as before.
    assert sample({"oneOf": [{"type": "string"}, ref("Other")]}, doc) == "string"


def test_a_one_of_sample_leaves_out_what_only_another_option_requires() -> None:
    """Medusa's product variants: oneOf [AdminCreateProductVariant (requires title, prices),
    AdminUpdateProductVariant (requires nothing)], both open objects declaring the same
    names. Every option's full sample fits both, and the console refused the PostProductsId
    and PostProductsBatch bodies it had pre-filled ("valid under each of"). An option's
    sample without a name only the other requires fits that option alone."""
    import jsonschema

    props = {"title": {"type": "string"}, "sku": {"type": "string"},
             "prices": {"type": "array", "items": {"type": "integer"}}}  # fmt: skip
    doc: dict[str, Any] = {"components": {"schemas": {
        "Update": {"type": "object", "properties": props},
        "Create": {"type": "object", "required": ["title", "prices"], "properties": props},
    }}}  # fmt: skip
    body: dict[str, Any] = {"type": "array", "items": {"oneOf": [
        {"$ref": "#/components/schemas/Update"}, {"$ref": "#/components/schemas/Create"},
    ]}}  # fmt: skip
    value = sample(body, doc, request=True)
    assert value == [{"sku": "string", "prices": [0]}]
    jsonschema.validate(value, {**body, "components": doc["components"]})
    body["items"]["oneOf"].reverse()  # Medusa's order: Create's sample fits Update too
    assert sample(body, doc, request=True) == value


def test_an_object_sample_has_at_least_min_properties() -> None:
    """APIs.guru's ApiVersion.info and externalDocs are `type: object, minProperties: 1`
    (a copy of a section, never empty): each sampled as {}, which the schema refuses, and a
    request body of that shape the console refused as it pre-filled it ("should be
    non-empty"). Extra entries fit additionalProperties; a closed object stays as it is."""
    assert sample({"type": "object", "minProperties": 1}, {}) == {"key": "string"}
    counts = {"type": "object", "minProperties": 2, "additionalProperties": {"type": "integer"}}
    assert sample(counts, {}) == {"key": 0, "key2": 0}
    some = {"type": "object", "minProperties": 2, "properties": {"a": {"type": "string"}}}
    assert sample(some, {}) == {"a": "string", "key": "string"}
    closed = {"type": "object", "minProperties": 2, "additionalProperties": False,
              "properties": {"a": {"type": "string"}}}  # fmt: skip
    assert sample(closed, {}) == {"a": "string"}


def test_an_all_of_part_requiring_what_a_sibling_declares_keeps_the_siblings_value() -> None:
    """OpenAI's Response: allOf [ModelResponseProperties (declares temperature, metadata),
    {properties: {id}, required: [id, temperature, metadata]}]. The second part's required
    names are declared beside it: they keep the first part's values, not a stand-in."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "Model": {"type": "object", "properties": {
            "temperature": {"type": "number", "example": 1},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}}}},
    }}}  # fmt: skip
    response = {"allOf": [
        {"$ref": "#/components/schemas/Model"},
        {"type": "object", "properties": {"id": {"type": "string"}},
         "required": ["id", "temperature", "metadata", "extra"]},
    ]}  # fmt: skip
    assert sample(response, doc) == {
        "temperature": 1, "metadata": {"key": "string"}, "id": "string", "extra": "string"
    }  # fmt: skip


def test_past_the_depth_an_all_of_part_keeps_what_a_sibling_part_requires() -> None:
    """DigitalOcean's list answers end in `meta: allOf [meta_properties, {required:
    [total]}]`; past the node budget (after a long list of apps) an object keeps only its
    required fields, and meta_properties, which does not require `total` itself, sampled
    as {}, which the answer's schema refuses."""
    doc: dict[str, Any] = {"components": {"schemas": {"Meta": {
        "type": "object", "properties": {"total": {"type": "integer", "example": 1},
                                         "note": {"type": "string"}}}}}}  # fmt: skip
    meta = {"allOf": [{"$ref": "#/components/schemas/Meta"}, {"required": ["total"]}]}
    body = {"type": "object", "properties": {"meta": meta}, "required": ["meta"]}
    assert sample(body, doc, max_depth=0) == {"meta": {"total": 1}}


def test_a_list_whose_items_require_a_cycle_back_is_sampled_empty() -> None:
    """TypeSpec's visibility sample: Person requires `relatives`, a list of PersonRelative,
    which requires `person`, a Person again. The list held one relative whose person was
    null, which its schema refuses; an empty list is the value that fits."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "Person": {"type": "object", "required": ["name", "relatives"], "properties": {
            "name": {"type": "string"},
            "relatives": {"type": "array",
                          "items": {"$ref": "#/components/schemas/Relative"}}}},
        "Relative": {"type": "object", "required": ["person", "kind"], "properties": {
            "person": {"$ref": "#/components/schemas/Person"}, "kind": {"type": "string"}}},
    }}}  # fmt: skip
    person = sample({"$ref": "#/components/schemas/Person"}, doc)
    assert person == {"name": "string", "relatives": []}
    relative = sample({"$ref": "#/components/schemas/Relative"}, doc)
    assert relative == {"person": {"name": "string", "relatives": []}, "kind": "string"}


def test_required_properties_past_the_fiftieth_are_sampled() -> None:
    """GitHub's full-repository declares 101 properties and requires most of them; only the
    first fifty were sampled, so `forks` and `default_branch` (required) were missing from
    every repository answer. Optional ones stay capped at fifty."""
    props = {f"p{i}": {"type": "integer"} for i in range(120)}
    schema = {"type": "object", "properties": props, "required": ["p0", "p75", "p119"]}
    value = sample(schema, {})
    assert {"p0", "p75", "p119"} <= set(value)
    assert len(value) <= 52
    assert list(value)[:2] == ["p0", "p1"]  # in the order the schema declares them


def test_a_discriminated_variant_keeps_the_enum_an_all_of_reference_gives_it() -> None:
    """OpenAI's ItemResource: anyOf with discriminator `type` (no mapping) over
    InputMessageResource = allOf [$ref InputMessage (type: enum [message]), {id}]. The
    sample's type was "InputMessageResource", the implicit name, which InputMessage's enum
    refuses; a value its own parts allow stands."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "InputMessage": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["message"]}, "role": {"type": "string"}}},
        "InputMessageResource": {"allOf": [
            {"$ref": "#/components/schemas/InputMessage"},
            {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}]},
    }}}  # fmt: skip
    item = {"discriminator": {"propertyName": "type"},
            "anyOf": [{"$ref": "#/components/schemas/InputMessageResource"}]}  # fmt: skip
    assert sample(item, doc)["type"] == "message"


def test_a_default_or_example_outside_the_enum_gives_way_to_an_enum_value() -> None:
    """Kubernetes' generator writes `default: ""` beside an enum that lacks it (KubeVirt
    CDI's NodeSelectorRequirement.operator); the sample sent "" and the console's own check
    of the body refused it. A default or example the enum holds is still used."""
    operator = {"type": "string", "default": "", "enum": ["DoesNotExist", "Exists", "In"]}
    assert sample(operator, {}) == "DoesNotExist"
    assert sample({**operator, "default": "In"}, {}) == "In"
    assert sample({"type": "string", "example": "Nope", "enum": ["a", "b"]}, {}) == "a"
    assert sample({"type": "string", "default": "7", "enum": [7, 8]}, {}) == "7"
    assert (
        sample({"type": "string", "enum": ["a", None], "nullable": True, "default": None}, {})
        is None
    )


def test_an_example_list_shorter_than_min_items_gives_way_to_a_generated_one() -> None:
    # Svix's featureFlags: `type: array, minItems: 1, example: []`. The sample sent [] and
    # the console refused four bodies it had pre-filled ("[] should be non-empty").
    flags = {"type": "array", "minItems": 1, "example": [], "items": {"type": "string"}}
    assert sample(flags, {}) == ["string"]
    assert sample({**flags, "example": ["a"]}, {}) == ["a"]
    assert sample({**flags, "example": None, "default": []}, {}) == ["string"]
    assert sample({"type": "array", "example": [], "items": {"type": "string"}}, {}) == []


def test_an_example_list_longer_than_max_items_gives_way_to_a_generated_one() -> None:
    # OpenFGA's ListUsers `user_filters`: `minItems: 1, maxItems: 1` ("exactly one value")
    # with `example: [{type: user}, {type: group, relation: member}]`; the console pre-filled
    # the body with both and its own check refused it ("is too long").
    filters = {
        "type": "array",
        "minItems": 1,
        "maxItems": 1,
        "example": [{"type": "user"}, {"type": "group"}],
        "items": {"type": "object", "properties": {"type": {"type": "string"}}},
    }
    assert sample(filters, {}) == [{"type": "string"}]
    assert sample({**filters, "example": [{"type": "user"}]}, {}) == [{"type": "user"}]
    assert sample({**filters, "example": None, "default": ["a", "b"]}, {}) == [{"type": "string"}]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "number", "minimum": 0.1, "multipleOf": 1e-320},
        {"type": "integer", "maximum": -5, "multipleOf": 5e-324},
        {"type": "integer", "minimum": float("inf")},
        {"type": "number", "maximum": float("-inf"), "multipleOf": float("inf")},
        {"type": "integer", "exclusiveMinimum": float("nan")},
        {"type": "string", "minLength": 10**30},
    ],
)
def test_a_bound_no_number_can_meet_leaves_the_sample_without_it(schema: dict[str, Any]) -> None:
    """A spec's bounds are its author's text: a step so small that value / step overflows,
    an infinite bound (YAML's .inf) or a minLength past any machine made the operation page
    a 500 (OverflowError), and a minLength of 10**9 built a gigabyte before cutting it."""
    value = sample(schema, {})
    if isinstance(value, str):
        assert len(value) <= 1000
    else:
        assert is_number(value)


def test_an_integer_past_64_bits_is_sampled_as_a_json_number() -> None:
    """`minimum: 1e300` on an integer made a 301-digit int that orjson cannot write
    ('Integer exceeds 64-bit range'): the operation page's console was a 500."""
    import orjson

    for schema in (
        {"type": "integer", "minimum": 1e300},
        {"type": "integer", "maximum": -1e300},
        {"type": "integer", "multipleOf": 1e300},
    ):
        orjson.dumps(sample(schema, {}))


def test_the_names_all_of_parts_declare_are_read_once_per_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Levels of `allOf: [$ref next] * 5` read each part's declared names fan**8 times (the
    depth bound) for every object sampled: 20 levels took 29 s to sample, on every
    operation page that shows the body (anonymous readers' too)."""
    from apis.openapi import sample as sampling

    levels, fan = 20, 5
    schemas: dict[str, Any] = {
        f"S{i}": {
            "allOf": [{"$ref": f"#/components/schemas/S{i + 1}"}] * fan,
            "properties": {f"x{i}": {"type": "string"}},
            "required": [f"x{i}"],
        }
        for i in range(levels)
    }
    schemas[f"S{levels}"] = {"type": "object", "properties": {"z": {"type": "string"}}}
    calls = [0]
    declared = sampling._Sampler._declared

    def counted(self: Any, *args: Any) -> Any:
        calls[0] += 1
        assert calls[0] < 50_000, "the allOf parts' names are read again and again"
        return declared(self, *args)

    monkeypatch.setattr(sampling._Sampler, "_declared", counted)
    value = sample({"$ref": "#/components/schemas/S0"}, {"components": {"schemas": schemas}})
    assert {"x19", "z"} <= set(value)  # the same sample as before


def test_a_dynamic_ref_to_the_schema_being_built_ends_as_a_cycle() -> None:
    """`{$dynamicAnchor: n, allOf: [{$dynamicRef: '#n'}]}` (3.1) bound the reference to the
    schema itself, and each pass built it again: RecursionError, the operation page a 500
    for everyone. A data level further down (a tree's children) still recurses as before."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "Loop": {"$dynamicAnchor": "n", "type": "object",
                 "allOf": [{"$dynamicRef": "#n"}], "properties": {"a": {"type": "string"}}},
        "Tree": {"$dynamicAnchor": "node", "type": "object", "required": ["children"],
                 "properties": {"children": {"type": "array", "items": {"$dynamicRef": "#node"}}}},
    }}}  # fmt: skip
    assert sample({"$ref": "#/components/schemas/Loop"}, doc) == {"a": "string"}
    tree = sample({"$ref": "#/components/schemas/Tree"}, doc)
    assert isinstance(tree["children"], list)


def test_repeated_items_stay_within_a_written_size() -> None:
    """Arrays of arrays with `minItems: 3`, 30 levels (a few KB of spec): each level's item
    was repeated three times, shared, so the sample held 3**depth values; written out for
    the console's body it made an 88 MB operation page for everyone signed in."""
    import orjson

    schemas: dict[str, Any] = {
        f"S{i}": {"type": "array", "items": {"$ref": f"#/components/schemas/S{i + 1}"},
                  "minItems": 3}
        for i in range(30)
    }  # fmt: skip
    schemas["S30"] = {"type": "object", "properties": {"z": {"type": "string"}}}
    value = sample({"$ref": "#/components/schemas/S0"}, {"components": {"schemas": schemas}})
    assert len(orjson.dumps(value)) < 1_000_000
    assert isinstance(value, list) and len(value) >= 1
    # A small list of small items keeps its count.
    few = {"type": "array", "minItems": 3, "items": {"type": "array", "minItems": 2,
           "items": {"type": "integer"}}}  # fmt: skip
    assert sample(few, {}) == [[0, 0], [0, 0], [0, 0]]
    # 2020-12's `contains` with minContains: 20, nested, the same.
    schemas = {
        f"C{i}": {"type": "array", "contains": {"$ref": f"#/components/schemas/C{i + 1}"},
                  "minContains": 20}
        for i in range(10)
    }  # fmt: skip
    schemas["C10"] = {"type": "integer"}
    value = sample({"$ref": "#/components/schemas/C0"}, {"components": {"schemas": schemas}})
    assert len(orjson.dumps(value)) < 1_000_000


def test_an_all_of_part_naming_a_property_again_keeps_the_first_parts_value() -> None:
    """Zulip's responses: allOf [$ref JsonSuccessBase, {additionalProperties: false,
    properties: {result: {}, msg: {}, ...}}]. The empty schemas only name the base's
    properties; the sample said `"result": null` where the base gives "success"."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "Base": {"type": "object", "required": ["result"], "properties": {
            "result": {"type": "string", "enum": ["success"]},
            "id": {"type": "integer", "example": 16},
            "avatar": {"type": "string", "example": "https://example.com/a.png"}}},
    }}}  # fmt: skip
    response = {"allOf": [
        {"$ref": "#/components/schemas/Base"},
        {"additionalProperties": False, "required": ["id"], "properties": {
            "result": {}, "id": {}, "avatar": {"nullable": True}, "extra": {"type": "boolean"}}},
    ]}  # fmt: skip
    assert sample(response, doc) == {
        "result": "success", "id": 16, "avatar": "https://example.com/a.png", "extra": True
    }  # fmt: skip


def test_a_schema_that_only_wraps_a_discriminated_one_of_is_not_a_variant_of_it() -> None:
    """InfluxDB's PostCheck: allOf [$ref CheckDiscriminator], a oneOf of DeadmanCheck, ...
    whose discriminator maps `deadman` to DeadmanCheck. PostCheck is none of the variants:
    the sample said `"type": "PostCheck"`, a value no variant allows, where DeadmanCheck's
    own "deadman" fits (a child `Cat: allOf [Pet]` of a Pet with no oneOf is still a Cat)."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "PostCheck": {"allOf": [{"$ref": "#/components/schemas/CheckDiscriminator"}]},
        "CheckDiscriminator": {
            "oneOf": [{"$ref": "#/components/schemas/DeadmanCheck"},
                      {"$ref": "#/components/schemas/CustomCheck"}],
            "discriminator": {"propertyName": "type", "mapping": {
                "deadman": "#/components/schemas/DeadmanCheck",
                "custom": "#/components/schemas/CustomCheck"}}},
        "DeadmanCheck": {"type": "object", "required": ["type"], "properties": {
            "type": {"type": "string", "enum": ["deadman"]}, "every": {"type": "string"}}},
        "CustomCheck": {"type": "object", "required": ["type"], "properties": {
            "type": {"type": "string", "enum": ["custom"]}, "query": {"type": "string"}}},
        "Pet": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}},
                "discriminator": {"propertyName": "kind"}},
        "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"}]},
        # A variant that is also a child of its union (the union lists it): still tagged.
        "Shape": {"oneOf": [{"$ref": "#/components/schemas/Square"}],
                  "discriminator": {"propertyName": "shape"}},
        "Square": {"allOf": [{"$ref": "#/components/schemas/Shape"},
                             {"type": "object", "properties": {"side": {"type": "integer"}}}]},
    }}}  # fmt: skip
    assert sample({"$ref": "#/components/schemas/PostCheck"}, doc) == {
        "type": "deadman", "every": "string"
    }  # fmt: skip
    assert sample({"$ref": "#/components/schemas/Cat"}, doc) == {"kind": "Cat"}
    assert sample({"$ref": "#/components/schemas/Square"}, doc)["shape"] == "Square"


def test_a_default_beside_a_one_of_that_no_option_allows_is_not_the_sample() -> None:
    """Meilisearch's GetLogs: `mode: {oneOf: [{$ref: LogMode}], default: Human}`, LogMode
    an enum of human, json, profile. The sample took "Human", which the console's own check
    then refused; an option's value stands instead, as for a default beside an enum."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "LogMode": {"type": "string", "enum": ["human", "json", "profile"]},
    }}}  # fmt: skip
    body = {"type": "object", "required": ["mode"], "properties": {
        "mode": {"oneOf": [{"$ref": "#/components/schemas/LogMode"}], "default": "Human"},
        "kept": {"anyOf": [{"$ref": "#/components/schemas/LogMode"}, {"type": "integer"}],
                 "default": "json"},
    }}  # fmt: skip
    assert sample(body, doc) == {"mode": "human", "kept": "json"}


def test_a_default_beside_an_all_of_whose_part_no_option_allows_is_not_the_sample() -> None:
    """Text Generation Inference's spec (utoipa) writes `grammar: {allOf: [{$ref:
    GrammarType}], default: "null", nullable: true}`, GrammarType a oneOf of objects: the
    sample of /generate's body took the string "null", which the console's own check then
    refused ('null' is not valid under any of the given schemas) on a pre-filled form."""
    doc: dict[str, Any] = {"components": {"schemas": {
        "GrammarType": {"oneOf": [
            {"type": "object", "required": ["type", "value"], "properties": {
                "type": {"type": "string", "enum": ["json"]}, "value": {}}},
            {"type": "object", "required": ["type", "value"], "properties": {
                "type": {"type": "string", "enum": ["regex"]}, "value": {"type": "string"}}},
        ]},
    }}}  # fmt: skip
    ref = {"$ref": "#/components/schemas/GrammarType"}
    body = {"type": "object", "required": ["grammar", "adapter_id"], "properties": {
        "grammar": {"allOf": [ref], "default": "null", "nullable": True},
        "kept": {"allOf": [ref], "default": {"type": "regex", "value": "a+"}},
        "adapter_id": {"type": "string", "default": "null", "nullable": True},
    }}  # fmt: skip
    made = sample(body, doc)
    assert made["grammar"] != "null"
    assert made["grammar"]["type"] == "json"
    assert made["kept"] == {"type": "regex", "value": "a+"}
    assert made["adapter_id"] == "null"  # a string: it may be "null"

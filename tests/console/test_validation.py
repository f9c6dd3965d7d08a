"""Bodies and responses against the operation's schemas."""

from __future__ import annotations

import json
from typing import Any

from apis.documents import load_document
from apis.openapi.model import operation_model
from console.validation import check_parameter, check_request_body, check_response, check_value
from tests.console.conftest import op


def test_request_body_against_the_schema(echo: Any) -> None:
    operation = op(echo, "echoPost")
    version = echo.default_version
    doc = load_document(version.pk)

    def check(body: str) -> list[str]:
        return check_request_body(doc, version.pk, operation.model, "application/json", body)

    assert check('{"text": "hi", "priority": "high"}') == []
    assert check('{"priority": "urgent"}') == [
        "body: 'text' is a required property",
        "body.priority: 'urgent' is not one of ['low', 'normal', 'high']",
    ]
    assert check("{nope")[0].startswith("body: not valid JSON")


def test_response_against_the_schema(echo: Any) -> None:
    operation = op(echo, "echoGet")
    version = echo.default_version
    doc = load_document(version.pk)

    def check(status: int, content_type: str, value: Any) -> list[str]:
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        return check_response(doc, version.pk, operation.model, status, content_type, body)

    assert check(200, "application/json", {"method": "GET", "query": {"a": "b"}}) == []
    assert check(200, "application/json", {"method": 5}) == [
        "body.method: 5 is not of type 'string'"
    ]
    assert check(418, "application/json", {}) == [
        "Status 418 is not documented for this operation (documented: 200, 401, 403, 429)."
    ]
    assert check(200, "text/html", b"<p>") == [
        "Content-Type text/html is not documented for 200 (documented: application/json)."
    ]
    assert check(200, "application/json", b"{bad") == [
        "The body is not valid JSON although its Content-Type says JSON."
    ]


def test_openapi_30_nullable_and_read_only() -> None:
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "components": {"schemas": {"Pet": {
            "type": "object", "required": ["id", "name"],
            "properties": {"id": {"type": "integer", "readOnly": True},
                           "name": {"type": "string", "nullable": True}},
        }}},
    }  # fmt: skip
    schema = {"$ref": "#/components/schemas/Pet"}
    assert check_value(doc, -30, schema, {"name": None}, direction="request", prefix="body") == []
    assert check_value(doc, -30, schema, {"name": None}, direction="response", prefix="body") == [
        "body: 'id' is a required property"
    ]


def test_an_empty_enum_beside_the_values_is_not_checked() -> None:
    # Discord's generator writes `enum: []` beside `allOf: [$ref: Status]`, which lists the
    # values. The pages leave the empty list out; checked, it refused every value sent.
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "components": {"schemas": {"Status": {"type": "string", "enum": ["STARTED", "DONE"]}}},
    }
    schema = {
        "type": "object",
        "properties": {
            "action": {
                "type": "string",
                "enum": [],
                "allOf": [{"$ref": "#/components/schemas/Status"}],
            }
        },
    }
    ok = {"action": "STARTED"}
    assert check_value(doc, -36, schema, ok, direction="request", prefix="body") == []
    assert check_value(doc, -36, schema, {"action": "x"}, direction="request", prefix="body") == [
        "body.action: 'x' is not one of ['STARTED', 'DONE']"
    ]


def test_a_30_nullable_without_a_type_allows_null() -> None:
    # DigitalOcean's inference `stop`: `nullable: true, default: null, oneOf: [string,
    # array]`. The pages read it "one of | null" and the body sample is its default, null,
    # which the check refused ("None is not valid under any of the given schemas").
    doc: dict[str, Any] = {"openapi": "3.0.3", "components": {"schemas": {}}}
    stop = {
        "nullable": True,
        "default": None,
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    schema = {"type": "object", "properties": {"stop": stop}}

    def check(value: Any) -> list[str]:
        return check_value(doc, -37, schema, value, direction="request", prefix="body")

    assert check({"stop": None}) == []
    assert check({"stop": ["a"]}) == []
    assert check({"stop": 3}) == ["body.stop: 3 is not valid under any of the given schemas"]


def test_a_31_document_s_nullable_allows_null_as_its_pages_read_it() -> None:
    # OpenAI's 3.1 spec keeps 3.0's `nullable: true, default: null` (logit_bias, suffix):
    # the pages read "object | null" and the body sample is the default, null, which the
    # check refused ("None is not of type 'object'"), as it does a null nothing allows.
    doc: dict[str, Any] = {"openapi": "3.1.0", "components": {"schemas": {}}}
    schema = {
        "type": "object",
        "properties": {
            "bias": {"type": "object", "nullable": True, "default": None,
                     "additionalProperties": {"type": "integer"}},
            "suffix": {"type": ["string"], "nullable": True, "enum": ["a", "b"]},
            "plain": {"type": "string"},
        },
    }  # fmt: skip

    def check(value: Any) -> list[str]:
        return check_value(doc, -38, schema, value, direction="request", prefix="body")

    assert check({"bias": None, "suffix": None}) == []
    assert check({"bias": {"a": 1}, "suffix": "a"}) == []
    assert check({"plain": None}) == ["body.plain: None is not of type 'string'"]


def test_a_string_enum_written_as_yaml_booleans_or_numbers_takes_their_text() -> None:
    # oasdiff's home-iot spec: `value: {type: string, enum: [true, false]}` (YAML reads the
    # unquoted words as booleans), Plaid's `type: string, enum: [4.1]`. The field and the
    # sample hold the text, "true", which the check refused ("'true' is not one of [True,
    # False]") whatever was typed: no string is a boolean.
    doc: dict[str, Any] = {"openapi": "3.0.3", "components": {"schemas": {}}}
    switch = {"type": "string", "enum": [True, False]}
    version = {"type": "string", "enum": [4.1, "latest"]}

    def check(schema: Any, value: Any) -> list[str]:
        return check_value(doc, -39, schema, value, direction="request", prefix="value")

    assert check(switch, "true") == [] and check(version, "4.1") == []
    assert check(version, "latest") == []
    assert check(switch, "maybe") == ["value: 'maybe' is not one of ['true', 'false']"]
    assert check({"type": "boolean", "enum": [True]}, True) == []


def test_a_parameter_of_several_scalar_types_is_read_as_any_of_them() -> None:
    # OpenAPI 3.1 `type: [integer, string]` (an id given as a number or a name): the field's
    # text was read as the first type listed only, so "abc" was refused as "not an integer"
    # and, with `[string, integer]` and `const: 7`, the pre-filled 7 as "7 was expected".
    doc: dict[str, Any] = {"openapi": "3.1.0", "components": {"schemas": {}}}
    operation = operation_model({"parameters": [
        {"name": "id", "in": "path", "required": True,
         "schema": {"type": ["integer", "string"], "minimum": 1}},
        {"name": "seven", "in": "query", "schema": {"type": ["string", "integer"], "const": 7}},
        {"name": "flag", "in": "query", "schema": {"type": ["null", "boolean", "integer"]}},
    ]})  # fmt: skip

    def check(**params: dict[str, str]) -> list[str]:
        return [
            problem
            for param in operation.parameters
            for problem in check_parameter(
                doc, -40, param, params.get(param.location, {}).get(param.name, "")
            )
        ]

    assert check(path={"id": "abc"}, query={"seven": "7", "flag": "true"}) == []
    assert check(path={"id": "12"}, query={"flag": "3"}) == []
    # A text no type fits is refused as the first type that reads it.
    assert check(query={"seven": "8"}) == ["query seven: 7 was expected"]
    assert check(query={"flag": "maybe"}) == [
        "query flag: 'maybe' is not true or false nor an integer"
    ]


def test_a_30_ref_s_sibling_keywords_are_not_checked() -> None:
    # OpenAPI 3.0: a Reference Object's other keys SHALL be ignored. Reckon One's CreditNote
    # writes `amountTaxStatus: {type: object, $ref: AmountTaxStatus}` (a string enum): the
    # pages and the sample read the enum, and the check refused the sample's "NonTaxed" as
    # "not of type 'object'". In 3.1 the siblings apply beside the target, as before.
    schemas = {"Status": {"type": "string", "enum": ["NonTaxed", "Inclusive"]}}
    schema = {
        "type": "object",
        "properties": {
            "status": {"type": "object", "$ref": "#/components/schemas/Status"},
        },
    }
    body = {"status": "NonTaxed"}
    for version, key, expected in (
        ("3.0.3", -41, []),
        ("3.1.0", -42, ["body.status: 'NonTaxed' is not of type 'object'"]),
    ):
        doc: dict[str, Any] = {"openapi": version, "components": {"schemas": schemas}}
        found = check_value(doc, key, schema, body, direction="request", prefix="body")
        assert found == expected, version
    doc = {"openapi": "3.0.3", "components": {"schemas": schemas}}
    refused = check_value(doc, -43, schema, {"status": "Gross"}, direction="request", prefix="body")
    assert refused == ["body.status: 'Gross' is not one of ['NonTaxed', 'Inclusive']"]


def test_read_only_properties_declared_in_all_of_parts_are_not_required() -> None:
    # PagerDuty's custom field: `required: [id, summary, name, ...]` beside
    # `allOf: [{properties: {id: {readOnly: true}, ...}}]`, the properties declared in the
    # part. The check read only the schema's own `properties`, so creating a field was
    # refused for lacking `id` and `summary`, which the server writes.
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "components": {"schemas": {
            "Shared": {"type": "object", "properties": {
                "summary": {"type": "string", "nullable": True, "readOnly": True},
            }},
            "Field": {
                "required": ["id", "summary", "name"],
                "allOf": [
                    {"type": "object", "properties": {
                        "id": {"type": "string", "readOnly": True},
                        "name": {"type": "string"},
                    }},
                    {"$ref": "#/components/schemas/Shared"},
                ],
            },
            # The field option's shape: the `required` in a part of its own.
            "Option": {"allOf": [
                {"$ref": "#/components/schemas/Field"},
                {"type": "object", "required": ["id", "name"]},
            ]},
        }},
    }  # fmt: skip
    option = {"$ref": "#/components/schemas/Option"}
    assert check_value(doc, -44, option, {"name": "env"}, direction="request", prefix="body") == []
    schema = {"$ref": "#/components/schemas/Field"}
    assert check_value(doc, -44, schema, {"name": "env"}, direction="request", prefix="body") == []
    assert check_value(doc, -44, schema, {}, direction="request", prefix="body") == [
        "body: 'name' is a required property"
    ]
    assert check_value(doc, -44, schema, {"name": "env"}, direction="response", prefix="body") == [
        "body: 'id' is a required property",
        "body: 'summary' is a required property",
    ]


def test_read_and_write_only_through_refs_are_not_required() -> None:
    # `id: {$ref: Id}` with Id readOnly (GitHub's shape): the request sample leaves it out,
    # and the check refused that very body for lacking it; a writeOnly secret the other way.
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "components": {"schemas": {
            "Id": {"type": "string", "readOnly": True},
            "Secret": {"type": "string", "writeOnly": True},
            "Thing": {
                "type": "object", "required": ["id", "owner", "secret", "name"],
                "properties": {"id": {"$ref": "#/components/schemas/Id"},
                               "owner": {"allOf": [{"$ref": "#/components/schemas/Id"}]},
                               "secret": {"$ref": "#/components/schemas/Secret"},
                               "name": {"type": "string"}},
            },
        }},
    }  # fmt: skip
    schema = {"$ref": "#/components/schemas/Thing"}
    sent = {"secret": "s", "name": "n"}
    assert check_value(doc, -31, schema, sent, direction="request", prefix="body") == []
    answered = {"id": "1", "owner": "2", "name": "n"}
    assert check_value(doc, -31, schema, answered, direction="response", prefix="body") == []
    assert check_value(doc, -31, schema, {"secret": "s"}, direction="request", prefix="body") == [
        "body: 'name' is a required property"
    ]


def test_formats_tell_apart_one_of_options_a_value_fits_several_of() -> None:
    # Kong's metering API: `timing: oneOf: [enum [immediate, next_billing_cycle], DateTime
    # (string, format: date-time)]`, example "immediate". With formats as annotations the
    # example fits both, so the console refused the body it had pre-filled ("is valid under
    # each of"). Where formats leave one option, that is the one; where they leave several
    # or none, plain oneOf as before.
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "components": {"schemas": {
            "When": {"type": "string", "enum": ["immediate", "next_billing_cycle"]},
            "DateTime": {"type": "string", "format": "date-time"},
        }},
    }  # fmt: skip
    schema = {
        "type": "object",
        "properties": {
            "timing": {
                "oneOf": [
                    {"$ref": "#/components/schemas/When"},
                    {"$ref": "#/components/schemas/DateTime"},
                ]
            },
            "id": {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "string"}]},
        },
    }

    def check(value: Any) -> list[str]:
        return check_value(doc, -40, schema, value, direction="request", prefix="body")

    assert check({"timing": "immediate"}) == []
    assert check({"timing": "2023-01-01T01:01:01.001Z"}) == []
    assert check({"timing": "2023-01-01T01:01:01+02:00"}) == []
    assert check({"id": "not-a-uuid"}) == []
    # A uuid fits both even with formats asserted: still refused.
    assert "is valid under each of" in check({"id": "0f8fad5b-d9cb-469f-a165-70867728950e"})[0]


def test_a_discriminator_picks_the_one_of_variant_a_body_is_checked_against() -> None:
    # ReadMe's polymorphism example (and any Pet: oneOf [Cat, Dog] whose variants allow more
    # properties): `{"pet_type": "Cat", "hunts": true}` fits both, so plain oneOf refused it
    # ("is valid under each of") and the console would not send it. OpenAPI's discriminator
    # says which variant the body is.
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "components": {"schemas": {
            "Cat": {"type": "object", "properties": {"pet_type": {"type": "string"},
                                                     "hunts": {"type": "boolean"}}},
            "Dog": {"type": "object", "properties": {"pet_type": {"type": "string"},
                                                     "bark": {"type": "boolean"}}},
            "Pet": {
                "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                "discriminator": {"propertyName": "pet_type", "mapping": {"dog": "Dog"}},
            },
        }},
    }  # fmt: skip
    schema = {"$ref": "#/components/schemas/Pet"}

    def check(value: Any) -> list[str]:
        return check_value(doc, -32, schema, value, direction="request", prefix="body")

    assert check({"pet_type": "Cat", "hunts": True}) == []  # by the schema's name
    assert check({"pet_type": "dog", "bark": True}) == []  # by the mapping
    assert check({"pet_type": "dog", "bark": "loud"}) == [
        "body.bark: 'loud' is not of type 'boolean'"
    ]
    # No discriminator value to go by: plain oneOf, as before.
    assert "is valid under each of" in check({"hunts": True})[0]


def test_a_discriminator_on_the_variants_parent_picks_the_variant_too() -> None:
    # ReadMe's "embedded discriminator": `oneOf: [Cat, Dog]` with none of its own, each
    # variant `allOf: [Pet, ...]` where Pet has it (Redoc and Swagger UI read it there).
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "components": {"schemas": {
            "Pet": {"type": "object", "required": ["pet_type"],
                    "properties": {"pet_type": {"type": "string"}},
                    "discriminator": {"propertyName": "pet_type", "mapping": {"cat": "#/components/schemas/Cat"}}},
            "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"},
                              {"type": "object", "properties": {"hunts": {"type": "boolean"}}}]},
            "Dog": {"allOf": [{"$ref": "#/components/schemas/Pet"},
                              {"type": "object", "properties": {"bark": {"type": "boolean"}}}]},
        }},
    }  # fmt: skip
    schema = {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]}

    def check(value: Any) -> list[str]:
        return check_value(doc, -33, schema, value, direction="request", prefix="body")

    assert check({"pet_type": "cat", "hunts": True}) == []
    assert check({"pet_type": "Dog", "bark": True}) == []
    assert check({"pet_type": "Dog", "bark": 1}) == ["body.bark: 1 is not of type 'boolean'"]


def test_a_discriminator_default_mapping_picks_the_variant_for_other_values() -> None:
    # OpenAPI 3.2's `defaultMapping`: a value the mapping does not name (or no value at all)
    # is the default variant, not a plain oneOf that both open variants fit.
    doc: dict[str, Any] = {
        "openapi": "3.2.0",
        "components": {"schemas": {
            "Cat": {"type": "object", "properties": {"hunts": {"type": "boolean"}}},
            "Dog": {"type": "object", "properties": {"bark": {"type": "boolean"}}},
            "Pet": {
                "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                "discriminator": {"propertyName": "kind", "mapping": {"cat": "Cat"},
                                  "defaultMapping": "#/components/schemas/Dog"},
            },
        }},
    }  # fmt: skip
    schema = {"$ref": "#/components/schemas/Pet"}

    def check(value: Any) -> list[str]:
        return check_value(doc, -34, schema, value, direction="request", prefix="body")

    assert check({"kind": "cat", "hunts": True}) == []
    assert check({"kind": "hamster", "bark": True}) == []
    assert check({"bark": True}) == []
    assert check({"kind": "hamster", "bark": "loud"}) == [
        "body.bark: 'loud' is not of type 'boolean'"
    ]


def test_items_written_as_a_list_are_checked_as_a_tuple_not_refused_as_unusable() -> None:
    # Redoc's demo (and draft-04 habits): `items: [{...}]`. The 2020-12 checker crashed on
    # it (AttributeError) and every body was "could not be used to check it".
    doc: dict[str, Any] = {"openapi": "3.0.3", "components": {"schemas": {}}}
    schema = {
        "type": "object",
        "properties": {
            "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
            "more": {"type": "array", "items": [{"type": "string"}],
                     "additionalItems": {"type": "boolean"}},
        },
    }  # fmt: skip

    def check(value: Any) -> list[str]:
        return check_value(doc, -35, schema, value, direction="request", prefix="body")

    assert check({"pair": ["a", 1], "more": ["x", True, False]}) == []
    assert check({"pair": [1]}) == ["body.pair[0]: 1 is not of type 'string'"]
    assert check({"more": ["x", 3]}) == ["body.more[1]: 3 is not of type 'boolean'"]


def test_a_streamed_item_schema_is_not_checked_against_the_whole_body() -> None:
    """OpenAPI 3.2 `itemSchema` describes each item of a stream (JSON Lines, events), so a
    body of several items is not refused for failing it as one value."""
    doc: dict[str, Any] = {"openapi": "3.2.0", "components": {"schemas": {}}}
    item = {"type": "object", "required": ["id"]}
    operation = operation_model({
        "requestBody": {"content": {"application/jsonl": {"itemSchema": item}}},
        "responses": {"200": {"content": {"application/json-seq": {"itemSchema": item}}}},
    })  # fmt: skip
    body = '{"id": 1}\n{"id": 2}'
    assert check_request_body(doc, -32, operation, "application/jsonl", body) == []
    assert check_response(doc, -32, operation, 200, "application/json-seq", b"[]") == []


def test_a_merge_patch_names_only_what_changes_and_may_null_a_member() -> None:
    """Eclipse Ditto's PATCH /things/{thingId} takes `application/merge-patch+json` (RFC
    7396) of its Thing schema: a patch names only what changes and `null` removes a member,
    so the console's check refused the spec's own example, `{"definition": null, ...}`, and
    any patch lacking the Thing's required thingId and policyId. Types still count."""
    doc: dict[str, Any] = {"openapi": "3.0.3", "components": {"schemas": {}}}
    thing = {
        "type": "object",
        "required": ["thingId", "policyId"],
        "properties": {
            "thingId": {"type": "string"},
            "policyId": {"type": "string"},
            "definition": {"type": "array", "items": {"type": "string"}},
            "attributes": {"type": "object", "required": ["serial"],
                           "properties": {"serial": {"type": "string"}}},
        },
    }  # fmt: skip
    media = "application/merge-patch+json"
    operation = operation_model({
        "requestBody": {"content": {media: {"schema": thing}, "application/json": {"schema": thing}}},
        "responses": {"204": {"description": "patched"}},
    })  # fmt: skip
    patch = '{"definition": null, "attributes": {"location": "Berlin"}}'
    assert check_request_body(doc, -33, operation, media, patch) == []
    assert check_request_body(doc, -33, operation, media, '{"definition": "x"}') == [
        "body.definition: 'x' is not of type 'array'"
    ]
    assert "body: 'thingId' is a required property" in check_request_body(
        doc, -33, operation, "application/json", patch
    )


def test_a_response_that_is_not_an_object_is_documented_without_content() -> None:
    """The typed model keeps a status whose response is not an object (a spec's `"200": "OK"`)
    as a response with no content: the status is documented, and its body is not checked.
    The raw checks said such a status was not documented while listing it as documented."""
    doc: dict[str, Any] = {"openapi": "3.0.3", "components": {"schemas": {}}}
    operation = operation_model({"responses": {"200": "OK", "404": {"description": "none"}}})
    assert check_response(doc, -33, operation, 200, "application/json", b"{}") == []
    assert check_response(doc, -33, operation, 500, "application/json", b"{}") == [
        "Status 500 is not documented for this operation (documented: 200, 404)."
    ]


def test_a_generated_body_passes_the_consoles_own_check() -> None:
    # The console fills the body with a sample made from the schema; with "string" where the
    # spec says `^[A-Z]{3}$`, sending it untouched was refused as "does not match".
    from apis.openapi.sample import sample

    doc: dict[str, Any] = {"openapi": "3.1.0", "components": {"schemas": {}}}
    schema = {
        "type": "object",
        "required": ["currency", "account", "reference"],
        "properties": {
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "account": {"type": "string", "pattern": r"^acct_[0-9a-zA-Z]{16}$"},
            "reference": {"type": "string", "pattern": "^[a-z]{2}-[0-9]+$", "maxLength": 10},
            "iban": {"type": "string", "pattern": r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$"},
        },
    }
    body = sample(schema, doc)
    assert check_value(doc, 0, schema, body, direction="request", prefix="body") == []


def _one_of_bomb(levels: int) -> dict[str, Any]:
    """Each level a oneOf of the next level twice: 2**levels checks of the same value."""
    schemas: dict[str, Any] = {f"L{levels}": {"type": "object"}}
    for n in range(levels - 1, -1, -1):
        ref = {"$ref": f"#/components/schemas/L{n + 1}"}
        schemas[f"L{n}"] = {"oneOf": [ref, dict(ref)]}
    return {"openapi": "3.1.0", "components": {"schemas": schemas}}


def test_a_schema_whose_checks_multiply_is_refused_not_run_for_ever() -> None:
    """A spec's schema of nested oneOfs of references, each naming the next level twice,
    made the console's check of a one-key body take 2**levels steps: at 40 levels the worker
    never answered. The check stops at a step budget and says so."""
    doc = _one_of_bomb(40)
    problems = check_value(
        doc, -40, {"$ref": "#/components/schemas/L0"}, {"a": 1}, direction="request", prefix="body"
    )
    assert problems == [
        "The documented schema is too complex to check this value against "
        "(it took more than 100,000 steps); nothing was refused for it."
    ]


def test_a_deep_value_cannot_multiply_the_checks_either() -> None:
    """The same blow-up driven by the value: a oneOf of two branches that both describe
    `next` as the schema itself doubles the work at each level of a nested body."""
    node = {"oneOf": [
        {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
        {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
    ]}  # fmt: skip
    doc = {"openapi": "3.1.0", "components": {"schemas": {"Node": node}}}
    value: dict[str, Any] = {}
    for _ in range(40):
        value = {"next": value}
    problems = check_value(
        doc, -41, {"$ref": "#/components/schemas/Node"}, value, direction="request", prefix="body"
    )
    assert problems and "too complex" in problems[0]


def test_an_ordinary_schema_is_checked_within_the_budget() -> None:
    doc = _one_of_bomb(6)  # 64 paths: ambiguous, so every value fails oneOf, and says why
    problems = check_value(
        doc, -42, {"$ref": "#/components/schemas/L0"}, {"a": 1}, direction="request", prefix="body"
    )
    assert problems and "too complex" not in problems[0]

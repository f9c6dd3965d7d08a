"""The examples a spec writes itself: which field of an Example object holds its value,
whether an `example` is given at all (`example: null` on a schema that allows no null is
none), whether an example may stand as a schema's sample, and a JSON body's example written
as a string of JSON text.
"""

from __future__ import annotations

from typing import Any

import orjson

from apis.openapi.scalar_sample import OF_KIND, kind_of, positive


def example_value_key(example: dict[str, Any]) -> str | None:
    """Which field of an Example object holds its value: OpenAPI 3.2's `dataValue` (the data),
    else `value`, else 3.2's `serializedValue` (the value as sent, a string)."""
    return next((k for k in ("dataValue", "value", "serializedValue") if k in example), None)


def json_text_value(value: Any, schema: Any) -> Any:
    """A JSON body's example that is a string holding an object or array's JSON text, read as
    that JSON; anything else as it is. Elasticsearch writes all its examples so, as Swagger UI
    shows them; taken as a string, pages showed one quoted line of escaped line breaks, and
    the console and the mock sent a JSON string. A body whose schema is a string keeps it."""
    types = schema.get("type") if isinstance(schema, dict) else None
    if not isinstance(value, str) or types == "string":
        return value
    if isinstance(types, list) and "string" in types:
        return value
    return json_text(value)


# How deep JSON text read from an example may nest: the document's own nesting is limited at
# import (APIS_MAX_DEPTH), text in a string is not, and orjson writes 254 levels at most.
JSON_TEXT_DEPTH = 64


def json_text(value: str) -> Any:
    """The object or array `value` is the JSON text of, else `value`."""
    text = value.strip()
    if not text.startswith(("{", "[")):
        return value
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return value
    return value if _deeper_than(parsed, JSON_TEXT_DEPTH) else parsed


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` lists and objects deep (walked without
    recursion, so a deep value cannot exhaust the stack)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def allows_null(schema: Any) -> bool:
    """Whether `schema` visibly allows `null`: nullable, a "null" type, null in its enum or
    const, a null variant, or no type at all. A `$ref` is taken not to (its target is not
    looked up). HubSpot's specs (swagger-core output) write `example: null` on schemas that
    do not: an example that `null` is no example there."""
    if not isinstance(schema, dict):
        return True
    kind = schema.get("type")
    if schema.get("nullable") is True or kind == "null":
        return True
    if isinstance(kind, list):
        return "null" in kind
    if isinstance(schema.get("enum"), list):
        return None in schema["enum"]
    if "const" in schema:
        return schema["const"] is None
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and any(
            isinstance(v, dict) and "$ref" not in v and allows_null(v) for v in schema[key]
        ):
            return True
    return kind is None and not any(
        k in schema for k in ("$ref", "properties", "items", "allOf", "oneOf", "anyOf")
    )


def has_example(container: dict[str, Any], key: str = "example") -> bool:
    """Whether `container` (a schema, parameter or media type) gives an example under `key`:
    not when it is `null` and its schema does not allow null."""
    if key not in container:
        return False
    if container[key] is not None:
        return True
    return allows_null(container.get("schema", container))


def of_its_type(schema: dict[str, Any], value: Any) -> bool:
    """Whether an example (or default) is of the type its schema says, when it says one.
    Specs get it wrong: Ory Hydra's `example: "https://a, https://b"` on an array of URLs,
    Apideck's `example: 2.75` on an integer. Sent as written, the console's own check of the
    body refused them; a generated value of the type is sent instead."""
    kind = schema.get("type")
    kinds = [str(k) for k in kind] if isinstance(kind, list) else [str(kind)]
    if not all(k in OF_KIND or k == "null" for k in kinds):
        return True  # no type, or one this does not know: nothing to hold it to
    if value is None:
        return "null" in kinds or schema.get("nullable") is True
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict) and "array" in kinds:
        # Its items too: SendGrid's `example: ["recipient_id1"]` on an array of integers.
        return all(of_its_type(items, item) for item in value)
    return any(OF_KIND[k](value) for k in kinds if k != "null")


def may_stand(schema: dict[str, Any], value: Any) -> bool:
    """Whether an example or default may stand as the sample: of the schema's type, as many
    items as `minItems` asks and no more than `maxItems` allows, and one of its enum when it
    lists one. Kubernetes' generator writes `default: ""` beside an enum without it (a
    NodeSelectorRequirement's operator); the console's check refused it."""
    if not of_its_type(schema, value):
        return False
    least = schema.get("minItems")
    if (
        isinstance(value, list)
        and isinstance(least, int)
        and positive(least)
        and len(value) < least
    ):
        return False  # Svix's featureFlags: `minItems: 1, example: []`
    most = schema.get("maxItems")
    if (
        isinstance(value, list)
        and isinstance(most, int)
        and not isinstance(most, bool)
        and len(value) > most
    ):
        return False  # OpenFGA's user_filters: `maxItems: 1` and an example of two
    enum = schema.get("enum")
    if not isinstance(enum, list) or not enum:
        return True
    if value is None:
        # `type: [string, null], default: null` beside an enum without null (Rebilly's
        # AmlPriority): the enum still refuses it. 3.0's `nullable: true` adds null to the
        # enum, as the console's check reads it.
        return None in enum or schema.get("nullable") is True
    return value in enum or any(
        isinstance(e, int | float | bool) and orjson.dumps(e).decode() == value for e in enum
    )


def as_written(schema: dict[str, Any], example: Any) -> Any:
    """An example as the schema's type reads it. JSON text under an object or array schema
    (Typesense writes `example: |` and the JSON under it) is the value that text holds, else
    it was sent as a string; a number or true/false under a string schema (`example: 42` for
    an id) is its JSON text, as enum values are (enum_value)."""
    kind = kind_of(schema)
    if kind == "string" and isinstance(example, int | float) and schema.get("type") == "string":
        return orjson.dumps(example).decode()
    items = schema.get("items")
    if kind == "array" and isinstance(example, list) and isinstance(items, dict):
        return [as_written(items, item) for item in example]  # `[7]` of strings: ["7"]
    if not isinstance(example, str) or kind not in ("object", "array"):
        return example
    return json_text(example)

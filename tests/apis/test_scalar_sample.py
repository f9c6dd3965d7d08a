from __future__ import annotations

from typing import Any

import pytest

from apis.openapi.scalar_sample import enum_value, kind_of, scalar


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer", "minimum": 5, "exclusiveMinimum": True}, 6),  # 3.0's spelling
        ({"type": "integer", "exclusiveMinimum": 5}, 6),  # 3.1's
        ({"type": "integer", "minimum": 7, "multipleOf": 5}, 10),
        ({"type": "number", "maximum": -2.5}, -2.5),
        ({"type": "integer", "minimum": float("inf")}, 0),  # YAML's .inf bounds nothing
        ({"type": "string", "format": "email"}, "user@example.com"),
        ({"type": "string", "minLength": 10}, "stringstri"),
        ({"type": "string", "maxLength": 3}, "str"),
        ({"type": "string", "pattern": "^[0-9]{3}$"}, "000"),
        ({"type": "boolean"}, True),
    ],
)
def test_a_scalar_sample_keeps_to_its_schemas_rules(schema: dict[str, Any], expected: Any) -> None:
    assert scalar(schema, kind_of(schema)) == expected


def test_an_enum_of_numbers_under_a_string_type_gives_the_numbers_json_text() -> None:
    assert enum_value([4.1, 5], "string") == "4.1"
    assert enum_value(["a", 1], "integer") == 1


def test_the_kind_of_an_untyped_schema_comes_from_its_keywords() -> None:
    assert kind_of({"properties": {}}) == "object"
    assert kind_of({"prefixItems": []}) == "array"
    assert kind_of({"type": ["null", "string"]}) == "string"

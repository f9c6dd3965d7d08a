from __future__ import annotations

from typing import Any

import pytest

from apis.openapi.examples import as_written, has_example, json_text_value, may_stand


@pytest.mark.parametrize(
    ("container", "given"),
    [
        ({"example": 3}, True),
        ({}, False),
        ({"example": None, "schema": {"type": "string"}}, False),  # null where none is allowed
        ({"example": None, "schema": {"type": ["string", "null"]}}, True),
        ({"example": None, "nullable": True}, True),
    ],
)
def test_an_example_of_null_counts_only_where_null_is_allowed(
    container: dict[str, Any], given: bool
) -> None:
    assert has_example(container) is given


def test_json_text_is_read_unless_the_body_is_a_string() -> None:
    assert json_text_value('{"a": 1}', {"type": "object"}) == {"a": 1}
    assert json_text_value('{"a": 1}', {"type": "string"}) == '{"a": 1}'
    assert json_text_value("{not json", {}) == "{not json"


@pytest.mark.parametrize(
    ("schema", "value", "stands"),
    [
        ({"type": "integer"}, 2.75, False),  # Apideck's float on an integer
        ({"type": "array", "items": {"type": "string"}}, "https://a, https://b", False),
        ({"type": "string", "enum": ["a", "b"]}, "", False),  # a default outside its enum
        ({"type": "array", "minItems": 2}, [1], False),
        ({"type": "array", "minItems": 2}, [1, 2], True),
        ({"type": "string"}, "x", True),
    ],
)
def test_an_example_stands_as_the_sample_only_when_it_fits(
    schema: dict[str, Any], value: Any, stands: bool
) -> None:
    assert may_stand(schema, value) is stands


def test_an_example_is_read_as_its_schemas_type() -> None:
    assert as_written({"type": "object"}, '{"id": 1}') == {"id": 1}
    assert as_written({"type": "string"}, 42) == "42"

"""A spec's pattern is never run where Python's backtracking could take minutes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from apis.openapi.regex_safety import safe_search
from apis.openapi.sample import sample
from console.validation import check_value

EVIL = ["^(a+)+$", "(a|a)*b", "(a|ab)*c", r"^(\w+\s?)+$", "(a{1,99}){1,99}x", r"(x+)\1*y"]


@pytest.mark.parametrize("pattern", EVIL)
def test_an_exponential_pattern_is_not_run(pattern: str) -> None:
    assert safe_search(pattern, "a" * 40 + "!") is None


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        (r"^\d{3}-\d{4}$", "555-0100", True),
        (r"^\d{3}-\d{4}$", "555-01", False),
        ("^[A-Z]{3}$", "EUR", True),
        ("(a|b)*c", "ababc", True),  # alternatives that cannot start alike: safe
        ("^[a-z]+@[a-z]+\\.[a-z]+$", "dev@example.org", True),
        ("^x-", "x-rate", True),
    ],
)
def test_an_ordinary_pattern_answers_as_re_does(pattern: str, text: str, found: bool) -> None:
    assert safe_search(pattern, text) is found
    assert (re.search(pattern, text) is not None) is found


def test_a_polynomial_pattern_runs_only_on_text_it_can_finish() -> None:
    # Three unbounded repeats: len ** 3 steps at worst.
    pattern = "^[a-z]+@[a-z]+\\.[a-z]+$"
    assert safe_search(pattern, "a" * 100) is False
    assert safe_search(pattern, "a" * 5_000) is None


def test_the_console_check_of_an_evil_pattern_answers_at_once() -> None:
    """The spec's own example for a `^(a+)+$` field, sent from the console, held the worker
    for minutes in the body check. Now the pattern is left unchecked; nothing is refused."""
    doc: dict[str, Any] = {"openapi": "3.1.0", "components": {"schemas": {}}}
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^(a+)+$"}}}
    value = {"name": "a" * 40 + "!"}
    assert check_value(doc, -50, schema, value, direction="request", prefix="body") == []
    # A safe pattern is still checked.
    schema["properties"]["name"]["pattern"] = "^[a-z]+$"  # type: ignore[index]
    assert check_value(doc, -51, schema, value, direction="request", prefix="body") == [
        "body.name: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' does not match '^[a-z]+$'"
    ]


def test_evil_property_name_patterns_are_not_run_on_the_names() -> None:
    doc: dict[str, Any] = {"openapi": "3.1.0", "components": {"schemas": {}}}
    schema = {
        "type": "object",
        "patternProperties": {"^(a+)+$": {"type": "integer"}},
        "additionalProperties": False,
    }
    value = {"a" * 40 + "!": 1}
    assert check_value(doc, -52, schema, value, direction="request", prefix="body") == []


def test_a_sample_for_an_evil_pattern_is_made_without_running_it() -> None:
    schema = {"type": "string", "pattern": "^(a+)+$", "minLength": 30}
    text = sample(schema, {})
    assert len(text) >= 30 and set(text) == {"a"}  # what ^(a+)+$ matches, found at once

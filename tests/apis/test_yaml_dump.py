"""apis.yaml_dump: what YAML loaders read back is the document, value for value."""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from apis.yaml_dump import dump
from tests.conftest import DEMO_SPECS

TRICKY: dict[str, Any] = {
    "openapi": "3.1.0",
    "on": "push",
    "y": ["yes", "no", "on", "off", "true", "False", "null", "~", "NULL", ""],
    "numbers as text": ["1", "1.0", "0x1F", "1e3", "010", ".inf", "-.nan", "2024-01-01", "12:30"],
    "numbers": [0, -1, 2**62, 2**64, -(2**70), 1.5, -0.25, 1e-05, 1e16, 3.0],
    "text": [
        "line\nbreak",
        " leading and trailing ",
        "key: value # not a comment",
        "- dash",
        "{flow}",
        "[flow]",
        "*alias",
        "&anchor",
        "!tag",
        "|",
        ">",
        "'single'",
        '"double"',
        "back\\slash",
        "tab\there",
        "nel\x85ls\u2028ps\u2029bom\ufeffdel\x7f",
        "bell\x07esc\x1b",
        "émoji 🙂 中文",
    ],
    "keys": {
        "/users/{id}": 1,
        "$ref": "#/components/schemas/Pet",
        "application/json": 2,
        "*/*": 3,
        "200": 4,
        "2XX": 5,
        "text/plain; charset=utf-8": 6,
        "x-foo": 7,
        "has: colon": 8,
        "has #hash": 9,
        "trailing ": 10,
        "-": 11,
        "<<": 12,
        "=": 13,
        "": 14,
        "?": 15,
        "Off": 16,
    },
    "empty": {"map": {}, "list": [], "nested": [[], {}, [[1, [2]]], [{"a": {}}]]},
    "lists of maps": [{"a": 1, "b": [{"c": None}]}, {"d": True, "e": False}],
}


def test_tricky_values_read_back_equal() -> None:
    text = dump(TRICKY)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == TRICKY
    assert yaml.load(text, Loader=yaml.SafeLoader) == TRICKY


def test_a_real_document_reads_back_equal_and_reads_as_yaml() -> None:
    document = yaml.safe_load((DEMO_SPECS / "petstore.yaml").read_text())
    document = orjson.loads(orjson.dumps(document))  # JSON data, as the normalised document is
    text = dump(document)
    assert yaml.safe_load(text) == document
    assert '\ninfo:\n  title: Petstore\n  version: "2.1.0"\n' in text

from __future__ import annotations

import orjson

from portal.lib.jsonindent import dumps_indented, indentation_fits


def test_small_values_are_indented() -> None:
    written, indented = dumps_indented({"a": {"b": [1, 2]}})
    assert indented
    assert written == b'{\n  "a": {\n    "b": [\n      1,\n      2\n    ]\n  }\n}'


def test_deep_and_wide_values_are_written_compact_within_the_budget() -> None:
    """40 KB of numbers 200 arrays deep pretty-prints to about 8.7 MB."""
    value = orjson.loads(b"[" * 200 + b"7," * 20_000 + b"7" + b"]" * 200)
    written, indented = dumps_indented(value)
    assert not indented
    assert len(written) == 200 * 2 + 20_001 * 2 - 1
    assert orjson.loads(written) == value


def test_the_budget_counts_the_indentation_pretty_printing_adds() -> None:
    value = [[1, 2, 3]]
    added = len(orjson.dumps(value, option=orjson.OPT_INDENT_2)) - len(orjson.dumps(value))
    assert indentation_fits(value, budget=added)
    assert not indentation_fits(value, budget=added // 2)

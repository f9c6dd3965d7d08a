"""JSON written indented when the indentation stays small, compact otherwise.

Pretty-printing indents each value by its depth, so indentation grows with depth times
breadth, not with size: 40 KB of numbers 200 arrays deep pretty-prints to 8.7 MB, and a 2 MiB
value 250 levels deep to over 500 MB. Everything that shows or sends JSON it did not write
itself (a backend's answer, a spec's example) goes through `dumps_indented`.
"""

from __future__ import annotations

from typing import Any

import orjson

# Characters of indentation a value may gain from being pretty-printed.
INDENT_BUDGET = 2 * 1024 * 1024


def indentation_fits(value: object, budget: int = INDENT_BUDGET) -> bool:
    """Whether pretty-printing `value` (two spaces a level) adds at most `budget` characters
    of indentation; the walk stops as soon as it does not."""
    total = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            members: list[object] = list(item.values())
        elif isinstance(item, list):
            members = item
        else:
            continue
        if not members:
            continue
        # Each member on its own line one level in, and the closing bracket at this level.
        total += 2 * (depth + 1) * len(members) + 2 * depth
        if total > budget:
            return False
        stack.extend((child, depth + 1) for child in members if isinstance(child, dict | list))
    return True


def dumps_indented(value: Any, budget: int = INDENT_BUDGET) -> tuple[bytes, bool]:
    """`value` as JSON, indented by two spaces when that adds at most `budget` characters,
    else compact; and whether it was indented. orjson's own errors (a value nested past
    254 levels, a type it cannot write) are the caller's."""
    indented = indentation_fits(value, budget)
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indented else None), indented

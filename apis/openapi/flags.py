"""Whether a property is `readOnly` or `writeOnly`: one rule for the samples (which leave the
flagged ones out) and the console's body check (which does not require them).

Specs flag a shared schema (`id: {$ref: Id}`, Id readOnly) or write the flag beside
`allOf: [{$ref}]`, so the flag is looked for on the property, through its `$ref` and in its
`allOf` parts, `hops` references deep at most (which also ends a cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def flagged(schema: Any, flag: str, resolve: Callable[[str], Any], hops: int = 8) -> bool:
    """`resolve` gives the schema a `$ref` names (or None)."""
    if not isinstance(schema, dict) or hops < 0:
        return False
    if schema.get(flag) is True:
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str) and flagged(resolve(ref), flag, resolve, hops - 1):
        return True
    parts = schema.get("allOf")
    return isinstance(parts, list) and any(
        flagged(part, flag, resolve, hops - 1) for part in parts[:20]
    )

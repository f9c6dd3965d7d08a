"""Matching a spec's `pattern` against a value without catastrophic backtracking.

Python's `re` backtracks: `^(a+)+$` against thirty `a`s and a `!` takes minutes, and neither
the pattern (a spec's) nor the value (a developer's body, a backend's answer) can be trusted.
`re` cannot be interrupted, so a pattern is judged before it runs, from its parse tree:

- a repeat whose body holds an unbounded or long repeat (`(a+)+`, `(.*x){9}`) or alternatives that
  can start alike (`(a|ab)*`), or any back-reference: exponential, never run;
- otherwise k unbounded or long repeats (one more when the search is not anchored at the start) cost
  up to len(value) ** k steps: run only while that stays under STEPS.

`safe_search` answers True or False as `re.search` would, or None when it did not try.
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

STEPS = 10_000_000
# A bounded repeat this long backtracks like an unbounded one (`(a{1,99}){1,99}`).
_LONG = 16
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_ANY = object()  # a first character that could be anything


class _Unsafe(Exception):
    pass


def _first(items: list[tuple[Any, Any]]) -> set[Any] | object:
    """The characters a sequence can start with, or _ANY where that is not cheap to say."""
    for op, arg in items:
        if op is sre.LITERAL:
            return {arg}
        if op is sre.AT:
            continue  # an anchor consumes nothing
        if op is sre.IN and all(o is sre.LITERAL for o, _ in arg):
            return {a for _, a in arg}
        if op is sre.SUBPATTERN:
            return _first(list(arg[-1]))
        return _ANY
    return _ANY  # empty: it matches where any other alternative might


def _overlapping(branches: list[Any]) -> bool:
    seen: set[Any] = set()
    for branch in branches:
        first = _first(list(branch))
        if first is _ANY or seen & first:  # type: ignore[operator]
            return True
        seen |= first  # type: ignore[arg-type]
    return False


def _walk(items: Any, inside_repeat: bool) -> int:
    """The number of unbounded repeats in a parsed pattern; raises _Unsafe for the
    exponential shapes."""
    count = 0
    for op, arg in items:
        if op in _REPEATS:
            low, high, body = arg
            long = high > _LONG  # MAXREPEAT (unbounded) among them
            if inside_repeat and long:
                raise _Unsafe
            count += long
            count += _walk(body, inside_repeat or high > 1)
        elif op is sre.SUBPATTERN:
            count += _walk(arg[-1], inside_repeat)
        elif op is sre.BRANCH:
            branches = arg[1]
            if inside_repeat and _overlapping(branches):
                raise _Unsafe
            count += max((_walk(b, inside_repeat) for b in branches), default=0)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            count += _walk(arg[1], inside_repeat)
        elif op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            raise _Unsafe
        elif op is sre.ATOMIC_GROUP:
            count += _walk(arg, inside_repeat)
    return count


@lru_cache(maxsize=1024)
def _judged(pattern: str) -> tuple[re.Pattern[str], int] | None:
    """The compiled pattern and its cost exponent, or None when it must not run."""
    try:
        compiled = re.compile(pattern)
        parsed = _parser.parse(pattern)
        exponent = _walk(parsed, inside_repeat=False)
    except (_Unsafe, re.error, RecursionError, TypeError, ValueError, OverflowError):
        return None
    starts = list(parsed)[:1]
    anchored = bool(starts) and starts[0][0] is sre.AT and starts[0][1] is sre.AT_BEGINNING
    return compiled, exponent + (not anchored)


def safe_search(pattern: str, text: str) -> bool | None:
    """Whether `pattern` is found in `text` (as `re.search`), or None when that could take
    more than about STEPS steps."""
    judged = _judged(pattern)
    if judged is None:
        return None
    compiled, exponent = judged
    if exponent > 1 and max(len(text), 1) ** exponent > STEPS:
        return None
    return compiled.search(text) is not None


def linear(pattern: str) -> bool:
    """Whether `pattern` runs in time linear in the text whatever the text (property names
    are matched by the checker itself, with no length check in between)."""
    judged = _judged(pattern)
    return judged is not None and judged[1] <= 1

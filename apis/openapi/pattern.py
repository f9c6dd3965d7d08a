"""A short string that a schema's `pattern` matches, for generated samples.

Samples are sent as they are by the console and copied into snippets; a "string" where the
spec says `^[A-Z]{3}$` is refused by the console's own check and by any backend that
validates. So the sampler asks here for the shortest plain string the pattern accepts.

The pattern is parsed by Python's own regular-expression parser (`re._parser`, the module
behind `re.compile`, stable across releases though private) and walked: each literal as
written, the first character of a class, the first branch, each repeat at its minimum, then
one more each time while `minLength` asks for more. What comes out is checked with
`re.search` (JSON Schema patterns are not anchored; only short strings, see VERIFY_UP_TO)
and the length bounds. A pattern this cannot meet (lookarounds that contradict, a class of
nothing, a repeat past MAX_CHARS) gives None, and the sampler keeps its plain text.
"""

from __future__ import annotations

import functools
import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from apis.openapi.regex_safety import safe_search

MAX_CHARS = 1000
# A spec's pattern runs on the strings made here only up to this length: a pattern that
# backtracks (`^(\w+)*-$`) costs 2**n steps on n characters, and pages show these samples.
# Longer strings are taken as written; they come from the pattern itself.
VERIFY_UP_TO = 20

# What a class category stands for: a readable member of it.
_CATEGORIES = {
    c.CATEGORY_DIGIT: "0",
    c.CATEGORY_NOT_DIGIT: "a",
    c.CATEGORY_WORD: "a",
    c.CATEGORY_NOT_WORD: "-",
    c.CATEGORY_SPACE: " ",
    c.CATEGORY_NOT_SPACE: "a",
}
_CANDIDATES = "a0A-_.x ~"  # tried in turn for a negated class: [^\s@] gives "a"


def matching(pattern: str, min_length: Any, max_length: Any) -> str | None:
    """The shortest plain string `pattern` matches within the bounds, or None. The bounds
    are the schema's as written: anything but a count is no bound."""
    low = min_length if type(min_length) is int and min_length > 0 else 0
    high = max_length if type(max_length) is int and max_length >= 0 else MAX_CHARS
    return _matching(pattern, low, min(high, MAX_CHARS)) if low <= MAX_CHARS else None


@functools.lru_cache(maxsize=1024)  # the mock backend samples the same schemas again
def _matching(pattern: str, low: int, high: int) -> str | None:
    try:
        re.compile(pattern)
        tree = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    previous = -1
    for extra in range(low + 1):  # each extra repeat adds a character or more
        try:
            text = _Writer(extra).write(tree)
        except _CannotMatch:
            return None
        if len(text) > high or len(text) == previous:
            return None  # too long, or no repeat to grow: more tries only repeat this
        # Verified where that is cheap; a pattern that could backtrack for ever (regex_safety)
        # is trusted to match what was written from it, as long text is.
        if len(text) >= low and (
            len(text) > VERIFY_UP_TO or safe_search(pattern, text) is not False
        ):
            return text
        previous = len(text)
    return None


class _CannotMatch(Exception):
    pass


class _Writer:
    def __init__(self, extra: int) -> None:
        self.extra = extra
        self.groups: dict[int, str] = {}
        self.length = 0

    def write(self, items: Any) -> str:
        return "".join(self.one(op, arg) for op, arg in items)

    def one(self, op: Any, arg: Any) -> str:
        if self.length > MAX_CHARS:
            raise _CannotMatch
        text = self._one(op, arg)
        self.length += len(text)
        return text

    def _one(self, op: Any, arg: Any) -> str:
        if op is c.LITERAL:
            return chr(arg)
        if op is c.NOT_LITERAL:
            return "a" if arg != ord("a") else "b"
        if op is c.ANY:
            return "a"
        if op is c.IN:
            return _member(arg)
        if op is c.CATEGORY:
            return _CATEGORIES.get(arg, "a")
        if op is c.BRANCH:
            return self.write(arg[1][0])
        if op is c.SUBPATTERN:
            group, _, _, items = arg
            text = self.write(items)
            if group is not None:
                self.groups[group] = text
            return text
        if op is c.ATOMIC_GROUP:
            return self.write(arg)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            least, most, items = arg
            count = least + self.extra if most is c.MAXREPEAT else min(least + self.extra, most)
            if count > MAX_CHARS:
                raise _CannotMatch
            return "".join(self.write(items) for _ in range(count))
        if op is c.GROUPREF:
            return self.groups.get(arg, "")
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return ""  # anchors and lookarounds add nothing; the final search judges
        raise _CannotMatch  # conditionals and the like: not worth guessing


def _member(items: Any) -> str:
    """A character of a class: its first one, or for [^...] the first candidate outside it."""
    if items and items[0][0] is c.NEGATE:
        rest = items[1:]
        for ch in _CANDIDATES:
            if not any(_holds(op, arg, ch) for op, arg in rest):
                return ch
        raise _CannotMatch
    for op, arg in items:
        if op is c.LITERAL:
            return chr(arg)
        if op is c.RANGE:
            return chr(arg[0])
        if op is c.CATEGORY:
            return _CATEGORIES.get(arg, "a")
    raise _CannotMatch


def _holds(op: Any, arg: Any, ch: str) -> bool:
    if op is c.LITERAL:
        return ord(ch) == arg
    if op is c.RANGE:
        return bool(arg[0] <= ord(ch) <= arg[1])
    if op is c.CATEGORY and arg in _CLASS_OF:
        return bool(re.fullmatch(_CLASS_OF[arg], ch))
    return True  # anything else: assume it holds, and try the next candidate


_CLASS_OF = {
    c.CATEGORY_DIGIT: r"\d",
    c.CATEGORY_NOT_DIGIT: r"\D",
    c.CATEGORY_WORD: r"\w",
    c.CATEGORY_NOT_WORD: r"\W",
    c.CATEGORY_SPACE: r"\s",
    c.CATEGORY_NOT_SPACE: r"\S",
}

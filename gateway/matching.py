"""Which operation a call is: its path matched against the API's path templates.

A template's `{param}` matches one non-empty segment and never spans `/`; everything else
matches itself, letter case and trailing slash included. Trying every template's regex on
every call costs a large API dearly: Kubernetes' 1,123 operations took 125 µs a call (more
than all the rest of the gateway's work for it), and a call that matched nothing paid the
most. So the templates sit in a tree of path segments: a call walks one node per segment of
its path (and the few branches a `{param}` opens) and meets only the templates that match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PARAM = re.compile(r"(\{[^}/]+\})")


def template_pattern(template: str) -> tuple[re.Pattern[str], int]:
    """A regex for an OpenAPI path template, and its count of literal characters (the more,
    the more specific: `/pets/mine` wins over `/pets/{id}`)."""
    parts = _PARAM.split(template)
    regex = "".join(
        "[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts
    )
    literal = sum(len(p) for p in parts if not p.startswith("{"))
    return re.compile(regex), literal


class _Node:
    __slots__ = ("ends", "literal", "mixed", "param")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}  # a segment written out: `pets`
        self.param: _Node | None = None  # a segment that is one `{param}`
        self.mixed: list[tuple[re.Pattern[str], _Node]] = []  # `{name}.json`, `v{major}`
        self.ends: list[int] = []  # the templates (by position) that end at this node


class TemplateTree:
    """Path templates by segment; `matches(path)` gives the positions of those that match,
    in the order they were given (the order decides between equally specific templates)."""

    def __init__(self, templates: Iterable[str | tuple[str, ...]]) -> None:
        """`templates`: one per position, or a tuple of spellings that all stand for it."""
        self._root = _Node()
        # Paths asked recently (bounded): a route's hot paths cost one lookup.
        self._seen: dict[str, tuple[int, ...]] = {}
        for position, spellings in enumerate(templates):
            for template in (spellings,) if isinstance(spellings, str) else set(spellings):
                if template.startswith("/"):  # no request path matches one that does not
                    self._add(position, template)

    def _add(self, position: int, template: str) -> None:
        node = self._root
        for segment in template.split("/")[1:]:
            parts = _PARAM.split(segment)
            if len(parts) == 1:
                node = node.literal.setdefault(segment, _Node())
            elif len(parts) == 3 and parts[0] == parts[2] == "":
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                pattern = template_pattern(segment)[0]
                for known, child in node.mixed:
                    if known.pattern == pattern.pattern:
                        node = child
                        break
                else:
                    child = _Node()
                    node.mixed.append((pattern, child))
                    node = child
        node.ends.append(position)

    def matches(self, path: str) -> tuple[int, ...]:
        known = self._seen.get(path)
        if known is not None:
            return known
        found: list[int] = []
        if path.startswith("/"):
            _walk(self._root, path.split("/"), 1, found)
            found.sort()
        known = tuple(found)
        if len(path) <= 256:  # a flood of long unique paths holds at most 1 MB here
            if len(self._seen) >= 4096:
                self._seen.clear()
            self._seen[path] = known
        return known


def _walk(node: _Node, segments: list[str], depth: int, found: list[int]) -> None:
    # Down the written-out segments in a loop; only a `{param}` branch costs a call.
    while depth < len(segments):
        segment = segments[depth]
        depth += 1
        if segment:  # a `{param}` is never empty
            if node.param is not None:
                _walk(node.param, segments, depth, found)
            for pattern, mixed in node.mixed:
                if pattern.fullmatch(segment):
                    _walk(mixed, segments, depth, found)
        child = node.literal.get(segment)
        if child is None:
            return
        node = child
    found += node.ends

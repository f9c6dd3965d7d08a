"""Which route and which part of the path a call is for.

A route is found by its suffix, the first path segment (or several, when a suffix has a `/`:
the longest match wins). The rest of the path is what the operation match and the backend see.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import quote

from gateway.config import RouteConfig

Scope = MutableMapping[str, Any]


def find_route(
    routes: dict[str, RouteConfig], path: str, deep: bool
) -> tuple[RouteConfig | None, int, list[str]]:
    """(route, how many segments its suffix used, the path's segments)."""
    segments = path.lstrip("/").split("/")
    route = routes.get(segments[0])
    used = 1
    if deep:
        # Suffixes with several segments: the longest match wins.
        for i in range(2, min(len(segments), 8) + 1):
            candidate = routes.get("/".join(segments[:i]))
            if candidate is not None:
                route, used = candidate, i
    return route, used, segments


def raw_rest(scope: Scope, used: int, rest: str) -> bytes:
    """The rest of the path as the client encoded it (so %2F stays %2F for the backend)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        root = scope.get("root_path", "").encode("latin-1")
        if root and raw.startswith(root + b"/"):
            raw = raw[len(root) :]
        parts = raw.lstrip(b"/").split(b"/", used)
        if len(parts) > used:
            return b"/" + parts[used]
        if len(parts) == used:
            return b"/"
    return quote(rest, safe="/:@!$&'()*+,;=-._~%").encode("latin-1")

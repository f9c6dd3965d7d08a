"""Which route and which part of the path a call is for.

A route is found by its suffix, the first path segment (or several, when a suffix has a `/`:
the longest match wins). The rest of the path is what the operation match and the backend see.
"""

from __future__ import annotations

from gateway.config import RouteConfig

# How many leading segments a route's suffix may have: the lookup tries no more, so the
# admin and applyconfig refuse a deeper suffix (gateway.models), which no call could reach.
MAX_SUFFIX_SEGMENTS = 8

# The methods the gateway serves, and so the ones a required-claims rule may name (the admin
# and applyconfig refuse others: a rule bound to TRACE alone would hold no call). Any other
# (TRACE, CONNECT, WebDAV's MOVE or PROPPATCH, a cache's PURGE) gets 405 before any rule.
SERVED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def find_route(
    routes: dict[str, RouteConfig], path: str, deep: bool
) -> tuple[RouteConfig | None, int, list[str]]:
    """(route, how many segments its suffix used, the path's segments)."""
    segments = path.lstrip("/").split("/")
    route = routes.get(segments[0])
    used = 1
    if deep:
        # Suffixes with several segments: the longest match wins.
        for i in range(2, min(len(segments), MAX_SUFFIX_SEGMENTS) + 1):
            candidate = routes.get("/".join(segments[:i]))
            if candidate is not None:
                route, used = candidate, i
    return route, used, segments


def raw_rest(raw: bytes, used: int) -> bytes:
    """The rest of the path after the route's suffix, in the client's own bytes (the path
    was checked by gateway.paths, so they mean exactly what the route and operation saw)."""
    parts = raw.split(b"/", used + 1)
    return b"/" + parts[used + 1] if len(parts) > used + 1 else b"/"

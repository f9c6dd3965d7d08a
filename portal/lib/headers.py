"""Request headers that never travel from a client to a backend, shared by the gateway's
proxy and the console's outbound calls so the two cannot drift apart.
"""

from __future__ import annotations

# Method and URL override headers (SECURITY.md case 62). A backend or framework that honours
# them runs another method or path than the one the gateway matched and checked: a read-only
# token would trigger a DELETE.
OVERRIDE_HEADERS = frozenset(
    {
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
        "x-original-url",
        "x-rewrite-url",
        "x-host",
        "x-original-host",
    }
)

OVERRIDE_HEADERS_BYTES = frozenset(name.encode("ascii") for name in OVERRIDE_HEADERS)

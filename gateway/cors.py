"""CORS for a route: the headers on an allowed origin's call, and preflight answers."""

from __future__ import annotations

from gateway.config import Cors
from gateway.problems import Headers


def response_headers(cors: Cors, origin: str, origin_hdr: bytes) -> Headers:
    """Headers added to a call from `origin`; none when the origin is not allowed."""
    if not cors.allows(origin):
        return []
    out: Headers = [
        (b"access-control-allow-origin", b"*" if "*" in cors.origins else origin_hdr),
        (b"vary", b"Origin"),
        (
            b"access-control-expose-headers",
            ", ".join(("WWW-Authenticate", "X-Request-Id", "Retry-After", *cors.expose)).encode(),
        ),
    ]
    if cors.credentials:
        out.append((b"access-control-allow-credentials", b"true"))
    return out


def preflight(cors: Cors, origin: str, headers: dict[bytes, bytes]) -> tuple[int, Headers, bytes]:
    """The 204 answer to an OPTIONS preflight (allow headers only for an allowed origin)."""
    out: Headers = [
        (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
    ]
    wanted = headers.get(b"access-control-request-method", b"").decode("latin-1").upper()
    if cors.allows(origin) and (wanted in cors.methods or "*" in cors.methods):
        requested = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        allowed = ", ".join(cors.headers) if cors.headers else ""
        if "*" in cors.headers:
            allowed = requested
        elif not cors.headers:
            allowed = "Authorization, Content-Type"
        out += [
            (
                b"access-control-allow-origin",
                b"*" if "*" in cors.origins else origin.encode("latin-1"),
            ),
            (b"access-control-allow-methods", ", ".join(cors.methods).encode()),
            (b"access-control-allow-headers", allowed.encode("latin-1")),
            (b"access-control-max-age", str(cors.max_age).encode()),
        ]
        if cors.credentials:
            out.append((b"access-control-allow-credentials", b"true"))
    return 204, out, b""

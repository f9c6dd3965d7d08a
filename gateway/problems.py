"""RFC 9457 problem+json bodies and RFC 6750 challenges for gateway answers."""

from __future__ import annotations

from http import HTTPStatus

import orjson

from gateway.jwt import TokenRejected
from portal.lib.headers import CONTROL_CHARACTERS

Headers = list[tuple[bytes, bytes]]

# On every gateway response, relayed ones included: the gateway may share the portal's origin
# (/gateway/ in the default run), so nothing it relays (a text/html mock example, a backend's
# HTML) may run script there or be sniffed into HTML.
SECURITY_HEADERS: Headers = [
    (b"content-security-policy", b"sandbox"),
    (b"x-content-type-options", b"nosniff"),
]


CHECK_HEADER = b"x-gateway-check"


def problem(status: int, detail: str, check: str, *, title: str = "") -> tuple[int, Headers, bytes]:
    """A problem response: status, headers and the JSON body the console explains."""
    body = orjson.dumps(
        {
            "type": "about:blank",
            "title": title or HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "check": check,
        }
    )
    # The header marks the gateway's own answers: the proxy drops it from backends' (proxy.py),
    # so a backend's problem+json with a `check` of its own is not shown as the gateway's.
    headers = [(b"content-type", b"application/problem+json"), (CHECK_HEADER, _field(check))]
    return status, headers, body


ECHO_LIMIT = 200


def echoed(text: str, limit: int = ECHO_LIMIT) -> str:
    """What a problem's detail repeats of the request (a path, a method): its beginning, so
    a 60 KB path does not come back as a 60 KB answer."""
    return text if len(text) <= limit else text[:limit] + "…"


def _field(check: str) -> bytes:
    """The check as a header value: a required claim's name comes from the configuration
    (`scope`, `https://example.com/roles`), and a line break there would add headers."""
    return CONTROL_CHARACTERS.sub("", check).encode()


def _quote(value: str) -> str:
    # RFC 6750 error_description: visible ASCII minus '"' and '\'.
    return "".join(c for c in value if 0x20 <= ord(c) <= 0x7E and c not in '"\\')


def rejection(
    exc: TokenRejected, realm: str, failed_status: int, failed_message: str
) -> tuple[int, Headers, bytes]:
    """401/403/400 for a failed token check, with the RFC 6750 challenge."""
    challenge = f'Bearer realm="{_quote(realm)}"'
    if exc.error:
        challenge += f', error="{exc.error}"'
        if exc.error != "insufficient_scope":
            challenge += f', error_description="{_quote(exc.detail)[:200]}"'
    if exc.scope:
        challenge += f', scope="{_quote(exc.scope)}"'
    status = exc.status
    if status == 401:
        status = failed_status
    status, headers, body = problem(
        status, exc.detail, exc.check, title=failed_message if status != 403 else ""
    )
    headers.append((b"www-authenticate", challenge.encode("ascii")))
    return status, headers, body

"""Forwarding a call to an upstream backend: which headers go, and the exchange itself.

The client's hop-by-hop and spoofable headers are dropped and the gateway sets its own
`X-Forwarded-*` and `X-Request-Id`; the portal's cookies never leave. The exchange goes through
the pooled upstream client; its failures become 502/504 problems before the response head,
and a cut connection after it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from django.conf import settings

from gateway.config import RouteConfig
from gateway.formbody import OverrideField
from gateway.jwt import Verdict
from gateway.knobs import setting
from gateway.metrics import Metrics
from gateway.problems import CHECK_HEADER, SECURITY_HEADERS, Headers, problem
from gateway.subscriptions import DEFAULT_NAMES
from gateway.upstream import (
    HOP_BY_HOP,
    ClientBodyBroken,
    Pool,
    UpstreamBroken,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    aiter_bytes,
    filter_response_headers,
)
from portal.lib.headers import (
    CONTROL_CHARACTERS,
    IDENTITY_HEADER_PREFIXES,
    IDENTITY_HEADERS,
    OVERRIDE_HEADERS_BYTES,
    REWRITE_HEADERS,
    header_key,
)
from portal.lib.throttledlog import ThrottledLog

if TYPE_CHECKING:
    from gateway.subscriptions import Subscriptions

log = logging.getLogger("gateway")
# A backend down under load fails every call: one line per route and kind every 10 s, with
# the count of the calls since (the access log has each call's 502 and request id).
_failures = ThrottledLog(log, 10.0)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Respond = Callable[[tuple[int, Headers, bytes], Headers], Awaitable[None]]

# Framing and Host are the gateway's own; method and URL overrides would make a backend run
# another method or path than the one the policy checked (case 62).
_OWN_RESPONSE_HEADERS = frozenset({b"x-request-id", b"x-content-type-options", CHECK_HEADER})
# Dropped from a backend's answer besides those the gateway sets itself: on the portal's origin
# (the default run) `Clear-Site-Data` would sign the visitor out and empty the portal's storage.
_DROPPED_RESPONSE_HEADERS = _OWN_RESPONSE_HEADERS | {b"clear-site-data"}
_STRIP_REQUEST = (
    HOP_BY_HOP | {b"host", b"content-length", b"expect"} | OVERRIDE_HEADERS_BYTES | REWRITE_HEADERS
)

# Headers a client's Connection cannot make hop-by-hop: the gateway checked the body by them.
_KEPT_FROM_CONNECTION = frozenset({b"content-type", b"content-encoding"})


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def forward_headers(
    route: RouteConfig,
    scope: Scope,
    headers: dict[bytes, bytes],
    verdict: Verdict | None,
    rid: str,
    subscriptions: Subscriptions | None = None,
) -> Headers:
    """The request headers a backend receives (also what the echo backend shows).
    `subscriptions` names the header the key check read the subscription key from (and took
    out of `headers`), asked only of a name with an underscore: `Ocp_Apim_Subscription_Key`
    is that header to a WSGI backend, never forwarded either; nor is an underscore spelling
    of the header validate-jwt read the token from (`X_Api_Token`)."""
    drop: frozenset[bytes] | set[bytes] = _STRIP_REQUEST
    connection = headers.get(b"connection")
    if connection:
        drop = set(_STRIP_REQUEST)
        drop.update(header_key(v.strip().lower()) for v in connection.split(b","))
        # Never the body's type or coding, which the override checks read the body by: an
        # untyped POST is a form to Rack, which runs its _method (case 62).
        drop -= _KEPT_FROM_CONNECTION
    out: Headers = []
    for name, value in headers.items():
        # header_key(name), inline on this per-header path: the client's identity headers
        # never go on, in any spelling (portal/lib/headers.py).
        # find(), not `in`: a bytes `in` first tries its operand as an integer and formats a TypeError
        # for it (about 3,000 instructions each, several per call on the hot path).
        if name.find(b"_") >= 0:
            key = name.replace(b"_", b"-")
            if subscriptions is not None and (
                key == subscriptions.key_header(route.api_slug) or key == DEFAULT_NAMES.header
            ):
                continue  # APIM's default header too, on an API that renamed its own
            if route.policy is not None and key == route.policy.header_key:
                continue  # X_Api_Token: a second token, which no rule looked at
        else:
            key = name
        if key in drop or key in IDENTITY_HEADERS or key.startswith(IDENTITY_HEADER_PREFIXES):
            continue
        if name == b"cookie":
            value = _strip_portal_cookies(value)
            if not value:
                continue
        out.append((name, value))
    client = scope.get("client") or ("", 0)
    host = headers.get(b"host", b"")
    root = scope.get("root_path", "")
    out += [
        (b"x-forwarded-for", str(client[0]).encode()),
        (b"x-forwarded-proto", b"https" if scope.get("scheme") == "https" else b"http"),
        (b"x-forwarded-prefix", root.encode() + route.prefix_bytes if root else route.prefix_bytes),
        (b"x-request-id", rid.encode()),
    ]
    if host:
        out.append((b"x-forwarded-host", _forwarded_host(host, scope)))
    if route.forward_claims and verdict is not None:
        out += _claim_headers(verdict)
    return out


def _forwarded_host(host: bytes, scope: Scope) -> bytes:
    """The host a backend should build its absolute links on: GATEWAY_PUBLIC_HOST when set,
    else the client's Host, whose name the host check allowed, with its port only when it is
    the one the gateway listens on. Nothing checks any other port: passed on, a backend (and
    a shared cache in front of it) would link everyone to the port one client chose."""
    public: str = setting("GATEWAY_PUBLIC_HOST", "")
    if public:
        return public.encode()
    name, colon, port = host.rpartition(b":")
    if not colon or host.endswith(b"]"):
        return host  # no port ("gw.example", "[::1]")
    listening = (scope.get("server") or ("", None))[1]
    return host if listening is not None and port == str(listening).encode() else name


def _claim_headers(verdict: Verdict) -> Headers:
    """The X-User-* headers of a verdict, made once per verdict: the validator caches verdicts,
    so a repeat call with the same token reuses them. (A Verdict is frozen; its __dict__
    holds the copy, as functools.cached_property would.)"""
    made: Headers | None = verdict.__dict__.get("_claim_headers")
    if made is None:
        made = verdict.__dict__["_claim_headers"] = [
            (b"x-user-sub", _header_safe(verdict.subject)),
            # A sub (or client_id) names one party only within its issuer: on a route trusting
            # several, two users with one sub are told apart by this.
            (b"x-user-issuer", _header_safe(verdict.issuer)),
            (b"x-user-client-id", _header_safe(verdict.client_id)),
            (b"x-user-scopes", _header_safe(" ".join(_forwardable(verdict.scopes)))),
        ]
    return made


async def proxy(
    pool: Pool,
    metrics: Metrics,
    route: RouteConfig,
    method: str,
    rest: bytes,
    query: bytes,
    headers: dict[bytes, bytes],
    forward: Headers,
    receive: Receive,
    send: Send,
    respond: Respond,
    state: dict[str, Any],
    extra: Headers,
) -> None:
    """Send the call upstream and stream the answer back to the client."""
    assert route.origin is not None
    target = route.base_path.encode("latin-1") + rest
    if query:
        target += b"?" + query
    body: Any = None
    content_length: int | None = None
    cl = headers.get(b"content-length")
    te = headers.get(b"transfer-encoding")
    chunked = te is not None and te.lower().find(b"chunked") >= 0
    if cl is not None and te is not None:
        # Both framings at once is how request smuggling starts (RFC 9112 section 6.3).
        await respond(
            problem(400, "Content-Length and Transfer-Encoding together.", "request"), extra
        )
        return
    if cl is not None or chunked:
        if cl is not None:
            try:
                content_length = int(cl)
            except ValueError:
                await respond(problem(400, "Bad Content-Length.", "request"), extra)
                return
        try:
            first = await receive()
        except OverrideField as exc:
            await respond(problem(400, str(exc), "method"), extra)
            return
        if first["type"] == "http.disconnect":
            await respond(
                problem(400, "The request body was malformed or cut off.", "request"), extra
            )
            return
        chunk = first.get("body", b"")
        more = first.get("more_body", False)
        body = _prepend(chunk, aiter_bytes(receive), state) if more else chunk
    try:
        if body is None or isinstance(body, bytes):
            response = await pool.request(
                route.origin, method, target, forward, body,
                content_length=content_length, timeout=route.timeout,
            )  # fmt: skip
        else:
            # A streamed body: the route's timeout bounds the whole upload and the wait for
            # the answer's head, so a client sending a byte a second cannot hold a backend
            # request open past it.
            async with asyncio.timeout(route.timeout):
                response = await pool.request(
                    route.origin, method, target, forward, body,
                    content_length=content_length, timeout=route.timeout,
                )  # fmt: skip
    except TimeoutError:
        if not state.get("body_done"):
            metrics.upstream_errors[(route.api_slug, "slow-client")] += 1
            await respond(
                problem(
                    408,
                    f"The request body did not arrive within {route.timeout:g} s.",
                    "request-timeout",
                ),
                [*extra, (b"connection", b"close")],
            )
            return
        metrics.upstream_errors[(route.api_slug, "timeout")] += 1
        await respond(problem(504, "The backend timed out.", "backend-timeout"), extra)
        return
    except OverrideField as exc:
        # Mid-body: the backend's connection is dropped before the body's end.
        await respond(problem(400, str(exc), "method"), [*extra, (b"connection", b"close")])
        return
    except ClientBodyBroken:
        await respond(problem(400, "The request body was malformed or cut off.", "request"), extra)
        return
    except UpstreamTimeout as exc:
        metrics.upstream_errors[(route.api_slug, "timeout")] += 1
        await respond(problem(504, f"The backend timed out: {exc}.", "backend-timeout"), extra)
        return
    except (UpstreamUnavailable, UpstreamBroken) as exc:
        kind = "unavailable" if isinstance(exc, UpstreamUnavailable) else "broken"
        metrics.upstream_errors[(route.api_slug, kind)] += 1
        rid = state.get("rid", "")
        # Only on a failed call: the OS's text (which can list the backend's addresses) goes
        # to the log with the request id, the client gets the fixed text and that id.
        _failures.warning(
            f"{route.suffix} {kind}",
            "backend of /%s failed (request %s): %s",
            route.suffix,
            rid,
            exc.detail or exc,
        )
        detail = f"The backend failed: {exc} (request id {rid}; the gateway's log has the detail)."
        await respond(problem(502, detail, "backend-unavailable"), extra)
        return
    out_headers = filter_response_headers(response.headers, _DROPPED_RESPONSE_HEADERS)
    for name, _ in out_headers:  # a loop, not any(): no generator on every call
        if name == b"set-cookie":
            out_headers = _without_portal_cookies(out_headers)
            break
    state["status"] = response.status
    if response.complete:
        data = response.take_complete()
        if method != "HEAD" and b"content-length" not in [n for n, _ in out_headers]:
            out_headers.append((b"content-length", str(len(data)).encode()))
        out_headers += extra
        out_headers += SECURITY_HEADERS
        await send(
            {"type": "http.response.start", "status": response.status, "headers": out_headers}
        )
        await send({"type": "http.response.body", "body": data})
        return
    out_headers += extra
    out_headers += SECURITY_HEADERS
    await send({"type": "http.response.start", "status": response.status, "headers": out_headers})
    try:
        while True:
            chunk = await response.read()
            if not chunk:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamError as exc:
        # Headers are gone already: the only honest signal is a cut connection.
        response.abort()
        kind = "timeout" if isinstance(exc, UpstreamTimeout) else "broken"
        metrics.upstream_errors[(route.api_slug, kind)] += 1
        raise
    except BaseException:
        response.abort()
        raise
    await send({"type": "http.response.body", "body": b""})


async def _prepend(first: bytes, rest: Any, state: dict[str, Any]) -> Any:
    if first:
        yield first
    async for chunk in rest:
        yield chunk
    state["body_done"] = True


def _header_safe(value: str) -> bytes:
    """A claim as a header value: non-ASCII as its UTF-8 bytes (dropping it would make
    "admin\u00e9" read as admin). Control characters cannot occur in a subject or client id
    (gateway/jwt.py refuses such tokens); any left are removed as a last line."""
    if value.isascii() and value.isprintable():
        return value[:1000].encode("ascii")
    return CONTROL_CHARACTERS.sub("", value)[:1000].encode("utf-8")


# A scope as RFC 6749 (3.3) spells one, less the comma: visible ASCII but `"` and `\`.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]+")


def _forwardable(scopes: tuple[str, ...]) -> list[str]:
    """The scopes a header can carry as they are, space-separated. One with a control
    character is left out rather than joined to its neighbour ("a\nb" is neither a nor b),
    and so is one that a backend may split where the gateway did not: at other white space
    (a no-break space, NEL: Python's str.split(), JavaScript's /\\s+/, Go's strings.Fields)
    or at a comma (an HTTP list), so that "x<NBSP>orders.write", which the rules read as one
    scope and not orders.write, cannot read as orders.write there."""
    return [s for s in scopes if _SCOPE_TOKEN.fullmatch(s)]


def _portal_cookie_names() -> set[bytes]:
    return {
        str(_setting("SESSION_COOKIE_NAME", "sessionid")).encode(),
        str(_setting("CSRF_COOKIE_NAME", "csrftoken")).encode(),
    }


def _without_portal_cookies(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A backend's answer minus the Set-Cookie of the portal's own session and CSRF cookies:
    in the default run the gateway answers on the portal's origin, where such a cookie would
    sign the visitor in as someone else or hand a cross-site form a CSRF token its author
    knows. Browsers trim spaces around a cookie's name, so the name is read that way."""
    names = _portal_cookie_names()
    return [
        (name, value)
        for name, value in headers
        if name != b"set-cookie" or _cookie_name(value) not in names
    ]


def _cookie_name(set_cookie: bytes) -> bytes:
    """The name a browser sends a Set-Cookie back under: spaces around it trimmed, and a
    cookie with no name (`=csrftoken=x`) sent as its value alone (RFC 6265bis 5.7), so its
    value's own name-before-`=` is the one the portal would read."""
    name, equals, rest = set_cookie.partition(b"=")
    name = name.strip()
    if not name and equals:
        name = rest.split(b";", 1)[0].partition(b"=")[0].strip()
    return name


def _strip_portal_cookies(value: bytes) -> bytes:
    """The portal's own session and CSRF cookies never reach a backend."""
    names = _portal_cookie_names()
    kept = [
        part.strip()
        for part in value.split(b";")
        if part.strip() and part.strip().split(b"=", 1)[0].strip() not in names
    ]
    return b"; ".join(kept)

"""The gateway's own ASGI application: the hot path, free of Django's request machinery.

Per call: find the route by suffix; answer a CORS preflight; validate the token (parsed and
verified tokens are cached until they expire, so a repeat costs a dict lookup plus the claim
checks); count the call for rate-limit-by-key; then the echo or mock backend answers, or the
call is proxied through the pooled upstream client. Routes and policies live in memory and
are reloaded when the database fingerprint changes (polled every GATEWAY_CONFIG_REFRESH s).

Reserved paths: `/-/health` and `/-/metrics` (Prometheus text format).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from django.conf import settings

from gateway import backends
from gateway.accesslog import AccessLog
from gateway.config import RouteConfig, config_fingerprint, load_routes
from gateway.jwt import (
    KeysUnavailable,
    ParsedToken,
    Policy,
    PublicKey,
    TokenRejected,
    Verdict,
    check_claims,
    check_issuer_and_type,
    extract_token,
    parse,
    verify_signature,
)
from gateway.keys import KeySet, KeyStore
from gateway.metrics import Metrics
from gateway.problems import Headers, problem, rejection
from gateway.ratelimit import CounterStore, MemoryCounters, RedisCounters
from gateway.upstream import (
    HOP_BY_HOP,
    Pool,
    UpstreamBroken,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    aiter_bytes,
    filter_response_headers,
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger("gateway")

# Headers a client must never set for the backend: the gateway sets its own.
_SPOOFABLE_PREFIXES = (b"x-forwarded-", b"x-user-", b"x-gateway-")
_SPOOFABLE = frozenset(
    {b"forwarded", b"x-real-ip", b"x-request-id", b"x-client-ip", b"true-client-ip", b"via"}
)
_STRIP_REQUEST = HOP_BY_HOP | {b"host", b"content-length", b"expect"}
_TOKEN_CACHE_MAX = 50_000
_ALLOW = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


_PLAIN = re.compile(r"[A-Za-z0-9/._~:@+-]*")


def _log_safe(value: str) -> str:
    """Percent-encode anything that could break a log line (quotes, spaces, newlines)."""
    return value if _PLAIN.fullmatch(value) else quote(value, safe="/-._~")


class Gateway:
    """The ASGI callable. One instance per process; loop-bound state is made lazily."""

    def __init__(
        self,
        routes: dict[str, RouteConfig] | None = None,
        *,
        loader: Callable[[], dict[str, RouteConfig]] | None = load_routes,
        fingerprint: Callable[[], Any] | None = config_fingerprint,
    ) -> None:
        self.routes: dict[str, RouteConfig] | None = routes
        self._loader = loader if routes is None else None
        self._fingerprint_fn = fingerprint if routes is None else None
        self._fingerprint: Any = None
        self._next_check = 0.0
        self._load_lock: asyncio.Lock | None = None
        self.pool: Pool | None = None
        self.keys = KeyStore()
        self.metrics = Metrics()
        self.counters: CounterStore | None = None
        self.access = AccessLog(str(_setting("GATEWAY_ACCESS_LOG", "-")))
        # token -> (policy, parsed, key, discovery URL, the key set it was verified with)
        self._tokens: dict[str, tuple[Policy, ParsedToken, PublicKey, str, KeySet | None]] = {}
        self._verdicts: dict[tuple[str, str, str | None], tuple[Policy, Verdict, str]] = {}
        self._deep_suffixes = any("/" in s for s in (routes or {}))
        self._rid_prefix = uuid.uuid4().hex[:12] + "-"
        self._counter = 0

    def _request_id(self) -> str:
        """Unique per process and call: a random process prefix and a counter (cheap)."""
        self._counter += 1
        return f"{self._rid_prefix}{self._counter:x}"

    # --- configuration ---------------------------------------------------------------

    async def _load(self) -> None:
        assert self._loader is not None and self._fingerprint_fn is not None
        fingerprint_fn, loader = self._fingerprint_fn, self._loader

        def work() -> tuple[Any, dict[str, RouteConfig] | None]:
            from django.db import close_old_connections

            close_old_connections()
            try:
                fp = fingerprint_fn()
                if fp == self._fingerprint and self.routes is not None:
                    return fp, None
                return fp, loader()
            finally:
                close_old_connections()

        if self._load_lock is None:
            self._load_lock = asyncio.Lock()
        async with self._load_lock:
            try:
                fp, routes = await asyncio.to_thread(work)
            except Exception:
                log.exception("could not load the gateway configuration")
                if self.routes is None:
                    self.routes = {}
                return
            if routes is not None:
                self.routes = routes
                self._deep_suffixes = any("/" in s for s in routes)
                self._tokens.clear()
                self._verdicts.clear()
            self._fingerprint = fp

    async def _routes(self) -> dict[str, RouteConfig]:
        if self._loader is None:
            return self.routes or {}
        now = time.monotonic()
        if self.routes is None:
            await self._load()
            self._next_check = now + float(_setting("GATEWAY_CONFIG_REFRESH", 2))
        elif now >= self._next_check:
            self._next_check = now + float(_setting("GATEWAY_CONFIG_REFRESH", 2))
            asyncio.get_running_loop().create_task(self._load())
        return self.routes or {}

    def _loop_state(self) -> None:
        if self.pool is None:
            self.pool = Pool(
                connect_timeout=float(_setting("GATEWAY_CONNECT_TIMEOUT", 3)),
                idle_timeout=float(_setting("GATEWAY_POOL_IDLE_TIMEOUT", 30)),
            )
        if self.counters is None:
            url = _setting("GATEWAY_REDIS_URL", "") or _setting("REDIS_URL", "")
            self.counters = RedisCounters(url) if url else MemoryCounters()

    # --- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        self._loop_state()
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "api": "-", "sub": "-", "client": "-"}
        try:
            await self._handle(scope, receive, send, state)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(state["api"], scope["method"], state["status"], elapsed)
            if self.access.enabled:
                path = scope.get("root_path", "") + scope["path"]
                self.access.write(
                    f'method={scope["method"]} path="{_log_safe(path)}" '
                    f"status={state['status']} ms={elapsed * 1000:.2f} api={state['api']} "
                    f"sub={_log_safe(state['sub'])} client_id={_log_safe(state['client'])} "
                    f"rid={state.get('rid', '-')}"
                )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    self.pool.close()
                self.access.flush()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _respond(
        self,
        send: Send,
        state: dict[str, Any],
        answer: tuple[int, Headers, bytes],
        extra: Headers | None = None,
    ) -> None:
        status, headers, body = answer
        extra = extra or []
        state["status"] = status
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, *extra, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]
    ) -> None:
        path: str = scope["path"]
        if path.startswith("/-/"):
            await self._internal(path, send, state)
            return
        routes = self.routes
        if routes is None or (self._loader is not None and time.monotonic() >= self._next_check):
            routes = await self._routes()
        segments = path.lstrip("/").split("/")
        route: RouteConfig | None = routes.get(segments[0])
        used = 1
        if self._deep_suffixes:
            # Suffixes with several segments: the longest match wins.
            for i in range(2, min(len(segments), 8) + 1):
                candidate = routes.get("/".join(segments[:i]))
                if candidate is not None:
                    route, used = candidate, i
        if route is None:
            await self._respond(
                send, state, problem(404, "No API is published at this path.", "route")
            )
            return
        state["api"] = route.api_slug
        if scope["method"] in ("TRACE", "CONNECT"):
            # TRACE reflects credentials (cross-site tracing); CONNECT makes a tunnel.
            status, hdrs, body = problem(405, f"{scope['method']} is not allowed.", "method")
            await self._respond(send, state, (status, [*hdrs, (b"allow", _ALLOW)], body))
            return
        rest = "/" + "/".join(segments[used:])
        if ("." in rest or "%" in rest) and any(
            seg in ("..", ".") for seg in unquote(rest).split("/")
        ):
            await self._respond(
                send, state, problem(400, "Dot segments are not allowed in the path.", "path")
            )
            return
        rid = self._request_id()
        state["rid"] = rid
        raw_headers = scope["headers"]
        headers: dict[bytes, bytes] = dict(raw_headers)
        if len(headers) != len(raw_headers):
            # Repeated headers are joined, as HTTP allows for list-valued fields.
            headers = {}
            for name, value in raw_headers:
                headers[name] = headers[name] + b", " + value if name in headers else value
        method: str = scope["method"]
        extra: Headers = [(b"x-request-id", rid.encode())]
        origin_hdr = headers.get(b"origin")
        cors = route.cors
        if cors is not None and origin_hdr is not None:
            origin = origin_hdr.decode("latin-1")
            if method == "OPTIONS" and b"access-control-request-method" in headers:
                await self._preflight(route, origin, headers, send, state)
                return
            if cors.allows(origin):
                extra += [
                    (b"access-control-allow-origin", b"*" if "*" in cors.origins else origin_hdr),
                    (b"vary", b"Origin"),
                    (
                        b"access-control-expose-headers",
                        ", ".join(
                            ("WWW-Authenticate", "X-Request-Id", "Retry-After", *cors.expose)
                        ).encode(),
                    ),
                ]
                if cors.credentials:
                    extra.append((b"access-control-allow-credentials", b"true"))

        query: bytes = scope.get("query_string", b"")
        verdict: Verdict | None = None
        policy = route.policy
        if policy is not None:
            try:
                verdict, query = await self._authorize(route, policy, method, rest, headers, query)
            except TokenRejected as exc:
                self.metrics.rejections[(route.api_slug, exc.check)] += 1
                realm = str(_setting("GATEWAY_REALM", "gw"))
                await self._respond(
                    send,
                    state,
                    rejection(exc, realm, policy.failed_status, policy.failed_message),
                    extra,
                )
                return
            except KeysUnavailable as exc:
                await self._respond(
                    send, state, problem(503, str(exc), "keys"), [*extra, (b"retry-after", b"5")]
                )
                return
            state["sub"], state["client"] = verdict.subject or "-", verdict.client_id or "-"

        if route.rate_limit is not None:
            limited = await self._rate_limit(route, verdict, scope, extra)
            if limited is not None:
                await self._respond(send, state, limited, extra)
                return

        forward = self._forward_headers(route, scope, headers, verdict, rid)
        if route.backend == "echo":
            answer = await backends.echo(method, rest, query, forward, headers, receive)
            await self._respond(send, state, answer, extra)
        elif route.backend == "mock":
            answer = await backends.mock(route, method, rest)
            await self._respond(send, state, answer, extra)
        else:
            await self._proxy(
                route,
                method,
                _raw_rest(scope, used, rest),
                query,
                headers,
                forward,
                receive,
                send,
                state,
                extra,
            )

    async def _internal(self, path: str, send: Send, state: dict[str, Any]) -> None:
        if path == "/-/health":
            await self._respond(send, state, (200, [(b"content-type", b"text/plain")], b"ok\n"))
        elif path == "/-/metrics" and _setting("GATEWAY_METRICS_ENABLED", True):
            self.metrics.key_fetches = self.keys.fetch_count
            await self._respond(
                send,
                state,
                (200, [(b"content-type", b"text/plain; version=0.0.4")], self.metrics.render()),
            )
        else:
            await self._respond(send, state, problem(404, "Unknown gateway path.", "route"))

    async def _preflight(
        self,
        route: RouteConfig,
        origin: str,
        headers: dict[bytes, bytes],
        send: Send,
        state: dict[str, Any],
    ) -> None:
        cors = route.cors
        assert cors is not None
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
        await self._respond(send, state, (204, out, b""))

    # --- validate-jwt -------------------------------------------------------------------

    async def _authorize(
        self,
        route: RouteConfig,
        policy: Policy,
        method: str,
        rest: str,
        headers: dict[bytes, bytes],
        query: bytes,
    ) -> tuple[Verdict, bytes]:
        header_value: str | None = None
        if policy.header_name:
            raw = headers.get(policy.header_key)
            if raw is not None:
                if len(raw) > policy.max_token_bytes + 64:
                    raise TokenRejected("size", "The token is larger than the size limit.")
                header_value = raw.decode("latin-1")
        param = policy.query_parameter_name or "access_token"
        query_value: str | None = None
        if query and param.encode("latin-1") in query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            values = [v for k, v in pairs if k == param]
            if values:
                query_value = values[0]
                if policy.query_parameter_name:
                    # The backend never sees the token in its query string.
                    from urllib.parse import urlencode

                    query = urlencode([(k, v) for k, v in pairs if k != param]).encode()
        token = extract_token(policy, header_value, query_value)
        now = time.time()
        operation: str | None = None
        if policy.has_operation_rules:
            match = route.match_operation(method, rest)
            operation = match.slug if match else None
        # A verdict depends only on the token, policy, method and operation, within the time
        # window check_claims reports: a repeat call costs one dict lookup.
        key = (token, method, operation)
        cached = self._tokens.get(token)
        fresh = (
            cached is not None and cached[0] is policy and self._keys_current(cached[3], cached[4])
        )
        hit = self._verdicts.get(key) if fresh else None
        if hit is not None and hit[0] is policy and hit[1].valid_from <= now < hit[1].valid_until:
            return hit[1], query
        if fresh:
            assert cached is not None
            parsed = cached[1]
        else:
            parsed = await self._verify(token, policy)
        verdict = check_claims(parsed, policy, now, method=method, operation=operation)
        if verdict.extra_audiences:
            log.info(
                "token for %s also names audiences %s",
                route.api_slug,
                ", ".join(verdict.extra_audiences)[:200],
            )
        if token in self._tokens:
            if len(self._verdicts) >= _TOKEN_CACHE_MAX:
                self._verdicts.clear()
            self._verdicts[key] = (policy, verdict, token)
        return verdict, query

    def _keys_current(self, url: str, keyset: KeySet | None) -> bool:
        """A cached verification stands while its key set is the current, unexpired one: a
        refreshed JWKS (a key withdrawn) makes every cached token verify again once."""
        if not url:
            return True  # static issuer-signing-keys change only with the configuration
        current = self.keys.current(url)
        return (
            current is not None
            and current is keyset
            and time.time() - current.fetched_at < float(_setting("GATEWAY_JWKS_TTL", 3600))
        )

    async def _verify(self, token: str, policy: Policy) -> ParsedToken:
        parsed = parse(token, policy)
        by_issuer, missing = await self.keys.keys_for(
            policy.openid_config, policy.static_keys, policy.issuers
        )
        iss = parsed.payload.get("iss")
        if (not isinstance(iss, str) or iss not in by_issuer) and missing:
            raise KeysUnavailable(
                "The gateway has not been able to fetch the issuer's signing keys yet."
            )
        issuer = check_issuer_and_type(parsed, policy, by_issuer.keys())
        if issuer not in by_issuer:
            raise TokenRejected("iss", "No signing keys are known for the token's issuer.")
        url, keyset = by_issuer[issuer]
        candidates = keyset.matching(parsed.kid)
        if (
            not candidates
            and parsed.kid is not None
            and url
            and await self.keys.refetch_for_unknown_kid(url)
        ):
            refreshed = await self.keys.keyset(url)
            if refreshed is not None and refreshed.issuer == issuer:
                candidates = refreshed.matching(parsed.kid)
        if not candidates:
            raise TokenRejected("kid", "The token's key id is not one of the issuer's keys.")
        key = verify_signature(parsed, candidates)
        exp = parsed.payload.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            if len(self._tokens) >= _TOKEN_CACHE_MAX:
                self._tokens.clear()
                self._verdicts.clear()
            self._tokens[token] = (
                policy,
                parsed,
                key,
                url,
                self.keys.current(url) if url else None,
            )
        return parsed

    # --- rate limit ---------------------------------------------------------------------

    async def _rate_limit(
        self, route: RouteConfig, verdict: Verdict | None, scope: Scope, extra: Headers
    ) -> tuple[int, Headers, bytes] | None:
        limit = route.rate_limit
        assert limit is not None and self.counters is not None
        if limit.key == "subject" and verdict is not None and verdict.subject:
            who = "sub:" + verdict.subject
        elif limit.key == "client_id" and verdict is not None and verdict.client_id:
            who = "client:" + verdict.client_id
        else:
            client = scope.get("client") or ("-", 0)
            who = "addr:" + str(client[0])
        try:
            count, reset = await self.counters.hit(f"{route.suffix}|{who}", limit.period)
        except Exception as exc:  # the shared store is down: fail open, loudly
            log.warning("rate-limit store unavailable: %s", exc)
            return None
        remaining = max(0, limit.calls - count)
        extra += [
            (b"x-ratelimit-limit", str(limit.calls).encode()),
            (b"x-ratelimit-remaining", str(remaining).encode()),
        ]
        if count > limit.calls:
            retry = max(1, int(reset + 0.999))
            status, headers, body = problem(
                429,
                f"Rate limit of {limit.calls} calls per {limit.period} s exceeded; "
                f"retry in {retry} s.",
                "rate-limit",
            )
            return status, [*headers, (b"retry-after", str(retry).encode())], body
        return None

    # --- proxying -----------------------------------------------------------------------

    def _forward_headers(
        self,
        route: RouteConfig,
        scope: Scope,
        headers: dict[bytes, bytes],
        verdict: Verdict | None,
        rid: str,
    ) -> Headers:
        drop: frozenset[bytes] | set[bytes] = _STRIP_REQUEST
        connection = headers.get(b"connection")
        if connection:
            drop = set(_STRIP_REQUEST)
            drop.update(v.strip().lower() for v in connection.split(b","))
        out: Headers = []
        for name, value in headers.items():
            if name in drop or name in _SPOOFABLE or name.startswith(_SPOOFABLE_PREFIXES):
                continue
            if name == b"cookie":
                value = _strip_portal_cookies(value)
                if not value:
                    continue
            out.append((name, value))
        client = scope.get("client") or ("", 0)
        host = headers.get(b"host", b"")
        out += [
            (b"x-forwarded-for", str(client[0]).encode()),
            (b"x-forwarded-proto", b"https" if scope.get("scheme") == "https" else b"http"),
            (b"x-forwarded-prefix", scope.get("root_path", "").encode() + route.prefix_bytes),
            (b"x-request-id", rid.encode()),
        ]
        if host:
            out.append((b"x-forwarded-host", host))
        if route.forward_claims and verdict is not None:
            out += [
                (b"x-user-sub", _header_safe(verdict.subject)),
                (b"x-user-client-id", _header_safe(verdict.client_id)),
                (b"x-user-scopes", _header_safe(" ".join(verdict.scopes))),
            ]
        return out

    async def _proxy(
        self,
        route: RouteConfig,
        method: str,
        rest: bytes,
        query: bytes,
        headers: dict[bytes, bytes],
        forward: Headers,
        receive: Receive,
        send: Send,
        state: dict[str, Any],
        extra: Headers,
    ) -> None:
        assert route.origin is not None and self.pool is not None
        target = route.base_path.encode("latin-1") + rest
        if query:
            target += b"?" + query
        body: Any = None
        content_length: int | None = None
        cl = headers.get(b"content-length")
        te = headers.get(b"transfer-encoding")
        chunked = te is not None and b"chunked" in te.lower()
        if cl is not None and te is not None:
            # Both framings at once is how request smuggling starts (RFC 9112 section 6.3).
            await self._respond(
                send, state,
                problem(400, "Content-Length and Transfer-Encoding together.", "request"), extra,
            )  # fmt: skip
            return
        if cl is not None or chunked:
            if cl is not None:
                try:
                    content_length = int(cl)
                except ValueError:
                    await self._respond(
                        send, state, problem(400, "Bad Content-Length.", "request"), extra
                    )
                    return
            first = await receive()
            chunk = first.get("body", b"")
            if not first.get("more_body", False):
                body = chunk
            else:
                body = _prepend(chunk, aiter_bytes(receive))
        try:
            response = await self.pool.request(
                route.origin,
                method,
                target,
                forward,
                body,
                content_length=content_length,
                timeout=route.timeout,
            )
        except UpstreamTimeout as exc:
            self.metrics.upstream_errors[(route.api_slug, "timeout")] += 1
            await self._respond(
                send,
                state,
                problem(504, f"The backend timed out: {exc}.", "backend-timeout"),
                extra,
            )
            return
        except (UpstreamUnavailable, UpstreamBroken) as exc:
            kind = "unavailable" if isinstance(exc, UpstreamUnavailable) else "broken"
            self.metrics.upstream_errors[(route.api_slug, kind)] += 1
            await self._respond(
                send,
                state,
                problem(502, f"The backend failed: {exc}.", "backend-unavailable"),
                extra,
            )
            return
        out_headers = filter_response_headers(response.headers)
        out_headers = [(n, v) for n, v in out_headers if n != b"x-request-id"]
        state["status"] = response.status
        if response.complete:
            data = b""
            while chunk := await response.read():
                data += chunk
            if not any(n == b"content-length" for n, _ in out_headers) and method != "HEAD":
                out_headers.append((b"content-length", str(len(data)).encode()))
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": [*out_headers, *extra],
                }
            )
            await send({"type": "http.response.body", "body": data})
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [*out_headers, *extra],
            }
        )
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
            self.metrics.upstream_errors[(route.api_slug, kind)] += 1
            raise
        except BaseException:
            response.abort()
            raise
        await send({"type": "http.response.body", "body": b""})


def _raw_rest(scope: Scope, used: int, rest: str) -> bytes:
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


async def _prepend(first: bytes, rest: Any) -> Any:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


_UNSAFE_HEADER_CHARS = re.compile(r"[^\x20-\x7e]")


def _header_safe(value: str) -> bytes:
    if not (value.isascii() and value.isprintable()):
        value = _UNSAFE_HEADER_CHARS.sub("", value)
    return value[:1000].encode("ascii")


def _strip_portal_cookies(value: bytes) -> bytes:
    """The portal's own session and CSRF cookies never reach a backend."""
    names = {
        str(_setting("SESSION_COOKIE_NAME", "sessionid")).encode(),
        str(_setting("CSRF_COOKIE_NAME", "csrftoken")).encode(),
    }
    kept = [
        part.strip()
        for part in value.split(b";")
        if part.strip() and part.strip().split(b"=", 1)[0].strip() not in names
    ]
    return b"; ".join(kept)

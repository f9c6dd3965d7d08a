"""The gateway's own ASGI application: the hot path, free of Django's request machinery.

Per call: find the route by suffix; answer a CORS preflight; validate the token (parsed and
verified tokens are cached until they expire, so a repeat costs a dict lookup plus the claim
checks); count the call for rate-limit-by-key; then the echo or mock backend answers, or the
call is proxied through the pooled upstream client. Routes and policies live in memory and
are reloaded when they change (gateway/refreshed.py: checked before serving, at most once per
GATEWAY_CONFIG_REFRESH s).

Reserved paths: `/-/live` and `/-/ready` (probes; `/-/health` is the older liveness
answer), and `/-/metrics` (Prometheus text format).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from gateway import backends, cors, formbody, keys, proxy, ratelimit
from gateway.accesslog import AccessLog
from gateway.clients import SubscribedClients
from gateway.config import RouteConfig, config_fingerprint, load_routes
from gateway.hosts import HostCheck
from gateway.jwt import KeysUnavailable, TokenRejected, Verdict
from gateway.keys import KeyStore
from gateway.metrics import Metrics, hide_apis
from gateway.paths import PathRefused, decode_path
from gateway.problems import SECURITY_HEADERS, Headers, echoed, problem, rejection
from gateway.ratelimit import CounterStore, MemoryCounters, RedisCounters
from gateway.refreshed import Refreshed
from gateway.revocations import Revocations
from gateway.routing import SERVED_METHODS, find_route, raw_rest
from gateway.server import BODY_BYTES, CLIENT_GONE
from gateway.subscriptions import Meter, Subscriptions
from gateway.upstream import Pool
from gateway.validate import Validator
from gateway.version import VersionSource, url_problems
from portal.lib import proxies, requestlog
from portal.lib.headers import overrides_method
from usage.events import classify
from usage.recorder import Recorder

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger("gateway")

_ALLOW = ", ".join(SERVED_METHODS).encode()
# The methods a call may have: those a required-claims rule can name (gateway.models). Any
# other (TRACE, CONNECT, WebDAV's MOVE or PROPPATCH, a cache's PURGE) is held by no rule.
_SERVED_METHODS = frozenset(SERVED_METHODS)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


_PLAIN = re.compile(r"[A-Za-z0-9/._~:@+-]*")


@functools.lru_cache(maxsize=4096)  # the same paths, subjects and clients come back
def _log_safe(value: str) -> str:
    """Percent-encode anything that could break a log line (quotes, spaces, newlines)."""
    return value if _PLAIN.fullmatch(value) else quote(value, safe="/-._~")


def _health(status: int, body: dict[str, Any]) -> tuple[int, Headers, bytes]:
    headers: Headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    return status, headers, json.dumps(body).encode()


@functools.lru_cache(maxsize=1024)
def _trusted(peer: str, trusted: tuple[Any, ...]) -> bool:
    """Whether a connecting address is a trusted proxy: a lookup per call, not a parse (the
    balancers are a few addresses)."""
    return proxies.is_trusted(peer, trusted)


def _with_real_client(
    scope: Scope, forwarded_for: bytes | None, forwarded_proto: bytes | None
) -> Scope:
    """The scope with `client` set to the address X-Forwarded-For names, when the peer is a
    proxy in TRUSTED_PROXIES (SECURITY.md case 81), and `scheme` to the one its
    X-Forwarded-Proto names (as the portal's middleware believes it: from TRUSTED_PROXIES, or
    from anyone with BEHIND_TLS_PROXY alone); otherwise the scope as it came."""
    trusted = proxies.trusted_networks(tuple(_setting("TRUSTED_PROXIES", ())))
    peer = scope.get("client") or ("", 0)
    changes: dict[str, Any] = {}
    if forwarded_proto is not None and forwarded_proto != b"http":  # http: nothing to change
        proto = forwarded_proto.decode("latin-1")
        if trusted:
            scheme = proto.split(",")[0].strip().lower() if _trusted(peer[0], trusted) else ""
        elif _setting("SECURE_PROXY_SSL_HEADER", None):
            scheme = proto.split(",")[0].strip().lower()
        else:
            scheme = ""
        if scheme in ("http", "https") and scheme != scope.get("scheme"):
            changes["scheme"] = scheme
    if forwarded_for is not None and trusted and peer[0]:
        real = proxies.client_address(str(peer[0]), forwarded_for.decode("latin-1"), trusted)
        if real != peer[0]:
            changes["client"] = (real, 0)
    return {**scope, **changes} if changes else scope


def _host_problems() -> list[str]:
    """Entries of the host list the gateway answers (GATEWAY_HOSTS, else ALLOWED_HOSTS) that
    no Host header can match: every call naming them would be 400 'check: host'."""
    from portal.checks import never_matching_hosts

    name = "GATEWAY_HOSTS" if _setting("GATEWAY_HOSTS", None) else "ALLOWED_HOSTS"
    entries = list(_setting(name, None) or [])
    return [
        f"{name}: {entry!r} can never match a request's host (give host names only, without "
        "scheme, port or path)."
        for entry in never_matching_hosts(entries)
    ]


class Gateway:
    """The ASGI callable. One instance per process; loop-bound state is made lazily."""

    def __init__(
        self,
        routes: dict[str, RouteConfig] | None = None,
        *,
        loader: Callable[[], dict[str, RouteConfig]] | None = load_routes,
        fingerprint: Callable[[], Any] | None = config_fingerprint,
        subscriptions: Subscriptions | None = None,
        revocations: Revocations | None = None,
        clients: SubscribedClients | None = None,
    ) -> None:
        problems = url_problems() + _host_problems()
        if problems:  # stop at start (python -m gateway exits), not a 500 on every call
            raise ImproperlyConfigured(" ".join(problems))
        self.routes: dict[str, RouteConfig] | None = routes
        self.version = VersionSource()
        # Routes and policies, subscription keys, revoked tokens and subscribed clients all
        # come from the database unless routes are given, kept current the same way
        # (gateway/refreshed.py) through this worker's one reader of the version key.
        from_db = routes is None
        self.config: Refreshed[dict[str, RouteConfig]] | None = (
            Refreshed(
                "gateway configuration",
                loader or load_routes,
                fingerprint or config_fingerprint,
                {},
                self.version,
            )
            if from_db
            else None
        )
        self.subscriptions = subscriptions or (
            Subscriptions(version=self.version) if from_db else None
        )
        self.pool: Pool | None = None
        self.keys = KeyStore()
        self.metrics = Metrics()
        self.usage = self.metrics.usage = Recorder()  # usage events: usage/recorder.py
        self.metrics.config_checks = self.version.checks  # live: every snapshot has them
        self.counters: CounterStore | None = None
        self.access = AccessLog(str(_setting("GATEWAY_ACCESS_LOG", "-")))
        self.validator = Validator(
            self.keys,
            revocations=revocations or (Revocations(self.version) if from_db else None),
            clients=clients or (SubscribedClients(self.version) if from_db else None),
        )
        self.hosts = HostCheck()
        self._publisher: asyncio.Task[None] | None = None
        self._deep_suffixes = any("/" in s for s in (routes or {}))
        self._rid_prefix = uuid.uuid4().hex[:12] + "-"
        self._counter = 0

    def _request_id(self) -> str:
        """Unique per process and call: a random process prefix and a counter (cheap)."""
        self._counter += 1
        return f"{self._rid_prefix}{self._counter:x}"

    # --- configuration ---------------------------------------------------------------

    async def _routes(self) -> dict[str, RouteConfig]:
        """The routes to serve this call with, checked against the database first.

        A change applies to the next call (case 63): once per GATEWAY_CONFIG_REFRESH seconds a
        call waits for the check (gateway/refreshed.py) instead of being served with the old
        routes; calls arriving during that check wait for the same check."""
        config = self.config
        if config is None:
            return self.routes or {}
        if await config.refresh() or self.routes is None:
            routes = self.routes = config.value
            self._deep_suffixes = any("/" in s for s in routes)
            self.validator.clear()  # verdicts cached under the old policies
        return self.routes

    def _loop_state(self) -> None:
        if self.pool is None:
            self.pool = Pool(
                connect_timeout=float(_setting("GATEWAY_CONNECT_TIMEOUT", 3)),
                idle_timeout=float(_setting("GATEWAY_POOL_IDLE_TIMEOUT", 30)),
            )
        if self.counters is None:
            url = _setting("GATEWAY_REDIS_URL", "") or _setting("REDIS_URL", "")
            self.counters = RedisCounters(url) if url else MemoryCounters()
            shared = _setting("REDIS_URL", "") or url
            # Without Redis, the workers of one `python -m gateway` share a folder it made.
            folder = os.environ.get("GATEWAY_METRICS_DIR", "")
            if shared or folder:
                if shared:
                    self.metrics.use_redis(shared)
                else:
                    self.metrics.use_directory(folder)
                self._publisher = asyncio.get_running_loop().create_task(
                    self.metrics.publish_forever()
                )

    # --- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self.pool is None or self.counters is None:
            self._loop_state()
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "api": "-", "sub": "-", "client": "-"}
        # Body bytes for the usage counts: gateway/server.py counts them itself.
        body_bytes: list[int] | None = scope.get(BODY_BYTES)
        if body_bytes is None and self.usage.enabled:
            send, receive = self.usage.counting(state, send, receive)
        try:
            await self._handle(scope, receive, send, state)
        finally:
            elapsed = time.perf_counter() - started
            # A call a later check refused (the route's rate limit, a body check) spends no
            # kilobyte of the quota, as one refused for its token does: usage counts it as
            # blocked, and it never reached the API.
            meter, subscriptions = state.get("meter"), self.subscriptions
            if (
                meter is not None
                and subscriptions is not None
                and classify(state["status"], state.get("check", ""))[0] != "blocked"
            ):
                await subscriptions.spend(meter, self.counters)
            if body_bytes is not None:
                state["in"], state["out"] = body_bytes
                if CLIENT_GONE in scope and (
                    state["status"] < 400 or state.get("check") == "request"
                ):
                    # The client left before the answer ended: no success for anyone, and a
                    # body cut by its leaving was refused by no check (usage counts it
                    # "other", as a call with no answer sent: usage/events.py).
                    state["check"] = "client-gone"
            self.usage.record(scope, state, started, elapsed)
            method = scope["method"]
            self.metrics.observe(
                state["api"], method, state["status"], elapsed, state.get("check", "")
            )
            if self.access.enabled:
                path = scope.get("root_path", "") + scope["path"]
                self.access.write(
                    f'method={method} path="{_log_safe(path)}" '
                    f"status={state['status']} ms={elapsed * 1000:.2f} api={state['api']} "
                    f"sub={_log_safe(state['sub'])} client_id={_log_safe(state['client'])} "
                    f"rid={state.get('rid', '-')}"
                )

    def refused_by_server(self, status: int, client: tuple[str, int] | None) -> None:
        """gateway/server.py refused a request before it reached this application (not
        HTTP/1.1, a head too large, a transfer coding it does not take): counted as a call
        refused before any API matched, by the `request` check (usage/events.py)."""
        try:
            state: dict[str, Any] = {"status": status, "check": "request"}
            scope: Scope = {"type": "http", "client": client, "headers": []}
            self.usage.record(scope, state, time.perf_counter(), 0.0)
        except Exception:  # counting must never break the server's refusal
            log.exception("usage: a refused request could not be counted")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    self.pool.close()
                self.access.flush()
                await self.usage.aclose()  # writes what is still buffered
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
        if status >= 400:
            state["check"] = _check_of(body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    *headers,
                    *extra,
                    *SECURITY_HEADERS,
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]
    ) -> None:
        raw, path = _request_path(scope)
        if path is None:
            # Refused before routing: no policy can be chosen for an ambiguous path.
            await self._respond(send, state, problem(400, raw.decode("latin-1"), "path"))
            return
        raw_headers = scope["headers"]
        headers: dict[bytes, bytes] = dict(raw_headers)
        repeated = len(headers) != len(raw_headers)
        if repeated:
            # Repeated headers are joined, as HTTP allows for list-valued fields.
            headers = {}
            for name, value in raw_headers:
                headers[name] = headers[name] + b", " + value if name in headers else value
        forwarded_for = headers.get(b"x-forwarded-for")
        forwarded_proto = headers.get(b"x-forwarded-proto")
        if forwarded_for is not None or forwarded_proto is not None:
            # Behind a load balancer in TRUSTED_PROXIES the client is the one it names: limits,
            # key-failure counts, the metrics allowlist and the backend all see that address;
            # and the backend is told the scheme the client used (TLS ends at the balancer).
            scope = _with_real_client(scope, forwarded_for, forwarded_proto)
        if path.startswith("/-/"):
            # Probes and scrapes come by IP address (a load balancer's health check names no
            # host): the internal endpoints answer before the host check, and name no API.
            await self._internal(path, scope, send, state)
            return
        refused = self.hosts.refusal(scope, headers.get(b"host"), repeated)
        if refused is not None:
            await self._respond(send, state, problem(400, refused, "host"))
            return
        routes = self.routes
        if routes is None or (self.config is not None and self.config.due()):
            routes = await self._routes()
        route, used, segments = find_route(routes, path, self._deep_suffixes)
        if route is None:
            if self.config is not None and not self.config.loaded:
                # Not "no such API": this process has not read its routes yet (the database
                # did not answer), as /-/ready says; a 404 would read as final.
                status, hdrs, body = problem(
                    503, "The gateway has not loaded its routes yet; try again shortly.", "routes"
                )
                await self._respond(send, state, (status, [*hdrs, (b"retry-after", b"5")], body))
                return
            await self._respond(
                send, state, problem(404, "No API is published at this path.", "route")
            )
            return
        state["api"], state["route"] = route.api_slug, route
        method: str = scope["method"]
        if method != method.upper():
            # Methods are case-sensitive (RFC 9110): `delete` is no DELETE to the rules bound
            # to DELETE, but backends that upper-case it run a DELETE (this server's own
            # parser refuses it; granian and others pass it on).
            await self._respond(
                send, state, problem(400, "The method is not upper case.", "method")
            )
            return
        if method not in _SERVED_METHODS:
            # TRACE reflects credentials (cross-site tracing), CONNECT makes a tunnel, and no
            # required-claims rule can name the others: a read-only token's MOVE or PROPPATCH
            # would pass the rule bound to the writes.
            status, hdrs, body = problem(405, f"{method[:20]} is not allowed.", "method")
            await self._respond(send, state, (status, [*hdrs, (b"allow", _ALLOW)], body))
            return
        query: bytes = scope.get("query_string", b"")
        # find(), not `in`: a bytes `in` first tries its operand as an integer and formats a TypeError
        # for it (about 3,000 instructions each, several per call on the hot path).
        if query and query.find(b"#") >= 0:
            # No part of a request target (RFC 9112), yet many backends cut the query there:
            # `?x=1#&comp=list` would pick one operation's policy here and run another.
            detail = "A raw '#' is not allowed in the query (write %23 for data)."
            await self._respond(send, state, problem(400, detail, "query"))
            return
        if query and overrides_method(query):
            # A backend would run another method than the one the policy checks (case 62).
            detail = "A method override parameter (_method) is not allowed."
            await self._respond(send, state, problem(400, detail, "method"))
            return
        rest = "/" + "/".join(segments[used:])
        # A well-formed id from the caller (the portal's console sends its request's id) is
        # kept, so one id follows a call from the portal through here to the backend's logs.
        # It is a correlation id, not a credential: anyone may choose it for their own call.
        rid = requestlog.accept_or(headers.get(b"x-request-id"), self._request_id)
        state["rid"] = rid
        extra: Headers = [(b"x-request-id", rid.encode())]
        origin_hdr = headers.get(b"origin")
        if route.cors is not None and origin_hdr is not None:
            origin = origin_hdr.decode("latin-1")
            if method == "OPTIONS" and b"access-control-request-method" in headers:
                await self._respond(send, state, cors.preflight(route.cors, origin, headers))
                return
            extra += cors.response_headers(route.cors, origin, origin_hdr)

        # The operation decides the operation-bound rules: an unmatched call on a route with
        # a spec never reaches a policy or a backend (APIM answers 404 the same way).
        operation = route.match_operation(method, rest, query) if route.has_spec else None
        state["op"] = operation
        if operation is None and route.has_spec and not route.pass_through:
            await self._respond(
                send,
                state,
                problem(
                    404,
                    f"No operation of this API matches {echoed(f'{method} {rest}')}.",
                    "operation",
                ),
                extra,
            )
            return
        if operation is None and route.pass_through and route.loosely_matches(method, rest, query):
            # `/pets/1/` or `/PETS/1` is deletePet to many backends: forwarded, it would skip
            # the rules bound to that operation (case 61 on a pass-through route).
            detail = (
                f"{echoed(f'{method} {rest}')} differs from an operation's path only in letter "
                "case or a trailing slash, or names a query key twice or in another case; use "
                "the path and query the API documents."
            )
            await self._respond(send, state, problem(404, detail, "operation"), extra)
            return

        entry = None
        if self.subscriptions is not None:  # the key check: gateway/subscriptions.py
            client = str((scope.get("client") or ("-", 0))[0])
            denied, entry, query = await self.subscriptions.identify(
                route.api_slug, headers, query, client, self.counters
            )
            state["entry"] = entry
            if denied is not None:
                await self._respond(send, state, denied, extra)
                return
        verdict: Verdict | None = None
        policy = route.policy
        if policy is not None:
            try:
                verdict, query = await self.validator.authorize(
                    route, policy, method, operation.slug if operation else None, headers, query
                )
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
                    send, state, problem(503, str(exc), exc.check), [*extra, (b"retry-after", b"5")]
                )
                return
            state["sub"], state["client"] = verdict.subject or "-", verdict.client_id or "-"

        if entry is not None and not entry.unlimited:
            # The product's limits count the calls both checks let through: one refused for
            # its token uses up no call of the quota (the usage pages count it as blocked).
            assert self.subscriptions is not None
            limited = await self.subscriptions.limits(entry, self.counters, extra)
            if limited is not None:
                await self._respond(send, state, limited, extra)
                return
            if entry.volume is not None:
                # A kilobyte quota: count this call's body bytes both ways (spent in __call__).
                meter = state["meter"] = Meter(entry, receive, send)
                receive, send = meter.receive, meter.send

        if route.rate_limit is not None:
            assert self.counters is not None
            limited = await ratelimit.check(self.counters, route, verdict, scope, extra)
            if limited is not None:
                await self._respond(send, state, limited, extra)
                return

        content_type = headers.get(b"content-type")
        if content_type is None or not content_type.strip():
            # Most calls (every GET): none of the body checks below applies. An untyped POST
            # body is a form to Rack, whose MethodOverride runs a `_method` in it.
            if method == "POST" and (
                b"content-length" in headers or b"transfer-encoding" in headers
            ):
                receive = formbody.refusing_untyped_override(receive)
        elif formbody.is_encoded(headers.get(b"content-encoding")) and (
            formbody.is_form(content_type)
            or formbody.is_multipart(content_type)
            or (method == "POST" and formbody.is_json(content_type))
        ):
            # The scans below would read compressed bytes, not the fields the backend reads.
            encoded = problem(415, formbody.ENCODED_DETAIL, "method")
            await self._respond(send, state, encoded, [*extra, (b"accept-encoding", b"identity")])
            return
        elif formbody.foreign_charset(content_type) and (
            formbody.is_form(content_type)
            or formbody.is_multipart(content_type)
            or (
                method == "POST"
                # System.Web decodes the query's escapes in the body's charset too, whatever
                # its type, and MVC 5 reads X-HTTP-Method-Override there on a POST.
                and (formbody.is_json(content_type) or query.find(b"%") >= 0)
            )
            # ... on any method, so the `x-ms-paths` key that picked the operation may be
            # another one to it.
            or (bool(route.query_names) and query.find(b"%") >= 0)
        ):
            # The same for a charset the backend decodes the body in first (UTF-16, UTF-7):
            # the scans read its bytes as ASCII. One scan for `charset` on a typed call.
            await self._respond(send, state, formbody.FOREIGN_CHARSET, extra)
            return
        elif formbody.is_form(content_type):
            if formbody.mixed(content_type, method):
                await self._respond(send, state, formbody.MIXED, extra)
                return
            form, receive = await formbody.read_form(receive)
            if form is None:
                detail = f"A form body larger than {formbody.FORM_LIMIT} bytes is not accepted."
                await self._respond(send, state, problem(413, detail, "request"), extra)
                return
            if overrides_method(form):
                detail = formbody.OverrideField.detail
                await self._respond(send, state, problem(400, detail, "method"), extra)
                return
        elif formbody.is_multipart(content_type):
            if formbody.mixed(content_type, method):
                await self._respond(send, state, formbody.MIXED, extra)
                return
            receive = formbody.refusing_override_fields(receive)
        elif method == "POST" and formbody.is_json(content_type):
            # Symfony (Laravel) overrides only a POST, from a JSON body's `_method` too.
            receive = formbody.refusing_json_override(receive)

        state["b0"] = time.perf_counter()  # backend time starts (usage events)
        forward = proxy.forward_headers(route, scope, headers, verdict, rid, self.subscriptions)
        if route.backend == "echo":
            token_header = policy.header_key if policy is not None else b"authorization"
            answer = await backends.echo(
                method, rest, query, forward, headers, receive, route.timeout, token_header
            )
            await self._respond(send, state, answer, extra)
        elif route.backend == "mock":
            answer = await backends.mock(route, method, rest, operation)
            await self._respond(send, state, answer, extra)
        else:
            assert self.pool is not None

            async def respond(answer: tuple[int, Headers, bytes], extra: Headers) -> None:
                await self._respond(send, state, answer, extra)

            await proxy.proxy(
                self.pool,
                self.metrics,
                route,
                method,
                raw_rest(raw, used),
                query,
                headers,
                forward,
                receive,
                send,
                respond,
                state,
                extra,
            )

    async def _internal(self, path: str, scope: Scope, send: Send, state: dict[str, Any]) -> None:
        state["internal"] = True  # probes and scrapes are not API calls: no usage event
        if path.endswith("/"):
            path = path[:-1]  # /-/ready/ as /-/ready, as the portal's /health/ready/ is
        if path == "/-/health":
            await self._respond(send, state, (200, [(b"content-type", b"text/plain")], b"ok\n"))
        elif path == "/-/live":
            await self._respond(send, state, _health(200, {"status": "ok"}))
        elif path == "/-/ready":
            await self._respond(send, state, await self._readiness())
        elif path == "/-/metrics" and _setting("GATEWAY_METRICS_ENABLED", True):
            if not metrics_allowed(scope):
                # Case 66: no API name, nor anything else, to an anonymous caller.
                status, headers, body = problem(
                    401, "Metrics need the metrics token or a listed address.", "metrics"
                )
                await self._respond(
                    send, state, (status, [*headers, (b"www-authenticate", b"Bearer")], body)
                )
                return
            self.metrics.key_fetches = self.keys.fetch_count
            self.metrics.store_failures.update(
                ratelimit=getattr(self.counters, "failures", 0), keys=keys.store_failures
            )
            values = await self.metrics.collect()
            if not metrics_token_ok(scope):
                # Let in by address: APIs hidden from anonymous users are not named (case 67).
                public = await self.subscriptions.public() if self.subscriptions else frozenset()
                values = hide_apis(values, public)
            await self._respond(
                send,
                state,
                (200, [(b"content-type", b"text/plain; version=0.0.4")], Metrics.render(values)),
            )
        else:
            await self._respond(send, state, problem(404, "Unknown gateway path.", "route"))

    async def _readiness(self) -> tuple[int, Headers, bytes]:
        """Ready once routes and policies are loaded: a process that cannot load them (no
        database at start) must get no traffic; one that has them serves from memory."""
        if self.config is not None:
            try:
                await asyncio.wait_for(self._routes(), timeout=3)
            except Exception as exc:
                log.warning("readiness: cannot load routes: %s: %s", type(exc).__name__, exc)
        checks = {"database": "ok"}
        # A failed first load leaves empty routes; only a successful load means configured.
        if self.config is not None and not self.config.loaded:
            checks["database"] = "failing"
        if self.subscriptions is not None:
            # Until the keys load, keyed calls get 503 (an empty map would let them through).
            try:
                await asyncio.wait_for(self.subscriptions.current(), timeout=3)
            except Exception as exc:
                log.warning("readiness: cannot load keys: %s: %s", type(exc).__name__, exc)
            loaded = self.subscriptions.keys.loaded
            checks["subscription keys"] = "ok" if loaded else "failing"
        failing = [name for name, state in checks.items() if state == "failing"]
        if failing:
            return _health(503, {"status": "unavailable", "checks": checks, "failing": failing})
        return _health(200, {"status": "ok", "checks": checks, "failing": []})


def _request_path(scope: Scope) -> tuple[bytes, str | None]:
    """(the path bytes below root_path as the client sent them, their decoded form), or
    (the reason as bytes, None) when the path is refused. See gateway/paths.py."""
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes) or not raw:
        raw = quote(scope["path"], safe="/:@!$&'()*+,;=-._~").encode("latin-1")
    if raw.find(b"?") >= 0:
        raw = raw.split(b"?", 1)[0]
    root = scope.get("root_path", "")
    if root:
        # raw_path is the full original path (ASGI); some callers give it without the root.
        broot = root.encode("latin-1")
        if raw == broot:
            raw = b"/"
        elif raw.startswith(broot + b"/"):
            raw = raw[len(broot) :]
    try:
        return raw, decode_path(raw)
    except PathRefused as exc:
        return str(exc).encode("latin-1", "replace"), None


def _check_of(body: bytes) -> str:
    """The problem body's check id (known values only: they come from this code)."""
    at = body.find(b'"check":"')
    if at < 0:
        return ""
    end = body.find(b'"', at + 9)
    return body[at + 9 : end].decode("ascii", "replace")[:40]


def metrics_token_ok(scope: Scope) -> bool:
    """The scrape carries the bearer GATEWAY_METRICS_TOKEN: the operator, who sees every API."""
    import hmac

    token = str(_setting("GATEWAY_METRICS_TOKEN", "") or "")
    if token:
        for name, value in scope["headers"]:
            # UTF-8, as a client sends text past Latin-1 (Latin-1 raised on such a token).
            if name == b"authorization" and hmac.compare_digest(
                value, b"Bearer " + token.encode("utf-8")
            ):
                return True
    return False


def metrics_allowed(scope: Scope) -> bool:
    """/-/metrics: the bearer GATEWAY_METRICS_TOKEN, or a client in GATEWAY_METRICS_ALLOW."""
    import ipaddress

    if metrics_token_ok(scope):
        return True
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return False
    for cidr in _setting("GATEWAY_METRICS_ALLOW", []) or []:
        try:
            if address in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False

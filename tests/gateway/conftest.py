"""Fixtures for the gateway: our own signing keys, a loopback OpenID provider (discovery +
JWKS) and a loopback backend that records what it received, and a harness that drives the
gateway's ASGI application on one event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.cache import cache

from gateway.app import Gateway
from gateway.config import RouteConfig
from gateway.jwt import ClaimRule, Policy
from gateway.upstream import parse_origin
from tests.gateway.processes import migrated_db, operator, redis_server  # noqa: F401

AUDIENCE = "api://orders"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private: Any
    alg: str

    def public_jwk(self, with_alg: bool = True) -> dict[str, Any]:
        algo = (
            pyjwt.algorithms.RSAAlgorithm if self.alg[0] in "RP" else pyjwt.algorithms.ECAlgorithm
        )
        jwk = json.loads(algo.to_jwk(self.private.public_key()))
        jwk["kid"] = self.kid
        jwk["use"] = "sig"
        if with_alg:
            jwk["alg"] = self.alg
        return dict(jwk)

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


_RSA_CACHE: list[Any] = []


def rsa_key(kid: str, alg: str = "RS256") -> SigningKey:
    # RSA generation is the slow part of these tests: reuse a small pool of keys.
    if len(_RSA_CACHE) < 4:
        _RSA_CACHE.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return SigningKey(kid, _RSA_CACHE[-1], alg)
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), alg)


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


# --- loopback HTTP servers ---------------------------------------------------------------


@dataclass
class Recorder:
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Requests whose connection ended before their Content-Length: (path, bytes that came).
    cut: list[tuple[str, int]] = field(default_factory=list)
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=dict)

    def count(self, path: str | None = None) -> int:
        return sum(1 for r in self.requests if path is None or r["path"] == path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The connection ended before the body did: no server hands such a request to its
            # application (PHP, Rack and Django's servers wait for the whole body), so it is
            # not recorded as one the backend received.
            self.server.recorder.cut.append((self.path.split("?")[0], len(body)))
            self.close_connection = True
            return
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(parts)
        recorder: Recorder = self.server.recorder
        path = self.path.split("?")[0]
        recorder.requests.append(
            {
                "method": self.command,
                "path": path,
                "target": self.path,
                "headers": [(k.lower(), v) for k, v in self.headers.items()],
                "body": body,
            }
        )
        handler = recorder.routes.get(path) or recorder.routes.get("*")
        if handler is None:
            self.send_json(404, {"error": "not found"})
        else:
            handler(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def send_json(self, status: int, value: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(value).encode()
        self.send_bytes(status, data, "application/json", extra)

    def send_bytes(
        self,
        status: int,
        data: bytes,
        ctype: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


@dataclass
class LoopbackServer:
    recorder: Recorder
    httpd: ThreadingHTTPServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def http_server() -> Iterator[Callable[[], LoopbackServer]]:
    servers: list[ThreadingHTTPServer] = []

    def start() -> LoopbackServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.recorder = Recorder()  # type: ignore[attr-defined]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return LoopbackServer(httpd.recorder, httpd)  # type: ignore[attr-defined]

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Provider:
    """A loopback OpenID provider: discovery + JWKS whose answers tests can change."""

    server: LoopbackServer
    keys: list[SigningKey]
    path: str = ""
    jwks_mode: str = "ok"  # ok | 500 | redirect | huge | junk

    @property
    def issuer(self) -> str:
        return self.server.url + self.path

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    @property
    def jwks_path(self) -> str:
        return self.path + "/jwks"

    def jwks_fetches(self) -> int:
        return self.server.recorder.count(self.jwks_path)

    def install(self) -> None:
        def discovery(h: Any) -> None:
            h.send_json(200, {"issuer": self.issuer, "jwks_uri": self.server.url + self.jwks_path})

        def jwks(h: Any) -> None:
            if self.jwks_mode == "500":
                h.send_json(500, {"error": "down"})
            elif self.jwks_mode == "redirect":
                h.send_bytes(302, b"", extra={"Location": self.redirect_to})
            elif self.jwks_mode == "huge":
                h.send_bytes(200, b'{"keys": [' + b" " * (5 * 1024 * 1024) + b"]}")
            elif self.jwks_mode == "junk":
                h.send_bytes(200, b"<html>not json</html>", "text/html")
            else:
                h.send_json(200, {"keys": [k.public_jwk() for k in self.keys]})

        self.server.recorder.routes[self.path + "/.well-known/openid-configuration"] = discovery
        self.server.recorder.routes[self.jwks_path] = jwks

    redirect_to: str = ""


@pytest.fixture
def provider(http_server: Callable[[], LoopbackServer]) -> Provider:
    p = Provider(http_server(), [rsa_key("k1"), ec_key("e1")])
    p.install()
    return p


@pytest.fixture
def backend(http_server: Callable[[], LoopbackServer]) -> LoopbackServer:
    server = http_server()

    def ok(h: Any) -> None:
        h.send_json(200, {"ok": True, "path": h.path})

    server.recorder.routes["*"] = ok
    return server


# --- tokens ------------------------------------------------------------------------------


def claims(provider: Provider, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": provider.issuer,
        "sub": "alice",
        "aud": AUDIENCE,
        "client_id": "console",
        "scope": "orders.read orders.write",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    for key, value in overrides.items():
        if value is _DROP:
            base.pop(key, None)
        else:
            base[key] = value
    return base


_DROP = object()
DROP = _DROP


def mint(key: SigningKey, payload: dict[str, Any], **header: Any) -> str:
    headers: dict[str, Any] = {"typ": "at+jwt", "kid": key.kid}
    for name, value in header.items():
        if value is _DROP:
            headers.pop(name, None)
        else:
            headers[name] = value
    alg = headers.pop("alg", key.alg)
    # Built by hand (not pyjwt.encode) so that tests can send any header value.
    return sign_raw(
        key, json.dumps({"alg": alg, **headers}).encode(), json.dumps(payload).encode(), alg
    )


def sign_raw(key: SigningKey, header: bytes, payload: bytes, alg: str | None = None) -> str:
    """Sign exact header and payload bytes (for duplicate members and odd JSON)."""
    alg = alg or key.alg
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    algo = pyjwt.get_algorithm_by_name(alg)
    signature = algo.sign(signing_input, key.private)
    return f"{signing_input.decode()}.{b64(signature)}"


# --- the gateway under test --------------------------------------------------------------


def make_route(
    provider: Provider | None,
    backend_url: str | None,
    *,
    backend: str = "upstream",
    **policy_overrides: Any,
) -> RouteConfig:
    policy = Policy(
        openid_config=(provider.discovery_url,) if provider else (),
        audiences=(AUDIENCE,),
        required_claims=(
            ClaimRule("scope", ("orders.read",), "all", " ", frozenset({"GET", "HEAD"})),
            ClaimRule(
                "scope",
                ("orders.write",),
                "all",
                " ",
                frozenset({"POST", "PUT", "PATCH", "DELETE"}),
            ),
        ),
    )
    if policy_overrides:
        from dataclasses import replace

        policy = replace(policy, **policy_overrides)
    route = RouteConfig(
        api_slug="orders",
        suffix="orders",
        backend=backend,
        timeout=5.0,
        forward_claims=True,
        policy=policy,
    )
    if backend_url:
        route.origin, route.base_path = parse_origin(backend_url)
    return route


@dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.decode().lower() == name.lower():
                return value.decode("latin-1")
        return None

    def json(self) -> Any:
        return json.loads(self.body)


class Harness:
    """Runs requests through a Gateway instance on one persistent event loop."""

    def __init__(self, routes: dict[str, RouteConfig]) -> None:
        self.app = Gateway(routes)
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        if self.app.pool is not None:
            self.app.pool.close()
        pending = asyncio.all_tasks(self.loop)

        async def cancel() -> None:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        self.loop.run_until_complete(cancel())
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        query: str = "",
        host: str | None = "gw.test",
        chunks: list[bytes] | None = None,
        server: tuple[str, int] | None = None,
    ) -> Response:
        return self.loop.run_until_complete(
            self.arequest(
                method,
                path,
                token=token,
                headers=headers,
                body=body,
                query=query,
                host=host,
                chunks=chunks,
                server=server,
            )  # fmt: skip
        )

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        query: str = "",
        host: str | None = "gw.test",
        chunks: list[bytes] | None = None,
        server: tuple[str, int] | None = None,
    ) -> Response:
        """`chunks`: the body as the server hands it on in several messages (an upload);
        `server`: the address the gateway listens on, as an ASGI server gives it."""
        if chunks is not None:
            body = b"".join(chunks)
        pieces = list(chunks) if chunks is not None else [body or b""]
        raw_headers = [(b"host", host.encode("latin-1"))] if host is not None else []
        if token is not None:
            raw_headers.append((b"authorization", f"Bearer {token}".encode()))
        for k, v in (headers or {}).items():
            raw_headers.append((k.lower().encode(), v.encode("latin-1")))
        if body is not None:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "method": method,
            # As ASGI servers give them: the decoded path and the client's own bytes.
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode(),
            "headers": raw_headers,
            "scheme": "http",
            "client": ("203.0.113.9", 5555),
            "root_path": "/gateway",
        }
        if server is not None:
            scope["server"] = server

        async def receive() -> dict[str, Any]:
            if pieces:
                return {"type": "http.request", "body": pieces.pop(0), "more_body": bool(pieces)}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        out: dict[str, Any] = {"body": b""}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
                out["headers"] = message["headers"]
            else:
                out["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return Response(out["status"], out["headers"], out["body"])


@pytest.fixture(autouse=True)
def _gateway_settings(settings: Any) -> Iterator[None]:
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = ["127.0.0.1", "localhost"]
    settings.GATEWAY_HOSTS = ["gw.test"]  # the harness's Host
    settings.GATEWAY_JWKS_RETRY = 0
    settings.GATEWAY_ACCESS_LOG = "logging"  # so caplog sees access lines (case 32)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def harness_for() -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def build(*routes: RouteConfig) -> Harness:
        h = Harness({r.suffix: r for r in routes})
        made.append(h)
        return h

    yield build
    for h in made:
        h.close()


def echo_in_starter(slug: str = "orders") -> tuple[Any, Any]:
    """(product, developer): the demo's echo.yaml published as `slug` in a published product
    "Starter" that signed-in developers may see, and the developer ada (password pw-ada-1)."""
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from products.models import Group, Product
    from tests.conftest import DEMO_SPECS

    call_command("importspec", str(DEMO_SPECS / "echo.yaml"), slug=slug, publish=True, stdout=io.StringIO())  # fmt: skip
    product = Product.objects.create(slug="starter", name="Starter", published=True)
    product.apis.set(product.apis.model.objects.filter(slug=slug))
    product.groups.set(Group.objects.filter(slug="developers"))
    ada = get_user_model().objects.create_user("ada", "ada@example.com", "pw-ada-1")
    return product, ada

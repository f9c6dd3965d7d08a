"""A minimal OpenID provider on loopback whose answers each test can bend.

It serves discovery, JWKS, token and userinfo over real HTTP so the portal's client code
runs unmodified; the ID token it returns can carry a wrong issuer, audience, signature or
expiry, and it records the token requests it receives (to check PKCE).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "stub-client"
CLIENT_SECRET = "stub-secret"


def _jwk(private: Any, kid: str) -> dict[str, Any]:
    data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    data.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return data


class StubOP:
    # The one running now: a test that starts a sign-in hands it the request's nonce, as a
    # real provider would read it from the authorization request this stub never sees.
    current: StubOP | None = None

    def __init__(self) -> None:
        self.nonce: str | None = None
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "stub-key-1"
        self.token_kid: str | None = None  # the ID tokens' kid, when not the key set's
        self.claims: dict[str, Any] = {}
        self.sign_with_other_key = False
        self.delay = 0.0
        self.token_delay = 0.0
        self.token_requests: list[dict[str, Any]] = []
        self.gets: list[str] = []  # the paths of the GET requests it answered
        self.userinfo: dict[str, Any] = {
            "sub": "stub-user",
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "preferred_username": "ada",
        }
        self.discovery_overrides: dict[str, Any] = {}
        # A hostile key set: padded with this many bytes of JSON, or sent in pieces of
        # `drip_bytes` with `drip_pause` seconds between them.
        self.jwks_padding = 0
        # Replaces members of the published key (None removes one).
        self.jwk_overrides: dict[str, Any] = {}
        # Replaces members of the token response (None removes one); `token_body` replaces it.
        self.token_overrides: dict[str, Any] = {}
        self.token_body: tuple[int, str, bytes] | None = None
        # path -> Location: answered with a 302 there.
        self.redirects: dict[str, str] = {}
        self.drip_bytes = 0
        self.drip_pause = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubOP:
        StubOP.current = self
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        doc = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }
        doc.update(self.discovery_overrides)
        return doc

    def id_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "stub-user",
            "iat": now,
            "exp": now + 300,
            "email": "ada@example.com",
            "nonce": self.nonce,
        }
        claims.update(self.claims)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.other_key if self.sign_with_other_key else self.key
        return jwt.encode(
            claims, key, algorithm="RS256", headers={"kid": self.token_kid or self.kid}
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, data: Any, status: int = 200) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _jwks(self) -> None:
                key = {**_jwk(op.key, op.kid), **op.jwk_overrides}
                keys: dict[str, Any] = {"keys": [{k: v for k, v in key.items() if v is not None}]}
                if op.jwks_padding:
                    keys["padding"] = "x" * op.jwks_padding
                body = json.dumps(keys).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = op.drip_bytes or len(body)
                try:
                    for start in range(0, len(body), step):
                        self.wfile.write(body[start : start + step])
                        self.wfile.flush()
                        if op.drip_pause:
                            time.sleep(op.drip_pause)
                except OSError:
                    pass  # the portal hung up: what a bounded client does

            def do_GET(self) -> None:
                if op.delay:
                    time.sleep(op.delay)
                path = self.path.split("?")[0]
                op.gets.append(path)
                if path in op.redirects:
                    self.send_response(302)
                    self.send_header("Location", op.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/.well-known/openid-configuration":
                    self._json(op.discovery())
                elif path == "/jwks":
                    self._jwks()
                elif path == "/userinfo":
                    self._json(op.userinfo)
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                    form.setdefault("client_id", user)
                    form.setdefault("client_secret", secret)
                op.token_requests.append(form)
                if op.token_delay:
                    time.sleep(op.token_delay)
                if op.token_body is not None:
                    status, kind, body = op.token_body
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                answer = {
                    "access_token": "stub-access-token",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": op.id_token(),
                    **op.token_overrides,
                }
                self._json({k: v for k, v in answer.items() if v is not None})

        return Handler

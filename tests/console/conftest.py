"""Fixtures for the console: the demo echo API, authorization servers, and a scripted
stand-in for `portal.lib.outbound.request` (the only place unit tests mock)."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from apis.models import Api, Operation
from console.models import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_IMPLICIT,
    GRANT_PASSWORD,
    ApiAuthorizationServer,
    AuthorizationServer,
)
from portal.lib import outbound
from tests.conftest import DEMO_SPECS

GATEWAY = "http://127.0.0.1:8000/gateway"
IDP = "https://idp.example"
TOKEN_URL = f"{IDP}/token"
ALL = [GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_IMPLICIT, GRANT_PASSWORD]


def jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """An unsigned-looking JWT for display tests (the console never verifies tokens)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header or {'alg': 'RS256', 'typ': 'at+jwt'})}.{part(claims)}.c2ln"


def token_response(**extra: Any) -> dict[str, Any]:
    """A token endpoint's answer to a grant, with `extra` fields over the usual ones."""
    return {
        "access_token": access_token(),
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "r1",
        "scope": "echo.read",
        **extra,
    }


def access_token(**claims: Any) -> str:
    now = int(time.time())
    base = {
        "iss": IDP,
        "sub": "42",
        "aud": "api://echo",
        "client_id": "console",
        "scope": "echo.read",
        "iat": now,
        "exp": now + 3600,
        "jti": "j1",
    }
    base.update(claims)
    return jwt({k: v for k, v in base.items() if v is not None})


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    allowed_private: list[str]
    allow_headers: list[str]

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


@dataclass
class FakeOutbound:
    """Answers by (method, URL without query); records every request."""

    routes: dict[tuple[str, str], Callable[[Sent], outbound.Response]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def on(self, method: str, url: str, handler: Callable[[Sent], outbound.Response]) -> None:
        self.routes[(method.upper(), url)] = handler

    def json(self, method: str, url: str, value: Any, status: int = 200, **headers: str) -> None:
        self.on(method, url, lambda sent: response(status, value, headers=headers))

    def __call__(self, method: str, url: str, **kwargs: Any) -> outbound.Response:
        sent = Sent(
            method=method.upper(),
            url=url,
            headers=dict(kwargs.get("headers") or {}),
            body=kwargs.get("body") or b"",
            allowed_private=list(kwargs.get("allowed_private") or []),
            allow_headers=list(kwargs.get("allow_headers") or []),
        )
        # The real wrapper refuses these before connecting; keep the stand-in as strict.
        outbound._clean_headers(sent.headers, sent.allow_headers)
        outbound.parse_target(url)
        self.sent.append(sent)
        parts = urlsplit(url)
        key = (sent.method, f"{parts.scheme}://{parts.netloc}{parts.path}")
        if key not in self.routes:
            raise outbound.OutboundError(
                f"cannot reach {parts.netloc}: no route in test", "connect"
            )
        return self.routes[key](sent)


def response(
    status: int = 200,
    value: Any = None,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    **more: str,
) -> outbound.Response:
    headers = {**(headers or {}), **more}
    if body is None:
        body = json.dumps(value).encode() if value is not None else b""
        headers.setdefault("Content-Type", "application/json")
    return outbound.Response(
        status=status,
        reason={200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}.get(
            status, ""
        ),
        headers=[(k.replace("_", "-"), v) for k, v in headers.items()],
        body=body,
        elapsed=0.01,
        url="",
    )


@pytest.fixture
def fake_outbound(monkeypatch: pytest.MonkeyPatch) -> FakeOutbound:
    fake = FakeOutbound()
    monkeypatch.setattr(outbound, "request", fake)
    return fake


@pytest.fixture(autouse=True)
def _console_settings(settings: Any) -> None:
    settings.CONSOLE_GATEWAY_URL = GATEWAY
    settings.CONSOLE_ALLOWED_ORIGINS = []
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def echo(db: None) -> Api:
    call_command(
        "importspec", str(DEMO_SPECS / "echo.yaml"), slug="echo", publish=True, stdout=io.StringIO()
    )
    api = Api.objects.get(slug="echo")
    from gateway.models import Route

    Route.objects.update_or_create(api=api, defaults={"suffix": "echo", "backend": "echo"})
    return api


def op(api: Api, slug: str) -> Operation:
    assert api.default_version is not None
    return Operation.objects.get(version=api.default_version, slug=slug)


@pytest.fixture
def auth_server(db: None) -> Callable[..., AuthorizationServer]:
    def make(api: Api | None = None, **fields: Any) -> AuthorizationServer:
        grants = fields.pop("grants", None)
        scopes = fields.pop("link_scopes", "")
        fields.setdefault("slug", "idp")
        fields.setdefault("name", "Example IdP")
        fields.setdefault("issuer", IDP)
        fields.setdefault("authorize_url", f"{IDP}/authorize")
        fields.setdefault("token_url", f"{IDP}/token")
        fields.setdefault("revoke_url", f"{IDP}/revoke")
        fields.setdefault("client_id", "console")
        fields.setdefault("client_secret", "s3cret")
        fields.setdefault("default_scopes", "echo.read")
        server = AuthorizationServer(**fields)
        if grants is not None:
            server.set_grants(grants)
        server.save()
        if api is not None:
            ApiAuthorizationServer.objects.create(api=api, server=server, scopes=scopes)
        return server

    return make


def forward_token_requests(fake: FakeOutbound, origin: str = "http://testserver") -> None:
    """The console's token requests to `origin`'s built-in provider reach its real token
    endpoint, through Django's test client on that host (the development run's provider is
    on http://127.0.0.1)."""
    parts = urlsplit(origin)
    name, port = parts.hostname or "testserver", str(parts.port or 80)

    def forward(sent: Sent) -> Any:
        answer = Client(SERVER_NAME=name, SERVER_PORT=port).post(
            "/idp/token/",
            data=sent.body,
            content_type=sent.header("Content-Type"),
            HTTP_AUTHORIZATION=sent.header("Authorization"),
        )
        return response(
            answer.status_code, body=answer.content, Content_Type=answer["Content-Type"]
        )

    fake.on("POST", f"{origin}/idp/token/", forward)


@pytest.fixture
def provider(fake_outbound: FakeOutbound, monkeypatch: pytest.MonkeyPatch) -> FakeOutbound:
    """The built-in provider on http://testserver answers the console's token requests."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    forward_token_requests(fake_outbound)
    return fake_outbound


@pytest.fixture
def petstore(db: None) -> Api:
    call_command(
        "importspec", str(DEMO_SPECS / "petstore.yaml"), slug="petstore", publish=True,
        stdout=io.StringIO(),
    )  # fmt: skip
    return Api.objects.get(slug="petstore")


@pytest.fixture
def user(db: None) -> Any:
    return get_user_model().objects.create_user("ada", "ada@example.com", "pw-ada-12345")


@pytest.fixture
def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client

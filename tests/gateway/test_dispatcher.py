"""portal.asgi: /gateway/... goes to the gateway's own ASGI app, everything else to Django."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _production_secrets(settings: Any) -> None:
    # portal.asgi refuses to start without them when DEBUG is off (portal/startup.py).
    settings.SECRET_KEY_FROM_ENV = True
    settings.IDENTITY_PORTAL_CLIENT_SECRET = "dispatcher-test-secret"
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"


def call(path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    from portal.asgi import application

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    out: dict[str, Any] = {"body": b""}
    sent: list[bool] = []

    async def receive() -> dict[str, Any]:
        if not sent:
            sent.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # no disconnect while the response is produced
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], dict(message["headers"])
        else:
            out["body"] += message.get("body", b"")

    asyncio.run(application(scope, receive, send))
    return out["status"], out["headers"], out["body"]


def test_gateway_paths_skip_django() -> None:
    status, headers, body = call("/gateway/-/health")
    assert (status, body) == (200, b"ok\n")
    assert b"x-frame-options" not in headers  # no Django middleware on the hot path


def test_other_paths_reach_django() -> None:
    status, headers, _ = call("/surely-not-a-page/")
    assert status == 404
    assert b"x-frame-options" in headers or b"X-Frame-Options" in headers


def test_a_django_page_runs_in_one_thread_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's async middleware chain hopped to a thread and back for each synchronous
    middleware (about twenty a request); the request's middleware and view now share one hop,
    with the request_started and close hops around it."""
    from asgiref.sync import SyncToAsync

    hops: list[str] = []
    original = SyncToAsync.__call__

    async def counted(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:  # type: ignore[type-arg]
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    status, headers, _ = call("/surely-not-a-page/")
    assert status == 404
    assert b"x-frame-options" in {name.lower() for name in headers}  # every middleware ran
    assert len(hops) <= 4, hops

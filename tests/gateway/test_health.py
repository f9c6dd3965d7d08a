"""The gateway's probes: /-/live answers while the process serves, /-/ready once its routes
are loaded from the database (503 naming the database otherwise)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gateway.app import Gateway


def get(app: Gateway, path: str) -> tuple[int, dict[str, Any]]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"10.1.2.3:8080")], "client": ("10.1.2.9", 1),
        "server": ("10.1.2.3", 8080),
    }  # fmt: skip
    out: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] = message["body"]

    asyncio.run(app(scope, receive, send))
    return out["status"], json.loads(out["body"])


def broken_database() -> Any:
    raise ConnectionError("database unreachable")


def test_live_answers_json() -> None:
    assert get(Gateway(routes={}), "/-/live") == (200, {"status": "ok"})


@pytest.mark.parametrize("path", ["/-/live/", "/-/ready/"])
def test_a_probe_written_with_a_trailing_slash_is_the_probe(path: str) -> None:
    """As the portal's /health/ready/ is: a balancer configured either way gets its answer,
    not a 404 read as 'down'."""
    status, body = get(Gateway(routes={}), path)
    assert status == 200 and body["status"] == "ok"


def test_ready_once_routes_are_loaded() -> None:
    status, body = get(Gateway(routes={}), "/-/ready")
    assert status == 200 and body["failing"] == []


@pytest.mark.django_db(transaction=True)
def test_ready_loads_routes_from_the_database() -> None:
    app = Gateway()  # routes and policies from the database
    status, body = get(app, "/-/ready")
    assert status == 200 and body["checks"] == {"database": "ok", "subscription keys": "ok"}


def test_not_ready_without_routes_names_the_database() -> None:
    app = Gateway(loader=broken_database, fingerprint=broken_database)
    status, body = get(app, "/-/ready")
    assert status == 503 and body["failing"][0] == "database"
    assert get(app, "/-/live")[0] == 200


def test_not_ready_until_the_subscription_keys_are_loaded(settings: Any) -> None:
    """Routes may load while the key map does not (a locked table): keyed calls then get 503,
    so the load balancer must not send this process traffic yet."""
    from gateway.subscriptions import KeyMap, Subscriptions

    settings.GATEWAY_CONFIG_REFRESH = 0  # each probe checks again

    table = {"answers": False}

    def load() -> KeyMap:
        if not table["answers"]:
            raise ConnectionError("database table is locked")
        return KeyMap({}, frozenset())

    app = Gateway(routes={}, subscriptions=Subscriptions(loader=load, fingerprint=lambda: 1))
    status, body = get(app, "/-/ready")
    assert status == 503 and body["failing"] == ["subscription keys"]
    table["answers"] = True
    assert get(app, "/-/ready") == (
        200,
        {"status": "ok", "checks": {"database": "ok", "subscription keys": "ok"}, "failing": []},
    )


def test_calls_get_503_not_404_until_the_routes_are_loaded() -> None:
    """A process whose database did not answer at start has no routes yet: it told every
    caller "No API is published at this path" (404, which clients and caches take as final)
    instead of a 503 to try again, as its /-/ready says."""
    app = Gateway(loader=broken_database, fingerprint=broken_database)
    status, body = get(app, "/echo/anything")
    assert status == 503 and body["check"] == "routes", body

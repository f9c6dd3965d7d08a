"""The built-in backends as an attacker feeds them: a text/html mock example stays inert on
the portal's origin, and echo assembles a body of many tiny chunks correctly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gateway import backends
from gateway.config import OperationMatch, RouteConfig, template_pattern
from tests.gateway.conftest import Harness

Build = Callable[..., Harness]


def test_html_mock_example_is_sandboxed(harness_for: Build) -> None:
    route = RouteConfig(api_slug="pages", suffix="pages", backend="mock", timeout=5,
                        forward_claims=False)  # fmt: skip
    pattern, literal = template_pattern("/page")
    route.operations.append(OperationMatch("get", pattern, "getPage", literal, {}))
    route.mock_cache["getPage"] = (200, "text/html", b"<script>fetch('/accounts/')</script>")
    resp = harness_for(route).request("GET", "/pages/page")
    assert resp.status == 200 and resp.header("content-type") == "text/html"
    assert resp.header("content-security-policy") == "sandbox"
    assert resp.header("x-content-type-options") == "nosniff"


def test_echo_assembles_300000_one_byte_chunks() -> None:
    n = 300_000
    messages = iter(range(n))

    async def receive() -> dict[str, Any]:
        i = next(messages)
        return {"type": "http.request", "body": b"ab"[i % 2 : i % 2 + 1], "more_body": i < n - 1}

    status, _, body = asyncio.run(
        backends.echo("POST", "/x", b"", [], {b"transfer-encoding": b"chunked"}, receive)
    )
    assert status == 200
    assert body.count(b"ab") >= n // 2  # the whole body came back, in order

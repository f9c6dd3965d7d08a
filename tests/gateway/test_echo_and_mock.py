"""The built-in backends as an attacker feeds them: a text/html mock example stays inert on
the portal's origin, and echo assembles a body of many tiny chunks correctly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from gateway import backends
from gateway.config import OperationMatch, RouteConfig
from tests.gateway.conftest import Harness

Build = Callable[..., Harness]


def test_html_mock_example_is_sandboxed(harness_for: Build) -> None:
    route = RouteConfig(api_slug="pages", suffix="pages", backend="mock", timeout=5,
                        forward_claims=False)  # fmt: skip
    route.operations.append(OperationMatch("get", "/page", "getPage", {}))
    route.mock_cache["getPage"] = (200, "text/html", b"<script>fetch('/accounts/')</script>")
    resp = harness_for(route).request("GET", "/pages/page")
    assert resp.status == 200 and resp.header("content-type") == "text/html"
    assert resp.header("content-security-policy") == "sandbox"
    assert resp.header("x-content-type-options") == "nosniff"


@pytest.mark.parametrize(
    ("written", "served"),
    [
        # A line break in a spec's media type key would be a header of the spec author's on
        # the portal's origin (a Set-Cookie for the portal's session), or break the framing.
        ("text/plain\r\nSet-Cookie: sessionid=evil", "application/octet-stream"),
        ("text/plain\nX-Other: 1", "application/octet-stream"),
        ("text/plain\x00", "application/octet-stream"),
        # No latin-1 form: it was a UnicodeEncodeError, a 500.
        ("text/plain; charset=\u2713", "application/octet-stream"),
        # A range names no type a browser can trust (and sniffs around).
        ("*/*", "application/octet-stream"),
        ("text/*", "application/octet-stream"),
        ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
        ("application/vnd.api+json", "application/vnd.api+json"),
    ],
)
def test_a_mock_answers_only_a_well_formed_media_type(
    harness_for: Build, written: str, served: str
) -> None:
    route = RouteConfig(api_slug="pages", suffix="pages", backend="mock", timeout=5,
                        forward_claims=False)  # fmt: skip
    responses = {"200": {"content": {written: {"example": "<b>x</b>"}}}}
    route.operations.append(OperationMatch("get", "/page", "getPage", {"responses": responses}))
    resp = harness_for(route).request("GET", "/pages/page")
    assert resp.status == 200
    assert [v for k, v in resp.headers if k == b"content-type"] == [served.encode()]
    assert all(b"\n" not in v and b"\r" not in v for _, v in resp.headers)


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


class _CountedChunk(bytes):
    """A body chunk that counts the bytes copied when it is appended with `+` or `+=` (the
    quadratic way: every append copies the whole body so far). Joining a list or extending
    a bytearray reads its buffer without calling these."""

    copied = 0

    def __radd__(self, other: bytes) -> bytes:
        _CountedChunk.copied += len(other) + len(self)
        return bytes(other) + bytes(self)

    def __add__(self, other: bytes) -> bytes:  # type: ignore[override]
        _CountedChunk.copied += len(self) + len(other)
        return bytes(self) + bytes(other)


def _bytes_copied_assembling(n: int) -> int:
    _CountedChunk.copied = 0
    messages = iter(range(n))

    async def receive() -> dict[str, Any]:
        i = next(messages)
        return {"type": "http.request", "body": _CountedChunk(b"xy"), "more_body": i < n - 1}

    status, _, body = asyncio.run(
        backends.echo("POST", "/x", b"", [], {b"transfer-encoding": b"chunked"}, receive)
    )
    assert status == 200 and body.count(b"xy") == n  # the whole body came back
    return _CountedChunk.copied


def test_echo_assembly_copies_each_byte_a_bounded_number_of_times() -> None:
    # Counted, not timed: appending with `+` copies about n*n bytes for n chunks, so twice
    # the chunks would copy four times as much; a list joined once copies each byte once.
    small, large = _bytes_copied_assembling(2_000), _bytes_copied_assembling(4_000)
    assert small <= 2 * 2 * 2_000  # at most twice each of the 2 bytes of 2,000 chunks
    assert large <= 2 * small + 4 * 4_000  # linear: twice the chunks, about twice the work

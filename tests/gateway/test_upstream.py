"""The pooled upstream client against raw loopback servers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gateway.upstream import (
    Origin,
    Pool,
    UpstreamBroken,
    UpstreamTimeout,
    UpstreamUnavailable,
    filter_response_headers,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.Server, Origin, list[int]]:
    connections: list[int] = []

    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, Origin("http", "127.0.0.1", port), connections


@contextlib.asynccontextmanager
async def backend(
    handler: Handler, **pool_options: Any
) -> AsyncIterator[tuple[Origin, list[int], Pool]]:
    """A backend answering with `handler`, and a pool to call it; both closed afterwards,
    whatever the test asserted."""
    server, origin, connections = await serve(handler)
    pool = Pool(**pool_options)
    try:
        yield origin, connections, pool
    finally:
        pool.close()
        server.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def ok(body: bytes = b"hello", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%b\r\n%b" % (len(body), extra, body)


def test_keep_alive_reuses_one_connection() -> None:
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            while True:
                try:
                    await read_request(r)
                except asyncio.IncompleteReadError:
                    return
                w.write(ok())
                await w.drain()

        async with backend(handler) as (origin, conns, pool):
            for _ in range(5):
                resp = await pool.request(origin, "GET", b"/", [])
                assert await resp.read_all(100) == b"hello"
            assert len(conns) == 1

    asyncio.run(main())


def test_stale_pooled_connection_is_retried_once() -> None:
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(ok())  # then close: the pooled connection goes stale
            await w.drain()

        async with backend(handler) as (origin, conns, pool):
            assert await (await pool.request(origin, "GET", b"/", [])).read_all(100) == b"hello"
            await asyncio.sleep(0.05)
            assert await (await pool.request(origin, "GET", b"/", [])).read_all(100) == b"hello"
            assert len(conns) == 2

    asyncio.run(main())


def test_head_and_204_have_no_body_and_connection_close_is_honoured() -> None:
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            head = await read_request(r)
            if head.startswith(b"HEAD"):
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            else:
                w.write(
                    b"HTTP/1.1 204 No Content\r\nConnection: close, X-Secret\r\n"
                    b"X-Secret: 1\r\nKeep-Alive: timeout=5\r\n\r\n"
                )
            await w.drain()

        async with backend(handler) as (origin, _, pool):
            head = await pool.request(origin, "HEAD", b"/", [])
            assert head.status == 200 and await head.read() == b""
            resp = await pool.request(origin, "DELETE", b"/", [])
            assert resp.status == 204 and await resp.read() == b""
            names = [n for n, _ in filter_response_headers(resp.headers)]
            assert b"x-secret" not in names and b"keep-alive" not in names
            assert b"connection" not in names

    asyncio.run(main())


def test_timeout_unavailable_and_garbage() -> None:
    async def main() -> None:
        async def slow(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            await asyncio.sleep(2)

        async def garbage(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(b"SMTP ready\r\n\r\n")
            await w.drain()

        s1, slow_origin, _ = await serve(slow)
        s2, bad_origin, _ = await serve(garbage)
        pool = Pool(connect_timeout=1)
        with pytest.raises(UpstreamTimeout):
            await pool.request(slow_origin, "GET", b"/", [], timeout=0.3)
        with pytest.raises(UpstreamBroken):
            await pool.request(bad_origin, "GET", b"/", [])
        port = s1.sockets[0].getsockname()[1]
        s1.close()
        await s1.wait_closed()
        with pytest.raises(UpstreamUnavailable):
            await pool.request(Origin("http", "127.0.0.1", port), "GET", b"/", [])
        pool.close()
        s2.close()

    asyncio.run(main())


def test_streamed_request_body_chunked_and_early_answer() -> None:
    async def main() -> None:
        received: list[bytes] = []

        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            head = await r.readuntil(b"\r\n\r\n")
            assert b"transfer-encoding: chunked" in head.lower()
            body = await r.readuntil(b"0\r\n\r\n")
            received.append(body)
            w.write(ok(b"done"))
            await w.drain()

        async def chunks():  # type: ignore[no-untyped-def]
            for part in (b"abc", b"", b"defg"):
                yield part

        async with backend(handler) as (origin, _, pool):
            resp = await pool.request(origin, "POST", b"/", [], chunks())
            assert await resp.read_all(100) == b"done"
            assert received[0] == b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"

    asyncio.run(main())


def test_response_body_cap() -> None:
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(ok(b"x" * 5000))
            await w.drain()

        async with backend(handler) as (origin, _, pool):
            resp = await pool.request(origin, "GET", b"/", [])
            with pytest.raises(UpstreamBroken, match="larger than"):
                await resp.read_all(1000)

    asyncio.run(main())


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 5_000_000 + b"\r\nContent-Length: 2\r\n\r\nhi",
        b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 20_000 + b"Content-Length: 2\r\n\r\nhi",
        # 1xx answers before the real one count on their own, but each one is held too.
        b"HTTP/1.1 103 Early Hints\r\nLink: " + b"a" * 100_000 + b"\r\n\r\n" + ok(b"hi"),
    ],
    ids=["one-5MB-header", "20000-headers", "huge-early-hints"],
)
def test_a_response_head_past_64_kib_is_a_broken_answer(head: bytes) -> None:
    # As the request side (gateway/server.py HEAD_LIMIT): a backend's head is held in memory
    # whole and relayed to the client, so one that never ends held a worker's memory for the
    # route's whole timeout (nginx answers 502 "upstream sent too big header" past 4-8 KiB).
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(head)
            await w.drain()

        async with backend(handler) as (origin, _, pool):
            with pytest.raises(UpstreamBroken, match="head is larger than 65536 bytes"):
                await pool.request(origin, "GET", b"/", [])

    asyncio.run(main())


@pytest.mark.parametrize("status", [b"600", b"999", b"099", b"000", b"001"])
def test_a_status_outside_100_to_599_is_a_broken_answer(status: bytes) -> None:
    # RFC 9110 15: a status code is 100 to 599. A 999 went on to the client as it came, which
    # fetch() in a browser refuses outright and no client can read by its class; a 099 or
    # 000 (which llhttp parses) went out as the status line `HTTP/1.1 99` or `HTTP/1.1 0`.
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(b"HTTP/1.1 " + status + b" Odd\r\nContent-Length: 2\r\n\r\nhi")
            await w.drain()

        async with backend(handler) as (origin, _, pool):
            with pytest.raises(UpstreamBroken, match=f"status {int(status)} "):
                await pool.request(origin, "GET", b"/", [])

    asyncio.run(main())


def test_a_response_head_under_the_limit_is_relayed_whole() -> None:
    async def main() -> None:
        extra = b"".join(b"X-H%d: %b\r\n" % (i, b"v" * 500) for i in range(100))  # ~51 KiB

        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            for _ in range(2):
                await read_request(r)
                w.write(ok(b"hi", extra))
                await w.drain()

        async with backend(handler) as (origin, conns, pool):
            for _ in range(2):  # the second on the same connection: the count starts again
                resp = await pool.request(origin, "GET", b"/", [])
                assert len(resp.headers) == 101 and await resp.read_all(10) == b"hi"
            assert len(conns) == 1

    asyncio.run(main())


@pytest.mark.parametrize(
    ("answer", "later"),
    [
        # A second response behind a 204 in the same write (a backend that wrote a body
        # after a 204, one that looks like a response): it answered the client's call.
        (
            b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nX-Phantom: 1\r\n"
            b"Content-Length: 6\r\n\r\nSECRET",
            b"",
        ),
        # Bytes sent while the connection waits in the pool: the start of a response that the
        # next call's answer would complete (it was a 502 for that call).
        (ok(b"first"), b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\nSECRET"),
        (ok(b"first"), b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSECRET"),
    ],
    ids=["behind-a-204", "partial-while-idle", "whole-while-idle"],
)
def test_bytes_after_a_whole_answer_end_the_connection_not_the_next_call(
    answer: bytes, later: bytes
) -> None:
    # HTTP/1.1 has no answer without a request: what follows a complete response is never
    # the answer to anything, and is never given to a call.
    async def main() -> None:
        opened: list[int] = []

        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            opened.append(1)
            if len(opened) > 1:  # a new connection: a plain answer
                await read_request(r)
                w.write(ok(b"ok"))
                await w.drain()
                return
            await read_request(r)
            w.write(answer)
            await w.drain()
            if later:
                await asyncio.sleep(0.05)
                w.write(later)
                await w.drain()
            try:
                await read_request(r)
            except asyncio.IncompleteReadError:
                return
            w.write(ok(b"ok"))
            await w.drain()

        async with backend(handler) as (origin, conns, pool):
            first = await pool.request(origin, "GET", b"/", [])
            first_body = await first.read_all(100)
            assert b"SECRET" not in first_body
            assert first.status in (200, 204) and b"x-phantom" not in dict(first.headers)
            await asyncio.sleep(0.2)  # the late bytes arrive while the connection is idle
            second = await pool.request(origin, "GET", b"/", [])
            assert (second.status, await second.read_all(100)) == (200, b"ok")
            assert len(conns) == 2  # the first connection was not used again

    asyncio.run(main())


def test_body_delimited_by_connection_close() -> None:
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            await w.drain()

        async with backend(handler) as (origin, _, pool):
            resp = await pool.request(origin, "GET", b"/", [])
            assert await resp.read_all(100) == b"until the end"

    asyncio.run(main())


def test_read_deadlines_of_one_pool_each_hold() -> None:
    """The pool's read deadlines share one timer: a shorter deadline that arrives while a
    longer one is armed still fires on time, the longer wait is not cut short by it, and a
    deadline set after the timer fired is still kept."""

    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            head = await read_request(r)
            delay = float(head.split(b" ")[1].strip(b"/") or 0)
            await asyncio.sleep(delay)
            w.write(ok(b"late"))
            await w.drain()

        async with backend(handler) as (origin, _, pool):
            loop = asyncio.get_running_loop()

            async def call(delay: float, timeout: float) -> tuple[str, float]:
                t0 = loop.time()
                try:
                    resp = await pool.request(origin, "GET", b"/%g" % delay, [], timeout=timeout)
                    return (await resp.read()).decode(), loop.time() - t0
                except UpstreamTimeout:
                    return "timeout", loop.time() - t0

            long_wait = asyncio.create_task(call(0.6, 5))  # armed first, deadline in 5 s
            await asyncio.sleep(0.05)
            short = await call(2, 0.2)  # an earlier deadline, set while the later one is armed
            assert short[0] == "timeout" and short[1] < 1.0
            assert (await long_wait)[0] == "late"
            again = await call(2, 0.2)  # after the timer fired and nothing else waits
            assert again[0] == "timeout" and again[1] < 1.0

    asyncio.run(main())


def test_a_trickled_answer_ends_at_the_timeout_of_the_whole_exchange() -> None:
    """The timeout bounds the whole answer, not each read: a backend that sends its head at
    once, then a byte every 0.1 s (each read well within the timeout), is cut at the timeout
    instead of holding the call for the 4 s its body takes (issue 8: "the route's timeout
    bounds the whole exchange")."""

    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
            for _ in range(40):
                await asyncio.sleep(0.1)
                w.write(b"x")
                await w.drain()

        async with backend(handler) as (origin, _, pool):
            resp = await pool.request(origin, "GET", b"/", [], timeout=0.5)
            got = b""
            with pytest.raises(UpstreamTimeout):
                while chunk := await resp.read():
                    got += chunk
            assert len(got) < 40

    asyncio.run(main())


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_non_idempotent_call_the_backend_read_is_never_sent_again(method: str) -> None:
    # RFC 9110 9.2.2: a pooled connection that closes after the request went out may have
    # had it read (and acted on); a POST or PATCH is not replayed on a new connection.
    seen: list[bytes] = []

    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            while True:
                try:
                    head = await read_request(r)
                except asyncio.IncompleteReadError:
                    return
                seen.append(head.split(b" ", 1)[0])
                if head.startswith(b"GET"):
                    w.write(ok())
                    await w.drain()
                else:
                    return  # read it, then close without answering

        async with backend(handler) as (origin, conns, pool):
            assert await (await pool.request(origin, "GET", b"/", [])).read_all(100) == b"hello"
            with pytest.raises(UpstreamBroken):
                await pool.request(origin, method, b"/", [], b'{"pay": 1}')
            assert seen == [b"GET", method.encode()]
            assert len(conns) == 1

    asyncio.run(main())


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_idempotent_call_on_a_connection_closed_unanswered_is_retried_once(
    method: str,
) -> None:
    seen: list[bytes] = []

    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            first = True
            while True:
                try:
                    head = await read_request(r)
                except asyncio.IncompleteReadError:
                    return
                seen.append(head.split(b" ", 1)[0])
                if not first and len(seen) == 2:
                    return  # the second call on the pooled connection: closed unanswered
                first = False
                w.write(ok())
                await w.drain()

        async with backend(handler) as (origin, conns, pool):
            assert await (await pool.request(origin, "GET", b"/", [])).read_all(100) == b"hello"
            resp = await pool.request(origin, method, b"/", [], b"{}" if method == "PUT" else None)
            assert await resp.read_all(100) == b"hello"
            assert seen == [b"GET", method.encode(), method.encode()]
            assert len(conns) == 2

    asyncio.run(main())


def test_trailer_fields_of_a_chunked_answer_are_never_taken_for_its_headers() -> None:
    # RFC 9110 6.5.1: trailers are not merged into the header section. An answer whose
    # trailers came in the same read as its head had them relayed as headers (a CORS grant,
    # a Location) that no proxy in front of the backend looked at as headers.
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await read_request(r)
            w.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Head: 1\r\n\r\n"
                b"5\r\nhello\r\n0\r\nAccess-Control-Allow-Origin: *\r\nX-Trail: 1\r\n\r\n"
            )
            await w.drain()
            await r.read()

        async with backend(handler) as (origin, _, pool):
            resp = await pool.request(origin, "GET", b"/", [])
            await asyncio.sleep(0.05)
            assert await resp.read_all(100) == b"hello"
            names = [n for n, _ in resp.headers]
            assert b"x-head" in names
            assert b"x-trail" not in names and b"access-control-allow-origin" not in names

    asyncio.run(main())


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_an_answer_before_the_body_ends_is_relayed_when_the_backend_then_closes(
    framing: str,
) -> None:
    # A backend that refuses an upload early (413) and closes: the gateway, stalled writing
    # the rest (the backend reads no more), had its wait for the write end in 'the backend
    # closed the connection', a 502 in place of the 413 that had come whole.
    async def main() -> None:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await r.readuntil(b"\r\n\r\n")
            await r.read(1024)
            w.write(b"HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig")
            await w.drain()
            await asyncio.sleep(0.2)
            w.transport.abort()  # unread bytes pending: the close is a reset

        sent = asyncio.Event()

        async def upload():  # type: ignore[no-untyped-def]
            for _ in range(400):
                yield b"x" * 65536
            sent.set()

        async with backend(handler) as (origin, _, pool):
            length = None if framing == "chunked" else 400 * 65536
            resp = await pool.request(origin, "POST", b"/", [], upload(), content_length=length)
            assert resp.status == 413
            assert await resp.read_all(100) == b"big"

    asyncio.run(main())

"""A lean pooled HTTP/1.1 client on asyncio protocols and httptools, for the proxy.

Why not aiohttp: on this 2-core machine the proxy path with aiohttp stays near 10,000 calls a
second, with this client over 20,000 (see bench/gateway_bench.py). What it does:

- keep-alive connections pooled per origin, reused LIFO, dropped when idle too long or closed;
- request bodies sent with Content-Length or chunked, streamed from the caller's iterator with
  write flow control; response bodies streamed back with read flow control (pause_reading);
- a connect timeout, and a timeout that bounds the wait for the answer's head and the whole
  exchange, the answer's body included (`UpstreamTimeout` -> 504 before the head, a cut
  connection after it), connection failures (`UpstreamUnavailable` -> 502), malformed or
  cut-off responses (`UpstreamBroken`); the read deadlines of a pool share one timer (a timer per wait, armed and cancelled on every call,
  cost about 5 us of the event loop's time per call under load);
- a chunked answer's trailer fields read and dropped, never taken for its headers;
- one silent retry on a fresh connection when a pooled connection turns out closed before any
  response byte, the request body is replayable and the method is idempotent (the usual
  keep-alive race; a POST or PATCH the backend may have read and acted on is never sent twice:
  502, as nginx's proxy_next_upstream does).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httptools

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
_READ_HIGH_WATER = 256 * 1024
# A backend's response head (its header lines, each 1xx head on its own) is held whole and
# relayed: past this many bytes the answer is broken (502), as the request side's
# gateway/server.py HEAD_LIMIT; nginx stops at 4-8 KiB ("upstream sent too big header").
RESPONSE_HEAD_LIMIT = 64 * 1024
_FRAMING = frozenset({b"content-length", b"transfer-encoding"})


# Methods whose requests define no body (RFC 9110 9.3): one sent anyway closes its connection.
_BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
# Methods a request of which can be sent twice to the same effect (RFC 9110 9.2.2): only these
# are retried on a new connection once a pooled one closed after the request was written.
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


class UpstreamError(Exception):
    """Base class: the backend could not give a complete answer. The message is what a client
    may read; `detail` (the OS's text, which can name the backend's addresses) is for the
    gateway's log only."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class UpstreamUnavailable(UpstreamError):
    """Could not connect (refused, unreachable, DNS): 502."""


class UpstreamTimeout(UpstreamError):
    """Connect or read took longer than allowed: 504."""


class UpstreamBroken(UpstreamError):
    """The connection closed or sent garbage mid-exchange: 502 before headers, abort after."""


class _HeadTooLarge(Exception):
    """Raised in a parser callback: the response head passed RESPONSE_HEAD_LIMIT."""


class _NoStatus(Exception):
    """A status code outside 100 to 599 (RFC 9110 15)."""


class _UnaskedAnswer(Exception):
    """Raised in a parser callback: a response began after the exchange's whole answer."""


class ClientBodyBroken(UpstreamBroken):
    """The client's request body was malformed or cut off (the server says disconnect): 400."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    host_header: bytes = field(default=b"", compare=False)

    def __post_init__(self) -> None:
        if not self.host_header:
            default = 443 if self.scheme == "https" else 80
            host = f"[{self.host}]" if ":" in self.host else self.host
            value = host if self.port == default else f"{host}:{self.port}"
            object.__setattr__(self, "host_header", value.encode("idna"))


class _Connection(asyncio.Protocol):
    def __init__(self, pool: Pool, origin: Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.used = False
        self.chunks: deque[bytes] = deque()
        self.deadline = 0.0  # of the current wait (Pool's shared timer)
        self.timeout = 0.0
        self._reset()
        self._drain: asyncio.Future[None] | None = None
        self._paused_writing = False

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_fields = 0
        self.head_size = 0
        self.head_done = False
        self.until_eof = False
        self.complete = False
        self.keep_alive = False
        self.closing = False  # this request said Connection: close: never reused after it
        self.got_bytes = False
        self.error: UpstreamError | None = None
        self.chunks.clear()
        self.buffered = 0
        self.waiter: asyncio.Future[None] | None = None
        self.reading_paused = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamBroken("the backend switched protocols"))
        except httptools.HttpParserError as exc:
            if self.head_size > RESPONSE_HEAD_LIMIT:  # _HeadTooLarge, from on_header
                limit = RESPONSE_HEAD_LIMIT
                self._fail(UpstreamBroken(f"the backend's head is larger than {limit} bytes"))
                return
            if isinstance(exc.__context__, _NoStatus):  # from on_headers_complete
                self._fail(UpstreamBroken(f"the backend's status {self.status} is no HTTP status"))
                return
            if self.complete:
                # Bytes after a whole answer (behind it, or while the connection is idle):
                # no request asked for them. The answer stands; the connection is not reused.
                self.keep_alive = False
                self.close()
                return
            self._fail(UpstreamBroken(f"the backend sent an invalid response ({exc})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.head_done and not self.complete and self.until_eof and exc is None:
            # No Content-Length and not chunked: the body ends when the connection does.
            self.complete = True
            self.keep_alive = False
            self._wake()
        elif not self.complete:
            self._fail(UpstreamBroken("the backend closed the connection"))
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(UpstreamBroken("the backend closed the connection"))

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    async def drain(self) -> None:
        if self.closed:
            raise UpstreamBroken("the backend closed the connection")
        if self._paused_writing:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.head_done:
            # A second response to one request (HTTP/1.1 answers only what was asked): never
            # taken for the answer, nor left for the next call on this connection.
            raise _UnaskedAnswer

    def on_header(self, name: bytes, value: bytes) -> None:
        # Names lowercased once here: the proxy's filters and framing checks compare them.
        self.headers.append((name.lower(), value))
        self.head_size += len(name) + len(value) + 4
        if self.head_size > RESPONSE_HEAD_LIMIT:
            raise _HeadTooLarge  # stops the parser; data_received fails the exchange

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status > 599 or status < 100:
            self.status = status
            raise _NoStatus  # stops the parser; data_received fails the exchange
        if 100 <= status < 200:
            # Informational answers (100 Continue, 103 Early Hints) precede the real one.
            self.headers = []
            self.head_size = 0
            return
        self.status = status
        self.head_done = True
        # Fields parsed after this are a chunked body's trailers (RFC 9110 6.5.1: never
        # merged into the header section); `Response` keeps these first ones only.
        self.head_fields = len(self.headers)
        framed = not _FRAMING.isdisjoint([n for n, _ in self.headers])
        self.until_eof = not framed and status not in (204, 304)
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _READ_HIGH_WATER and self.transport and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if not self.head_done:
            return  # end of an informational response
        self.complete = True
        self.keep_alive = not self.closing and self.parser.should_keep_alive()
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self.error is None:
            self.error = error
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    async def wait(self, timeout: float) -> None:
        """Wait for the next parser event, or fail with UpstreamTimeout after `timeout` s."""
        if self.error is not None:
            raise self.error
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        self.timeout = timeout
        self.pool._watch(self, loop, loop.time() + timeout)
        try:
            await waiter
        finally:
            self.pool._unwatch(self)
            self.waiter = None

    def _timed_out(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(
                UpstreamTimeout(f"the backend did not answer within {self.timeout:g} s")
            )
            self.close()

    def take_body(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        if self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()
        return data

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Response:
    """A backend response whose body is read with `read()` until it returns b""."""

    def __init__(
        self, conn: _Connection, method: bytes, timeout: float, pool: Pool, ends_at: float = 0.0
    ) -> None:
        self._conn = conn
        self._timeout = timeout
        # When the whole exchange must be over (the loop's clock): the timeout bounds the
        # answer's body too, not each read, so a backend that trickles it cannot hold the
        # call (0: each read gets the whole timeout).
        self._ends_at = ends_at
        self._pool = pool
        self._done = False
        self.status = conn.status
        headers = conn.headers
        # Trailers that came with the head (a whole chunked answer in one read) are not its
        # headers; they are read and dropped, as the request side's are.
        self.headers = headers if len(headers) == conn.head_fields else headers[: conn.head_fields]
        if method == b"HEAD" and not conn.complete:
            # llhttp cannot be told the request was HEAD: it would wait for the body. The
            # connection cannot be reused, so close it after the head.
            conn.keep_alive = False
            conn.complete = True
            self._finish(reuse=False)

    @property
    def complete(self) -> bool:
        """True when the whole body is already buffered (the usual case for small bodies)."""
        return self._done or self._conn.complete

    def take_complete(self) -> bytes:
        """The whole body when `complete` (no wait), as `read()` until b"" would give it."""
        if self._done:
            return b""
        conn = self._conn
        data = conn.take_body()
        self._finish(reuse=conn.keep_alive)
        return data

    async def read(self) -> bytes:
        if self._done:
            return b""
        conn = self._conn
        while not conn.chunks and not conn.complete:
            if not self._ends_at:
                await conn.wait(self._timeout)
                continue
            left = self._ends_at - asyncio.get_running_loop().time()
            try:
                if left <= 0:
                    raise UpstreamTimeout("")
                await conn.wait(left)
            except UpstreamTimeout:
                self.abort()
                raise UpstreamTimeout(
                    f"the backend's answer did not end within {self._timeout:g} s"
                ) from None
        data = conn.take_body()
        if conn.complete and not conn.chunks:
            self._finish(reuse=conn.keep_alive)
        return data

    async def read_all(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while chunk := await self.read():
            size += len(chunk)
            if size > limit:
                self.abort()
                raise UpstreamBroken(f"the body is larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def _finish(self, reuse: bool) -> None:
        if self._done:
            return
        self._done = True
        if not reuse:
            self._conn.close()
        self._pool._release(self._conn)

    def abort(self) -> None:
        """Give up on the body: the connection is closed, never reused."""
        if not self._done:
            self._conn.close()
            self._finish(reuse=False)


BodySource = bytes | AsyncIterator[bytes] | None


class Pool:
    """Keep-alive connections per origin. One instance per event loop."""

    def __init__(
        self,
        *,
        connect_timeout: float = 3.0,
        max_idle_per_origin: int = 256,
        idle_timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle_per_origin
        self.idle_timeout = idle_timeout
        self.ssl_context = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        # Connections waiting for the backend, and the one timer that fires their deadlines:
        # set for the earliest deadline, moved only when a new one is earlier.
        self._waiting: set[_Connection] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def _watch(self, conn: _Connection, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        conn.deadline = deadline
        self._waiting.add(conn)
        if self._timer is None or deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = loop.call_at(deadline, self._expire, loop)

    def _unwatch(self, conn: _Connection) -> None:
        self._waiting.discard(conn)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        expired = [c for c in self._waiting if c.deadline <= now]
        for conn in expired:
            self._waiting.discard(conn)
            conn._timed_out()
        if self._waiting:
            self._timer_at = min(c.deadline for c in self._waiting)
            self._timer = loop.call_at(self._timer_at, self._expire, loop)

    async def _connect(self, origin: Origin, address: str | None = None) -> _Connection:
        loop = asyncio.get_running_loop()
        ssl_ctx: ssl.SSLContext | None = None
        if origin.scheme == "https":
            ssl_ctx = self.ssl_context or ssl.create_default_context()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, proto = await loop.create_connection(
                    lambda: _Connection(self, origin),
                    address or origin.host,
                    origin.port,
                    ssl=ssl_ctx,
                    server_hostname=origin.host if ssl_ctx else None,
                )
        except TimeoutError:
            raise UpstreamTimeout(
                f"could not connect to the backend within {self.connect_timeout:g} s"
            ) from None
        except ssl.SSLError as exc:
            raise UpstreamUnavailable(f"TLS with the backend failed ({exc.reason})") from None
        except OSError as exc:
            raise UpstreamUnavailable(
                "could not connect to the backend", detail=str(exc.strerror or exc)
            ) from None
        return proto

    def _acquire_idle(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.idle_timeout:
                return conn
            conn.close()
        return None

    def _release(self, conn: _Connection) -> None:
        if conn.closed or not conn.keep_alive:
            conn.close()
            return
        idle = self._idle.setdefault(conn.origin, deque())
        if len(idle) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def request(
        self,
        origin: Origin,
        method: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: BodySource = None,
        *,
        content_length: int | None = None,
        timeout: float = 30.0,
        connect_address: str | None = None,
    ) -> Response:
        """Send one request and return once the response head has arrived.

        `body` bytes are sent with Content-Length; an iterator is sent with the given
        `content_length`, or chunked when that is None. `headers` must not contain Host,
        Content-Length, Transfer-Encoding or Connection: the client writes those.
        `connect_address` pins the IP to connect to (after an address check); the Host
        header and TLS name still come from `origin`.
        """
        mbytes = method.encode("ascii")
        head = [mbytes, b" ", target, b" HTTP/1.1\r\nHost: ", origin.host_header, b"\r\n"]
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        chunked = False
        bodiless = method in _BODILESS_METHODS
        if isinstance(body, bytes):
            if body or not bodiless:
                head += [b"Content-Length: ", str(len(body)).encode(), b"\r\n"]
        elif body is not None:
            if content_length is None:
                chunked = True
                head.append(b"Transfer-Encoding: chunked\r\n")
            else:
                head += [b"Content-Length: ", str(content_length).encode(), b"\r\n"]
        # A body on a method that defines none (Elasticsearch reads a GET's): a backend that
        # does not read it takes it for its next request on this connection, one the
        # gateway never checked. Told Connection: close, it reads no further; and the
        # connection is not reused whatever the backend answers.
        closing = bodiless and (body is not None and body != b"")
        if closing:
            head.append(b"Connection: close\r\n")
        head.append(b"\r\n")
        head_bytes = b"".join(head)

        # The request went out before the close was seen, so the backend may have read it: a
        # retry is safe only for an idempotent method (RFC 9110 9.2.2) whose body is in hand.
        replayable = (body is None or isinstance(body, bytes)) and method in _IDEMPOTENT_METHODS
        ends_at = asyncio.get_running_loop().time() + timeout
        for attempt in (0, 1):
            conn = None if connect_address else self._acquire_idle(origin)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(origin, connect_address)
            conn._reset()
            conn.closing = closing
            conn.used = True
            assert conn.transport is not None
            try:
                if isinstance(body, bytes) or body is None:
                    conn.transport.write(head_bytes + body if body else head_bytes)
                    while not conn.head_done:
                        await conn.wait(timeout)
                else:
                    conn.transport.write(head_bytes)
                    await self._send_streaming(conn, body, chunked, content_length, timeout)
            except UpstreamBroken:
                if reused and attempt == 0 and replayable and not conn.got_bytes:
                    conn.close()
                    continue
                conn.close()
                raise
            except BaseException:
                conn.close()
                raise
            return Response(conn, mbytes, timeout, self, ends_at)
        raise UpstreamBroken("the backend closed the connection")  # pragma: no cover

    async def _send_streaming(
        self,
        conn: _Connection,
        body: AsyncIterator[bytes],
        chunked: bool,
        content_length: int | None,
        timeout: float,
    ) -> None:
        """Stream the body while watching for an early answer (e.g. 413 before the end)."""
        assert conn.transport is not None
        sent = 0
        async for chunk in body:
            if conn.error is not None:
                raise conn.error
            if conn.head_done:
                # The backend answered before reading everything: stop sending, and never
                # reuse this connection since the request body is incomplete.
                conn.keep_alive = False
                break
            if not chunk:
                continue
            sent += len(chunk)
            if content_length is not None and sent > content_length:
                raise UpstreamBroken("the client sent more body than its Content-Length")
            if chunked:
                conn.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                conn.transport.write(chunk)
            try:
                await conn.drain()
            except UpstreamBroken:
                if not conn.head_done:
                    raise
                # It answered (a 413, a 401) and closed while the rest waited to be written:
                # that answer is the call's; reading it says whether it came whole.
                conn.keep_alive = False
                break
        else:
            if chunked:
                conn.transport.write(b"0\r\n\r\n")
            elif content_length is not None and sent != content_length:
                raise UpstreamBroken("the client body ended before its Content-Length")
        while not conn.head_done:
            await conn.wait(timeout)
        if not conn.complete and conn.head_done and not conn.keep_alive:
            pass


def parse_origin(url: str) -> tuple[Origin, str]:
    """(origin, base path without trailing slash) from an http(s) URL; ValueError if not."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise ValueError("the URL must not contain a user name or password")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Origin(parts.scheme, parts.hostname, port), parts.path.rstrip("/")


_drops: dict[tuple[bytes, frozenset[bytes]], frozenset[bytes]] = {}


def filter_response_headers(
    headers: list[tuple[bytes, bytes]], also: frozenset[bytes] = frozenset()
) -> list[tuple[bytes, bytes]]:
    """Response headers (names lowercased, as `Response.headers` has them) minus hop-by-hop
    ones, those the Connection header names, and `also`."""
    connection = b",".join([v for n, v in headers if n == b"connection"])
    drop = _drops.get((connection, also))
    if drop is None:
        named = {v.strip().lower() for v in connection.split(b",")} if connection else set()
        drop = HOP_BY_HOP | also | named
        if len(_drops) >= 256:  # Connection values a backend sends: a few; bounded anyway
            _drops.clear()
        _drops[(connection, also)] = drop
    return [(n, v) for n, v in headers if n not in drop]


def aiter_bytes(receive: Callable[[], Any]) -> AsyncIterator[bytes]:
    """The ASGI request body as an async iterator of chunks."""

    async def gen() -> AsyncIterator[bytes]:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientBodyBroken("the request body was malformed or cut off")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    return gen()

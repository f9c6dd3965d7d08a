"""The gateway's HTTP/1.1 server: an ASGI application served on uvloop and httptools.

Why its own server: the gateway's whole job is a short hop, so the server's cost per call is
most of it. On this 2-core machine a hello-world ASGI app answered 40,000-51,000 calls a
second under granian and 41,000-45,000 under uvicorn (httptools, uvloop), and 80,000-89,000
under this loop (`python -m bench gateway_bench` gives the gateway's figures). The saving is in
what it leaves out: one parser callback per header, no per-request timers (one sweep a second
checks every connection's deadline), the handler started eagerly from the read that completed
its head, and the response head and first body written in one call.

What it speaks, and what it refuses:
- HTTP/1.1 and 1.0, keep-alive, pipelined requests answered in order (reading pauses while a
  queue waits); request bodies streamed to the application with read flow control; responses
  with Content-Length, or chunked when the application gives none (HTTP/1.0: close instead);
  HEAD answered without a body; `Expect: 100-continue` answered when the body is first read;
  trailer fields after a chunked body read and dropped (never taken for headers); a request
  that closes the connection (`Connection: close`, HTTP/1.0) is answered and whatever the
  client sent after it is never read.
- llhttp's strict parsing: a malformed request, Content-Length beside Transfer-Encoding, or
  an invalid chunk -> 400 and the connection closed (no request smuggling through this hop);
  so is Transfer-Encoding in an HTTP/1.0 request. A transfer coding besides chunked -> 501.
- More than MAX_CONNECTIONS open connections in a worker -> new ones are closed at once.
- A request head over HEAD_LIMIT bytes or MAX_HEADERS lines -> 431; a head not complete
  within HEAD_TIMEOUT of the connection opening (or of the previous response) -> closed, which
  is the whole defence against slow-header clients; a body that makes no progress for
  BODY_TIMEOUT, or a client that reads no response bytes for as long -> closed.
- No WebSockets, no HTTP/2 and no TLS: the load balancer in front terminates those. A request
  asking to upgrade is answered as a plain request and the connection closed after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import httptools

from gateway.problems import SECURITY_HEADERS, problem

log = logging.getLogger("gateway.server")

MAX_CONNECTIONS = 10_000  # per worker; more are closed at once (each idle one costs a socket)
HEAD_LIMIT = 64 * 1024
MAX_HEADERS = 100
HEAD_TIMEOUT = 20.0  # also the keep-alive idle time: the next head must arrive within it
BODY_TIMEOUT = 30.0
_READ_HIGH_WATER = 256 * 1024
_SWEEP_EVERY = 1.0

App = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]

_ASGI = {"version": "3.0", "spec_version": "2.3"}
# A scope key of this server's own: [request body bytes the application read, response body
# bytes it wrote], kept up to date as it does. The gateway's usage counting reads them here
# rather than wrapping receive and send (two closures a call and a call more per message:
# about 2 % of a proxied call's instructions); under another server it wraps them.
BODY_BYTES = "gateway.body_bytes"
# Set in the scope when the client went away before the response ended, or stopped sending
# before its body ended: the application's sends after it left go nowhere (and count no
# bytes), and its usage counts the call "other".
CLIENT_GONE = "gateway.client_gone"
_STATUS_LINES = {
    s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode("latin-1")) for s in HTTPStatus
}
_NO_BODY_STATUS = frozenset({204, 304})
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _refusal(status: int, detail: str, check: str) -> bytes:
    """A whole response for what the server refuses itself, in the gateway's problem format."""
    status, headers, body = problem(status, detail, check)
    lines = [*headers, *SECURITY_HEADERS, (b"content-length", b"%d" % len(body))]
    head = b"".join(b"%s: %s\r\n" % pair for pair in lines)
    return _STATUS_LINES[status] + head + b"connection: close\r\n\r\n" + body


_BAD_REQUEST = _refusal(400, "The request is not valid HTTP/1.1.", "request")
_HEAD_TOO_LARGE = _refusal(431, "The request head is too large.", "request")
_VERSION_REFUSED = _refusal(505, "Only HTTP/1.1 and HTTP/1.0 are served.", "request")
_CODING_REFUSED = _refusal(501, "Only the chunked transfer coding is accepted.", "request")
_SERVER_ERROR = _refusal(500, "The gateway failed to answer.", "gateway")
# The refusals above that answer a request the application never saw: their status, for the
# application's usage counts (Gateway.refused_by_server).
_REFUSED_STATUS = {
    _BAD_REQUEST: 400,
    _HEAD_TOO_LARGE: 431,
    _VERSION_REFUSED: 505,
    _CODING_REFUSED: 501,
}


class _Exchange:
    """One request and its response on a connection."""

    __slots__ = (
        "conn",
        "scope",
        "http11",
        "body_bytes",
        "keep_alive",
        "expect_continue",
        "head_request",
        "bodiless",
        "body",
        "buffered",
        "complete",
        "waiter",
        "started",
        "head",
        "chunked",
        "remaining",
        "finished",
    )

    def __init__(self, conn: _Connection, scope: dict[str, Any], keep_alive: bool) -> None:
        self.conn = conn
        self.scope = scope
        self.http11 = scope["http_version"] == "1.1"
        # [read, written]: the body bytes the application took and gave (see BODY_BYTES).
        self.body_bytes = scope[BODY_BYTES] = [0, 0]
        self.keep_alive = keep_alive
        self.expect_continue = False
        self.head_request = scope["method"] == "HEAD"
        # No body goes out: a HEAD's answer, or a 204 or 304 (set with the status).
        self.bodiless = self.head_request
        self.body: list[bytes] = []
        self.buffered = 0
        self.complete = False  # the whole request body has been parsed
        self.waiter: asyncio.Future[None] | None = None
        self.started = False
        self.head = b""
        self.chunked = False
        self.remaining = -1  # bytes the declared Content-Length still expects (-1: none)
        self.finished = False

    # --- the request body (parser side) ---------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        self.body.append(chunk)
        self.buffered += len(chunk)
        self._wake()

    def end(self) -> None:
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- ASGI -----------------------------------------------------------------------------

    async def receive(self) -> MutableMapping[str, Any]:
        conn = self.conn
        if self.expect_continue:
            self.expect_continue = False
            if not self.started and not conn.closed:
                conn.transport.write(_CONTINUE)
        while not self.body and not self.complete:
            if conn.closed or self.finished or conn.eof:
                if not self.finished and not conn.refused:
                    self.scope[CLIENT_GONE] = True  # it stopped before its body ended
                return {"type": "http.disconnect"}
            conn.resume_reading()
            conn.deadline = conn.loop.time() + BODY_TIMEOUT
            self.waiter = conn.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
                conn.deadline = 0.0
        if not self.body:
            if self.buffered < 0:  # the final (empty) message was already given
                await conn.lost
                return {"type": "http.disconnect"}
            self.buffered = -1
            return {"type": "http.request", "body": b"", "more_body": False}
        chunk = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        self.body.clear()
        self.body_bytes[0] += len(chunk)
        self.buffered = 0 if not self.complete else -1
        if not self.complete:
            conn.resume_reading()
        return {"type": "http.request", "body": chunk, "more_body": not self.complete}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if self.finished:
            return
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            self.started = True
            self.expect_continue = False
            self.head = self._head(message["status"], message.get("headers", ()))
            return
        if kind != "http.response.body" or not self.started:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        conn = self.conn
        if conn.closed:
            self.finished = True
            if not conn.refused:
                self.scope[CLIENT_GONE] = True
            return
        self.body_bytes[1] += len(body)
        if self.bodiless:
            body = b""
        elif self.remaining >= 0:
            self.remaining -= len(body)
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
            if not more:
                data += b"0\r\n\r\n"
        else:
            data = body
        if self.head:
            data = self.head + data
            self.head = b""
        if data:
            conn.transport.write(data)
        if more:
            if conn.write_paused:
                await conn.drain()
            return
        self.finished = True
        if self.remaining > 0 or self.remaining < -1:
            # Fewer or more bytes than the declared length: the framing is broken.
            self.keep_alive = False
        conn.finish(self)

    def _head(self, status: int, headers: Any) -> bytes:
        line = _STATUS_LINES.get(status) or b"HTTP/1.1 %d \r\n" % status
        parts = [line]
        framed = False
        if status in _NO_BODY_STATUS:
            # A 304's Content-Length is the representation's (RFC 9110 8.6), not a body's.
            self.bodiless = True
        for name, value in headers:
            lower = name.lower()
            if lower == b"content-length":
                framed = True
                if not self.bodiless:
                    self.remaining = int(value)
            elif lower == b"transfer-encoding" or lower == b"connection":
                continue  # this server frames the response and decides keep-alive itself
            # Its parts, joined once below: `b"%s: %s\r\n" %` parses the format every time.
            parts += (name, b": ", value, b"\r\n")
        if not framed and status not in _NO_BODY_STATUS and status >= 200:
            if self.head_request:
                pass
            elif self.http11:
                self.chunked = True
                parts.append(b"transfer-encoding: chunked\r\n")
            else:
                self.keep_alive = False  # HTTP/1.0 without a length: the close ends the body
        if not self.keep_alive or self.conn.last:
            self.keep_alive = False
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)


class _Connection(asyncio.Protocol):
    """One client connection: parses heads with httptools and runs one exchange at a time."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.loop = server.loop
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.parser = httptools.HttpRequestParser(self)
        self.client: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None
        self.closed = False
        self.last = False  # no request after the current one (upgrade, EOF, stop)
        self.eof = False  # nothing more will be read (the client shut its side, or an upgrade)
        self.lost: asyncio.Future[None] = self.loop.create_future()
        self.read_paused = False
        self.write_paused = False
        self._drained: asyncio.Future[None] | None = None
        self.deadline = 0.0  # 0: no deadline (an exchange is being handled)
        self.current: _Exchange | None = None  # the exchange being answered
        self.parsing: _Exchange | None = None  # the exchange whose body is being parsed
        self.pipeline: deque[_Exchange] = deque()
        self._start: _Exchange | None = None  # parsed this read, to start after feed_data
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_bytes = 0  # bytes read while a head is incomplete (a head sent endlessly)
        self._head_size = 0  # the parsed head's URL and header lines
        self._refuse = b""
        self.refused = False  # the server itself closed it, refusing what the client sent
        self.closing = False  # a whole request that closes the connection has been parsed

    # --- transport events -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if isinstance(peer, tuple):
            self.client = (str(peer[0]), int(peer[1]))
        if isinstance(local, tuple):
            self.local = (str(local[0]), int(local[1]))
        if len(self.server.connections) >= MAX_CONNECTIONS:
            self._close()  # refused before anything is read: the ones already open go on
            return
        self.deadline = self.loop.time() + HEAD_TIMEOUT
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.parsing is None:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._start is None and self.current is None:
                self._fail(_BAD_REQUEST)  # no request came before it (the HTTP/2 preface)
                return
            # The head was complete; nothing after it is HTTP/1.1: answer this one, then close.
            self.last = self.eof = True
            self.pause_reading()
        except httptools.HttpParserError:
            if not self.closing:
                self._fail(_BAD_REQUEST)
                return
            # Bytes after a request that closes the connection (Connection: close, HTTP/1.0
            # without keep-alive): RFC 9112 9.6, that request is answered and nothing after
            # it is read.
            self.last = self.eof = True
            self.pause_reading()
        if self._refuse:
            self._fail(self._refuse)
            return
        if self.parsing is None and self._head_bytes > HEAD_LIMIT:
            self._fail(_HEAD_TOO_LARGE)
            return
        start, self._start = self._start, None
        if start is not None:
            self._run(start, eager=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        for exchange in (self.current, self.parsing):
            if exchange is not None:
                exchange._wake()
        if not self.lost.done():
            self.lost.set_result(None)
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def eof_received(self) -> bool:
        # A client may shut its sending side once its request is out (`nc -q`, some scripts):
        # keep the connection open to answer, then close it.
        self.last = self.eof = True
        current = self.current
        if current is not None:
            current._wake()
            return True
        return False

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    async def drain(self) -> None:
        if self.closed or not self.write_paused:
            return
        self._drained = self.loop.create_future()
        self.deadline = self.loop.time() + BODY_TIMEOUT
        try:
            await self._drained
        finally:
            self._drained = None
            self.deadline = 0.0

    def pause_reading(self) -> None:
        if not self.read_paused and not self.closed:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and not self.closed and not self.eof:
            self.read_paused = False
            self.transport.resume_reading()

    # --- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_size += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.parsing is not None:
            # A trailer field after a chunked body. RFC 9110 section 6.5.1: never merged into
            # the header section, where a trailer `Authorization` or `X-Forwarded-For` that
            # no proxy in front looked at would count as the request's own. Nothing reads them.
            return
        headers = self._headers
        self._head_size += len(name) + len(value) + 4
        if len(headers) >= MAX_HEADERS or self._head_size > HEAD_LIMIT:
            self._refuse = _HEAD_TOO_LARGE
            return
        headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if self._refuse:
            return
        parser = self.parser
        url = self._url
        if url[:1] == b"/":
            raw, _, query = url.partition(b"?")
        else:
            try:  # absolute form (`GET http://host/path`) or `OPTIONS *`
                parsed = httptools.parse_url(url)
            except httptools.HttpParserInvalidURLError:
                self._refuse = _BAD_REQUEST
                return
            if parsed.schema.lower() not in (b"http", b"https") or parsed.userinfo:
                self._refuse = _BAD_REQUEST  # `ftp://t/x`, `http://admin@t/x`: no HTTP client's
                return
            # The host checks read the Host header: an absolute URL naming another is refused.
            authority = parsed.host + (b":%d" % parsed.port if parsed.port else b"")
            hosts = [value.lower() for name, value in self._headers if name == b"host"]
            if hosts != [authority.lower()]:
                self._refuse = _BAD_REQUEST
                return
            raw, query = parsed.path or b"/", parsed.query or b""
        # find(), not `in`: a bytes `in` first tries its operand as an integer and formats a TypeError
        # for it (about 3,000 instructions each, several per call on the hot path).
        if raw.find(b"%") >= 0:
            path = unquote(raw.decode("latin-1"), encoding="utf-8", errors="replace")
        else:
            path = raw.decode("latin-1")
        version = parser.get_http_version()
        if version != "1.1" and version != "1.0":
            self._refuse = _VERSION_REFUSED  # HTTP/0.9 (no headers) or a 2.0 request line
            return
        expect_continue = False
        for name, value in self._headers:
            if name == b"expect":
                expect_continue |= version == "1.1" and value.lower() == b"100-continue"
            elif name == b"transfer-encoding":
                if version == "1.0":
                    # RFC 9112 section 6.1: faulty framing. A 1.0 proxy in front reads no
                    # chunked body, so what llhttp would take for one is the next request to it.
                    self._refuse = _BAD_REQUEST
                    return
                if value.strip(b" \t").lower() != b"chunked":
                    # Only chunked is decoded here (llhttp has made sure it comes last): a
                    # body under gzip would go on still encoded, its coding dropped.
                    self._refuse = _CODING_REFUSED
                    return
        scope = {
            "type": "http",
            "asgi": _ASGI,
            "http_version": version,
            "method": parser.get_method().decode("ascii"),
            "scheme": "http",
            "path": path,
            "raw_path": raw,
            "query_string": query,
            "root_path": "",
            "headers": self._headers,
            "client": self.client,
            "server": self.local,
        }
        exchange = _Exchange(self, scope, parser.should_keep_alive() and not self.last)
        exchange.expect_continue = expect_continue
        self.parsing = exchange
        self._head_bytes = 0
        if self.current is None:
            self.current = exchange
            self.deadline = 0.0
            self._start = exchange
        else:
            self.pipeline.append(exchange)
            self.pause_reading()

    def on_body(self, body: bytes) -> None:
        exchange = self.parsing
        if exchange is not None:
            exchange.feed(body)
            if exchange.buffered > _READ_HIGH_WATER:
                self.pause_reading()

    def on_message_complete(self) -> None:
        exchange = self.parsing
        if exchange is not None:
            exchange.end()
            self.parsing = None
            if not exchange.keep_alive:
                self.closing = True

    # --- exchanges ------------------------------------------------------------------------

    def _run(self, exchange: _Exchange, eager: bool) -> None:
        # Eagerly: the handler runs now, up to its first real wait (usually the backend's
        # answer), instead of one turn of the event loop later.
        task = asyncio.Task(self._serve(exchange), loop=self.loop, eager_start=eager)
        if not task.done():
            self.server.tasks.add(task)
            task.add_done_callback(self.server.tasks.discard)

    async def _serve(self, exchange: _Exchange) -> None:
        try:
            await self.server.app(exchange.scope, exchange.receive, exchange.send)
        except Exception:
            log.exception("the gateway application failed")
            if not exchange.started and not self.closed:
                self.transport.write(_SERVER_ERROR)
            self._close()
            return
        if not exchange.finished:
            if exchange.started:
                # The application ended without finishing its response: the body is cut.
                log.error("the gateway application returned before its response ended")
                self._close()
                return
            if not self.closed:
                self.transport.write(_SERVER_ERROR)
            self._close()

    def finish(self, exchange: _Exchange) -> None:
        """The response is written: next pipelined exchange, wait for a head, or close."""
        if not exchange.keep_alive or self.closed or self.last or self.server.stopping:
            self._close()
            return
        if not exchange.complete:
            # The application answered without reading the whole body; what is left of it
            # cannot be told apart from the next request without reading it: close.
            self._close()
            return
        self.current = None
        if self.pipeline:
            self.current = self.pipeline.popleft()
            self._run(self.current, eager=False)
        else:
            self.deadline = self.loop.time() + HEAD_TIMEOUT
        self.resume_reading()

    def _fail(self, response: bytes) -> None:
        self.refused = True
        current = self.current
        if (current is None or not current.started) and not self.closed:
            self.transport.write(response)
            # A call refused before any API matched, which the application counts for
            # every other call (usage analytics): say so, as it never saw this one. An
            # exchange already in the application (its body refused) is counted there; one
            # whose head came in this same read has not started (`_start`).
            refused = getattr(self.server.app, "refused_by_server", None)
            status = _REFUSED_STATUS.get(response)
            unseen = current is None or current is self._start
            if unseen and refused is not None and status is not None:
                refused(status, self.client)
        self._close()

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

    def expire(self, now: float) -> None:
        if self.deadline and now > self.deadline:
            log.info("closing connection from %s: timed out", self.client)
            self._close()
            self.transport.abort()


class Server:
    """The connections of one worker, their deadline sweep, and a graceful stop."""

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = False
        self._sweeper: asyncio.TimerHandle | None = None

    def protocol(self) -> _Connection:
        return _Connection(self)

    def start_sweeping(self) -> None:
        self._sweeper = self.loop.call_later(_SWEEP_EVERY, self._sweep)

    def _sweep(self) -> None:
        now = self.loop.time()
        for conn in list(self.connections):
            conn.expire(now)
        self._sweeper = self.loop.call_later(_SWEEP_EVERY, self._sweep)

    async def stop(self, grace: float) -> None:
        """Close idle connections now; let answers in flight finish within `grace` seconds."""
        self.stopping = True
        for conn in list(self.connections):
            conn.last = True
            if conn.current is None:
                conn._close()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace)
        for conn in list(self.connections):
            conn._close()
        if self._sweeper is not None:
            self._sweeper.cancel()


class Lifespan:
    """The application's ASGI lifespan: `startup` before the first call, `shutdown` after the
    last (the gateway flushes its access log and buffered usage there)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answers: asyncio.Queue[str] = asyncio.Queue()
        self._task: asyncio.Future[None] | None = None

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI}
        self._task = asyncio.ensure_future(self.app(scope, self._inbox.get, self._answer))
        await self._phase("startup")

    async def shutdown(self) -> None:
        if self._task is not None and not self._task.done():
            await self._phase("shutdown")

    async def _answer(self, message: MutableMapping[str, Any]) -> None:
        await self._answers.put(message["type"])

    async def _phase(self, phase: str) -> None:
        await self._inbox.put({"type": f"lifespan.{phase}"})
        answer = await asyncio.wait_for(self._answers.get(), timeout=30)
        if answer != f"lifespan.{phase}.complete":
            raise RuntimeError(f"the application answered lifespan {phase} with {answer}")

"""The gateway's own HTTP/1.1 server (gateway/server.py) on a loopback port, spoken to with raw
sockets: framing, pipelining, flow control, the limits and deadlines that keep a slow or
hostile client from holding a worker, and the refusals that stop request smuggling."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import pytest
import uvloop

from gateway import server


async def _app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """What the tests talk to: each path shows one behaviour of an application."""
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("the application failed")
    if path == "/unread":  # answers without reading the request body
        await _answer(send, 200, b"not read")
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/cut":  # starts a streamed body and returns without ending it
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        return
    if path in ("/not-modified", "/no-content"):  # a length (of the representation), no body
        status = 304 if path == "/not-modified" else 204
        headers = [(b"etag", b'"v1"'), (b"content-length", b"42")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"a body no client reads" * 2})
        return
    if path == "/slow":
        await asyncio.sleep(0.5)
    seen = {
        "method": scope["method"],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "path": path,
        "query": scope["query_string"].decode("latin-1"),
        "length": len(body),
        "body": body[:64].decode("latin-1"),
        "version": scope["http_version"],
        "headers": len(scope["headers"]),
        "names": [name.decode("latin-1") for name, _ in scope["headers"]],
    }
    await _answer(send, 200, json.dumps(seen).encode())


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Running:
    def __init__(self, loop: asyncio.AbstractEventLoop, srv: server.Server, port: int) -> None:
        self.loop, self.server, self.port = loop, srv, port

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock

    def stop(self, grace: float) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(grace), self.loop).result(10)


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Running]]:
    started: list[tuple[asyncio.AbstractEventLoop, threading.Thread]] = []

    def start(**limits: float) -> Running:
        for name, value in limits.items():
            monkeypatch.setattr(server, name, value)
        loop = uvloop.new_event_loop()
        srv = server.Server(_app, loop)
        ports: list[int] = []
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            listener = loop.run_until_complete(loop.create_server(srv.protocol, "127.0.0.1", 0))
            srv.start_sweeping()
            ports.append(listener.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
            ready.set()
            loop.run_forever()
            listener.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert ready.wait(5)
        started.append((loop, thread))
        return Running(loop, srv, ports[0])

    yield start
    for loop, thread in started:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def _read_all(sock: socket.socket, seconds: float = 5) -> bytes:
    """Everything the server sends until it closes the connection."""
    return _until_closed(sock, seconds)[0]


def _until_closed(sock: socket.socket, seconds: float) -> tuple[bytes, bool]:
    """What the server sends within `seconds`, and whether it closed the connection by then:
    a timeout's test asserts the close, not a wall-clock time a loaded machine breaks."""
    sock.settimeout(seconds)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def _responses(sock: socket.socket, count: int, head_only: int = -1) -> list[Answer]:
    """`count` responses read off one connection (the `head_only`-th answers a HEAD)."""
    reader = sock.makefile("rb")
    answers = []
    for n in range(count):
        status = int(reader.readline().split()[1])
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if n == head_only:
            pass
        elif headers.get("transfer-encoding") == "chunked":
            while size := int(reader.readline().strip(), 16):
                body += reader.read(size)
                reader.readline()
            reader.readline()
        else:
            body = reader.read(int(headers.get("content-length", "0")))
        answers.append(Answer(status, headers, body))
    return answers


def test_keep_alive_answers_every_request_on_one_connection(serve: Callable[..., Running]) -> None:
    running = serve()
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    for n in range(3):
        conn.request("POST", f"/pets/{n}?page={n}", body=b"x" * n)
        response = conn.getresponse()
        seen = json.loads(response.read())
        assert (seen["path"], seen["query"], seen["length"]) == (f"/pets/{n}", f"page={n}", n)
    conn.close()


def test_the_path_reaches_the_application_as_the_client_sent_it(
    serve: Callable[..., Running],
) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"GET /a%2Fb/../c//d?x=%41 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        head, _, body = _read_all(sock).partition(b"\r\n\r\n")
    seen = json.loads(body)
    assert seen["raw_path"] == "/a%2Fb/../c//d"
    assert seen["path"] == "/a/b/../c//d"
    assert seen["query"] == "x=%41"


def test_pipelined_requests_are_answered_in_order(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
            b"POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /third HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        answers = _responses(sock, 3)
    seen = [json.loads(a.body) for a in answers]
    assert [s["path"] for s in seen] == ["/slow", "/second", "/third"]
    assert seen[1]["body"] == "hello"


@pytest.mark.parametrize(
    "first",
    [
        b"GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /slow HTTP/1.0\r\nHost: t\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0"],
)
@pytest.mark.parametrize("later", [False, True], ids=["same-write", "while-answering"])
def test_a_last_request_is_answered_whatever_follows_it(
    serve: Callable[..., Running], first: bytes, later: bool
) -> None:
    # RFC 9112 9.6: after a request that closes the connection the server answers it and
    # processes nothing after it. The bytes after it were a 400 for the request itself (in
    # the same read) or cut its answer (while it was being answered).
    running = serve()
    rest = b"GET /second HTTP/1.1\r\nHost: t\r\n\r\n"
    with running.connect() as sock:
        sock.sendall(first if later else first + rest)
        if later:
            time.sleep(0.1)  # /slow answers after 0.5 s
            sock.sendall(rest)
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 200 ") and data.count(b"HTTP/1.1 ") == 1
    assert b'"path": "/slow"' in data and b"/second" not in data


def test_a_chunked_request_body_arrives_whole(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        (answer,) = _responses(sock, 1)
    assert json.loads(answer.body)["body"] == "hello world"


def test_trailer_fields_never_join_the_request_headers(serve: Callable[..., Running]) -> None:
    # RFC 9110 section 6.5.1: trailers are not headers. Merged, a trailer `Authorization` or
    # `X-Forwarded-For` that no proxy in front looked at would count as the request's own.
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\nAuthorization: Bearer smuggled\r\n"
            b"X-Forwarded-For: 10.0.0.1\r\n\r\n"
            b"GET /next HTTP/1.1\r\nHost: t\r\nX-Next: 1\r\n\r\n"
        )
        first, second = _responses(sock, 2)
    seen = json.loads(first.body)
    assert seen["body"] == "hello"
    assert seen["names"] == ["host", "transfer-encoding"]
    assert json.loads(second.body)["names"] == ["host", "x-next"]


def test_a_large_body_streams_through_with_flow_control(serve: Callable[..., Running]) -> None:
    running = serve()
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    body = b"z" * (5 * 1024 * 1024)
    conn.request("PUT", "/upload", body=body)
    assert json.loads(conn.getresponse().read())["length"] == len(body)


def test_a_response_without_length_is_chunked_and_the_connection_kept(
    serve: Callable[..., Running],
) -> None:
    running = serve()
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    conn.request("GET", "/stream")
    response = conn.getresponse()
    assert response.getheader("transfer-encoding") == "chunked"
    assert response.read() == b"one,two,three"
    conn.request("GET", "/after")
    assert json.loads(conn.getresponse().read())["path"] == "/after"


def test_http_1_0_without_length_ends_the_body_by_closing(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"GET /stream HTTP/1.0\r\n\r\n")
        data = _read_all(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()
    assert body == b"one,two,three"


def test_head_gets_the_length_but_no_body(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"HEAD /x HTTP/1.1\r\nHost: t\r\n\r\nGET /y HTTP/1.1\r\nHost: t\r\n\r\n")
        first, second = _responses(sock, 2, head_only=0)
    assert int(first.headers["content-length"]) > 0
    assert json.loads(second.body)["path"] == "/y"


@pytest.mark.parametrize("path", ["/not-modified", "/no-content"])
def test_a_304_or_204_with_a_length_keeps_the_connection_and_sends_no_body(
    serve: Callable[..., Running], path: str
) -> None:
    """A 304's Content-Length is the representation's (RFC 9110 8.6): no body follows, so it
    is no broken framing. The connection closed after every conditional GET a cache made."""
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\nGET /y HTTP/1.1\r\nHost: t\r\n\r\n".encode()
        )
        first, second = _responses(sock, 2, head_only=0)
    assert first.status in (204, 304) and "connection" not in first.headers
    assert json.loads(second.body)["path"] == "/y"


def test_expect_100_continue_is_answered_before_the_body_is_sent(
    serve: Callable[..., Running],
) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"body")
        (answer,) = _responses(sock, 1)
    assert json.loads(answer.body)["body"] == "body"


@pytest.mark.parametrize(
    "request_bytes",
    [
        # Content-Length beside Transfer-Encoding: the classic smuggling pair.
        b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        # Two different lengths.
        b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd",
        # Transfer-Encoding in an HTTP/1.0 request: faulty framing (RFC 9112 section 6.1), as a
        # 1.0 proxy in front reads no chunked body there.
        b"POST /x HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        # A chunk size that is not hexadecimal.
        b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        # A header line folded over two lines (obsolete, and a smuggling vector).
        b"GET /x HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n",
        # A bare LF inside a header value, and a space before the colon.
        b"GET /x HTTP/1.1\r\nHost : t\r\n\r\n",
        b"GET /x HTTP/9.9\r\nHost: t\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
        # Transfer-Encoding the parser cannot trust, or twice.
        b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        # Lengths in any form but plain digits.
        b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: +4\r\n\r\nabcd",
        b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4, 4\r\n\r\nabcd",
        # Bare LF line ends, NUL bytes, a chunk size that overflows.
        b"GET /x HTTP/1.1\nHost: t\n\n",
        b"GET /a\x00b HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"FFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n",
        # An absolute URL naming another host than the Host header the host checks read.
        b"GET http://evil.example/x HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET http://t/x HTTP/1.1\r\n\r\n",
        # Absolute forms no client of an HTTP gateway sends: another scheme, or user info
        # (`http://admin@t/x`: credentials in a URL no backend should be handed).
        b"GET ftp://t/x HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET http://admin@t/x HTTP/1.1\r\nHost: t\r\n\r\n",
        # The HTTP/2 preface on an HTTP/1.1 port.
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ],
)
def test_malformed_or_ambiguous_requests_get_400_and_the_connection_closes(
    serve: Callable[..., Running], request_bytes: bytes
) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(request_bytes)
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert b"smuggled" not in data
    assert data.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"deflate, chunked", b"x-custom, chunked"])
def test_a_transfer_coding_other_than_chunked_gets_501(
    serve: Callable[..., Running], coding: bytes
) -> None:
    # RFC 9112 section 6.1: the server decodes only chunked, so the body under it would
    # reach the application (and a backend, with the coding dropped) still gzip-encoded.
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: %s\r\n\r\n0\r\n\r\n" % coding
        )
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 501 ")
    assert data.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize("spelling", [b"Chunked", b"chunked ", b"\tCHUNKED"])
def test_transfer_encoding_chunked_in_any_case_is_read(
    serve: Callable[..., Running], spelling: bytes
) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: %s\r\n\r\n"
            b"2\r\nhi\r\n0\r\n\r\n" % spelling
        )
        (answer,) = _responses(sock, 1)
    assert json.loads(answer.body)["body"] == "hi"


@pytest.mark.parametrize(
    "request_bytes", [b"GET /x\r\n\r\n", b"GET /x HTTP/2.0\r\nHost: t\r\n\r\n"]
)
def test_other_http_versions_get_505(serve: Callable[..., Running], request_bytes: bytes) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(request_bytes)
        assert _read_all(sock).startswith(b"HTTP/1.1 505 ")


def test_an_absolute_url_naming_the_host_is_served(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"GET http://t:8080/pets?a=1 HTTP/1.1\r\nHost: t:8080\r\n\r\n")
        (answer,) = _responses(sock, 1)
    seen = json.loads(answer.body)
    assert (seen["raw_path"], seen["query"]) == ("/pets", "a=1")


def test_connections_beyond_the_cap_are_closed_and_the_others_go_on(
    serve: Callable[..., Running],
) -> None:
    running = serve(MAX_CONNECTIONS=2)
    with running.connect() as first, running.connect() as second:
        time.sleep(0.1)
        with running.connect() as third:
            third.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
            assert _read_all(third, 2) == b""
        for sock in (first, second):
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
            assert _responses(sock, 1)[0].status == 200


def test_a_head_too_large_gets_431(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 431 ")
    with running.connect() as sock:
        many = b"".join(b"X-%d: v\r\n" % n for n in range(server.MAX_HEADERS + 1))
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n" + many + b"\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 431 ")


def test_a_head_sent_endlessly_is_refused_before_it_ends(serve: Callable[..., Running]) -> None:
    running = serve()
    refused = False
    with running.connect() as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nX-Long: ")
        try:
            for _ in range(256):  # 16 MB, far beyond what loopback buffers hold
                sock.sendall(b"a" * 65536)
        except OSError:
            refused = True  # the server closed the connection mid-head
        data = _read_all(sock)
    assert refused
    assert data in (b"", b"HTTP/1.1 431 ") or data.startswith(b"HTTP/1.1 431 ")


def test_a_slow_head_is_cut_at_its_deadline(serve: Callable[..., Running]) -> None:
    running = serve(HEAD_TIMEOUT=0.6, _SWEEP_EVERY=0.1)
    with running.connect() as sock:
        started = time.monotonic()
        closed = False
        for byte in b"GET /x HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > 1.5:
                break
        # The client would trickle on for 3 s more: the 0.6 s deadline must have cut it.
        closed = closed or _until_closed(sock, 3.0) == (b"", True)
    assert closed


def test_an_idle_keep_alive_connection_is_closed(serve: Callable[..., Running]) -> None:
    running = serve(HEAD_TIMEOUT=0.4, _SWEEP_EVERY=0.1)
    with running.connect() as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        data, closed = _until_closed(sock, 5)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert closed  # by the 0.4 s idle deadline, not kept open


def test_a_body_that_stops_arriving_is_cut(serve: Callable[..., Running]) -> None:
    running = serve(BODY_TIMEOUT=0.4, _SWEEP_EVERY=0.1)
    with running.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten..")
        data, closed = _until_closed(sock, 5)
    assert b"only ten" not in data
    assert closed  # by the 0.4 s body deadline


def test_an_application_error_is_a_500_without_details(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n")
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 500 ")
    assert b"RuntimeError" not in data and b"the application failed" not in data


def test_a_response_cut_short_closes_the_connection(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"GET /cut HTTP/1.1\r\nHost: t\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n")
        data = _read_all(sock)
    # The chunked body never gets its last chunk, and nothing after it is answered.
    assert b"partial" in data and not data.endswith(b"0\r\n\r\n")
    assert b"/next" not in data


def test_an_unread_body_closes_the_connection_after_the_answer(
    serve: Callable[..., Running],
) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"POST /unread HTTP/1.1\r\nHost: t\r\nContent-Length: 300000\r\n\r\n" + b"G" * 1000
        )
        data = _read_all(sock)
    # The rest of the body can't be told from a next request without reading it: closed.
    assert data.startswith(b"HTTP/1.1 200 ") and b"not read" in data


def test_a_client_that_stops_sending_still_gets_its_answer(
    serve: Callable[..., Running],
) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        sock.shutdown(socket.SHUT_WR)
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 200 ") and b'"body": "hi"' in data


def test_an_upgrade_request_is_answered_then_closed(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            b"\x81\x05hello"
        )
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert data.count(b"HTTP/1.1 ") == 1


def test_stopping_lets_the_answer_in_flight_finish(serve: Callable[..., Running]) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.1)
        running.stop(grace=5)
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"connection: close" in data.lower()


def test_stopping_still_reads_the_body_of_the_request_in_flight(
    serve: Callable[..., Running],
) -> None:
    running = serve()
    with running.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
        time.sleep(0.1)
        stopper = threading.Thread(target=running.stop, args=(5,))
        stopper.start()
        time.sleep(0.2)
        sock.sendall(b"cd")
        data = _read_all(sock)
        stopper.join(10)
    assert data.startswith(b"HTTP/1.1 200 ") and b'"body": "abcd"' in data

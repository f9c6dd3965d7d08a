"""The real gateway process (`python -m gateway`: its own server and gateway.app) on a free
loopback port, with real backends: streaming and chunked bodies both ways, backend timeout (504), backend down (502),
connections broken before and after the response head, and a log free of tokens.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.conftest import LoopbackServer, Provider, claims, mint
from tests.gateway.processes import refused_port, spawn_app, wait_until_serving
from tests.services import stop_process


def stream_backend(h: Any) -> None:
    """Routes of the test backend that misbehave on purpose."""
    path = h.path.split("?")[0]
    if path == "/chunked":
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for i in range(3):
            data = f"part{i};".encode()
            h.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
            h.wfile.flush()
            if i == 0:
                # Hold the rest until the client has seen the first chunk: proves streaming.
                h.server.first_chunk_seen.wait(5)
        h.wfile.write(b"0\r\n\r\n")
    elif path == "/big":
        size = 3 * 1024 * 1024
        h.send_response(200)
        h.send_header("Content-Length", str(size))
        h.end_headers()
        block = b"x" * 65536
        for _ in range(size // len(block)):
            h.wfile.write(block)
    elif path == "/html":
        h.send_bytes(200, b"<script>parent.document.title='owned'</script>", "text/html",
                     {"X-Content-Type-Options": "whatever"})  # fmt: skip
    elif path == "/slow":
        time.sleep(2.5)
        h.send_json(200, {"late": True})
    elif path == "/cut-body":
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(b"y" * 1000)
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)
    elif path == "/cut-head":
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)
    elif path == "/upload":
        body = h.server.recorder.requests[-1]["body"]
        h.send_json(
            200,
            {
                "received": len(body),
                "te": h.headers.get("Transfer-Encoding"),
                "head": body[:10].decode(),
            },
        )
    else:
        h.send_json(200, {"path": h.path, "method": h.command})


@pytest.fixture
def gateway_process(
    provider: Provider, http_server: Callable[[], LoopbackServer], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    backend = http_server()
    backend.recorder.routes["*"] = stream_backend
    backend.httpd.first_chunk_seen = threading.Event()  # type: ignore[attr-defined]
    with refused_port() as dead_port:
        routes: list[dict[str, Any]] = [
            {
                "suffix": "orders",
                "url": backend.url,
                "timeout": 1,
                "discovery": provider.discovery_url,
                "audience": "api://orders",
            },
            {"suffix": "open", "url": backend.url, "timeout": 1},
            {"suffix": "down", "url": f"http://127.0.0.1:{dead_port}", "timeout": 1},
            {"suffix": "echo", "backend": "echo"},
        ]
        log = tmp_path / "gateway.log"
        proc, port = spawn_app(
            "tests.gateway.gw_entry:application",
            routes,
            log,
            GATEWAY_KEY_FETCH_PRIVATE_HOSTS="127.0.0.1",
            GATEWAY_METRICS_TOKEN="metrics-secret",
        )
        try:
            wait_until_serving(port, proc, log)
            yield {"port": port, "backend": backend, "log": log, "provider": provider}
        finally:
            stop_process(proc)


def conn(gp: dict[str, Any]) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", gp["port"], timeout=10)


def token(gp: dict[str, Any]) -> str:
    provider: Provider = gp["provider"]
    return mint(provider.keys[0], claims(provider))


def test_validated_call_through_real_process(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request(
        "GET", "/orders/items?page=2", headers={"Authorization": f"Bearer {token(gateway_process)}"}
    )
    resp = c.getresponse()
    assert resp.status == 200
    assert json.loads(resp.read())["path"] == "/items?page=2"
    assert resp.getheader("x-request-id")
    # keep-alive: a second call on the same connection, no token -> 401 bare challenge
    c.request("GET", "/orders/items")
    resp = c.getresponse()
    assert resp.status == 401 and resp.getheader("www-authenticate") == 'Bearer realm="gw"'
    resp.read()


def test_encoded_path_reaches_backend_unchanged(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request("GET", "/open/files/a%3Fb%20c%C3%A9?q=1%262")
    resp = c.getresponse()
    assert json.loads(resp.read())["path"] == "/files/a%3Fb%20c%C3%A9?q=1%262"


@pytest.mark.parametrize(
    "path", ["/open/files/a%2Fb", "/open//files", "/open/files/%2e%2e/x", "/open/a\\b"]
)
def test_ambiguous_paths_refused_by_the_real_process(
    gateway_process: dict[str, Any], path: str
) -> None:
    """The server hands the client's bytes to the gateway (raw_path): nothing normalises first."""
    before = gateway_process["backend"].recorder.count()
    c = conn(gateway_process)
    c.request("GET", path)
    resp = c.getresponse()
    assert resp.status == 400 and resp.getheader("content-type") == "application/problem+json"
    assert json.loads(resp.read())["check"] == "path"
    assert gateway_process["backend"].recorder.count() == before


def test_streamed_chunked_response(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request("GET", "/open/chunked")
    resp = c.getresponse()
    assert resp.status == 200
    first = resp.read1(100)
    # The backend holds the rest until this test has the first part (or 5 s): a gateway that
    # buffered would hand over all three parts at once.
    assert first == b"part0;"
    gateway_process["backend"].httpd.first_chunk_seen.set()
    rest = resp.read()
    assert first + rest == b"part0;part1;part2;"


def test_large_body_streams_through(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request("GET", "/open/big")
    resp = c.getresponse()
    assert len(resp.read()) == 3 * 1024 * 1024


def test_chunked_upload_streams_to_backend(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    parts = [b"a" * 70000, b"b" * 70000, b"c" * 10]
    c.request(
        "POST",
        "/open/upload",
        body=iter(parts),
        encode_chunked=True,
        headers={"Transfer-Encoding": "chunked"},
    )
    resp = c.getresponse()
    data = json.loads(resp.read())
    assert resp.status == 200
    assert data["received"] == 140010 and data["head"] == "aaaaaaaaaa"


def test_content_length_upload(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request("PUT", "/open/upload", body=b"z" * 200000)
    data = json.loads(c.getresponse().read())
    assert data["received"] == 200000 and data["te"] is None


def test_backend_timeout_is_504(gateway_process: dict[str, Any]) -> None:
    # The backend answers 200 after 2.5 s: a 504 means the route's 1 s timeout cut it first
    # (no wall-clock assert, which a loaded machine breaks).
    c = conn(gateway_process)
    c.request("GET", "/open/slow")
    resp = c.getresponse()
    body = json.loads(resp.read())
    assert resp.status == 504 and body["check"] == "backend-timeout"
    assert resp.getheader("content-type") == "application/problem+json"


def test_backend_down_is_502(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request("GET", "/down/anything")
    resp = c.getresponse()
    assert resp.status == 502
    assert json.loads(resp.read())["check"] == "backend-unavailable"


def test_backend_down_502_names_no_backend_address(gateway_process: dict[str, Any]) -> None:
    # The OS's text of a connect failure can name the backend's addresses (asyncio's "Connect
    # call failed ('10.0.0.5', 8080)", a list of them when a name has several): the client
    # gets a fixed text of what failed and the request id, the OS's text goes to the log only.
    c = conn(gateway_process)
    c.request("GET", "/down/anything", headers={"X-Request-Id": "down-call-1"})
    resp = c.getresponse()
    detail = json.loads(resp.read())["detail"]
    assert resp.status == 502
    assert detail == (
        "The backend failed: could not connect to the backend "
        "(request id down-call-1; the gateway's log has the detail)."
    )
    log = gateway_process["log"]
    for _ in range(50):  # the worker writes its log line as it answers
        if "down-call-1" in log.read_text():
            break
        time.sleep(0.1)
    line = next(ln for ln in log.read_text().splitlines() if "down-call-1" in ln)
    assert "Connection refused" in line and "/down" in line


def test_backend_closing_before_head_is_502(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request("GET", "/open/cut-head")
    resp = c.getresponse()
    assert resp.status == 502
    resp.read()


def test_backend_cutting_body_cuts_client(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request("GET", "/open/cut-body")
    resp = c.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    # the gateway itself is fine afterwards
    c2 = conn(gateway_process)
    c2.request("GET", "/open/ok")
    assert c2.getresponse().status == 200


def test_echo_backend_shows_forwarded_request(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    c.request(
        "POST",
        "/echo/a/b?x=1",
        body=b'{"n": 1}',
        headers={
            "Content-Type": "application/json",
            "X-Forwarded-For": "10.9.9.9",
            "Authorization": "Bearer abc.def.ghi",
        },
    )
    data = json.loads(c.getresponse().read())
    assert data["method"] == "POST" and data["path"] == "/a/b" and data["query"] == {"x": "1"}
    assert data["body"] == '{"n": 1}'
    assert data["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert data["headers"]["authorization"] == "Bearer [11 characters]"


def test_metrics_and_access_log_without_tokens(gateway_process: dict[str, Any]) -> None:
    c = conn(gateway_process)
    good = token(gateway_process)
    for path in ("/orders/x", f"/orders/{good}", f"/orders/x?access_token={good}"):
        c.request("GET", path, headers={"Authorization": f"Bearer {good}"})
        c.getresponse().read()
    c.request("GET", "/-/metrics", headers={"Authorization": "Bearer metrics-secret"})
    metrics = c.getresponse().read().decode()
    assert 'gateway_requests_total{api="orders",method="GET",status="2xx",check=""}' in metrics
    assert "gateway_request_duration_seconds_bucket" in metrics
    time.sleep(1.0)  # batched access log: written at least every 0.5 s
    text = gateway_process["log"].read_text()
    assert "method=GET" in text and "sub=alice" in text
    assert "eyJ" not in text


def raw_exchange(gp: dict[str, Any], data: bytes, timeout: float = 8) -> bytes:
    """Send raw bytes on a new connection; everything the gateway answers until it closes."""
    with socket.create_connection(("127.0.0.1", gp["port"]), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
            if b"\r\n\r\n" in out and out.split(b"\r\n\r\n", 1)[1].endswith(b"}"):
                break
    return out


@pytest.mark.parametrize("suffix", ["echo", "open"])
@pytest.mark.parametrize(
    "chunks",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"-1\r\nabc\r\n0\r\n\r\n"],
    ids=["bad-size", "size-mismatch", "negative"],
)
def test_malformed_chunked_body_is_400(
    gateway_process: dict[str, Any], suffix: str, chunks: bytes
) -> None:
    before = gateway_process["backend"].recorder.count()
    out = raw_exchange(
        gateway_process,
        b"POST /" + suffix.encode() + b"/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks,
    )
    assert out.startswith(b"HTTP/1.1 400"), out[:200]
    assert b'"check":"request"' in out
    assert gateway_process["backend"].recorder.count() == before


def test_slow_uploads_are_cut_at_the_route_timeout(gateway_process: dict[str, Any]) -> None:
    """Ten clients that send one byte and then stall: each gets 408 from the route's 1 s
    timeout, and no backend request is left open for them."""
    results: list[bytes] = []

    def client() -> None:
        with socket.create_connection(("127.0.0.1", gateway_process["port"]), timeout=8) as s:
            s.sendall(
                b"POST /open/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nx"
            )
            try:
                results.append(s.recv(65536))
            except TimeoutError:
                results.append(b"no answer within 8 s")

    threads = [threading.Thread(target=client) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 10
    assert all(r.startswith(b"HTTP/1.1 408") for r in results), results[0][:200]
    # The backend's side of each exchange was closed, not held: its reads ended short.
    deadline = time.monotonic() + 15
    recorder = gateway_process["backend"].recorder
    while time.monotonic() < deadline and len(recorder.cut) < 10:
        time.sleep(0.1)
    uploads = [size for path, size in recorder.cut if path == "/upload"]
    assert uploads and set(uploads) == {1}, uploads
    assert recorder.count("/upload") == 0  # none arrived whole


@pytest.mark.parametrize(
    "path", ["/open/html", "/echo/x", "/orders/x", "/nowhere", "/-/health", "/open/%2F"]
)
def test_every_response_is_sandboxed(gateway_process: dict[str, Any], path: str) -> None:
    c = conn(gateway_process)
    c.request("GET", path)
    resp = c.getresponse()
    resp.read()
    assert resp.getheader("content-security-policy") == "sandbox"
    assert resp.getheader("x-content-type-options") == "nosniff"

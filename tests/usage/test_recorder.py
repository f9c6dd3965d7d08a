"""The gateway counts every call, whatever the outcome, and never waits on the store: calls
through the gateway's ASGI application on one loop, read from the recorder's sink (a list
here). By default the gateway sums calls per minute and key (cells, as the rollups hold them);
with USAGE_RAW_EVENTS it also keeps one raw event per call, the only place that names the
check that refused a call and the client's network."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from gateway.config import OperationMatch, RateLimit, RouteConfig
from tests.gateway.conftest import LoopbackServer, Provider, claims, make_route, mint
from tests.usage.conftest import Counted, Recording
from usage.events import Event


@pytest.fixture
def raw_events(settings: Any) -> None:
    settings.USAGE_RAW_EVENTS = True


def _route(provider: Provider, backend_url: str | None, **kw: Any) -> RouteConfig:
    route = make_route(provider, backend_url, **kw)
    route.api_id = 7
    return route


def _only(events: list[Event]) -> Event:
    assert len(events) == 1, events
    return events[0]


def _one(counted: list[Counted]) -> Counted:
    assert len(counted) == 1, counted
    return counted[0]


def test_a_successful_call_is_counted_with_its_api_client_times_and_bytes(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    response = gateway.request("POST", "/orders/items", token=token, body=b'{"n": 12345}',
                               headers={"content-type": "application/json"})  # fmt: skip
    assert response.status == 200
    cell = _one(recording.counted())
    assert (cell.api, cell.client, cell.outcomes) == (7, "console", (1, 0, 0, 0))
    assert cell.bytes_in == len(b'{"n": 12345}')
    assert cell.bytes_out == len(response.body) > 0
    assert cell.backend_count == 1
    assert cell.backend_ms_max is not None and 0 <= cell.backend_ms_max <= cell.total_ms_max
    assert (cell.product, cell.subscription, cell.user) == (0, 0, 0)
    # Never a token, key, body or address: no part of the cell holds any of them.
    assert token[:20] not in repr(cell) and "12345" not in repr(cell)
    assert "203.0.113" not in repr(recording.cells())


def test_calls_of_one_key_and_minute_add_into_one_cell(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    for _ in range(3):
        assert gateway.request("GET", "/orders/items", token=token).status == 200
    assert gateway.request("GET", "/orders/items").status == 401
    assert [(c.client, c.outcomes, c.backend_count) for c in recording.counted()] == [
        ("", (0, 1, 0, 0), 0),
        ("console", (3, 0, 0, 0), 3),
    ]


# Calls the gateway refuses before any API matched, and the check that refuses each.
REFUSED_BEFORE_ANY_API = pytest.mark.parametrize(
    ("path", "host", "method", "check"),
    [
        ("/orders/%2e%2e/admin", "gw.test", "GET", "path"),
        ("/orders/items", "evil.test", "GET", "host"),
        ("/no-such-api/items", "gw.test", "GET", "route"),
    ],
)


@REFUSED_BEFORE_ANY_API
def test_calls_refused_before_any_api_matched_are_counted_as_blocked(
    recording: Recording, provider: Provider, path: str, host: str, method: str, check: str
) -> None:
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    assert gateway.request(method, path, host=host).status in (400, 404)
    cell = _one(recording.counted())
    assert (cell.api, cell.operation, cell.outcomes) == (0, "", (0, 1, 0, 0))
    assert cell.backend_count == 0 and cell.client == ""


@REFUSED_BEFORE_ANY_API
def test_raw_events_name_the_check_that_refused_a_call_before_any_api_matched(
    recording: Recording, raw_events: None, provider: Provider, path: str, host: str,
    method: str, check: str,
) -> None:  # fmt: skip
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    assert gateway.request(method, path, host=host).status in (400, 404)
    event = _only(recording.events())
    assert (event.api_id, event.outcome, event.check) == (None, "blocked", check)
    assert event.backend_ms is None and event.client_id == ""
    assert recording.cells() == {}  # raw events instead of cells: never both


def test_a_token_refusal_is_blocked_on_its_api(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    gateway = recording.gateway(_route(provider, backend.url))
    expired = mint(provider.keys[0], claims(provider, exp=1000))
    assert gateway.request("GET", "/orders/items").status == 401
    assert gateway.request("GET", "/orders/items", token=expired).status == 401
    assert gateway.request("TRACE", "/orders/items").status == 405
    cell = _one(recording.counted())
    assert (cell.api, cell.outcomes, cell.backend_count) == (7, (0, 3, 0, 0), 0)
    assert backend.recorder.requests == []


def test_raw_events_name_jwt_and_method_refusals(
    recording: Recording, raw_events: None, provider: Provider, backend: LoopbackServer
) -> None:
    gateway = recording.gateway(_route(provider, backend.url))
    expired = mint(provider.keys[0], claims(provider, exp=1000))
    assert gateway.request("GET", "/orders/items").status == 401
    assert gateway.request("GET", "/orders/items", token=expired).status == 401
    assert gateway.request("TRACE", "/orders/items").status == 405
    events = recording.events()
    assert [(e.api_id, e.status, e.outcome, e.check) for e in events] == [
        (7, 401, "blocked", "jwt"),
        (7, 401, "blocked", "jwt"),
        (7, 405, "blocked", "method"),
    ]


@pytest.mark.parametrize("raw", [False, True])
def test_a_rate_limited_call_is_blocked(
    recording: Recording, provider: Provider, backend: LoopbackServer, settings: Any, raw: bool
) -> None:
    settings.USAGE_RAW_EVENTS = raw
    route = _route(provider, backend.url)
    route.rate_limit = RateLimit(1, 60, "subject")
    gateway = recording.gateway(route)
    token = mint(provider.keys[0], claims(provider))
    assert [gateway.request("GET", "/orders/a", token=token).status for _ in range(2)] == [200, 429]
    if raw:
        assert [(e.outcome, e.check) for e in recording.events()] == [
            ("success", ""),
            ("blocked", "rate-limit"),
        ]
    else:
        assert _one(recording.counted()).outcomes == (1, 1, 0, 0)


@pytest.mark.parametrize(
    ("backend_status", "outcome"),
    [(201, 0), (302, 0), (404, 3), (409, 3), (500, 2), (503, 2)],
)  # outcome: success 0, failed 2, other 3
def test_the_backends_answer_decides_success_other_or_failed(
    recording: Recording,
    provider: Provider,
    backend: LoopbackServer,
    backend_status: int,
    outcome: int,
) -> None:
    def answer(h: Any) -> None:
        h.send_json(backend_status, {"s": backend_status})

    backend.recorder.routes["*"] = answer
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    assert gateway.request("GET", "/orders/x", token=token).status == backend_status
    cell = _one(recording.counted())
    assert cell.outcomes == tuple(int(i == outcome) for i in range(4))
    assert cell.backend_count == 1


def test_an_unreachable_backend_is_failed(recording: Recording, provider: Provider) -> None:
    from tests.gateway.processes import refused_port

    with refused_port() as port:
        gateway = recording.gateway(_route(provider, f"http://127.0.0.1:{port}"))
        token = mint(provider.keys[0], claims(provider))
        assert gateway.request("GET", "/orders/x", token=token).status == 502
    cell = _one(recording.counted())
    assert (cell.outcomes, cell.backend_count) == ((0, 0, 1, 0), 1)


def test_the_mock_answers_with_the_operation_and_unmatched_calls_are_blocked(
    recording: Recording,
) -> None:
    route = RouteConfig(api_slug="pets", suffix="pets", backend="mock", timeout=5,
                        forward_claims=False, api_id=3)  # fmt: skip
    route.operations.append(OperationMatch("get", "/pets/{id}", "get-pet", {}))
    route.mock_cache["get-pet"] = (200, "application/json", b'{"id": 1}')
    gateway = recording.gateway(route)
    assert gateway.request("GET", "/pets/pets/1").status == 200
    assert gateway.request("DELETE", "/pets/pets/1").status == 404
    unmatched, ok = recording.counted()
    assert (ok.api, ok.operation, ok.outcomes, ok.bytes_out) == (3, "get-pet", (1, 0, 0, 0), 9)
    assert ok.backend_count == 1
    assert (unmatched.api, unmatched.operation, unmatched.outcomes) == (3, "", (0, 1, 0, 0))


@pytest.mark.parametrize("raw", [False, True])
def test_probes_and_scrapes_are_not_usage(
    recording: Recording, provider: Provider, settings: Any, raw: bool
) -> None:
    settings.USAGE_RAW_EVENTS = raw
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    assert gateway.request("GET", "/-/live").status == 200
    assert gateway.request("GET", "/-/metrics").status == 200
    assert recording.events() == [] and recording.cells() == {}


def test_raw_events_keep_the_clients_network(
    recording: Recording, raw_events: None, provider: Provider
) -> None:
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    gateway.request("GET", "/orders/x")
    assert _only(recording.events()).client_net == "203.0.113.0/24"  # the harness's client


def test_the_client_address_is_left_out_when_configured(
    recording: Recording, raw_events: None, provider: Provider, settings: Any
) -> None:
    settings.USAGE_CLIENT_ADDRESS = "none"
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    gateway.request("GET", "/orders/x")
    assert _only(recording.events()).client_net == ""


def test_behind_a_trusted_proxy_the_real_clients_network_is_recorded(
    recording: Recording, raw_events: None, provider: Provider, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["203.0.113.0/24"]
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    gateway.request("GET", "/orders/x", headers={"X-Forwarded-For": "2001:db8:7:1::5"})
    assert _only(recording.events()).client_net == "2001:db8:7::/48"


async def _served(gateway: Any) -> tuple[Any, Any, asyncio.StreamReader, asyncio.StreamWriter]:
    """The gateway under its own HTTP server (gateway/server.py, as `python -m gateway` serves
    it) on a loopback port, and a client connection: (server, listener, reader, writer)."""
    from gateway import server

    srv = server.Server(gateway.app, gateway.loop)
    listener = await gateway.loop.create_server(srv.protocol, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", listener.sockets[0].getsockname()[1]
    )
    return srv, listener, reader, writer


async def _calls_end(srv: Any, seconds: float = 20) -> None:
    """Until the server's calls in flight have ended (each counts itself as it ends)."""
    deadline = time.monotonic() + seconds
    while srv.tasks and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _metric(gateway: Any, name: str) -> float:
    text = gateway.request("GET", "/-/metrics").body.decode()
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, text
    return float(match.group(1))


def _calls_recorded(recording: Recording, raw: bool) -> int:
    if raw:
        return len(recording.events())
    return sum(c.calls for c in recording.counted())


@pytest.mark.parametrize("raw", [False, True])
def test_store_down_calls_are_dropped_and_counted_and_calls_keep_flowing(
    recording: Recording, provider: Provider, backend: LoopbackServer, settings: Any, raw: bool
) -> None:
    settings.USAGE_RAW_EVENTS = raw
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    recording.sink.down = True
    statuses = [gateway.request("GET", "/orders/x", token=token).status for _ in range(5)]
    assert statuses == [200] * 5
    assert _calls_recorded(recording, raw) == 0
    assert _metric(gateway, "gateway_usage_dropped_total") == 5
    assert _metric(gateway, "gateway_usage_events_total") == 0
    # The store is back: the next calls are written (after the retry pause).
    recording.sink.down = False
    gateway.app.usage._retry_at = 0.0
    gateway.request("GET", "/orders/x", token=token)
    assert _calls_recorded(recording, raw) == 1
    assert _metric(gateway, "gateway_usage_events_total") == 1


def test_a_slow_store_never_holds_a_call_and_the_cells_stay_bounded(
    recording: Recording, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    settings.USAGE_BUFFER = 2  # distinct keys summed between two writes
    settings.USAGE_FLUSH_MS = 10  # the first call is written at once, and the store hangs
    gateway = recording.gateway(_route(provider, backend.url))
    recording.sink.release.clear()
    token = mint(provider.keys[0], claims(provider))
    assert gateway.request("GET", "/orders/x", token=token).status == 200
    gateway.loop.run_until_complete(asyncio.sleep(0.3))  # the flusher takes it to the store
    assert recording.sink.waiting.wait(5)  # and its write hangs there now
    statuses = [gateway.request("GET", "/orders/x", token=token).status for _ in range(3)]
    statuses += [gateway.request("GET", "/orders/x").status for _ in range(2)]  # no token
    statuses += [gateway.request("GET", "/elsewhere/x").status for _ in range(2)]  # no API
    assert statuses == [200] * 3 + [401] * 2 + [404] * 2  # answered while the store hangs
    usage = gateway.app.usage
    # Two keys fit; the third key's calls are dropped and counted, the others' keep adding.
    assert len(usage._cells) == 2 and usage.dropped_full == 2
    assert _metric(gateway, "gateway_usage_dropped_total") == 2
    recording.sink.release.set()
    counted = recording.counted()
    assert sum(c.calls for c in counted) == 6  # the one being written and the five summed
    assert all(c.api == 7 for c in counted)


def test_a_slow_store_never_holds_a_call_and_the_raw_buffer_stays_bounded(
    recording: Recording, raw_events: None, provider: Provider, backend: LoopbackServer,
    settings: Any,
) -> None:  # fmt: skip
    settings.USAGE_BUFFER = 3
    settings.USAGE_BATCH = 1  # the first call is written at once, and the store hangs
    gateway = recording.gateway(_route(provider, backend.url))
    recording.sink.release.clear()
    token = mint(provider.keys[0], claims(provider))
    assert gateway.request("GET", "/orders/x", token=token).status == 200
    gateway.loop.run_until_complete(asyncio.sleep(0.3))  # the flusher takes it to the store
    assert recording.sink.waiting.wait(5)  # and its write hangs there now
    statuses = [gateway.request("GET", "/orders/x", token=token).status for _ in range(6)]
    assert statuses == [200] * 6  # answered while the store still hangs
    usage = gateway.app.usage
    assert len(usage._buffer) == 3 and usage.dropped_full == 3
    assert _metric(gateway, "gateway_usage_dropped_total") == 3
    recording.sink.release.set()
    assert len(recording.events()) == 4  # the one being written and the three buffered


def test_recording_off_records_nothing(
    recording: Recording, provider: Provider, settings: Any
) -> None:
    settings.USAGE_RECORDING = False
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    gateway.request("GET", "/orders/x")
    assert recording.events() == [] and recording.cells() == {}


def test_calls_served_by_the_gateways_own_server_count_their_body_bytes(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    """Under gateway/server.py (as `python -m gateway` serves it) the server counts the body
    bytes itself: a sized body, a chunked one and the answers count as they do under any
    other ASGI server."""
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    loop = gateway.loop

    async def exchange(writer_head: bytes, body: bytes) -> bytes:
        srv, listener, reader, writer = await _served(gateway)
        writer.write(writer_head + body)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
        answer = await reader.readexactly(length)
        writer.close()
        listener.close()
        return answer

    def post(extra: str, body: bytes) -> bytes:
        head = (
            f"POST /orders/items HTTP/1.1\r\nHost: gw.test\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n"
        ).encode()
        return loop.run_until_complete(exchange(head, body))

    sized = post("Content-Length: 12\r\n", b'{"n": 12345}')
    chunked = post("Transfer-Encoding: chunked\r\n", b"5\r\n[1, 2\r\n4\r\n, 3]\r\n0\r\n\r\n")
    cell = _one(recording.counted())
    assert cell.outcomes == (2, 0, 0, 0)
    assert cell.bytes_in == len(b'{"n": 12345}') + len(b"[1, 2, 3]")
    assert cell.bytes_out == len(sized) + len(chunked) > 0


@pytest.mark.parametrize(
    ("raw_request", "status"),
    [
        (b"GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /orders/x HTTP/1.1\r\nHost gw.test\r\n\r\n", 400),
        # 5xx: "other", as classify() has the gateway's own answers that are not 4xx.
        (
            b"GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
        ),
        (b"GET /orders/x HTTP/2.0\r\nHost: gw.test\r\n\r\n", 505),
    ],
)
@pytest.mark.parametrize("raw", [False, True])
def test_requests_the_gateways_own_server_refuses_are_counted_as_blocked(
    recording: Recording, provider: Provider, backend: LoopbackServer, settings: Any,
    raw_request: bytes, status: int, raw: bool,
) -> None:  # fmt: skip
    """Refused before any API matched, by gateway/server.py itself (not HTTP/1.1, a head too
    large, a transfer coding it does not take): they never reached the application, which
    counts every call, and were counted nowhere."""
    settings.USAGE_RAW_EVENTS = raw
    gateway = recording.gateway(_route(provider, backend.url))
    loop = gateway.loop

    async def exchange() -> bytes:
        srv, listener, reader, writer = await _served(gateway)
        writer.write(raw_request)
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        listener.close()
        return answer

    assert loop.run_until_complete(exchange()).startswith(b"HTTP/1.1 %d " % status)
    blocked = status < 500
    if raw:
        event = _only(recording.events())
        assert (event.api_id, event.status, event.outcome, event.check) == (
            (None, status, "blocked", "request") if blocked else (None, status, "other", "")
        )
        assert event.client_net == "127.0.0.0/24" and event.backend_ms is None
    else:
        cell = _one(recording.counted())
        assert (cell.api, cell.operation, cell.backend_count) == (0, "", 0)
        assert cell.outcomes == ((0, 1, 0, 0) if blocked else (0, 0, 0, 1))
    assert backend.recorder.requests == []


@pytest.mark.parametrize("apart", [True, False])
def test_a_request_whose_body_the_server_refuses_mid_call_is_counted_once(
    recording: Recording, provider: Provider, backend: LoopbackServer, apart: bool
) -> None:
    """Apart: the application already has this call (it counts it when it ends), and the
    server's own refusal of its broken chunked body is the same call, not another. Together
    (head and broken body in one read): the application never starts it; the server's
    refusal is the one count."""
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    loop = gateway.loop

    async def exchange() -> bytes:
        srv, listener, reader, writer = await _served(gateway)
        head = (
            f"POST /orders/items HTTP/1.1\r\nHost: gw.test\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        if apart:
            writer.write(head)
            await writer.drain()
            await asyncio.sleep(0.2)  # the application is waiting for the body
            head = b""
        writer.write(head + b"zz\r\nnot a chunk\r\n")
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        listener.close()
        await asyncio.sleep(0.2)  # the application ends its call
        return answer

    assert loop.run_until_complete(exchange()).startswith(b"HTTP/1.1 400 ")
    # Blocked by the request check: the body was broken, the client did not leave.
    assert _one(recording.counted()).outcomes == (0, 1, 0, 0)


def test_a_client_that_hangs_up_mid_answer_is_other_and_only_sent_bytes_count(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    """The client went away while the backend's 200 was streaming: the call did not succeed
    for anyone (counted "other", as a call with no answer sent is), and the bytes out are
    those written before it left, not the whole answer the backend kept sending."""
    import threading

    size, gone = 2_000_000, threading.Event()

    def stream(h: Any) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        h.wfile.write(b"x" * 1000)
        h.wfile.flush()
        gone.wait(10)
        try:
            for _ in range(size // 100_000):
                h.wfile.write(b"x" * 100_000)
        except OSError:
            pass
        h.wfile.write(b"x" * (size - 1000 - size // 100_000 * 100_000))

    backend.recorder.routes["*"] = stream
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    loop = gateway.loop

    async def exchange() -> None:
        srv, listener, reader, writer = await _served(gateway)
        head = f"GET /orders/big HTTP/1.1\r\nHost: gw.test\r\nAuthorization: Bearer {token}\r\n"
        writer.write(head.encode() + b"\r\n")
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(1000)
        writer.close()
        await asyncio.sleep(0.2)  # the gateway sees the connection close
        gone.set()
        await _calls_end(srv)
        listener.close()

    loop.run_until_complete(exchange())
    cell = _one(recording.counted())
    assert cell.outcomes == (0, 0, 0, 1)
    assert 1000 <= cell.bytes_out < size


@pytest.mark.parametrize("raw", [False, True])
def test_a_client_that_hangs_up_mid_upload_is_other_not_blocked(
    recording: Recording, provider: Provider, backend: LoopbackServer, settings: Any, raw: bool
) -> None:
    """The body was cut because the client left: the gateway's 400 ("malformed or cut off")
    reached no one and no check refused the call, so it is not "blocked by `request`"."""

    settings.USAGE_RAW_EVENTS = raw
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    loop = gateway.loop

    async def exchange() -> None:
        srv, listener, reader, writer = await _served(gateway)
        head = (
            f"POST /orders/items HTTP/1.1\r\nHost: gw.test\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
        )
        writer.write(head.encode() + b"x" * 10)
        await writer.drain()
        await asyncio.sleep(0.2)  # the gateway is forwarding the body
        writer.close()
        await _calls_end(srv)
        listener.close()

    loop.run_until_complete(exchange())
    if raw:
        event = _only(recording.events())
        assert (event.outcome, event.check) == ("other", "")
    else:
        assert _one(recording.counted()).outcomes == (0, 0, 0, 1)

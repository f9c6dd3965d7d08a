"""The gateway records one usage event per call, whatever the outcome, and never waits on
the store: calls through the gateway's ASGI application on one loop, events read from the
recorder's sink (a list here; the Redis and database sinks are in test_sinks.py)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from gateway.config import OperationMatch, RateLimit, RouteConfig, template_pattern
from tests.gateway.conftest import LoopbackServer, Provider, claims, make_route, mint
from tests.usage.conftest import Recording
from usage.events import Event


def _route(provider: Provider, backend_url: str | None, **kw: Any) -> RouteConfig:
    route = make_route(provider, backend_url, **kw)
    route.api_id = 7
    return route


def _only(events: list[Event]) -> Event:
    assert len(events) == 1, events
    return events[0]


def test_a_successful_call_is_counted_with_its_api_client_times_and_bytes(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    response = gateway.request("POST", "/orders/items", token=token, body=b'{"n": 12345}',
                               headers={"content-type": "application/json"})  # fmt: skip
    assert response.status == 200
    event = _only(recording.events())
    assert (event.api_id, event.status, event.outcome, event.check) == (7, 200, "success", "")
    assert event.client_id == "console"
    assert event.bytes_in == len(b'{"n": 12345}')
    assert event.bytes_out == len(response.body) > 0
    assert event.backend_ms is not None and 0 <= event.backend_ms <= event.total_ms
    assert event.client_net == "203.0.113.0/24"  # the harness's client, 203.0.113.9
    assert event.product_id is None and event.subscription_id is None and event.user_id is None
    # Never a token, key or body: no field holds any part of them.
    assert token[:20] not in repr(event) and "12345" not in repr(event)


@pytest.mark.parametrize(
    ("path", "host", "method", "check"),
    [
        ("/orders/%2e%2e/admin", "gw.test", "GET", "path"),
        ("/orders/items", "evil.test", "GET", "host"),
        ("/no-such-api/items", "gw.test", "GET", "route"),
    ],
)
def test_calls_refused_before_any_api_matched_are_counted_as_blocked(
    recording: Recording, provider: Provider, path: str, host: str, method: str, check: str
) -> None:
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    assert gateway.request(method, path, host=host).status in (400, 404)
    event = _only(recording.events())
    assert (event.api_id, event.outcome, event.check) == (None, "blocked", check)
    assert event.backend_ms is None and event.client_id == ""


def test_a_token_refusal_is_blocked_by_jwt_on_its_api(
    recording: Recording, provider: Provider, backend: LoopbackServer
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
    assert backend.recorder.requests == []


def test_a_rate_limited_call_is_blocked_by_rate_limit(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    route = _route(provider, backend.url)
    route.rate_limit = RateLimit(1, 60, "subject")
    gateway = recording.gateway(route)
    token = mint(provider.keys[0], claims(provider))
    assert [gateway.request("GET", "/orders/a", token=token).status for _ in range(2)] == [200, 429]
    assert [(e.outcome, e.check) for e in recording.events()] == [
        ("success", ""),
        ("blocked", "rate-limit"),
    ]


@pytest.mark.parametrize(
    ("backend_status", "outcome"),
    [(201, "success"), (302, "success"), (404, "other"), (409, "other"), (500, "failed"),
     (503, "failed")],
)  # fmt: skip
def test_the_backends_answer_decides_success_other_or_failed(
    recording: Recording,
    provider: Provider,
    backend: LoopbackServer,
    backend_status: int,
    outcome: str,
) -> None:
    def answer(h: Any) -> None:
        h.send_json(backend_status, {"s": backend_status})

    backend.recorder.routes["*"] = answer
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    assert gateway.request("GET", "/orders/x", token=token).status == backend_status
    event = _only(recording.events())
    assert (event.status, event.outcome, event.check) == (backend_status, outcome, "")
    assert event.backend_ms is not None


def test_an_unreachable_backend_is_failed(recording: Recording, provider: Provider) -> None:
    from tests.gateway.processes import free_port

    gateway = recording.gateway(_route(provider, f"http://127.0.0.1:{free_port()}"))
    token = mint(provider.keys[0], claims(provider))
    assert gateway.request("GET", "/orders/x", token=token).status == 502
    event = _only(recording.events())
    assert (event.status, event.outcome, event.check) == (502, "failed", "")
    assert event.backend_ms is not None


def test_the_mock_answers_with_the_operation_and_unmatched_calls_are_blocked(
    recording: Recording,
) -> None:
    route = RouteConfig(api_slug="pets", suffix="pets", backend="mock", timeout=5,
                        forward_claims=False, api_id=3)  # fmt: skip
    pattern, literal = template_pattern("/pets/{id}")
    route.operations.append(OperationMatch("get", pattern, "get-pet", literal, {}))
    route.mock_cache["get-pet"] = (200, "application/json", b'{"id": 1}')
    gateway = recording.gateway(route)
    assert gateway.request("GET", "/pets/pets/1").status == 200
    assert gateway.request("DELETE", "/pets/pets/1").status == 404
    ok, unmatched = recording.events()
    assert (ok.api_id, ok.operation, ok.outcome, ok.bytes_out) == (3, "get-pet", "success", 9)
    assert ok.backend_ms is not None
    assert (unmatched.api_id, unmatched.operation, unmatched.outcome, unmatched.check) == (
        3,
        "",
        "blocked",
        "operation",
    )


def test_probes_and_scrapes_are_not_usage(recording: Recording, provider: Provider) -> None:
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    assert gateway.request("GET", "/-/live").status == 200
    assert gateway.request("GET", "/-/metrics").status == 200
    assert recording.events() == []


def test_the_client_address_is_left_out_when_configured(
    recording: Recording, provider: Provider, settings: Any
) -> None:
    settings.USAGE_CLIENT_ADDRESS = "none"
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    gateway.request("GET", "/orders/x")
    assert _only(recording.events()).client_net == ""


def test_behind_a_trusted_proxy_the_real_clients_network_is_recorded(
    recording: Recording, provider: Provider, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["203.0.113.0/24"]
    gateway = recording.gateway(_route(provider, "http://127.0.0.1:9"))
    gateway.request("GET", "/orders/x", headers={"X-Forwarded-For": "2001:db8:7:1::5"})
    assert _only(recording.events()).client_net == "2001:db8:7::/48"


def _metric(gateway: Any, name: str) -> float:
    text = gateway.request("GET", "/-/metrics").body.decode()
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, text
    return float(match.group(1))


def test_store_down_events_are_dropped_and_counted_and_calls_keep_flowing(
    recording: Recording, provider: Provider, backend: LoopbackServer
) -> None:
    gateway = recording.gateway(_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider))
    recording.sink.down = True
    statuses = [gateway.request("GET", "/orders/x", token=token).status for _ in range(5)]
    assert statuses == [200] * 5
    assert recording.events() == []
    assert _metric(gateway, "gateway_usage_dropped_total") == 5
    assert _metric(gateway, "gateway_usage_events_total") == 0
    # The store is back: the next calls are written (after the retry pause).
    recording.sink.down = False
    gateway.app.usage._retry_at = 0.0
    gateway.request("GET", "/orders/x", token=token)
    assert len(recording.events()) == 1
    assert _metric(gateway, "gateway_usage_events_total") == 1


def test_a_slow_store_never_holds_a_call_and_the_buffer_stays_bounded(
    recording: Recording, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
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
    assert recording.events() == []

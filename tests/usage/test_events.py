"""The usage event's wire format (what aggregators read) and how a response is classified."""

from __future__ import annotations

import orjson
import pytest

from usage.events import FIELD, FIELD_NAMES, Event, classify, client_net, decode, encode


def _event(**overrides: object) -> Event:
    values: dict[str, object] = {
        "ts": 1_764_662_400.25,
        "api_id": 4,
        "operation": "get-pet",
        "product_id": 2,
        "subscription_id": 9,
        "client_id": "app-1",
        "user_id": 5,
        "status": 200,
        "outcome": "success",
        "check": "",
        "total_ms": 1.5,
        "backend_ms": 0.75,
        "bytes_in": 0,
        "bytes_out": 120,
        "client_net": "203.0.113.0/24",
    }
    values.update(overrides)
    return Event(**values)  # type: ignore[arg-type]


def test_a_batch_round_trips_as_one_json_array_of_the_contracts_fields() -> None:
    batch = [_event(), _event(api_id=None, operation="", outcome="blocked", check="host",
                              backend_ms=None, product_id=None, subscription_id=None,
                              user_id=None, client_id="", status=400)]  # fmt: skip
    data = encode(batch)
    assert [sorted(item) for item in orjson.loads(data)] == [sorted(FIELD_NAMES)] * 2
    assert decode(data) == batch
    assert decode({FIELD: data}) == batch  # an entry's fields, as XREADGROUP gives them


def test_decode_skips_what_it_cannot_read_and_keeps_the_rest() -> None:
    good = orjson.loads(encode([_event()]))[0]
    newer = {**good, "region": "eu"}  # a newer gateway's extra field is ignored
    older = {k: v for k, v in good.items() if k not in ("client_net", "bytes_in")}
    bad = [{**good, "outcome": "maybe"}, {**good, "status": "x"}, {"ts": 1.0}, "junk", 7]
    events = decode(orjson.dumps([newer, *bad, older]))
    assert len(events) == 2
    assert events[0] == _event()
    assert (events[1].client_net, events[1].bytes_in) == ("", 0)
    assert decode(b"not json") == [] and decode(b'{"a": 1}') == []


@pytest.mark.parametrize(
    ("status", "check", "expected"),
    [
        (200, "", ("success", "")),
        (304, "", ("success", "")),
        (204, "", ("success", "")),  # a CORS preflight the gateway answered
        (404, "", ("other", "")),  # a backend's own 404
        (500, "", ("failed", "")),
        (503, "", ("failed", "")),
        (502, "backend-unavailable", ("failed", "")),
        (504, "backend-timeout", ("failed", "")),
        (502, "mock", ("failed", "")),
        (503, "keys", ("other", "")),  # the provider's keys are unreachable: not the backend
        (503, "rate-limit-store", ("other", "")),
        (400, "path", ("blocked", "path")),
        # A raw '#' in the query (gateway/app.py): the request target's check, not a token's.
        (400, "query", ("blocked", "path")),
        (400, "host", ("blocked", "host")),
        (404, "route", ("blocked", "route")),
        (404, "operation", ("blocked", "operation")),
        (401, "subscription-key", ("blocked", "subscription")),
        (403, "subscription-scope", ("blocked", "subscription")),
        (429, "rate-limit", ("blocked", "rate-limit")),
        (403, "quota", ("blocked", "quota")),
        (401, "exp", ("blocked", "jwt")),
        (403, "scope", ("blocked", "jwt")),
        (401, "missing", ("blocked", "jwt")),
        (413, "body-size", ("blocked", "request")),
        (0, "", ("other", "")),  # no answer was sent
        # The client left before its answer ended, or before its body did (gateway/app.py).
        (200, "client-gone", ("other", "")),
        (400, "client-gone", ("other", "")),
    ],
)
def test_classify(status: int, check: str, expected: tuple[str, str]) -> None:
    assert classify(status, check) == expected


@pytest.mark.parametrize(
    ("address", "mode", "expected"),
    [
        ("203.0.113.77", "truncate", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "truncate", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", "truncate", "198.51.100.0/24"),
        ("203.0.113.77", "none", ""),
        ("unix-socket", "truncate", ""),
        ("", "truncate", ""),
    ],
)
def test_client_net_keeps_only_the_network(address: str, mode: str, expected: str) -> None:
    assert client_net(address, mode) == expected


def test_a_raw_event_fits_the_raw_tables_columns() -> None:
    """A token's client id may be any length, and a slug is up to 300 characters: a raw
    event past the raw table's columns made PostgreSQL refuse the whole batch's insert."""
    from types import SimpleNamespace

    from usage.models import UsageEvent
    from usage.recorder import to_event

    state = {"status": 200, "client": "c" * 150, "op": SimpleNamespace(slug="o" * 300)}
    ev = to_event(1.0, 0.0, 0.001, {"client": ("192.0.2.1", 1)}, state, "truncate", ())
    assert ev.client_id == "c" * 100 and UsageEvent._meta.get_field("client_id").max_length == 100
    assert ev.operation == "o" * 300 and UsageEvent._meta.get_field("operation").max_length == 300

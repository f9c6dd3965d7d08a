"""One usage event per gateway response, its classification, and its wire encoding: the raw
path (USAGE_RAW_EVENTS), and the outcome every call is counted under.

By default the gateway does not build events: it sums calls per minute and key in its own
process (usage/cells.py) and ships the sums. `classify` decides the outcome either way.
With USAGE_RAW_EVENTS it builds one `Event` per call for operators who want per-request rows
(the raw table, kept USAGE_RETENTION_RAW_DAYS); only these carry the check that refused a
call and the client's network.

The fields are the contract between `usage/recorder.py` (gateway side) and
`usage/aggregate.py`; never a token, a key or a body. `client_net` is the client's network
(`203.0.113.0/24`, `2001:db8:1::/48`) with USAGE_CLIENT_ADDRESS=truncate (the default), or
"" with `none`.
`bytes_in` and `bytes_out` count the request and response bodies as they crossed the gateway.

Wire format on the Redis stream `STREAM`: one entry per batch, whose field `e` (`FIELD`) is a
JSON array of event objects (field name -> value); the gateway's summed cells travel on the
same stream in entries whose field is `c` instead (usage/cells.py). A batch per entry keeps
the gateway at one XADD per flush whatever the traffic; aggregators read entries through the
consumer group `GROUP` and XACK an entry once its rollups are committed, so an entry is
counted once. `decode()` skips an object it cannot read instead of failing the whole batch (a
newer gateway may add fields; an unknown field is ignored, a missing optional one gets its
default).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any, Literal

import orjson

STREAM = "usage:events"
GROUP = "usage-aggregators"
FIELD = b"e"

Outcome = Literal["success", "blocked", "failed", "other"]
OUTCOMES: tuple[Outcome, ...] = ("success", "blocked", "failed", "other")


@dataclass(slots=True)  # not frozen: a frozen __init__ costs the flush thread twice as much
class Event:
    ts: float  # epoch seconds (UTC) when the call arrived
    api_id: int | None  # None: refused before any API matched
    operation: str  # the operation's slug, or ""
    product_id: int | None
    subscription_id: int | None
    client_id: str  # the token's client (or the subscription's application), "" if none
    user_id: int | None  # the developer when the gateway knows it (the subscription's owner)
    status: int  # 0: no response was sent (the client went away, or the gateway failed)
    outcome: Outcome
    check: str  # the check that blocked the call ("jwt", "subscription", ...), else ""
    total_ms: float
    backend_ms: float | None  # None when no backend (or mock) was reached
    bytes_in: int
    bytes_out: int
    client_net: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Event))
_OPTIONAL_DEFAULTS: dict[str, Any] = {
    "operation": "",
    "product_id": None,
    "subscription_id": None,
    "client_id": "",
    "user_id": None,
    "check": "",
    "backend_ms": None,
    "bytes_in": 0,
    "bytes_out": 0,
    "client_net": "",
}


def redis_url() -> str:
    """The Redis that carries events (the gateway's own, else the portal's); "" for none."""
    from django.conf import settings

    return str(getattr(settings, "GATEWAY_REDIS_URL", "") or getattr(settings, "REDIS_URL", ""))


def encode(events: Iterable[Event]) -> bytes:
    """The value of one stream entry's `e` field: a JSON array of event objects (orjson
    writes a dataclass as an object of its fields, in order)."""
    return orjson.dumps(list(events))


def wire_items(data: bytes | str | Mapping[Any, Any]) -> list[Any]:
    """The decoded JSON objects of one stream entry (its `e` field's value, or the entry's
    field mapping as XREADGROUP returns it), unchecked; [] when it is not a JSON array."""
    if isinstance(data, Mapping):
        data = data.get(FIELD, data.get("e", b""))
        if not isinstance(data, bytes | str):
            return []
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError:
        return []
    return items if isinstance(items, list) else []


def decode(data: bytes | str | Mapping[Any, Any]) -> list[Event]:
    """The events of one stream entry: its `e` field's value, or the entry's field mapping
    as XREADGROUP returns it. Objects that do not fit are skipped."""
    out: list[Event] = []
    for item in wire_items(data):
        event = from_dict(item)
        if event is not None:
            out.append(event)
    return out


def from_dict(item: Any) -> Event | None:
    """An Event from a decoded object, or None when a required field is missing or wrong."""
    if not isinstance(item, dict):
        return None
    values: dict[str, Any] = {n: item.get(n, _OPTIONAL_DEFAULTS.get(n)) for n in FIELD_NAMES}
    try:
        event = Event(
            ts=float(values["ts"]),
            api_id=None if values["api_id"] is None else int(values["api_id"]),
            operation=str(values["operation"]),
            product_id=None if values["product_id"] is None else int(values["product_id"]),
            subscription_id=None
            if values["subscription_id"] is None
            else int(values["subscription_id"]),
            client_id=str(values["client_id"]),
            user_id=None if values["user_id"] is None else int(values["user_id"]),
            status=int(values["status"]),
            outcome=values["outcome"],
            check=str(values["check"]),
            total_ms=float(values["total_ms"]),
            backend_ms=None if values["backend_ms"] is None else float(values["backend_ms"]),
            bytes_in=int(values["bytes_in"]),
            bytes_out=int(values["bytes_out"]),
            client_net=str(values["client_net"]),
        )
    except (TypeError, ValueError):
        return None
    return event if event.outcome in OUTCOMES else None


# --- classification (what the recorder derives from a response) ---------------------------

# Problem check ids the gateway writes (gateway/*.py) -> the policy family an event names.
# Token checks (iss, aud, exp, a required claim's name...) are many; they all become "jwt".
_CHECK_FAMILY = {
    "path": "path",
    "query": "path",  # a raw '#' in the query: the request target, as ';' in the path
    "host": "host",
    "route": "route",
    "method": "method",
    "operation": "operation",
    "request": "request",
    "request-timeout": "request",
    "body-size": "request",
    "subscription-key": "subscription",
    "subscription-state": "subscription",
    "subscription-scope": "subscription",
    "rate-limit": "rate-limit",
    "quota": "quota",
}
# The gateway's own 5xx answers that say the backend failed (or the mock could not answer).
_BACKEND_FAILURES = frozenset({"backend-timeout", "backend-unavailable", "mock"})


def classify(status: int, check: str) -> tuple[Outcome, str]:
    """(outcome, the blocking check or "") for a response's status and problem check id.

    `check` is the id of a problem the gateway wrote itself ("" for a backend's or the mock's
    own answer): a 4xx of the gateway's is "blocked"; its 502/504 for a backend that failed,
    and any 5xx relayed from a backend, are "failed"; every other answer is "other" (a
    backend's 4xx, the gateway's 503 when signing keys or the rate-limit store are down, and
    any call whose client left before its answer ended: `client-gone`).
    """
    if check:
        if check == "client-gone":  # it left before its answer ended (gateway/server.py)
            return "other", ""
        if 400 <= status < 500:
            return "blocked", _CHECK_FAMILY.get(check, "jwt")
        if check in _BACKEND_FAILURES:
            return "failed", ""
        return "other", ""
    if 200 <= status < 400:
        return "success", ""
    if status >= 500:
        return "failed", ""
    return "other", ""


@lru_cache(maxsize=8192)
def client_net(address: str, mode: str) -> str:
    """The client's address as recorded: its /24 (IPv4) or /48 (IPv6) network when `mode` is
    "truncate"; "" when "none" (or not an IP address). Never the full address."""
    if mode == "none" or not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))

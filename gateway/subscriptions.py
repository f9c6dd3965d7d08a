"""The subscription-key check: which key may call which API, kept in memory.

Built from the products app's tables: key hash -> (subscription, state, the product's API
slugs, its limits), plus the APIs that need a key: every API in a product (published or
not) except those a published open product offers (as in APIM, a call without a key goes
through the open one). An API offered only by unpublished products thus needs a key no
subscription holds, so every call is refused: unpublishing a product closes its APIs, it
does not open them to calls without a key; its subscriptions' keys are refused too. Like the routes, the map is rebuilt when those tables change
(gateway/refreshed.py), checked every GATEWAY_CONFIG_REFRESH seconds by every process, so a
suspended, cancelled or regenerated key is refused everywhere within that time (case 69).

Keys are looked up by their SHA-256 (the map holds no key in clear) and the stored hash is
compared with hmac.compare_digest (case 70). Addresses that send unknown keys get 429 after
GATEWAY_KEY_FAILURES per GATEWAY_KEY_FAILURE_PERIOD seconds (case 71).

A product's kilobyte quota counts the request and response body bytes of its subscription's
calls (`Meter`), added to the shared store when the call ends; once a period's total reaches
the quota, further calls get 403 until the period renews. The size of a call is known only
after it, so the call that crosses the line is served in full, as with APIM's bandwidth quota.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Count, Max

from gateway.problems import Headers, problem
from gateway.querystring import cut_param
from gateway.ratelimit import CounterStore, counted_address
from gateway.refreshed import Refreshed
from gateway.version import VersionSource

log = logging.getLogger("gateway")

BLOCKED = "blocked"  # the state a deactivated owner's subscriptions have in the key map
DEFAULT_HEADER = "ocp-apim-subscription-key"
DEFAULT_QUERY = "subscription-key"
_DIGEST_MEMO = 10_000  # keys whose digest is remembered (Subscriptions._remember)
MISSING = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
INVALID = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)


@dataclass(frozen=True)
class Limit:
    calls: int
    period: int


@dataclass(frozen=True)
class Volume:
    kilobytes: int
    period: int


@dataclass(frozen=True)
class KeyEntry:
    subscription: str  # uuid
    key_hash: str
    state: str
    product: str  # slug
    apis: frozenset[str]  # API slugs
    rate_limit: Limit | None
    quota: Limit | None
    volume: Volume | None = None  # the kilobyte quota
    # For usage events (usage/recorder.py): the rows' ids and the application's client.
    subscription_id: int | None = None
    product_id: int | None = None
    user_id: int | None = None
    client_id: str = ""
    unpublished: bool = False  # its product is not published: the key calls no API

    @property
    def unlimited(self) -> bool:
        """No rate limit, call quota or kilobyte quota: nothing to count for this call."""
        return self.rate_limit is None and self.quota is None and self.volume is None


class KeyNames(NamedTuple):
    """Where a call's key is read: a header (lower case) or a query parameter. The header
    and the parameter's bytes are encoded once, at load, not on every call."""

    header: bytes
    param: str
    param_bytes: bytes

    @classmethod
    def of(cls, header: str, param: str) -> KeyNames:
        return cls(header.lower().encode("latin-1"), param, param.encode("latin-1"))


DEFAULT_NAMES = KeyNames.of(DEFAULT_HEADER, DEFAULT_QUERY)


@dataclass
class KeyMap:
    entries: dict[str, KeyEntry]
    required: frozenset[str]  # API slugs that need a key
    # API slug -> where its key is read, where that differs from APIM's defaults.
    names: dict[str, KeyNames] = field(default_factory=dict)
    # Slugs of the APIs anyone may see (products/visibility.py for an anonymous user): the
    # only ones /-/metrics names to a scraper that is not the operator (gateway/metrics.py).
    public: frozenset[str] = frozenset()


def load_keys() -> KeyMap:
    from products.models import ApiKeyNames, Product, Subscription

    products: dict[int, tuple[str, frozenset[str], Limit | None, Limit | None, Volume | None]] = {}
    required: set[str] = set()
    open_: set[str] = set()
    unpublished: set[int] = set()
    for product in Product.objects.prefetch_related("apis"):
        slugs = frozenset(api.slug for api in product.apis.all())
        if not product.published:
            # Fails closed: its APIs need a key (unless a published open product offers them),
            # and its own keys call none of them.
            required |= slugs
            unpublished.add(product.pk)
            continue
        if product.subscription_required:
            required |= slugs
        else:
            open_ |= slugs
        products[product.pk] = (
            product.slug,
            slugs,
            Limit(product.rate_limit_calls, product.rate_limit_period)
            if product.rate_limit_calls
            else None,
            Limit(product.quota_calls, product.quota_period) if product.quota_calls else None,
            Volume(product.quota_kilobytes, product.quota_period)
            if product.quota_kilobytes
            else None,
        )
    entries: dict[str, KeyEntry] = {}
    rows = Subscription.objects.exclude(state=Subscription.CANCELLED).values_list(
        "uuid", "state", "product_id", "primary_hash", "secondary_hash",
        "pk", "owner_id", "application__client_id", "owner__is_active",
    )  # fmt: skip
    for uuid, state, product_id, primary, secondary, pk, owner_id, client_id, live in rows:
        if not live:
            # A deactivated developer (APIM's blocked user) calls no API with any key; the
            # products app touches their subscriptions when that changes, for the fingerprint.
            state = BLOCKED
        slug, apis, rate, quota, volume = products.get(
            product_id, ("", frozenset(), None, None, None)
        )
        closed = product_id in unpublished
        for key_hash in (primary, secondary):
            entries[key_hash] = KeyEntry(
                str(uuid), key_hash, state, slug, apis, rate, quota, volume,
                pk, product_id, owner_id, client_id or "", closed,
            )  # fmt: skip
    names = {
        slug: KeyNames.of(header, query)
        for slug, header, query in ApiKeyNames.objects.values_list("api__slug", "header", "query")
    }
    # As APIM: a call without a key goes through an open product offering the API, even when
    # a protected one offers it too (products/console.py:needs_key reads the same rule).
    return KeyMap(entries, frozenset(required - open_), names, public_apis())


def public_apis() -> frozenset[str]:
    from django.contrib.auth.models import AnonymousUser

    from products.visibility import visible_apis

    return frozenset(visible_apis(AnonymousUser()).values_list("slug", flat=True))


def keys_fingerprint() -> tuple[Any, ...]:
    """Changes whenever a subscription (state, keys), a product (APIs, groups, limits), an
    API's key names or an API (published or not) change."""
    from apis.models import Api
    from products.models import ApiKeyNames, Product, Subscription

    parts: list[Any] = []
    for model in (Subscription, Product, ApiKeyNames, Api):
        agg = model.objects.aggregate(n=Count("pk"), last=Max("updated"))
        parts += [agg["n"], agg["last"]]
    return tuple(parts)


def take_key(
    headers: dict[bytes, bytes], query: bytes, names: KeyNames
) -> tuple[str | None, bytes]:
    """The key from the header (first) or the query parameter, removed from both; and the
    query string without it."""
    value = headers.pop(names.header, None)
    key = value.decode("latin-1").strip() if value is not None else None
    param = names.param
    # `subscription%2Dkey` is the same name. find(), not `in`: a bytes `in` first tries its
    # operand as an integer and formats a TypeError for it (about 3,000 instructions each).
    if query.find(names.param_bytes) >= 0 or query.find(b"%") >= 0:
        values, query = cut_param(query, param)
        if values and key is None:
            key = values[0]
    if names is not DEFAULT_NAMES:
        # An API that renamed its key names (rare: one check on every other call): a key sent
        # under APIM's defaults, as the portal's other APIs take it, is no key to this API, but
        # still a secret its backend must not get.
        headers.pop(DEFAULT_NAMES.header, None)
        if query.find(DEFAULT_NAMES.param_bytes) >= 0 or query.find(b"%") >= 0:
            query = cut_param(query, DEFAULT_NAMES.param)[1]
    return key or None, query


def _rate_headers(limit: Limit, count: int, reset: float) -> Headers:
    """The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers)."""
    remaining = max(0, limit.calls - count)
    return [
        (b"ratelimit-policy", f'"sub";q={limit.calls};w={limit.period}'.encode()),
        (b"ratelimit", f'"sub";r={remaining};t={max(0, int(reset + 0.999))}'.encode()),
    ]


def _volume_headers(volume: Volume, used: int, reset: float) -> Headers:
    """The kilobyte quota in the IETF fields, in bytes (quota unit `content-bytes`)."""
    allowed = volume.kilobytes * 1024
    return [
        (b"ratelimit-policy", f'"kb";q={allowed};qu="content-bytes";w={volume.period}'.encode()),
        (b"ratelimit", f'"kb";r={max(0, allowed - used)};t={max(0, int(reset + 0.999))}'.encode()),
    ]


class Meter:
    """Counts the body bytes of one call, both ways, for its subscription's kilobyte quota:
    the gateway passes the call's receive and send through it."""

    __slots__ = ("_receive", "_send", "entry", "size")

    def __init__(self, entry: KeyEntry, receive: Any, send: Any) -> None:
        self.entry, self._receive, self._send, self.size = entry, receive, send, 0

    async def receive(self) -> Any:
        message = await self._receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
        return message

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.body":
            self.size += len(message.get("body", b""))
        await self._send(message)


class Subscriptions:
    """The per-process key map and the check each call of a key-protected route passes."""

    def __init__(
        self,
        loader: Callable[[], KeyMap] = load_keys,
        fingerprint: Callable[[], Any] = keys_fingerprint,
        version: VersionSource | None = None,
    ) -> None:
        # A failed first load leaves the empty map, which check() refuses to read (503).
        self.keys = Refreshed(
            "subscription keys", loader, fingerprint, KeyMap({}, frozenset()), version
        )
        self._digests: dict[str, str] = {}  # key -> its SHA-256, for keys that matched

    def key_header(self, api: str) -> bytes:
        """The header an API's key is read from (lower case), as `identify` read it."""
        return self.keys.value.names.get(api, DEFAULT_NAMES).header

    async def public(self) -> frozenset[str]:
        """The APIs an anonymous user may see (for /-/metrics)."""
        return (await self.current()).public

    async def current(self) -> KeyMap:
        # Awaited, not in the background: a revoked key must not pass after the refresh.
        return await self.keys.current()

    async def check(
        self,
        api: str,
        headers: dict[bytes, bytes],
        query: bytes,
        client: str,
        counters: CounterStore | None,
        extra: Headers,
    ) -> tuple[tuple[int, Headers, bytes] | None, KeyEntry | None, bytes]:
        """(a problem answer or None, the subscription, the query without the key): the key
        identified (`identify`), then the product's limits counted (`limits`).

        The key is removed from `headers` in place so it never reaches the backend.
        """
        denied, entry, query = await self.identify(api, headers, query, client, counters)
        if denied is not None or entry is None:
            return denied, entry, query
        return await self.limits(entry, counters, extra), entry, query

    async def identify(
        self,
        api: str,
        headers: dict[bytes, bytes],
        query: bytes,
        client: str,
        counters: CounterStore | None,
    ) -> tuple[tuple[int, Headers, bytes] | None, KeyEntry | None, bytes]:
        """`check` without counting the call against the product's limits: the gateway
        counts them once the token check has passed too (a call it refuses for its token
        uses up no call of the quota or rate limit). Removes the key from `headers`."""
        keys = self.keys.value if not self.keys.due() else await self.keys.current()
        key, query = take_key(headers, query, keys.names.get(api, DEFAULT_NAMES))
        if not self.keys.loaded:
            # Never loaded: the empty map would say no API needs a key. The routes load on
            # their own and may well be there, so fail closed until the keys are.
            status, headers_, body = problem(
                503, "The subscription keys are not loaded yet.", "subscription-key"
            )
            return (status, [*headers_, (b"retry-after", b"5")], body), None, query
        if api not in keys.required:
            return None, None, query
        if key is None:
            return problem(401, MISSING, "subscription-key", title="Unauthorized"), None, query
        digest = self._digests.get(key)
        if digest is None:
            digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        entry = keys.entries.get(digest)
        if entry is None or not hmac.compare_digest(entry.key_hash, digest):
            if await self._too_many_failures(client, counters):
                answer = problem(
                    429, "Too many invalid subscription keys from this address.", "subscription-key"
                )
                period = int(getattr(settings, "GATEWAY_KEY_FAILURE_PERIOD", 60))
                return (
                    (answer[0], [*answer[1], (b"retry-after", str(period).encode())], answer[2]),
                    None,
                    query,
                )
            return problem(401, INVALID, "subscription-key"), None, query
        self._remember(key, digest)
        if entry.state != "active":
            return (
                problem(401, f"{INVALID} The subscription is {entry.state}.", "subscription-state"),
                entry,
                query,
            )
        if api not in entry.apis:
            if entry.unpublished:
                detail = f"{INVALID} The subscription's product is not published."
                return problem(401, detail, "subscription-state"), entry, query
            return (
                problem(
                    403,
                    "The subscription's product does not include this API.",
                    "subscription-scope",
                ),
                entry,
                query,
            )
        return None, entry, query

    async def limits(
        self, entry: KeyEntry, counters: CounterStore | None, extra: Headers
    ) -> tuple[int, Headers, bytes] | None:
        """Count the call against its subscription's kilobyte quota, rate limit and quota: a
        problem answer when one is used up, else None (the RateLimit fields in `extra`)."""
        if counters is None or entry.unlimited:
            return None
        if entry.volume is not None:
            # First: a call refused for its kilobytes must not use up a call of the limits.
            refused = await self._volume(entry.volume, entry.subscription, counters)
            if refused is not None:
                return refused
        for limit, kind, status in (
            (entry.rate_limit, "rate-limit", 429),
            (entry.quota, "quota", 403),
        ):
            if limit is None:
                continue
            try:
                if kind == "rate-limit":
                    ok, count, retry_after = await counters.hit(
                        f"sub|{entry.subscription}|{kind}", limit.calls, limit.period
                    )
                    # A sliding window frees a slot when its oldest call leaves; while calls
                    # are allowed that moment is at most one period away.
                    reset = retry_after if not ok else float(limit.period)
                else:
                    # APIM's quota renews when its period ends: a fixed window from the epoch,
                    # one counter a subscription (a sliding log kept an entry per call, ten
                    # million for a quota of ten million a month). A refused call counts too,
                    # which changes nothing: the window is used up until it ends.
                    count, reset = await counters.add(
                        f"sub|{entry.subscription}|{kind}", 1, limit.period
                    )
                    ok = count <= limit.calls
            except Exception as exc:
                log.warning("rate-limit store unavailable: %s", exc)
                return None
            fields = _rate_headers(limit, count, reset)
            if not ok:
                retry = max(1, int(reset + 0.999))
                what = "Rate limit" if kind == "rate-limit" else "Quota"
                answer = problem(
                    status,
                    f"{what} of {limit.calls} calls per {limit.period} s exceeded; retry in {retry} s.",
                    kind,
                )
                return (
                    answer[0],
                    [*answer[1], *fields, (b"retry-after", str(retry).encode())],
                    answer[2],
                )
            if kind == "rate-limit":
                extra += fields
        return None

    def _remember(self, key: str, digest: str) -> None:
        """Keeps the digests of keys that matched a subscription, so a busy key is hashed
        once rather than on every call (SHA-256 was about a sixth of the key check's cost).
        Only matching keys are kept, so random keys cannot fill the memo; it starts over
        when full. A revoked key stays harmless: its digest no longer finds an entry."""
        digests = self._digests
        if key not in digests:
            if len(digests) >= _DIGEST_MEMO:
                digests.clear()
            digests[key] = digest

    async def spend(self, meter: Meter, counters: CounterStore | None) -> None:
        """Add a finished call's bytes to its subscription's kilobyte quota."""
        volume = meter.entry.volume
        if counters is None or volume is None or not meter.size:
            return
        try:
            await counters.add(f"sub|{meter.entry.subscription}|kb", meter.size, volume.period)
        except Exception as exc:  # the store is down: the call went through; fail open
            log.warning("rate-limit store unavailable: %s", exc)

    async def _too_many_failures(self, client: str, counters: CounterStore | None) -> bool:
        if counters is None:
            return False
        allowed = int(getattr(settings, "GATEWAY_KEY_FAILURES", 20))
        period = int(getattr(settings, "GATEWAY_KEY_FAILURE_PERIOD", 60))
        try:
            ok, _, _ = await counters.hit(f"badkey|{counted_address(client)}", allowed, period)
        except Exception as exc:  # the shared store is down: fail open, loudly
            log.warning("rate-limit store unavailable: %s", exc)
            return False
        return not ok

    async def _volume(
        self, volume: Volume, subscription: str, counters: CounterStore
    ) -> tuple[int, Headers, bytes] | None:
        """403 once this period's bytes reached the kilobyte quota (check `quota`)."""
        try:
            used, reset = await counters.add(f"sub|{subscription}|kb", 0, volume.period)
        except Exception as exc:
            log.warning("rate-limit store unavailable: %s", exc)
            return None
        if used < volume.kilobytes * 1024:
            return None
        retry = max(1, int(reset + 0.999))
        status, headers, body = problem(
            403,
            f"Quota of {volume.kilobytes} KB per {volume.period} s exceeded "
            f"({used // 1024} KB used); retry in {retry} s.",
            "quota",
        )
        fields = _volume_headers(volume, used, reset)
        return status, [*headers, *fields, (b"retry-after", str(retry).encode())], body

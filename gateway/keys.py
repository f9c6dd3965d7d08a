"""Signing keys per issuer: OpenID discovery and JWKS, cached and refreshed safely.

- A discovery document and its JWKS are kept in the shared cache (Django's, Redis in
  production) for GATEWAY_JWKS_TTL seconds (an hour), and in process memory beside it.
- A token with an unknown `kid` forces one refetch, at most once per
  GATEWAY_JWKS_REFETCH_COOLDOWN seconds per discovery URL across all gateway processes
  (SECURITY.md cases 9 and 10).
- When the provider is down, errors, redirects or sends junk, the last good keys stay in use
  (case 12); when no key set was ever fetched, `KeysUnavailable` makes the gateway answer 503
  (case 11), never a pass-through.
- Fetches: short timeouts and one deadline for the whole fetch, no redirects, a size cap, no
  proxies, and every resolved address passes `portal.lib.addresses` (the rules the portal's
  outbound calls use): public, or loopback/private for a host and port the configuration
  names (the built-in IdP on loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from gateway.jwt import KeysUnavailable, PublicKey, key_from_jwk
from gateway.upstream import Origin, Pool, UpstreamError, parse_origin
from portal.lib import addresses
from portal.lib.throttledlog import ThrottledLog

log = logging.getLogger("gateway.keys")


class FetchError(Exception):
    pass


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def private_allowance() -> addresses.Allowance:
    """Hosts and ports allowed to resolve to loopback/private addresses: the configured ones
    and the built-in IdP's own host and port (the configuration names it)."""
    entries = [
        *_setting("GATEWAY_KEY_FETCH_PRIVATE_HOSTS", []),
        *_setting("OUTBOUND_ALLOWED_PRIVATE_HOSTS", []),
    ]
    issuer = _setting("IDENTITY_ISSUER", "")
    if issuer:
        entries.append(issuer)
    return addresses.allowance(entries)


def address_problem(address: str, host: str, port: int, allowance: addresses.Allowance) -> str:
    """Why the gateway may not fetch keys from this address ("" when it may)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    problem = addresses.address_problem(ip, allowance.allows(host, port))
    return f"{host} resolves to {ip}, {problem}" if problem else ""


async def fetch_json(url: str, *, pool: Pool | None = None) -> Any:
    """GET a JSON document with the key-fetch rules; FetchError says why it failed."""
    try:
        origin, _ = parse_origin(url)
    except ValueError as exc:
        raise FetchError(str(exc)) from None
    problem = addresses.name_problem(origin.host)
    if problem:
        raise FetchError(problem)
    connect_timeout = float(_setting("GATEWAY_JWKS_CONNECT_TIMEOUT", 3))
    read_timeout = float(_setting("GATEWAY_JWKS_TIMEOUT", 5))
    # One deadline for the whole fetch: a provider that trickles a byte at a time never
    # trips the per-read timeout (SECURITY case 85).
    try:
        async with asyncio.timeout(connect_timeout + read_timeout):
            body = await _fetch_body(url, origin, pool, connect_timeout, read_timeout)
    except TimeoutError:
        raise FetchError(
            f"{url} did not answer within {connect_timeout + read_timeout:g} s"
        ) from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise FetchError(f"{url} did not send JSON") from None


async def _fetch_body(
    url: str, origin: Origin, pool: Pool | None, connect_timeout: float, read_timeout: float
) -> bytes:
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM), connect_timeout
        )
    except OSError as exc:
        raise FetchError(f"cannot resolve {origin.host} ({exc})") from None
    allowance = private_allowance()
    found = [str(info[4][0]) for info in infos]
    if not found:
        raise FetchError(f"cannot resolve {origin.host}")
    for address in found:
        problem = address_problem(address, origin.host, origin.port, allowance)
        if problem:
            raise FetchError(f"{problem}: not allowed")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    limit = int(_setting("GATEWAY_JWKS_MAX_BYTES", 512 * 1024))
    own_pool = pool or Pool(connect_timeout=connect_timeout)
    try:
        response = await own_pool.request(
            origin,
            "GET",
            target.encode(),
            [
                (b"Accept", b"application/json"),
                (b"User-Agent", b"api-portal-gateway"),
                (b"Connection", b"close"),
            ],
            timeout=read_timeout,
            connect_address=found[0],
        )
        if response.status != 200:
            response.abort()
            raise FetchError(f"{url} answered {response.status}")
        return await response.read_all(limit)
    except UpstreamError as exc:
        # The operator reads this (admin, log): the OS's text included.
        raise FetchError(f"{url}: {exc}" + (f" ({exc.detail})" if exc.detail else "")) from None
    finally:
        if pool is None:
            own_pool.close()


@dataclass
class KeySet:
    issuer: str
    keys: list[PublicKey]
    fetched_at: float

    def matching(self, kid: str | None) -> list[PublicKey]:
        if kid is None:
            return list(self.keys)
        return [k for k in self.keys if k.kid == kid]


def _parse_jwks(doc: Any) -> list[PublicKey]:
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise FetchError("the JWKS is not an object with a keys list")
    keys = [k for k in (key_from_jwk(m) for m in doc["keys"][:100] if isinstance(m, dict)) if k]
    if not keys:
        raise FetchError("the JWKS has no usable signature keys")
    return keys


@dataclass
class _Source:
    url: str
    keyset: KeySet | None = None
    last_attempt: float = 0.0
    last_forced: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    fetching: asyncio.Task[None] | None = None  # the cold fetch under way


class KeyStore:
    """Keys per discovery URL (and so per issuer), for one event loop."""

    def __init__(self) -> None:
        self._sources: dict[str, _Source] = {}
        self.fetch_count = 0

    @staticmethod
    def _cache_key(url: str, what: str) -> str:
        return f"gateway:{what}:" + hashlib.sha256(url.encode()).hexdigest()[:32]

    async def _fetch(self, url: str) -> KeySet:
        self.fetch_count += 1
        discovery = await fetch_json(url)
        if not isinstance(discovery, dict):
            raise FetchError("the discovery document is not an object")
        issuer, jwks_uri = discovery.get("issuer"), discovery.get("jwks_uri")
        if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
            raise FetchError("the discovery document lacks issuer or jwks_uri")
        keys = _parse_jwks(await fetch_json(jwks_uri))
        return KeySet(issuer, keys, time.time())

    async def _refresh(self, source: _Source, *, forced: bool) -> None:
        """Fetch keys (or take fresher ones from the shared cache); keep old ones on failure."""
        ttl = float(_setting("GATEWAY_JWKS_TTL", 3600))
        async with source.lock:
            now = time.time()
            if not forced:
                shared = await _shared(cache.get, self._cache_key(source.url, "jwks"))
                if shared and now - shared["fetched_at"] < ttl:
                    try:
                        keys = _parse_jwks(shared["jwks"])
                        source.keyset = KeySet(shared["issuer"], keys, shared["fetched_at"])
                        return
                    except FetchError:
                        pass
                if source.keyset and now - source.keyset.fetched_at < ttl:
                    return  # another waiter refreshed it already
            source.last_attempt = now
            try:
                keyset = await self._fetch(source.url)
            except FetchError as exc:
                log.warning("key refresh failed for %s: %s", source.url, exc)
                return
            source.keyset = keyset
            await _shared(
                cache.set,
                self._cache_key(source.url, "jwks"),
                {
                    "issuer": keyset.issuer,
                    "fetched_at": keyset.fetched_at,
                    "jwks": {"keys": [_jwk_record(k) for k in keyset.keys]},
                },
                7 * 24 * 3600,
            )

    async def keyset(self, url: str, wait: float | None = None) -> KeySet | None:
        """The key set for a discovery URL, refreshed when older than the TTL.

        Cold, it waits for a fetch, at most `wait` seconds (the route's timeout, which bounds
        the whole exchange): the fetch itself goes on, shared by the calls that come while it
        runs, and the keys serve the calls after it."""
        source = self._sources.get(url)
        if source is None:
            source = self._sources[url] = _Source(url)
        ttl = float(_setting("GATEWAY_JWKS_TTL", 3600))
        now = time.time()
        if source.keyset is None:
            # Cold: wait for a fetch, but do not hammer a provider that is down.
            fetching = source.fetching
            if fetching is None or fetching.done():
                if now - source.last_attempt < float(_setting("GATEWAY_JWKS_RETRY", 5)):
                    return None
                fetching = source.fetching = asyncio.get_running_loop().create_task(
                    self._refresh(source, forced=False)
                )
            await _within(fetching, wait)
        elif now - source.keyset.fetched_at >= ttl and (
            now - source.last_attempt >= float(_setting("GATEWAY_JWKS_RETRY", 5))
        ):
            source.last_attempt = now
            asyncio.get_running_loop().create_task(self._refresh(source, forced=False))
        return source.keyset

    def current(self, url: str) -> KeySet | None:
        """The key set in memory for a discovery URL, without fetching."""
        source = self._sources.get(url)
        return source.keyset if source is not None else None

    async def refetch_for_unknown_kid(self, url: str, wait: float | None = None) -> bool:
        """Force one refetch unless one happened within the cooldown; True if it ran."""
        source = self._sources.get(url)
        if source is None:
            return False
        cooldown = float(_setting("GATEWAY_JWKS_REFETCH_COOLDOWN", 300))
        now = time.time()
        if now - source.last_forced < cooldown:
            return False
        source.last_forced = now
        # One forced refetch per cooldown across processes: the shared cache's atomic add.
        claimed = await _shared(
            cache.add, self._cache_key(url, "jwks-forced"), 1, max(1, int(cooldown)), default=True
        )
        loop = asyncio.get_running_loop()
        if not claimed:
            # Another process refetched: take its result from the shared cache.
            await _within(loop.create_task(self._refresh(source, forced=False)), wait)
            return False
        await _within(loop.create_task(self._refresh(source, forced=True)), wait)
        return True

    async def keys_for(
        self,
        urls: Iterable[str],
        static: Iterable[PublicKey],
        static_issuers: Iterable[str],
        wait: float | None = None,
    ) -> tuple[dict[str, tuple[str, KeySet]], list[str]]:
        """Issuer -> (discovery url, keys) for a policy, and the URLs with no keys ever (or
        none within `wait` seconds in all)."""
        by_issuer: dict[str, tuple[str, KeySet]] = {}
        missing: list[str] = []
        loop = asyncio.get_running_loop()
        ends_at = None if wait is None else loop.time() + wait
        for url in urls:
            left = None if ends_at is None else max(0.0, ends_at - loop.time())
            ks = await self.keyset(url, left)
            if ks is None:
                missing.append(url)
            else:
                by_issuer.setdefault(ks.issuer, (url, ks))
        static_keys = list(static)
        if static_keys:
            for issuer in static_issuers:
                if issuer in by_issuer:
                    url, ks = by_issuer[issuer]
                    by_issuer[issuer] = (url, KeySet(issuer, ks.keys + static_keys, ks.fetched_at))
                else:
                    by_issuer[issuer] = ("", KeySet(issuer, static_keys, time.time()))
        return by_issuer, missing


async def _within(task: asyncio.Task[None], wait: float | None) -> None:
    """Wait for a key fetch, at most `wait` seconds; the fetch goes on either way (neither a
    caller that gives up nor one whose client went away cancels it for the others)."""
    if wait is None:
        await asyncio.shield(task)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), wait)


_store_warning = ThrottledLog(log, 10.0)
store_failures = 0


async def _shared(fn: Any, *args: Any, default: Any = None) -> Any:
    """A shared-cache operation that never fails a call: with Redis down, each process fetches
    and keeps keys itself (case 65), and a forced refetch counts as claimed."""
    global store_failures
    try:
        return await asyncio.to_thread(fn, *args)
    except Exception as exc:
        store_failures += 1
        _store_warning.warning("jwks-cache", "shared key cache unavailable: %s", exc)
        return default


def _jwk_record(key: PublicKey) -> dict[str, Any]:
    """A public JWK for the shared cache (only what `key_from_jwk` reads back)."""
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    jwk = json.loads(
        RSAAlgorithm.to_jwk(key.key) if key.kty == "RSA" else ECAlgorithm.to_jwk(key.key)
    )
    if key.kid is not None:
        jwk["kid"] = key.kid
    if key.alg is not None:
        jwk["alg"] = key.alg
    return dict(jwk)


__all__ = ["FetchError", "KeySet", "KeyStore", "KeysUnavailable", "fetch_json"]

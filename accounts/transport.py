"""Sign-in's HTTP through the portal's one door to the network (`portal.lib.outbound`).

allauth talks to OpenID providers with `requests` (discovery, JWKS, token, userinfo). Its
session gets this adapter for http and https, so each of those calls has what every other
outbound call of the portal has: a deadline for the whole answer (a provider trickling its
key set a few bytes at a time within each read timeout held the sign-in as long as it
liked), a size cap (a key set of any size was read whole), addresses that are never called
(0.0.0.0, cloud metadata, link-local, IPv4 inside IPv6), the resolved address checked and
then used, no proxies from the environment, no redirect followed to another host. Other schemes have no adapter, so `requests`
refuses them.

A provider may run on a private network (an operator's Keycloak), so each call may reach
the loopback or private address of the very host and port it names. Within a sign-in
(`private_only_for`, accounts/views.py) that is only the configured provider's own host and
port: a discovery document naming a token, key set or userinfo endpoint on another loopback
or private host:port does not send the portal (and the code and client secret) there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from portal.lib import outbound

# requests' own framing headers: the wrapper sets its own.
_TRANSPORT_HEADERS = frozenset({"content-length", "connection", "accept-encoding"})


def max_bytes() -> int:
    """The longest answer a provider may give (discovery, key set, token, userinfo)."""
    return int(getattr(settings, "ACCOUNTS_MAX_RESPONSE_BYTES", 1024 * 1024))


def _timeouts(timeout: Any) -> tuple[float, float]:
    if isinstance(timeout, tuple) and len(timeout) == 2:
        connect, read = timeout
    else:
        connect = read = timeout
    fallback = float(getattr(settings, "SOCIALACCOUNT_REQUESTS_TIMEOUT", 5))
    return float(connect or fallback), float(read or fallback)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


# The host:port a sign-in's configured provider URL names, while that sign-in runs; None
# outside one (each URL's own host:port then).
_PRIVATE_OK: ContextVar[frozenset[str] | None] = ContextVar("accounts_private_ok", default=None)


def _address(url: str) -> str:
    """The URL's host:port as the outbound allowance spells it, or ""."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return ""
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _own_address(url: str) -> list[str]:
    own = _address(url)
    allowed = _PRIVATE_OK.get()
    return [own] if own and (allowed is None or own in allowed) else []


@contextlib.contextmanager
def private_only_for(provider_url: str) -> Iterator[None]:
    """Within: a private address only for the host and port `provider_url` names (the
    configured provider's), whatever URL its discovery document gives."""
    token = _PRIVATE_OK.set(frozenset({_address(str(provider_url or ""))} - {""}))
    try:
        yield
    finally:
        _PRIVATE_OK.reset(token)


class OutboundAdapter(BaseAdapter):
    """A `requests` transport that sends through `portal.lib.outbound.request`."""

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        connect, read = _timeouts(timeout)
        url = str(request.url)
        raw = request.body
        body = raw.encode() if isinstance(raw, str) else raw if isinstance(raw, bytes) else b""
        headers = {
            str(k): v if isinstance(v, str) else v.decode("latin-1")
            for k, v in request.headers.items()
            if str(k).lower() not in _TRANSPORT_HEADERS
        }
        try:
            answer = outbound.request(
                str(request.method),
                url,
                headers=headers,
                body=body,
                connect_timeout=connect,
                read_timeout=read,
                max_bytes=max_bytes(),
                allowed_private=_own_address(url),
                allow_headers=list(headers),
            )
        except outbound.OutboundError as exc:
            if exc.kind == "timeout":
                raise requests.Timeout(exc.message, request=request) from None
            raise requests.ConnectionError(exc.message, request=request) from None
        location = answer.header("location")
        if (
            300 <= answer.status < 400
            and location
            and _origin(urljoin(url, location)) != _origin(url)
        ):
            # requests would follow it: a provider could send the portal to any address on
            # its network (or the portal's), as the loopback name `localhost` is.
            raise requests.ConnectionError(
                f"{urlsplit(url).netloc} redirected to another host; not followed", request=request
            )
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = CaseInsensitiveDict(dict(answer.headers))
        response._content = answer.body
        response.url = url
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def close(self) -> None:
        pass

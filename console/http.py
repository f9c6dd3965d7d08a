"""The console's one door to the network: every call goes through `portal.lib.outbound`.

This module only adapts the console's needs (its timeouts, size cap, the loopback origins its
configuration names) to the shared wrapper; it opens no socket itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from console import conf
from portal.lib import outbound

OutboundError = outbound.OutboundError


@dataclass
class HttpResult:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    elapsed_ms: int
    url: str

    def header(self, name: str) -> str:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return ""


def origin(url: str) -> str:
    """scheme://host[:port] in lower case, with the default port left out."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def check_url(url: str) -> None:
    """Refuse a URL the console must never send a browser or a request to (before any DNS)."""
    outbound.check_url(url, allowed_private=conf.private_origins())


def fetch(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    allowed_private: Iterable[str] = (),
    allow_headers: Iterable[str] = (),
) -> HttpResult:
    """Send one request with the console's limits; raises OutboundError with a clear message."""
    started = time.monotonic()
    response = outbound.request(
        method,
        url,
        headers=headers or {},
        body=body,
        connect_timeout=conf.connect_timeout(),
        read_timeout=conf.read_timeout(),
        max_bytes=conf.max_response_bytes(),
        allowed_private=[*conf.private_origins(), *allowed_private],
        allow_headers=allow_headers,
    )
    return HttpResult(
        status=response.status,
        reason=response.reason,
        headers=list(response.headers),
        body=response.body,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        url=url,
    )

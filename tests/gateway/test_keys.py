"""Key fetching: addresses are checked before connecting; loopback only when named."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.keys import FetchError, address_allowed, fetch_json
from tests.gateway.conftest import LoopbackServer


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "168.63.129.16", "10.0.0.5", "127.0.0.1", "0.0.0.1", "::1",
     "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "fd00::1", "100.64.0.1"],
)  # fmt: skip
def test_private_and_metadata_addresses_blocked(address: str) -> None:
    assert not address_allowed(address, "idp.example.com", set())


def test_public_address_and_named_private_host_allowed() -> None:
    assert address_allowed("93.184.216.34", "idp.example.com", set())
    assert address_allowed("127.0.0.1", "localhost", {"localhost"})


def test_loopback_fetch_refused_unless_configured(backend: LoopbackServer, settings: Any) -> None:
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = []
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    settings.IDENTITY_ISSUER = "https://idp.example.com"
    with pytest.raises(FetchError, match="not allowed"):
        asyncio.run(fetch_json(backend.url + "/jwks"))
    assert backend.recorder.count() == 0
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = ["127.0.0.1"]
    assert asyncio.run(fetch_json(backend.url + "/jwks"))["ok"] is True


def test_metadata_names_and_bad_urls_refused() -> None:
    for url in ("http://metadata.google.internal/x", "ftp://idp/x", "https://u:p@idp/x"):
        with pytest.raises(FetchError):
            asyncio.run(fetch_json(url))

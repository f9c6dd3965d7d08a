"""console.http: the console's sends go through the outbound wrapper's total deadline."""

from __future__ import annotations

from typing import Any

import pytest

from console import http
from tests.trickle import TricklingServer


def test_case85_a_trickling_gateway_is_cut_at_the_consoles_deadline(settings: Any) -> None:
    """SECURITY case 85 for console sends: a response that trickles one byte every 0.1 s
    never trips the per-read timeout; the send fails as a timeout at connect + read."""
    settings.CONSOLE_CONNECT_TIMEOUT = 0.5
    settings.CONSOLE_READ_TIMEOUT = 0.5
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n" + b"x" * 30
    with TricklingServer(answer) as server, pytest.raises(http.OutboundError) as err:
        settings.CONSOLE_GATEWAY_URL = f"http://127.0.0.1:{server.port}/gateway"
        http.fetch("GET", f"http://127.0.0.1:{server.port}/gateway/echo/")
    assert err.value.kind == "timeout"
    assert server.sent < len(answer)

"""console.http: the console's sends go through the outbound wrapper's total deadline."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from console import http


def test_case85_a_trickling_gateway_is_cut_at_the_consoles_deadline(settings: Any) -> None:
    """SECURITY case 85 for console sends: a response that trickles one byte every 0.1 s
    never trips the per-read timeout; the send fails as a timeout at connect + read."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    settings.CONSOLE_GATEWAY_URL = f"http://127.0.0.1:{port}/gateway"
    settings.CONSOLE_CONNECT_TIMEOUT = 0.5
    settings.CONSOLE_READ_TIMEOUT = 0.5
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n" + b"x" * 30
    sent = [0]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                for byte in answer:
                    conn.sendall(bytes([byte]))
                    sent[0] += 1
                    time.sleep(0.1)
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    with listener, pytest.raises(http.OutboundError) as err:
        http.fetch("GET", f"http://127.0.0.1:{port}/gateway/echo/")
    assert err.value.kind == "timeout"
    assert sent[0] < len(answer)

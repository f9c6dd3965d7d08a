"""A loopback server that answers one byte at a time (SECURITY.md case 85): each byte alone
arrives well within a per-read timeout, so only a total deadline cuts the exchange."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType


class TricklingServer:
    """Accepts one connection, reads the request, then sends `answer` a byte every `every`
    seconds until it is done or the client hangs up. `sent` counts the bytes that left."""

    def __init__(self, answer: bytes, every: float = 0.1) -> None:
        self.answer = answer
        self.every = every
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]

    def __enter__(self) -> TricklingServer:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.listener.close()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.recv(65536)
            try:
                for byte in self.answer:
                    conn.sendall(bytes([byte]))
                    self.sent += 1
                    time.sleep(self.every)
            except OSError:
                pass

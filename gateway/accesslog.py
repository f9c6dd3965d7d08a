"""The access log: one line per call, written in batches so logging costs little per call.

GATEWAY_ACCESS_LOG chooses where lines go: "-" (standard error, the default), a file path
(appended), "logging" (one record per line on the `gateway.access` logger, for deployments
that route logs through Python logging), or "off". Batches are written at least every
half second. Lines never contain a token (see `redact`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from typing import TextIO

_JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]*){0,2}")
_FLUSH_SECONDS = 0.5
_FLUSH_LINES = 512
access_logger = logging.getLogger("gateway.access")


def redact(text: str) -> str:
    """Replace anything shaped like a JWT (base64url JSON starts `eyJ`)."""
    return _JWT_LIKE.sub("[redacted]", text) if "eyJ" in text else text


class AccessLog:
    def __init__(self, target: str) -> None:
        self.target = target
        self.enabled = target != "off"  # an attribute: read on every call
        self._lines: list[str] = []
        self._last = time.monotonic()
        self._stream: TextIO | None = None
        self._scheduled = False

    def write(self, line: str) -> None:
        line = redact(line)
        if self.target == "logging":
            access_logger.info(line)
            return
        self._lines.append(line)
        now = time.monotonic()
        if len(self._lines) >= _FLUSH_LINES or now - self._last >= _FLUSH_SECONDS:
            self.flush()
        elif not self._scheduled:
            try:
                asyncio.get_running_loop().call_later(_FLUSH_SECONDS, self._timed_flush)
                self._scheduled = True
            except RuntimeError:
                self.flush()

    def _timed_flush(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        if not self._lines:
            return
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        try:
            if self.target == "-":
                sys.stderr.write(text)
                sys.stderr.flush()
            else:
                if self._stream is None:
                    self._stream = open(self.target, "a", encoding="utf-8")  # noqa: SIM115
                self._stream.write(text)
                self._stream.flush()
        except OSError as exc:
            logging.getLogger("gateway").warning("access log write failed: %s", exc)

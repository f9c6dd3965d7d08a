"""The access log: one line per call, written in batches so logging costs little per call.

GATEWAY_ACCESS_LOG chooses where lines go: "-" (standard error, the default), a file path
(appended), "logging" (one record per line on the `gateway.access` logger, for deployments
that route logs through Python logging), or "off". Batches are written at least every
half second. Lines never contain a token (see `redact`).

A file is opened when the gateway starts, so a path it cannot write stops it with one line
rather than losing every line behind a warning a second. Before each batch the path is
checked, as logging's WatchedFileHandler does: a file renamed or deleted by log rotation is
followed by a new one at the path (one stat per batch, not per call).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import time
from typing import TextIO

from django.core.exceptions import ImproperlyConfigured

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
        if target not in ("-", "off", "logging"):
            try:
                self._open()
            except OSError as exc:
                raise ImproperlyConfigured(
                    f"GATEWAY_ACCESS_LOG: cannot write {target}: {exc.strerror or exc}"
                ) from exc

    def _open(self) -> TextIO:
        if self._stream is not None:
            self._stream.close()
        self._stream = open(self.target, "a", encoding="utf-8")  # noqa: SIM115
        return self._stream

    def _file(self) -> TextIO:
        """The stream for the file at the path now: reopened when rotation moved it away."""
        stream = self._stream
        if stream is None:
            return self._open()
        try:
            now = os.stat(self.target)
        except FileNotFoundError:
            return self._open()
        was = os.fstat(stream.fileno())
        if (now.st_dev, now.st_ino) != (was.st_dev, was.st_ino):
            return self._open()
        return stream

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
                stream = self._file()
                stream.write(text)
                stream.flush()
        except OSError as exc:
            logging.getLogger("gateway").warning("access log write failed: %s", exc)

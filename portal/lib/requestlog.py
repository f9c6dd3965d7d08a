"""Request ids and the one-line-per-request log, plain or JSON (LOG_FORMAT=json).

The id of the request being served lives in a context variable so code that never sees
`request` (the console's outbound call) can pass it on: portal -> gateway -> backend all
log the same X-Request-ID.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

HEADER = "X-Request-ID"
# What we accept from a trusted proxy: a short token, nothing a log line could be split by.
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_id() -> str:
    return uuid.uuid4().hex


def accept(candidate: str | None) -> str:
    """The proxy's id when well formed, else a new one."""
    return candidate if candidate and _VALID.match(candidate) else new_id()


def accept_or(candidate: bytes | None, new: Callable[[], str]) -> str:
    """A caller's id (header bytes) when well formed, else `new()`: for the gateway, which
    makes its own ids more cheaply than uuid4."""
    if candidate:
        text = candidate.decode("latin-1")
        if _VALID.match(text):
            return text
    return new()


def current() -> str:
    """The id of the request this code runs for, or '' outside a request."""
    return _current.get()


def bind(request_id: str) -> contextvars.Token[str]:
    return _current.set(request_id)


def unbind(token: contextvars.Token[str]) -> None:
    _current.reset(token)


# LogRecord attributes every record has; anything else was passed in `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the `extra` fields, and the
    current request id, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if "request_id" not in entry and current():
            entry["request_id"] = current()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

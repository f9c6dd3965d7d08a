"""A log line at most once per interval per key: a failing dependency (Redis down) is
reported, not repeated on every request."""

from __future__ import annotations

import logging
import time


class ThrottledLog:
    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self.suppressed: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> bool:
        """Log unless `key` was logged within the interval; True when it was written."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self.suppressed[key] = self.suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        skipped = self.suppressed.pop(key, 0)
        if skipped:
            message += f" ({skipped} more since the last report)"
        self.logger.warning(message, *args)
        return True

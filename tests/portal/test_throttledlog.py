"""portal.lib.throttledlog: one line per interval per key, with a count of what was held."""

from __future__ import annotations

import logging

import pytest

from portal.lib.throttledlog import ThrottledLog


def test_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    log = ThrottledLog(logging.getLogger("t"), interval=60)
    with caplog.at_level(logging.WARNING, logger="t"):
        written = [log.warning("redis", "down: %s", "refused") for _ in range(1000)]
        log.warning("other", "another problem")
    assert written.count(True) == 1
    assert [r.getMessage() for r in caplog.records] == ["down: refused", "another problem"]


def test_reports_how_many_were_held(caplog: pytest.LogCaptureFixture) -> None:
    log = ThrottledLog(logging.getLogger("t"), interval=0)
    log.interval = 60
    with caplog.at_level(logging.WARNING, logger="t"):
        log.warning("k", "x")
        log.warning("k", "x")
        log.interval = 0
        log.warning("k", "x")
    assert caplog.records[-1].getMessage() == "x (1 more since the last report)"

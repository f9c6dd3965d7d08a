"""Usage settings out of range stop start-up, naming the variable (portal/settings.py), and
the system check says the same of settings set in code (usage/checks.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.portal.services import production_env
from tests.portal.test_startup import start


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        # Nothing was ever aggregated: LIMIT 0 on the raw table, no stream read.
        ("USAGE_AGGREGATE_BATCH", "0", "at least 1"),
        # An idle aggregator crashed in time.sleep(-1); 0 spun a CPU polling.
        ("USAGE_AGGREGATE_WAIT", "-1", "at least 1"),
        ("USAGE_AGGREGATE_WAIT", "0", "at least 1"),
        # The gateway refused every entry as over the bound: every call dropped.
        ("USAGE_STREAM_MAXLEN", "0", "at least 1"),
        ("USAGE_BUFFER", "-5", "at least 1"),
        ("USAGE_BATCH", "0", "at least 1"),
        ("USAGE_FLUSH_MS", "-1", "at least 1"),
        ("USAGE_RETENTION_RAW_DAYS", "0", "at least 1"),
        # Past datetime's range: retention failed with OverflowError at every run.
        ("USAGE_RETENTION_DAY_DAYS", "1000000", "at most 36500"),
        ("USAGE_RETENTION_HOUR_DAYS", "99999999999", "at most 36500"),
    ],
)
def test_a_usage_setting_out_of_range_stops_start_up_and_is_named(
    tmp_path: Path, name: str, value: str, says: str
) -> None:
    result = start(production_env(tmp_path, **{name: value}))
    assert result.returncode != 0
    assert f"{name}={value!r}" in result.stderr and says in result.stderr
    assert "Traceback" not in result.stderr.split("ImproperlyConfigured")[-1]


def test_the_check_refuses_a_retention_past_what_dates_can_hold(settings: Any) -> None:
    from usage.checks import check_settings

    settings.USAGE_RETENTION_DAY_DAYS = 1_000_000
    assert [e.id for e in check_settings()] == ["usage.E002"]
    assert "at most 36500" in check_settings()[0].msg
    settings.USAGE_RETENTION_DAY_DAYS = 36500
    assert check_settings() == []

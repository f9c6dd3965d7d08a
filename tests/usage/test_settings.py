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


@pytest.mark.parametrize(("name", "days"), [("HOUR", 7), ("HOUR", 31), ("DAY", 20)])
def test_the_check_refuses_a_retention_too_short_for_the_pages_30_days(
    settings: Any, name: str, days: int
) -> None:
    """The developer pages draw 30 days in the viewer's days: day rows and the hours at
    their edges. With hours kept 7 days the 7- and 30-day charts were empty but for a week,
    while their figures (day rows) counted all; with days kept 20 the 30 days lost 10."""
    from usage.checks import check_settings

    setattr(settings, f"USAGE_RETENTION_{name}_DAYS", days)
    errors = check_settings()
    assert [e.id for e in errors] == ["usage.E004"]
    assert f"USAGE_RETENTION_{name}_DAYS" in errors[0].msg and "32" in errors[0].msg


def test_custom_days_past_the_hours_retention_are_utc_days(settings: Any) -> None:
    """Local days read the hours at their edges: a custom range longer than the hours are
    kept is drawn in UTC days (the chart says so), not in local days missing their edges."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from usage import windows

    paris = ZoneInfo("Europe/Paris")
    end = windows.local_midnight(datetime.now(UTC).date(), paris)
    assert windows.custom_window(end - timedelta(days=40), end, paris).bucket == "local-day"
    settings.USAGE_RETENTION_HOUR_DAYS = 35
    assert windows.custom_window(end - timedelta(days=40), end, paris).bucket == "day"
    assert windows.custom_window(end - timedelta(days=30), end, paris).bucket == "local-day"

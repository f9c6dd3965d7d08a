from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Sum

from usage.models import DAY, HOUR, MINUTE, ApiRollup, ConsumerOperationRollup, ConsumerRollup
from usage.reports import UsageFilter, summary

pytestmark = pytest.mark.django_db

CALLS = F("success") + F("blocked") + F("failed") + F("other")


def calls(model: type, **filters: object) -> int:
    return int(model.objects.filter(**filters).aggregate(n=Sum(CALLS))["n"] or 0)  # type: ignore[attr-defined]


def test_every_table_and_level_adds_up_to_the_calls_made() -> None:
    out = io.StringIO()
    call_command(
        "generate_usage", "--days", "2", "--calls-per-day", "20000", "--apis", "5",
        "--subscriptions", "50", "--minute-hours", "2", stdout=out,
    )  # fmt: skip
    made = int(re.search(r"\(([\d,]+) calls\)", out.getvalue())[1].replace(",", ""))  # type: ignore[index]
    assert 30_000 < made < 50_000
    for model in (ApiRollup, ConsumerRollup, ConsumerOperationRollup):
        assert calls(model, level=DAY) == calls(model, level=HOUR) == made
    # Minutes exist for the last two hours, and for the two hours where the last 24 hours
    # begin (their first hour is partial), and add up to those hours.
    minute_hours = {row.start.replace(minute=0) for row in ApiRollup.objects.filter(level=MINUTE)}
    assert len(minute_hours) == 4
    assert calls(ApiRollup, level=MINUTE) == calls(ApiRollup, level=HOUR, start__in=minute_hours)
    assert calls(ConsumerRollup, level=MINUTE) == calls(ApiRollup, level=MINUTE)
    assert not ConsumerOperationRollup.objects.filter(level=MINUTE).exists()
    with pytest.raises(CommandError, match="--replace"):
        call_command("generate_usage", "--days", "1", stdout=out)


def test_the_last_24_hours_and_7_days_have_their_first_partial_hour() -> None:
    """The pages' last 24 hours and 7 days begin at a minute of an hour, which they count
    from its minutes: the made traffic had minutes for the last hours only, so the first
    hour of those ranges read empty."""
    from datetime import UTC, datetime

    from usage import pages, windows

    call_command(
        "generate_usage", "--days", "8", "--calls-per-day", "20000", "--apis", "3",
        "--subscriptions", "10", "--minute-hours", "1", stdout=io.StringIO(),
    )  # fmt: skip
    for key in ("24h", "7d"):
        window = windows.preset_window(key, datetime.now(UTC), UTC)
        page = pages.build(window, pages.usage_filter(window))
        assert page.buckets[0].total > 0, key
        assert page.total_calls == sum(b.total for b in page.buckets)


def test_the_reports_read_the_made_traffic() -> None:
    from datetime import UTC, datetime, timedelta

    call_command(
        "generate_usage", "--days", "3", "--calls-per-day", "10000", "--apis", "5",
        "--subscriptions", "20", stdout=io.StringIO(),
    )  # fmt: skip
    now = datetime.now(UTC)
    s = summary(UsageFilter(now - timedelta(days=30), now))
    assert s.calls == calls(ApiRollup, level=DAY)
    assert 0.05 < s.error_rate < 0.09  # 3 % blocked, 1 % failed, 3 % other
    assert s.p50_ms is not None and s.p95_ms is not None and s.p50_ms < s.p95_ms


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--apis", "0"], "--apis: 0 is not a whole number from 1"),  # was KeyError: 1
        (["--days", "0"], "--days: 0 is not a whole number from 1"),
        (["--days", "-3"], "--days: -3 is not a whole number from 1"),
        # Past the day rollups' retention: made, then deleted by the aggregator (or minutes
        # spent on 100,000 days before a word).
        (["--days", "1000"], "--days: 1000 is not a whole number from 1 to 730"),
        (["--subscriptions", "0"], "--subscriptions: 0 is not a whole number from 1"),
        (["--calls-per-day", "-5"], "--calls-per-day: -5 is not a whole number from 1"),
        (["--minute-hours", "-1"], "--minute-hours: -1 is not a whole number from 0"),
        (["--days", "2", "--minute-hours", "49"], "--minute-hours: at most the 48 hours"),
        (["--days", "two"], "--days: 'two' is not a whole number"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_error_before_anything_is_deleted(
    args: list[str], says: str
) -> None:
    call_command(
        "generate_usage", "--days", "1", "--calls-per-day", "1000", "--apis", "2",
        "--subscriptions", "5", stdout=io.StringIO(),
    )  # fmt: skip
    before = calls(ApiRollup, level=DAY)
    small = ["--days", "1", "--calls-per-day", "10", "--apis", "1", "--subscriptions", "1"]
    with pytest.raises(CommandError) as refused:  # the last of an option given twice counts
        call_command("generate_usage", "--replace", *small, *args, stdout=io.StringIO())
    assert says in str(refused.value)
    assert calls(ApiRollup, level=DAY) == before > 0

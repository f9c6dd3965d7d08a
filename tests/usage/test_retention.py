from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.usage.conftest import T0, event
from usage import retention
from usage.aggregate import aggregate_events
from usage.models import DAY, HOUR, MINUTE, ApiRollup, ConsumerRollup, UsageEvent

pytestmark = pytest.mark.django_db

NOW = datetime.fromtimestamp(T0, UTC)


def levels(model: Any) -> dict[int, int]:
    out: dict[int, int] = {}
    for r in model.objects.all():
        out[r.level] = out.get(r.level, 0) + r.success
    return out


@pytest.mark.parametrize(
    ("age", "kept"),
    [
        (timedelta(days=1), {MINUTE: 1, HOUR: 1, DAY: 1}),
        (timedelta(days=20), {HOUR: 1, DAY: 1}),
        (timedelta(days=100), {DAY: 1}),
        (timedelta(days=800), {}),
    ],
)
def test_each_level_is_kept_for_its_days(age: timedelta, kept: dict[int, int]) -> None:
    aggregate_events([event(ts=(NOW - age).timestamp())])
    retention.apply(now=NOW)
    assert levels(ApiRollup) == kept
    assert levels(ConsumerRollup) == kept


def test_retention_is_configurable(settings: Any) -> None:
    settings.USAGE_RETENTION_MINUTE_DAYS = 30
    settings.USAGE_RETENTION_DAY_DAYS = 1
    aggregate_events([event(ts=(NOW - timedelta(days=20)).timestamp())])
    retention.apply(now=NOW)
    assert levels(ApiRollup) == {MINUTE: 1, HOUR: 1}


def test_raw_events_go_after_two_days() -> None:
    for days in (1, 3):
        UsageEvent.objects.create(ts=NOW - timedelta(days=days), status=200, outcome="success",
                                  total_ms=1)  # fmt: skip
    assert retention.apply(now=NOW)["raw"] == 1
    assert UsageEvent.objects.get().ts == NOW - timedelta(days=1)


def test_days_past_retention_make_kept_rankings_obsolete() -> None:
    """Rankings keep sums of closed days under a token (usage/closed.py): deleting day rows
    changes it, deleting nothing does not."""
    from usage.models import ClosedDaysVersion

    def token() -> str | None:
        return ClosedDaysVersion.objects.filter(pk=1).values_list("token", flat=True).first()

    aggregate_events([event(ts=(NOW - timedelta(days=800)).timestamp())])
    before = token()
    assert before  # a day before today was written
    retention.apply(NOW - timedelta(days=700))  # nothing old enough yet
    assert token() == before
    retention.apply(NOW)
    assert token() != before


def test_a_deleted_developers_ids_are_kept_thirty_days_for_calls_in_flight() -> None:
    from usage.models import ForgottenConsumer

    for days, value in ((29, "1"), (31, "2")):
        ForgottenConsumer.objects.create(kind="user", value=value,
                                         forgotten=NOW - timedelta(days=days))  # fmt: skip
    retention.apply(now=NOW)
    assert list(ForgottenConsumer.objects.values_list("value", flat=True)) == ["1"]

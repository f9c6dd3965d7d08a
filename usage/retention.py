"""How long usage is kept: raw events, then rollups per minute, hour and day, each for its
own number of days (USAGE_RETENTION_*_DAYS). The aggregator applies it every few minutes;
deleting is idempotent, so several aggregators may apply it at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings

from usage import closed
from usage.models import (
    DAY,
    HOUR,
    MINUTE,
    ROLLUPS,
    ForgottenConsumer,
    StreamEntry,
    UsageEvent,
)

# Stream entry ids are kept a while after the rollups hold them, to skip an entry another
# aggregator claims after a crash (usage/aggregate.py); a week outlasts any such pause.
STREAM_ENTRY_DAYS = 7
# A deleted developer's ids are kept this long, for calls still in flight then to name nobody
# (usage/anonymise.py): past any stream backlog an aggregator outage leaves.
FORGOTTEN_DAYS = 30


def cutoffs(now: datetime | None = None) -> dict[str, datetime]:
    """What is older than these instants goes, by level."""
    now = now or datetime.now(UTC)
    return {
        "raw": now - timedelta(days=settings.USAGE_RETENTION_RAW_DAYS),
        "minute": now - timedelta(days=settings.USAGE_RETENTION_MINUTE_DAYS),
        "hour": now - timedelta(days=settings.USAGE_RETENTION_HOUR_DAYS),
        "day": now - timedelta(days=settings.USAGE_RETENTION_DAY_DAYS),
    }


def apply(now: datetime | None = None) -> dict[str, int]:
    """Delete what is past its retention. Returns rows deleted by level."""
    cut = cutoffs(now)
    deleted = {"raw": UsageEvent.objects.filter(ts__lt=cut["raw"]).delete()[0]}
    for name, level in (("minute", MINUTE), ("hour", HOUR), ("day", DAY)):
        deleted[name] = 0
        for model in ROLLUPS:
            deleted[name] += model.objects.filter(level=level, start__lt=cut[name]).delete()[0]
    if deleted["day"]:
        closed.bump()  # rankings kept days now gone (hours go at 90 days, past any ranking's)
    StreamEntry.objects.filter(
        applied__lt=(now or datetime.now(UTC)) - timedelta(days=STREAM_ENTRY_DAYS)
    ).delete()
    ForgottenConsumer.objects.filter(
        forgotten__lt=(now or datetime.now(UTC)) - timedelta(days=FORGOTTEN_DAYS)
    ).delete()
    return deleted

"""How much of a product's quotas a subscription has used, as the gateway counts them: the
calls of the sliding window (quota_use) and the body bytes of the fixed period (volume_use),
read from the consumer rollups (usage/models.py). The quota bars on My usage, the
subscription's page and the terminal's onboarding show them (usage/charts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import F, Min, Q, Sum

from usage.models import MINUTE, ConsumerRollup
from usage.spans import spans_of


@dataclass(frozen=True)
class QuotaUse:
    used: int
    limit: int
    period: str  # "in the last 30 days"
    seconds: int  # the sliding window, the product's quota_period
    resets_at: datetime  # when the oldest counted call leaves the window (aware)


@dataclass(frozen=True)
class VolumeUse:
    """A product's kilobyte quota: body bytes in and out in the gateway's fixed period."""

    used: int  # bytes
    kilobytes: int  # the quota
    seconds: int  # the fixed period, the product's quota_period
    resets_at: datetime  # when the period ends and the count starts again (aware)


def _period_label(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            n = seconds // size
            return f"in the last {unit}" if n == 1 else f"in the last {n} {unit}s"
    return f"in the last {seconds} seconds"


def quota_use(subscription: Any, now: datetime | None = None) -> QuotaUse | None:
    """Calls the gateway counts against the product's quota: those it let through (not
    blocked) in the sliding window of `quota_period` seconds that ends now, to the minute.
    None when the product has no quota."""
    return quota_uses([subscription], now).get(subscription.pk)


def _by_quota_period(subscriptions: Sequence[Any], quota: str) -> dict[int, list[Any]]:
    """The subscriptions whose product sets `quota` (a Product field), by its quota period."""
    by_period: dict[int, list[Any]] = {}
    for sub in subscriptions:
        if getattr(sub.product, quota):
            by_period.setdefault(int(sub.product.quota_period), []).append(sub)
    return by_period


def _rows_between(start: int, end: int, minute_floor: int) -> Q:
    """The rollup rows that count the epochs [start, end): spans_of() as a filter."""
    rows = Q()
    for level, a, b in spans_of(start, end, minute_floor):
        rows |= Q(
            level=level,
            start__gte=datetime.fromtimestamp(a, UTC),
            start__lt=datetime.fromtimestamp(b, UTC),
        )
    return rows


def quota_uses(subscriptions: Sequence[Any], now: datetime | None = None) -> dict[int, QuotaUse]:
    """quota_use() of each subscription whose product has a quota, by primary key: two
    queries for each quota period among them (My usage lists all of a developer's)."""
    from django.conf import settings

    now_epoch = int((now or datetime.now(UTC)).timestamp())
    minute_floor = now_epoch - settings.USAGE_RETENTION_MINUTE_DAYS * 86400
    out: dict[int, QuotaUse] = {}
    counted = F("success") + F("failed") + F("other")
    for period, subs in _by_quota_period(subscriptions, "quota_calls").items():
        ids = [sub.pk for sub in subs]
        start = (now_epoch - period) // 60 * 60 + 60  # the first whole minute inside the window
        end = now_epoch // 60 * 60 + 60  # through the current minute
        spans = _rows_between(start, end, minute_floor)
        qs = ConsumerRollup.objects.filter(spans, subscription_id__in=ids)
        used = dict(
            qs.values("subscription_id")
            .annotate(used=Sum(counted))
            .values_list("subscription_id", "used")
        )
        # The oldest counted call, to the minute while minutes are kept for the whole window.
        oldest = qs
        if start >= minute_floor:
            oldest = ConsumerRollup.objects.filter(
                subscription_id__in=ids,
                level=MINUTE,
                start__gte=datetime.fromtimestamp(start, UTC),
                start__lt=datetime.fromtimestamp(end, UTC),
            )
        firsts = dict(
            oldest.filter(Q(success__gt=0) | Q(failed__gt=0) | Q(other__gt=0))
            .values("subscription_id")
            .annotate(first=Min("start"))
            .values_list("subscription_id", "first")
        )
        for sub in subs:
            first = firsts.get(sub.pk)
            resets = (
                max(first + timedelta(seconds=period), datetime.fromtimestamp(end, UTC))
                if first
                else datetime.fromtimestamp(now_epoch, UTC)
            )
            out[sub.pk] = QuotaUse(
                used=int(used.get(sub.pk) or 0),
                limit=int(sub.product.quota_calls),
                period=_period_label(period),
                seconds=period,
                resets_at=resets,
            )
    return out


def volume_use(subscription: Any, now: datetime | None = None) -> VolumeUse | None:
    """The body bytes counted against the product's kilobyte quota, or None without one."""
    return volume_uses([subscription], now).get(subscription.pk)


def volume_uses(subscriptions: Sequence[Any], now: datetime | None = None) -> dict[int, VolumeUse]:
    """volume_use() of each subscription whose product has a kilobyte quota, by primary key.

    The gateway counts the quota in fixed periods of `quota_period` seconds from the Unix
    epoch (gateway/ratelimit.py `add`), so this sums the request and response body bytes of
    the rollups since the current period began (from its minute: a period that does not
    start on one includes the seconds before it). Calls the gateway refused are recorded with
    their short answers' bytes, which the gateway does not count: a slight overcount at most.
    One query for each quota period among them."""
    from django.conf import settings

    now_epoch = int((now or datetime.now(UTC)).timestamp())
    minute_floor = now_epoch - settings.USAGE_RETENTION_MINUTE_DAYS * 86400
    out: dict[int, VolumeUse] = {}
    for period, subs in _by_quota_period(subscriptions, "quota_kilobytes").items():
        began = now_epoch // period * period
        start = began // 60 * 60
        end = now_epoch // 60 * 60 + 60  # through the current minute
        spans = _rows_between(start, end, minute_floor)
        used = dict(
            ConsumerRollup.objects.filter(spans, subscription_id__in=[sub.pk for sub in subs])
            .values("subscription_id")
            .annotate(used=Sum(F("bytes_in") + F("bytes_out")))
            .values_list("subscription_id", "used")
        )
        for sub in subs:
            out[sub.pk] = VolumeUse(
                used=int(used.get(sub.pk) or 0),
                kilobytes=int(sub.product.quota_kilobytes),
                seconds=period,
                resets_at=datetime.fromtimestamp(began + period, UTC),
            )
    return out

"""How much of a product's quotas a subscription has used, as the gateway counts them: the
calls (quota_use) and the body bytes (volume_use) of the current fixed period of
`quota_period` seconds from the Unix epoch (gateway/ratelimit.py `add`; APIM's quota renews
when its period ends), read from the consumer rollups (usage/models.py). The quota bars on My usage, the
subscription's page and the terminal's onboarding show them (usage/charts.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Q, Sum

from usage.models import ConsumerRollup
from usage.spans import spans_of


@dataclass(frozen=True)
class QuotaUse:
    used: int
    limit: int
    period: str  # "in the current period of 30 days"
    seconds: int  # the fixed period, the product's quota_period
    resets_at: datetime  # when the period ends and the count starts again (aware)


@dataclass(frozen=True)
class VolumeUse:
    """A product's kilobyte quota: body bytes in and out in the gateway's fixed period."""

    used: int  # bytes
    kilobytes: int  # the quota
    seconds: int  # the fixed period, the product's quota_period
    resets_at: datetime  # when the period ends and the count starts again (aware)


def period_label(seconds: int) -> str:
    """86400 -> "in the current period of 1 day", 2592000 -> "... of 30 days"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            n = seconds // size
            return f"in the current period of {n:,} {unit}{'' if n == 1 else 's'}"
    return f"in the current period of {seconds:,} seconds"


def quota_use(subscription: Any, now: datetime | None = None) -> QuotaUse | None:
    """Calls counted against the product's quota: those the gateway let through (not
    blocked) since the current period began, to the minute. None without a quota."""
    return quota_uses([subscription], now).get(subscription.pk)


def quota_uses(subscriptions: Sequence[Any], now: datetime | None = None) -> dict[int, QuotaUse]:
    """quota_use() of each subscription whose product has a quota, by primary key: one query
    for each quota period among them (My usage lists all of a developer's)."""
    out: dict[int, QuotaUse] = {}
    counted = F("success") + F("failed") + F("other")
    for period, subs, began, used in _period_sums(subscriptions, "quota_calls", counted, now):
        for sub in subs:
            out[sub.pk] = QuotaUse(
                used=used.get(sub.pk, 0),
                limit=int(sub.product.quota_calls),
                period=period_label(period),
                seconds=period,
                resets_at=datetime.fromtimestamp(began + period, UTC),
            )
    return out


def volume_use(subscription: Any, now: datetime | None = None) -> VolumeUse | None:
    """The body bytes counted against the product's kilobyte quota, or None without one."""
    return volume_uses([subscription], now).get(subscription.pk)


def volume_uses(subscriptions: Sequence[Any], now: datetime | None = None) -> dict[int, VolumeUse]:
    """volume_use() of each subscription whose product has a kilobyte quota, by primary key:
    the request and response body bytes since the current period began. Calls the gateway
    refused are recorded with their short answers' bytes, which the gateway does not count:
    a slight overcount at most. One query for each quota period among them."""
    out: dict[int, VolumeUse] = {}
    body_bytes = F("bytes_in") + F("bytes_out")
    for period, subs, began, used in _period_sums(
        subscriptions, "quota_kilobytes", body_bytes, now
    ):
        for sub in subs:
            out[sub.pk] = VolumeUse(
                used=used.get(sub.pk, 0),
                kilobytes=int(sub.product.quota_kilobytes),
                seconds=period,
                resets_at=datetime.fromtimestamp(began + period, UTC),
            )
    return out


def _period_sums(
    subscriptions: Sequence[Any], quota: str, measure: Any, now: datetime | None
) -> Iterator[tuple[int, list[Any], int, dict[int, int]]]:
    """For each quota period among the subscriptions whose product sets `quota` (a Product
    field): the period, those subscriptions, the epoch its current window began, and
    `measure` summed per subscription since then (from the window's minute: a period that
    does not start on one includes the seconds before it)."""
    from django.conf import settings

    now_epoch = int((now or datetime.now(UTC)).timestamp())
    minute_floor = now_epoch - settings.USAGE_RETENTION_MINUTE_DAYS * 86400
    by_period: dict[int, list[Any]] = {}
    for sub in subscriptions:
        if getattr(sub.product, quota):
            by_period.setdefault(int(sub.product.quota_period), []).append(sub)
    for period, subs in by_period.items():
        began = now_epoch // period * period
        end = now_epoch // 60 * 60 + 60  # through the current minute
        used = dict(
            ConsumerRollup.objects.filter(
                _rows_between(began // 60 * 60, end, minute_floor),
                subscription_id__in=[sub.pk for sub in subs],
            )
            .values("subscription_id")
            .annotate(used=Sum(measure))
            .values_list("subscription_id", "used")
        )
        yield period, subs, began, {pk: int(n or 0) for pk, n in used.items()}


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

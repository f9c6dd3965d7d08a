from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.usage.conftest import T0, event
from usage.aggregate import aggregate_events
from usage.quotas import quota_use, quota_uses, volume_use

pytestmark = pytest.mark.django_db


def test_quota_use_counts_the_calls_let_through_in_the_current_fixed_period(
    django_user_model: Any,
) -> None:
    """The call quota renews as the gateway counts it (gateway/subscriptions.py): a fixed
    period of `quota_period` seconds from the Unix epoch, as APIM's quota does. The bar
    showed a sliding window's count, which the gateway no longer keeps."""
    from products.models import Product, Subscription

    owner = django_user_model.objects.create_user("dev")
    product = Product.objects.create(slug="p", name="P", quota_calls=1000, quota_period=86400)
    sub = Subscription.objects.create(owner=owner, product=product, primary_hash="a",
                                      secondary_hash="b")  # fmt: skip
    now = datetime.fromtimestamp(T0, UTC)  # 10:20:30 UTC: the day's period began at 00:00
    aggregate_events(
        [event(subscription_id=sub.pk, ts=T0 - 30)] * 3  # this minute
        + [event(subscription_id=sub.pk, ts=T0 - 5 * 3600)] * 4  # 05:20, this period
        + [event(subscription_id=sub.pk, ts=T0 - 11 * 3600)] * 50  # yesterday 23:20
        + [event(subscription_id=sub.pk, outcome="blocked", check="quota")] * 9
    )
    use = quota_use(sub, now=now)
    assert use is not None
    assert (use.used, use.limit, use.period) == (7, 1000, "in the current period of 1 day")
    assert use.resets_at == datetime(2026, 3, 5, tzinfo=UTC)
    product.quota_calls = None
    product.save()
    assert quota_use(sub, now=now) is None


def test_quota_uses_of_many_subscriptions_are_each_ones_quota_use(django_user_model: Any) -> None:
    """My usage reads every subscription's quota at once: products of other periods, one
    without a quota and one without calls answer as quota_use does."""
    from products.models import Product, Subscription

    owner = django_user_model.objects.create_user("dev")
    subs = []
    for slug, calls, period in [
        ("day", 1000, 86400),
        ("hour", 50, 3600),
        ("month", 9000, 30 * 86400),
        ("free", None, 86400),
    ]:
        product = Product.objects.create(
            slug=slug, name=slug, quota_calls=calls, quota_period=period
        )
        for n in range(2):
            subs.append(
                Subscription.objects.create(
                    owner=owner,
                    product=product,
                    primary_hash=f"{slug}{n}a",
                    secondary_hash=f"{slug}{n}b",
                )
            )
    now = datetime.fromtimestamp(T0, UTC)
    events = []
    for i, sub in enumerate(subs[::2]):  # the second of each product has no calls
        events += [event(subscription_id=sub.pk, ts=T0 - 30)] * (i + 1)
        events += [event(subscription_id=sub.pk, ts=T0 - 50 * 60)] * 2
        events += [event(subscription_id=sub.pk, ts=T0 - 20 * 3600)] * 3
        events += [event(subscription_id=sub.pk, ts=T0 - 10 * 86400)] * 4
        events += [event(subscription_id=sub.pk, outcome="blocked", check="quota")] * 5
    aggregate_events(events)
    together = quota_uses(subs, now=now)
    assert set(together) == {sub.pk for sub in subs if sub.product.quota_calls}
    for sub in subs:
        assert together.get(sub.pk) == quota_use(sub, now=now), sub.product.slug
    # day: 10:19 and 09:30 today; hour: 10:19 only; 30 days (from 6 February): all four times
    assert [together[sub.pk].used for sub in subs[:6]] == [3, 0, 2, 0, 12, 0]


def test_volume_use_counts_the_body_bytes_of_the_gateways_fixed_period(
    django_user_model: Any,
) -> None:
    """A product's kilobyte quota (issue 9) renews as the gateway counts it: a fixed period of
    `quota_period` seconds from the Unix epoch (gateway/ratelimit.py `add`), not a sliding
    window; its use is the request and response body bytes of the period's calls."""
    from products.models import Product, Subscription

    owner = django_user_model.objects.create_user("dev")
    product = Product.objects.create(slug="p", name="P", quota_kilobytes=10, quota_period=86400)
    sub = Subscription.objects.create(owner=owner, product=product, primary_hash="a",
                                      secondary_hash="b")  # fmt: skip
    now = datetime.fromtimestamp(T0, UTC)  # 10:20:30 UTC: the day's period began at 00:00
    aggregate_events(
        [event(subscription_id=sub.pk, ts=T0 - 30)] * 3  # 1,100 body bytes each
        + [event(subscription_id=sub.pk, ts=T0 - 5 * 3600)] * 4  # 05:20, this period
        + [event(subscription_id=sub.pk, ts=T0 - 11 * 3600)] * 50  # yesterday 23:20
    )
    use = volume_use(sub, now=now)
    assert use is not None
    assert (use.used, use.kilobytes, use.seconds) == (7 * 1100, 10, 86400)
    midnight = datetime(2026, 3, 5, tzinfo=UTC)
    assert use.resets_at == midnight
    product.quota_kilobytes = None
    product.save()
    assert volume_use(sub, now=now) is None

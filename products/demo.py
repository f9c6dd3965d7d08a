"""Demo data for `make run` (called by `manage.py seed_demo`): a "Starter" product with the
demo APIs (keys at once, 60 calls a minute, 10,000 every 30 days), an "Unlimited" one that needs approval, and an
active Starter subscription for the demo user.

Idempotent: products are updated in place and the demo user's subscription made only once.
"""

from __future__ import annotations

from typing import TextIO

from django.contrib.auth import get_user_model

from apis.models import Api
from products import flows
from products.models import ADMINISTRATORS, DEVELOPERS, GUESTS, Group, Product, Subscription

DEMO_APIS = ("echo", "petstore")


def seed(stdout: TextIO) -> None:
    apis = list(Api.objects.filter(slug__in=DEMO_APIS, is_published=True))
    starter, _ = Product.objects.update_or_create(
        slug="starter",
        defaults={
            "name": "Starter",
            "description": "The demo APIs with keys at once. 60 calls a minute, 10,000 every 30 days.",
            "published": True,
            "subscription_required": True,
            "approval_required": False,
            "subscriptions_limit": None,
            "rate_limit_calls": 60,
            "rate_limit_period": 60,
            # A quota, so the demo's usage pages show the quota bar and its reset.
            "quota_calls": 10_000,
            "quota_period": 30 * 86400,
        },
    )
    unlimited, _ = Product.objects.update_or_create(
        slug="unlimited",
        defaults={
            "name": "Unlimited",
            "description": "The demo APIs without a rate limit, for approved developers.",
            "published": True,
            "subscription_required": True,
            "approval_required": True,
            "subscriptions_limit": 1,
            "rate_limit_calls": None,
        },
    )
    starter.apis.set(apis)
    unlimited.apis.set(apis)
    starter.groups.set(Group.objects.filter(slug__in=(GUESTS, DEVELOPERS, ADMINISTRATORS)))
    unlimited.groups.set(Group.objects.filter(slug__in=(DEVELOPERS, ADMINISTRATORS)))
    line = "  Products:            Starter (instant keys, 60 calls/min, 10,000 every 30 days), Unlimited (approval)\n"
    user = get_user_model().objects.filter(username="demo").first()
    if user is not None:
        live = Subscription.objects.filter(owner=user, product=starter, state=Subscription.ACTIVE)
        if not live.exists():
            flows.subscribe(user, starter, name="demo")
        line += "                       the demo user holds an active Starter subscription\n"
    stdout.write("\n" + line)

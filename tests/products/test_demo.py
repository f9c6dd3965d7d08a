"""The demo seed: Starter (instant, 60 calls a minute), Unlimited (approval), demo's key."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from apis.models import Api
from products import demo
from products.models import Product, Subscription

pytestmark = pytest.mark.django_db


def test_seed_makes_both_products_and_one_active_subscription_idempotently(
    echo: Api, petstore: Api, make_user: Any
) -> None:
    user = make_user("demo")
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    starter, unlimited = Product.objects.get(slug="starter"), Product.objects.get(slug="unlimited")
    assert (starter.approval_required, starter.rate_limit_calls, starter.rate_limit_period) == (
        False, 60, 60,
    )  # fmt: skip
    assert unlimited.approval_required
    assert {a.slug for a in starter.apis.all()} == {"echo", "petstore"}
    subs = Subscription.objects.filter(owner=user)
    assert [(s.product.slug, s.state) for s in subs] == [("starter", "active")]


def test_the_demo_apis_stay_visible_to_everyone(echo: Api, petstore: Api) -> None:
    demo.seed(io.StringIO())
    anonymous = Client()
    assert anonymous.get("/apis/echo/").status_code == 200
    assert "Petstore" in anonymous.get("/apis/").content.decode()

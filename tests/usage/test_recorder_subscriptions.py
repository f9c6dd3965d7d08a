"""Calls with a subscription key are counted with the product, the subscription, its owner
and its application's client id; refused keys are blocked (by "subscription" in raw events)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apis.models import Api
from applications.models import Application
from gateway.subscriptions import Subscriptions
from products import flows
from products.models import Group, Product, Subscription
from tests.conftest import DEMO_SPECS
from tests.gateway.conftest import LoopbackServer, Provider, make_route
from tests.usage.conftest import Recording

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("raw", [False, True], ids=["cells", "raw-events"])
def test_key_calls_carry_product_subscription_developer_and_application(
    recording: Recording, provider: Provider, backend: LoopbackServer, settings: Any, raw: bool
) -> None:
    settings.GATEWAY_CONFIG_REFRESH = 0
    settings.USAGE_RAW_EVENTS = raw
    call_command("importspec", str(DEMO_SPECS / "echo.yaml"), slug="orders", publish=True, stdout=io.StringIO())  # fmt: skip
    api = Api.objects.get(slug="orders")
    product = Product.objects.create(slug="starter", name="Starter", published=True)
    product.apis.set([api])
    product.groups.set(Group.objects.filter(slug="developers"))
    ada = get_user_model().objects.create_user("ada", "ada@example.com", "pw-ada-1")
    app = Application.objects.create(
        owner=ada, name="Ada app", kind="machine", client_id="ada-app-1"
    )
    subscription = flows.subscribe(ada, product, application=app)
    key = flows.shown_key(subscription, "primary")

    route = make_route(provider, backend.url)
    route.api_id, route.policy = api.pk, None  # a key, no token: the client is the application's
    gateway = recording.gateway(route)
    gateway.app.subscriptions = Subscriptions()
    ok = gateway.request("GET", "/orders/x", headers={"Ocp-Apim-Subscription-Key": key})
    assert ok.status == 200
    assert gateway.request("GET", "/orders/x").status == 401
    subscription.state = Subscription.SUSPENDED
    subscription.save()
    suspended = gateway.request("GET", "/orders/x", headers={"Ocp-Apim-Subscription-Key": key})
    assert suspended.status == 401

    if not raw:
        # The refused call is the served one's key (same subscription, application and
        # developer): one cell; the call without a key has none of them.
        unkeyed, mine = recording.counted()
        assert (mine.api, mine.product, mine.subscription, mine.user, mine.client) == (
            api.pk,
            product.pk,
            subscription.pk,
            ada.pk,
            "ada-app-1",
        )
        assert mine.outcomes == (1, 1, 0, 0)
        assert (unkeyed.api, unkeyed.subscription, unkeyed.user, unkeyed.client) == (
            api.pk,
            0,
            0,
            "",
        )
        assert unkeyed.outcomes == (0, 1, 0, 0)
        return
    served, missing, refused = recording.events()
    assert (served.outcome, served.api_id, served.product_id, served.subscription_id) == (
        "success",
        api.pk,
        product.pk,
        subscription.pk,
    )
    assert (served.user_id, served.client_id) == (ada.pk, "ada-app-1")
    assert (missing.outcome, missing.check, missing.subscription_id) == (
        "blocked",
        "subscription",
        None,
    )
    assert (refused.outcome, refused.check, refused.subscription_id, refused.user_id) == (
        "blocked",
        "subscription",
        subscription.pk,
        ada.pk,
    )

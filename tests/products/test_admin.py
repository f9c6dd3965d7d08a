"""The admin: state changes go through the flows; the audit trail cannot be deleted."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apis.models import Api
from products import flows
from products.models import SubscriptionEvent
from tests.products.conftest import MakeProduct

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_suspend_action_records_an_event(
    root_client: Client, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    response = root_client.post(
        "/admin/products/subscription/",
        {"action": "suspend_selected", "_selected_action": [sub.pk]},
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.state == "suspended"
    assert sub.events.filter(action="suspend").exists()


def test_events_and_subscriptions_cannot_be_deleted(
    root_client: Client, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    event = SubscriptionEvent.objects.get(subscription=sub)
    assert (
        root_client.post(
            f"/admin/products/subscriptionevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        root_client.post(
            f"/admin/products/subscription/{sub.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert SubscriptionEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "page", ["product", "group", "subscription", "subscriptionevent", "apikeynames"]
)
def test_admin_lists_open(root_client: Client, page: str) -> None:
    assert root_client.get(f"/admin/products/{page}/").status_code == 200

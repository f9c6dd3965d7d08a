"""Developers, their applications and subscriptions, a staff reader, and calls recorded.

The usage pages' tests live in this folder, with their own conftest beside usage-data's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from apis.models import Api
from applications import flows as app_flows
from applications.models import Application
from products import flows as product_flows
from products.models import Product, Subscription
from tests.products.conftest import (  # noqa: F401  (fixtures, shared)
    ada,
    bob,
    echo,
    make_group,
    make_product,
    make_user,
    petstore,
)


@pytest.fixture(autouse=True)
def _fast(settings: Any) -> None:
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "identity.hashers.ClientSecretHasher",
    ]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    cache.clear()  # the applications' creation counter lives there


@pytest.fixture
def reader(make_user: Callable[..., Any]) -> Any:  # noqa: F811
    """Staff with the reports permission only (no draft permission: hidden APIs stay hidden)."""
    user = make_user("reader", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return user


@pytest.fixture
def starter(make_product: Callable[..., Product], echo: Api) -> Product:  # noqa: F811
    return make_product("starter", echo, quota_calls=10_000, quota_period=30 * 86400)


@pytest.fixture
def make_app() -> Callable[..., Application]:
    def make(owner: Any, name: str = "") -> Application:
        return app_flows.register(
            owner, name=name or f"{owner.username}'s app", description="", kind="machine",
            redirect_uris=[],
        ).application  # fmt: skip

    return make


@pytest.fixture
def make_sub(starter: Product) -> Callable[..., Subscription]:
    def make(owner: Any, product: Product | None = None, **fields: Any) -> Subscription:
        return product_flows.subscribe(owner, product or starter, name=fields.pop("name", "main"))

    return make


def call(when: datetime, **fields: Any) -> dict[str, Any]:
    """One gateway event (usage/events.py's field names), a 200 from the echo backend."""
    event: dict[str, Any] = {
        "ts": when.timestamp(), "api_id": None, "operation": "", "product_id": None,
        "subscription_id": None, "client_id": "", "user_id": None, "status": 200,
        "outcome": "success", "check": "", "total_ms": 20.0, "backend_ms": 15.0,
        "bytes_in": 10, "bytes_out": 1000, "client_net": "",
    }  # fmt: skip
    event.update(fields)
    return event


def in_this_period(period: int = 30 * 86400) -> datetime:
    """A moment inside the quota's current fixed period (from the Unix epoch), whenever the
    test runs: its calls count against the quota."""
    now = timezone.now().timestamp()
    began = now // period * period
    return datetime.fromtimestamp(began + (now - began) // 2, UTC)


def record(*events: dict[str, Any]) -> None:
    """Through usage-data's aggregator, as `manage.py aggregate_usage` would."""
    from usage.aggregate import aggregate_events

    assert aggregate_events(events) == len(events)


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client

"""`portal.audit` lines for what developers change outside the admin: their applications
(create, rotate, delete) and subscriptions (subscribe, state changes, keys). No secret or key
is ever written."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from applications import flows as app_flows
from products import flows as product_flows
from products.models import Group, Product

pytestmark = pytest.mark.django_db


def test_application_and_subscription_changes_are_audited(
    caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["identity.hashers.ClientSecretHasher"]
    ada = get_user_model().objects.create_user("ada", "ada@example.com", "pw-ada-1")
    product = Product.objects.create(slug="starter", name="Starter", published=True)
    product.groups.set(Group.objects.filter(slug="developers"))
    with caplog.at_level(logging.INFO, logger="portal.audit"):
        registered = app_flows.register(ada, name="Job", kind="machine", redirect_uris=[])
        app = registered.application
        new_secret = app_flows.rotate_secret(app, timedelta(hours=1))
        sub = product_flows.subscribe(ada, product, application=app)
        key = product_flows.shown_key(sub, "primary")
        product_flows.regenerate(sub, "primary", ada)
        product_flows.cancel_by_owner(sub, ada)
        app_flows.delete(app)
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.audit"]
    text = "\n".join(lines)
    for action in ("application.create", "application.rotate", "subscription.subscribe",
                   "subscription.regenerate-primary-key", "subscription.cancel",
                   "application.delete"):  # fmt: skip
        assert any(f"ada {action} " in line for line in lines), (action, text)
    assert str(app.uuid) in text and str(sub.uuid) in text
    for secret in (registered.secret, new_secret, key):
        assert secret not in text

"""Receivers that bump the gateway's configuration version (gateway/version.py) after every
change the gateway serves from: routes, policies, required claims, APIs (published, default
version), products (and their APIs), subscriptions, key names, applications (subscribed
clients) and revoked tokens. Writes that send no signal (queryset `.update()`, `bulk_create`)
call `version.bump()` themselves: applyconfig's claims, the admin's publish actions; anything
missed still applies at the next full check (GATEWAY_CONFIG_FULL_CHECK)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from gateway import version


def _changed(sender: Any, **kwargs: Any) -> None:
    version.bump()


def _m2m_changed(sender: Any, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        version.bump()


def connect() -> None:
    from apis.models import Api
    from applications.models import Application
    from gateway.models import JwtPolicy, RequiredClaim, Route
    from identity.models import RevokedToken
    from products.models import ApiKeyNames, Product, Subscription

    for model in (
        Route,
        JwtPolicy,
        RequiredClaim,
        Api,
        Product,
        Subscription,
        ApiKeyNames,
        Application,
        RevokedToken,
    ):
        uid = f"gateway-version-{model._meta.label}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + "-delete")
    for through in (Product.apis.through, Product.groups.through):
        m2m_changed.connect(
            _m2m_changed, sender=through, dispatch_uid=f"gateway-version-{through._meta.label}"
        )

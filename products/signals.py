"""Receivers: group membership follows the provider's claim at each sign-in; the gateway
reloads when a product, its APIs or groups, or an owner change; a product's scope subset
follows its API's slug."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from django.conf import settings
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from apis.models import Api
from products.groups import claim_values, sync_claim_groups
from products.models import Product, Subscription


@receiver(user_logged_in)
def _groups_from_claim(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None:
        return
    extra = sociallogin.account.extra_data or {}
    claims: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        if isinstance(extra.get(part), dict):
            claims |= extra[part]
    values = claim_values(claims)
    if values is not None:  # no OIDC_GROUPS_CLAIM configured: memberships left alone
        sync_claim_groups(user, values)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _owner_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A developer deactivated (or active again): move their subscriptions' `updated` so every
    gateway process reloads its keys and refuses (or takes) theirs. Saves that name their
    fields without is_active (the last login at each sign-in) change nothing here."""
    if kwargs.get("created") or (update_fields is not None and "is_active" not in update_fields):
        return
    touched = Subscription.objects.filter(owner=instance).update(updated=timezone.now())
    if touched:
        from gateway import version

        version.bump()


@receiver(m2m_changed, sender=Product.apis.through)
@receiver(m2m_changed, sender=Product.groups.through)
def _touch_product(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    """A product's APIs or groups changed: move `updated` so the gateway reloads its keys."""
    if action == "pre_clear" and not isinstance(instance, Product):
        # Cleared from the API's or group's side: post_clear names no products, so note
        # them while the rows are still there.
        field = "apis" if sender is Product.apis.through else "groups"
        instance._cleared_products = list(
            Product.objects.filter(**{field: instance}).values_list("pk", flat=True)
        )
        return
    if not action.startswith("post_"):
        return
    if isinstance(instance, Product):
        Product.objects.filter(pk=instance.pk).update(updated=timezone.now())
        return
    pks = kwargs.get("pk_set") or getattr(instance, "_cleared_products", None)
    if pks:  # from the API's or group's side: these products
        Product.objects.filter(pk__in=pks).update(updated=timezone.now())


@receiver(pre_save, sender=Api)
def _api_renamed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """An API's slug changed (the admin allows it): the scope subsets products keep under its
    slug (`Product.api_scopes`) move with it. Left under the old slug, a read-only product
    granted every scope of the API, since no entry reads as all of them (products/grants.py)."""
    if raw or instance.pk is None:
        return
    old = Api.objects.filter(pk=instance.pk).values_list("slug", flat=True).first()
    if old is None or old == instance.slug:
        return
    for product in Product.objects.filter(apis__pk=instance.pk).distinct():
        scopes = product.api_scopes
        if isinstance(scopes, dict) and old in scopes:
            renamed = {instance.slug if key == old else key: value for key, value in scopes.items()}
            Product.objects.filter(pk=product.pk).update(api_scopes=renamed, updated=timezone.now())

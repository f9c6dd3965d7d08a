"""Who may see which API and product: the one rule every page, download and the console use.

An API is visible when it is published and either public (in no published product: what
`importspec --publish` makes, so installs without products keep working) or in a published
product that one of the user's groups may see. Seeing drafts and everything else is the
`apis.view_api` permission; being staff alone grants nothing (SECURITY.md case 67).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from apis.models import Api
from products.models import ADMINISTRATORS, DEVELOPERS, GUESTS, Product

DRAFT_PERMISSION = "apis.view_api"


def user_groups(user: Any) -> set[str]:
    """Slugs of the groups the user is in, built-in ones included."""
    if user is None or not user.is_authenticated:
        return {GUESTS}
    groups = {DEVELOPERS}
    if user.is_superuser:
        groups.add(ADMINISTRATORS)
    groups.update(user.portal_groups.values_list("slug", flat=True))
    return groups


def sees_everything(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.has_perm(DRAFT_PERMISSION)


def visible_products(user: Any) -> QuerySet[Product]:
    if sees_everything(user):
        return Product.objects.all()
    return Product.objects.filter(
        Exists(
            Product.groups.through.objects.filter(
                product_id=OuterRef("pk"), group__slug__in=user_groups(user)
            )
        ),
        published=True,
    )


def visible_apis(user: Any) -> QuerySet[Api]:
    if sees_everything(user):
        return Api.objects.all()
    links = Product.apis.through.objects.filter(api_id=OuterRef("pk"), product__published=True)
    offered = links.filter(
        Exists(
            Product.groups.through.objects.filter(
                product_id=OuterRef("product_id"), group__slug__in=user_groups(user)
            )
        )
    )
    return Api.objects.filter(Q(is_published=True) & (~Exists(links) | Exists(offered)))


def can_see(user: Any, api: Api) -> bool:
    return visible_apis(user).filter(pk=api.pk).exists()

"""Who may see which API and product: the one rule every page, download and the console use.

An API is visible when it is published and either public (in no product at all: what
`importspec --publish` makes, so installs without products keep working) or in a published
product that one of the user's groups may see. An API offered only by unpublished products is
not public: unpublishing the product that offered it hides it (fails closed) rather than
opening it to everyone, and the gateway refuses its calls (gateway/subscriptions.py). Seeing
drafts and everything else is the `apis.view_api` permission; being staff alone grants
nothing (SECURITY.md case 67).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

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


# Both rules are read as two flat queries and ids rather than nested EXISTS subqueries: Django
# spent 10 to 15 ms building and compiling the nested form, on every page and again for each
# query cloned from it (the catalog runs four), where the SQL itself ran in 0.05 ms.


def _seen_product_ids(user: Any) -> set[int]:
    """Products (published or not) that one of the user's groups may see."""
    return set(
        Product.groups.through.objects.filter(group__slug__in=user_groups(user)).values_list(
            "product_id", flat=True
        )
    )


def visible_products(user: Any) -> QuerySet[Product]:
    if sees_everything(user):
        return Product.objects.all()
    return Product.objects.filter(published=True, pk__in=sorted(_seen_product_ids(user)))


def hidden_api_ids(user: Any) -> list[int]:
    """APIs in some product (published or not) but in no published product one of the user's
    groups may see."""
    seen = _seen_product_ids(user)
    offered: set[int] = set()
    shown: set[int] = set()
    links = Product.apis.through.objects.values_list("api_id", "product_id", "product__published")
    for api_id, product_id, published in links:
        offered.add(api_id)
        if published and product_id in seen:
            shown.add(api_id)
    return sorted(offered - shown)


def visible_apis(user: Any) -> QuerySet[Api]:
    if sees_everything(user):
        return Api.objects.all()
    return Api.objects.filter(is_published=True).exclude(pk__in=hidden_api_ids(user))


def can_see(user: Any, api: Api) -> bool:
    return visible_apis(user).filter(pk=api.pk).exists()


def apis_nobody_sees(product: Product) -> list[Api]:
    """Published APIs of `product` that only drafts' viewers see because of it: being in it
    they are no longer public, and no published product offers them to a group (this one is
    unpublished or has no group). For the publisher's warning in the admin."""
    offered = Product.apis.through.objects.filter(
        product__published=True, product__groups__isnull=False
    ).values("api_id")
    return list(product.apis.filter(is_published=True).exclude(pk__in=offered).order_by("name"))


def closed_by(api: Api) -> list[Product]:
    """The products that hide `api` from everyone but drafts' viewers (and close it at the
    gateway): those offering it, when none of them is published to a group. Empty while the
    API is public (in no product) or offered; for the warning on the API's admin page."""
    offering = list(api.products.prefetch_related("groups").order_by("name"))
    if any(p.published and p.groups.all() for p in offering):
        return []
    return offering

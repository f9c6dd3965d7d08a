"""`{% product_badges api %}`: the products offering an API, as links, on its pages."""

from __future__ import annotations

from typing import Any

from django import template

from products.visibility import visible_products

register = template.Library()


@register.inclusion_tag("products/_badges.html", takes_context=True)
def product_badges(context: dict[str, Any], api: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"products": list(visible_products(user).filter(apis=api).only("slug", "name"))}

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


@register.inclusion_tag("products/_console_keys.html", takes_context=True)
def console_subscription_keys(context: dict[str, Any], api: Any) -> dict[str, Any]:
    """The console's subscription-key picker (masked keys) or where to subscribe."""
    from django.contrib.messages import get_messages

    from products.console import (
        PICKER_ANCHOR,
        PICKER_MESSAGE_TAG,
        key_options,
        needs_key,
        subscribe_hint,
    )
    from products.models import Product

    request = context.get("request")
    user = getattr(request, "user", None)
    if not needs_key(api):
        return {"needed": False}
    options = key_options(user, api)
    hint = [] if options else subscribe_hint(user, api)
    said = get_messages(request) if request is not None else []
    return {
        "needed": True,
        "options": options,
        "hint": hint,
        # The product's page brings the developer back to this picker once subscribed...
        "back": f"{request.get_full_path()}#{PICKER_ANCHOR}" if request is not None else "",
        # ... and the picker says so, where the page opens.
        "said": [m for m in said if PICKER_MESSAGE_TAG in m.tags.split()],
        "signed_in": bool(user and user.is_authenticated),
        # Only unpublished products offer it (a drafts' viewer is looking): nobody's call passes.
        "closed": not options
        and not hint
        and not Product.objects.filter(apis=api, published=True).exists(),
    }

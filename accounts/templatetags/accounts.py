from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import get_adapter
from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def signin_providers(context: Any) -> list[dict[str, str]]:
    """The OpenID providers a visitor can sign in with, for the header's Sign in button."""
    request = context.get("request")
    if request is None:
        return []
    return [
        {
            "name": app.name,
            "url": reverse("openid_connect_login", kwargs={"provider_id": app.provider_id}),
        }
        for app in get_adapter(request).list_apps(request, provider="openid_connect")
    ]

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import get_adapter
from django import template
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

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


# The account pages' URL names (allauth's and ours): the chooser, sign-up, an error, the profile.
_ACCOUNT_PAGES = ("account", "socialaccount", "openid_connect")


@register.simple_tag(takes_context=True)
def signin_next(context: Any) -> str:
    """Where the header's Sign in returns to: this page; on an account page (the chooser
    itself), the page that one was to return to. `next=` this page there nested one level
    more on each click, an endless run of new URLs for anything that follows links."""
    request = context.get("request")
    if request is None:
        return "/"
    match = request.resolver_match
    if match is not None and (match.url_name or "").startswith(_ACCOUNT_PAGES):
        back = request.GET.get("next") or "/"
        safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
        return back if safe and back.startswith("/") else "/"
    return str(request.get_full_path())

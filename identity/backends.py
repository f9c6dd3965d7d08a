"""Password authentication with the failed-login limits (case 57) for every password form.

It sits in front of Django's ModelBackend so the provider's login page, the password grant
and the admin's login all count failures on the shared cache and stop at the limit.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from identity import ratelimit
from identity.demo_credentials import DEMO_USERS


def _client_ip(request: HttpRequest | None) -> str:
    # The real client behind TRUSTED_PROXIES (portal.middleware.TrustedProxyMiddleware);
    # never X-Forwarded-For itself: a client can rotate it.
    meta = getattr(request, "META", None) or {}
    return str(meta.get("REMOTE_ADDR", ""))


class RateLimitedModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None or password is None:
            return None
        if not settings.DEBUG and DEMO_USERS.get(username) == password:
            # The well-known demo logins (the admin's too) never work in production.
            raise PermissionDenied("The demo accounts are disabled in production")
        ip = _client_ip(request)
        if ratelimit.blocked(ip, username) is not None:
            raise PermissionDenied("Too many failed sign-ins")  # stops the backend chain
        wait = ratelimit.delay(username)
        if wait:
            time.sleep(wait)  # an account under attack from many addresses: slowed, not locked
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            ratelimit.record_failure(ip, username)
        else:
            ratelimit.clear_account(ip, username)
        return user


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, saying when the address (or the account from it) is past the
    limits. The backend refuses the attempt either way, but Django's form then reads 'Please
    enter the correct username and password' for the right password too."""

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")[:150]
        wait = ratelimit.blocked(_client_ip(self.request), username)
        if wait is not None:
            raise forms.ValidationError(
                f"Too many failed sign-ins. Wait {wait} seconds and try again.",
                code="rate_limited",
            )
        return super().clean()

"""Who is signed in to the built-in provider, kept apart from who is signed in to the portal.

Both live in the same server-side session, but under different keys: signing in at the
provider must not sign the browser in to the portal (only the OIDC callback does that), so
a sign-in that fails on the portal's side leaves no portal session behind.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, update_last_login
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

SESSION_KEY = "identity_user"


def sign_in(request: HttpRequest, user: Any) -> None:
    # A new session key on sign-in, as Django's login() does (session fixation).
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "id": str(user.pk),
        "hash": user.get_session_auth_hash(),
        "auth_time": int(time.time()),
    }
    update_last_login(type(user), user)


def sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def current_user(request: HttpRequest) -> Any:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return AnonymousUser()
    user_id = data.get("id")
    if not isinstance(user_id, str):
        return AnonymousUser()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(
        str(data.get("hash", "")), user.get_session_auth_hash()
    ):
        sign_out(request)  # deactivated, or the password changed since
        return AnonymousUser()
    return user


def auth_time(request: HttpRequest) -> int:
    """When the provider's user last entered their password (0 if unknown)."""
    data = request.session.get(SESSION_KEY)
    value = data.get("auth_time") if isinstance(data, dict) else None
    return value if isinstance(value, int) else 0

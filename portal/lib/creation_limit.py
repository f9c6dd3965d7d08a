"""How many objects of one kind a developer may create in an hour.

Applications (APPLICATIONS_CREATE_PER_HOUR) and subscriptions (SUBSCRIPTIONS_CREATE_PER_HOUR)
are both things a script could otherwise create without end: each makes rows, and a
subscription to a product that needs approval also mails the administrators. The window is
kept here once so both count the same way. It lives on the shared cache, so the count holds
across processes when Redis is configured (portal/lib/cache.py: per process while Redis is
down, weaker but never absent).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

WINDOW = 3600  # seconds, opened by the first creation


def _key(kind: str, user: Any) -> str:
    return f"{kind}:created:{user.pk}"  # "applications:created:<pk>" predates this module


def count_creation(kind: str, user: Any, limit: int) -> bool:
    """Count one creation of `kind` by `user`; False when that makes more than `limit` in
    the user's window (a refused attempt counts too: the window does not move)."""
    key = _key(kind, user)
    cache.add(key, 0, timeout=WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW)
        count = 1
    return count <= limit

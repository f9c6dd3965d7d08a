"""How many objects of one kind a developer may create in an hour.

Applications (APPLICATIONS_CREATE_PER_HOUR) and subscriptions (SUBSCRIPTIONS_CREATE_PER_HOUR)
are both things a script could otherwise create without end: each makes rows, and a
subscription to a product that needs approval also mails the administrators. The window is
kept here once so both count the same way. It lives on the shared cache, so the count holds
across processes when Redis is configured (portal/lib/cache.py: per process while Redis is
down, weaker but never absent).

The window slides, as the gateway's rate limit does (gateway/ratelimit.py): at most `limit`
creations in any hour. A fixed hour let `limit` through at its end and `limit` more at the
start of the next. Each creation holds one of `limit` slots, a cache key that expires an
hour after it was taken, so a slot frees exactly when its creation leaves the window. A slot
is taken with `cache.add`, atomic in Redis and in local memory: two processes creating at
once never take the same one, with no read-modify-write to race. The cost is one read of
the `limit` slots (one MGET) and an add per creation.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

WINDOW = 3600  # seconds: a creation counts for an hour


def _key(kind: str, user: Any) -> str:
    return f"{kind}:created:{user.pk}"  # "applications:created:<pk>" predates this module


def count_creation(kind: str, user: Any, limit: int) -> bool:
    """Count one creation of `kind` by `user`; False when `limit` creations were counted in
    the past hour (the refused attempt is not counted: it created nothing)."""
    key = _key(kind, user)
    slots = [f"{key}:{n}" for n in range(limit)]
    held = cache.get_many([key, *slots])
    # The count of the fixed hour this replaced, under the bare key, while it lasts (at most
    # an hour after an upgrade): a running window is not forgotten.
    before = held.pop(key, 0)
    if len(held) + (before if isinstance(before, int) else 0) >= limit:
        return False
    return any(cache.add(slot, time.time(), timeout=WINDOW) for slot in slots if slot not in held)

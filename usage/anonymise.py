"""What deleting a developer does to their usage (USAGE_ON_USER_DELETE):

- "anonymise" (default): their calls stay in every total, but no row names them any more:
  developer, subscription and application become "none" (0 / ""), merged into the rows
  that already count anonymous calls, and raw events lose the client network too;
- "delete": the rows that name them go (per-consumer rollups and raw events). The API
  totals (ApiRollup), which never name a consumer, keep counting the calls.

It runs before the user row goes (pre_delete), while their subscriptions and applications,
which the deletion cascades to, still say which ids were theirs. It also records those ids
(ForgottenConsumer): calls still in flight carry them, summed in a gateway or waiting in the
Redis stream, and the aggregator makes them name nobody too (usage/aggregate.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from usage import closed
from usage.aggregate import write_rows
from usage.cells import CLIENT_ID_LENGTH, MEASURES, Vector, from_row, merge
from usage.models import (
    ConsumerOperationRollup,
    ConsumerRollup,
    ForgottenConsumer,
    Rollup,
    UsageEvent,
)

ANONYMISE, DELETE = "anonymise", "delete"
MODES = (ANONYMISE, DELETE)


def _theirs(user_id: int, subscriptions: list[int], clients: list[str]) -> Q:
    q = Q(user_id=user_id)
    if subscriptions:
        q |= Q(subscription_id__in=subscriptions)
    if clients:
        q |= Q(client_id__in=clients)
    return q


def forget_user(user: Any, mode: str | None = None) -> int:
    """Anonymise or delete the usage of `user` (before the user is deleted). Returns the
    number of rollup rows changed."""
    from applications.models import Application
    from products.models import Subscription

    mode = mode or settings.USAGE_ON_USER_DELETE
    subs = list(Subscription.objects.filter(owner=user).values_list("pk", flat=True))
    clients = list(Application.objects.filter(owner=user).values_list("client_id", flat=True))
    theirs = _theirs(user.pk, subs, clients)
    changed = 0
    with transaction.atomic():
        # Calls in flight now carry these ids; the aggregator makes them name nobody too.
        now = datetime.now(UTC)
        ForgottenConsumer.objects.bulk_create(
            [
                ForgottenConsumer(kind=kind, value=str(value)[:CLIENT_ID_LENGTH], forgotten=now)
                for kind, values in (
                    (ForgottenConsumer.USER, [user.pk]),
                    (ForgottenConsumer.SUBSCRIPTION, subs),
                    (ForgottenConsumer.CLIENT, clients),
                )
                for value in values
                if value
            ],
            ignore_conflicts=True,
        )
        raw = UsageEvent.objects.filter(theirs)
        if mode == DELETE:
            raw.delete()
        else:
            raw.update(user_id=None, subscription_id=None, client_id="", client_net="")
        for model in (ConsumerRollup, ConsumerOperationRollup):
            rows: QuerySet[Any] = model._default_manager.filter(theirs)
            if mode == ANONYMISE:
                changed += _merge_into_anonymous(model, list(rows.values()))
            changed += rows.delete()[0] if mode == DELETE else 0
        if changed:
            closed.bump()  # their rows of past days changed: no ranking may keep them
    return changed


def forget_raw(
    users: set[int], subscriptions: set[int], clients: set[str], mode: str | None = None
) -> int:
    """Anonymise or delete raw events of developers already deleted (ids recorded then,
    ForgottenConsumer), written after the deletion by a gateway's buffer. Returns rows."""
    mode = mode or settings.USAGE_ON_USER_DELETE
    q = Q(pk__in=[])
    if users:
        q |= Q(user_id__in=sorted(users))
    if subscriptions:
        q |= Q(subscription_id__in=sorted(subscriptions))
    if clients:
        q |= Q(client_id__in=sorted(clients))
    raw = UsageEvent.objects.filter(q)
    if mode == DELETE:
        return int(raw.delete()[0])
    return raw.update(user_id=None, subscription_id=None, client_id="", client_net="")


def _merge_into_anonymous(model: type[Rollup], rows: list[dict[str, Any]]) -> int:
    """Re-add the rows under anonymous keys (adding into rows that exist), then drop them."""
    if not rows:
        return 0
    key_fields: tuple[str, ...] = model.KEY  # type: ignore[attr-defined]
    anonymous = {"subscription_id": 0, "client_id": "", "user_id": 0}
    merged: dict[tuple, Vector] = {}
    for r in rows:
        start = int(r["start"].timestamp())
        key = (r["level"], start, *(anonymous.get(k, r[k]) for k in key_fields))
        vec = from_row(r[m] for m in MEASURES)
        if key in merged:
            merge(merged[key], vec)
        else:
            merged[key] = vec
    model._default_manager.filter(pk__in=[r["id"] for r in rows]).delete()
    write_rows({model: merged})
    return len(rows)


def on_user_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_user(instance)

"""Subscription flows as plain functions: pages, the admin and commands call these.

Every change is one transaction that also writes a SubscriptionEvent; e-mails go out after
the commit (products/notify.py) so a rolled-back change sends nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from portal import audit
from portal.lib.creation_limit import count_creation
from portal.lib.names import name_problem
from products import keys, notify
from products.models import Product, Subscription, SubscriptionEvent
from products.visibility import visible_products

S = Subscription


class FlowError(Exception):
    """A change the rules refuse; the message is for the person who asked."""


class CreationLimited(FlowError):
    """SUBSCRIPTIONS_CREATE_PER_HOUR reached: the same request may pass later (the API
    answers 429, not 409)."""


# action -> (states it may start from, state it ends in)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((S.SUBMITTED,), S.ACTIVE),
    "reject": ((S.SUBMITTED,), S.REJECTED),
    "suspend": ((S.ACTIVE,), S.SUSPENDED),
    "reactivate": ((S.SUSPENDED,), S.ACTIVE),
    "cancel": ((S.SUBMITTED, S.ACTIVE, S.SUSPENDED), S.CANCELLED),
}


def _record(
    sub: Subscription, action: str, before: str, actor: Any, reason: str = ""
) -> SubscriptionEvent:
    # The event row is the subscription's history; the audit line puts it beside the other
    # changes people make (applications, the admin) in the `portal.audit` log.
    audit.event(
        actor if actor is not None and actor.is_authenticated else None,
        f"subscription.{action.replace(' ', '-')}",
        sub,
        product=sub.product.slug,
        application=str(sub.application.uuid) if sub.application is not None else "",
        state=f"{before or '-'} -> {sub.state}",
        reason=reason,
    )
    return SubscriptionEvent.objects.create(
        subscription=sub,
        action=action,
        from_state=before,
        to_state=sub.state,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
    )


def _set_keys(sub: Subscription, which: str) -> None:
    key = keys.new_key()
    setattr(sub, f"{which}_hash", keys.key_hash(key))
    setattr(sub, f"{which}_encrypted", keys.encrypt(key))


def limit_reached(user: Any, product: Product) -> str:
    """Why `user` may not subscribe to `product` once more, or "" while they may.

    The product page asks first so it can offer no form; subscribe() asks again under the
    product's lock, since two tabs can both have been offered one."""
    if product.subscriptions_limit is None or not user.is_authenticated:
        return ""
    live = Subscription.objects.filter(owner=user, product=product, state__in=S.LIVE)
    if live.count() < product.subscriptions_limit:
        return ""
    return ngettext(
        "You already have %(n)d subscription to %(product)s, the most it allows. "
        "Cancel one to subscribe again.",
        "You already have %(n)d subscriptions to %(product)s, the most it allows. "
        "Cancel one to subscribe again.",
        product.subscriptions_limit,
    ) % {"n": product.subscriptions_limit, "product": product.name}


def _count_creation(user: Any) -> None:
    """SUBSCRIPTIONS_CREATE_PER_HOUR, counted per user (portal/lib/creation_limit.py)."""
    limit = settings.SUBSCRIPTIONS_CREATE_PER_HOUR
    if not count_creation("subscriptions", user, limit):
        raise CreationLimited(
            ngettext(
                "You have created %(n)d subscription in the last hour, the most allowed. "
                "Try again later.",
                "You have created %(n)d subscriptions in the last hour, the most allowed. "
                "Try again later.",
                limit,
            )
            % {"n": limit}
        )


def subscribe(
    user: Any,
    product: Product,
    *,
    name: str = "",
    accept_terms: bool = False,
    application: Any = None,
    terms_version: str | None = None,
) -> Subscription:
    """A new subscription: `submitted` when the product needs approval, else `active`.

    The product row is locked first so two parallel requests against a limit cannot both
    pass the count (SECURITY.md case 72): select_for_update on PostgreSQL, and on SQLite the
    write lock the UPDATE takes.

    Every request that passes the checks before the lock counts towards the developer's
    SUBSCRIPTIONS_CREATE_PER_HOUR (CreationLimited past it: nothing made, no one mailed).
    """
    if not user.is_authenticated:
        raise FlowError("Sign in to subscribe.")
    if problem := name_problem(name):
        raise FlowError(problem)
    if not visible_products(user).filter(pk=product.pk, published=True).exists():
        raise FlowError("This product is not offered to you.")
    if not product.subscription_required:
        # Its page offers no Subscribe: the gateway asks no key for its APIs.
        raise FlowError(f"{product.name} needs no subscription: its APIs take no key.")
    if application is not None and application.owner_id != user.pk:
        raise FlowError("Not your application.")  # views answer 404 before this (case 68)
    if product.terms and not accept_terms:
        raise FlowError("Accept the terms of use to subscribe.")
    _count_creation(user)
    with transaction.atomic():
        Product.objects.filter(pk=product.pk).update(updated=timezone.now())
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if not locked.published:
            # Unpublished since the check above: its keys would be refused anyway.
            raise FlowError("This product is not offered to you.")
        if refusal := limit_reached(user, locked):
            raise FlowError(refusal)
        if locked.terms and (
            not accept_terms
            or (terms_version is not None and terms_version != locked.terms_version)
        ):
            # Changed since the page that was accepted was loaded (or since the check above).
            raise FlowError(
                "The terms of use changed since the page was loaded: read them again, then "
                "accept them to subscribe."
            )
        sub = Subscription(
            owner=user,
            product=locked,
            application=application,
            name=name.strip()[:100],
            state=S.SUBMITTED if locked.approval_required else S.ACTIVE,
            terms_accepted=timezone.now() if locked.terms else None,
        )
        _set_keys(sub, "primary")
        _set_keys(sub, "secondary")
        sub.save()
        event = _record(sub, "subscribe", "", user)
        notify.after_commit(event)
    return sub


def _no_longer_offered(sub: Subscription, instead: str) -> str:
    """Why giving `sub` working keys again (approving or reactivating it) would serve a
    product its owner may no longer see, or "".

    subscribe() checked when the request came in; the owner may have left the product's group,
    or the product been unpublished, while the request waited in the queue or the
    subscription stood suspended."""
    product = sub.product
    if not product.published:
        return f"{product.name} is not published any more; {instead}."
    if not visible_products(sub.owner).filter(pk=product.pk).exists():
        return (f"{sub.owner.get_username()} may no longer see {product.name} (none of their "
                f"groups is offered it); {instead}.")  # fmt: skip
    return ""


# The way out an administrator still has when the product is no longer offered.
_INSTEAD = {"approve": "reject the request instead", "reactivate": "cancel it instead"}


def change_state(sub: Subscription, action: str, actor: Any, reason: str = "") -> Subscription:
    """approve, reject, suspend, reactivate or cancel; FlowError when the state forbids it."""
    if action not in TRANSITIONS:
        raise FlowError(f"Unknown action {action!r}.")
    starts, target = TRANSITIONS[action]
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().select_related("product", "owner")
        current = locked.get(pk=sub.pk)
        if current.state not in starts:
            raise FlowError(f"A {current.get_state_display().lower()} subscription cannot be "
                            f"{'cancelled' if action == 'cancel' else action + 'd'}.")  # fmt: skip
        if action in _INSTEAD and (refusal := _no_longer_offered(current, _INSTEAD[action])):
            raise FlowError(refusal)
        before = current.state
        current.state = target
        current.save(update_fields=["state", "updated"])
        event = _record(current, action, before, actor, reason.strip())
        notify.after_commit(event)
    return current


def cancel_by_owner(sub: Subscription, user: Any) -> Subscription:
    if sub.owner_id != user.pk:
        raise FlowError("Not your subscription.")
    return change_state(sub, "cancel", user, "cancelled by the developer")


def regenerate(sub: Subscription, which: str, actor: Any) -> Subscription:
    """A new primary or secondary key; the other keeps working during a rotation."""
    if which not in ("primary", "secondary"):
        raise FlowError("Choose the primary or the secondary key.")
    # Each one makes every gateway process reload its key map: a loop kept them reloading.
    # Counted per person; a command or script passing no actor is not limited.
    limit = settings.SUBSCRIPTION_KEYS_REGENERATED_PER_HOUR
    person = actor is not None and getattr(actor, "is_authenticated", False)
    if person and not count_creation("key-regenerations", actor, limit):
        raise CreationLimited(
            ngettext(
                "You have regenerated %(n)d key in the last hour, the most allowed. "
                "Try again later.",
                "You have regenerated %(n)d keys in the last hour, the most allowed. "
                "Try again later.",
                limit,
            )
            % {"n": limit}
        )
    with transaction.atomic():
        current = Subscription.objects.select_for_update().get(pk=sub.pk)
        if current.state in (S.REJECTED, S.CANCELLED):
            raise FlowError("Keys of a closed subscription cannot be regenerated.")
        _set_keys(current, which)
        current.save(update_fields=[f"{which}_hash", f"{which}_encrypted", "updated"])
        _record(current, f"regenerate {which} key", current.state, actor)
    return current


def shown_key(sub: Subscription, which: str) -> str:
    """The key in clear, for its owner's page only (never logged, never in a URL)."""
    return keys.decrypt(getattr(sub, f"{which}_encrypted"))

"""E-mails about subscriptions, through Django's e-mail framework.

Administrators hear of every request (a new submitted subscription); the developer hears of
every decision about theirs. Sent after the transaction commits; a mail failure is logged and
never undoes the change.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mailers, send_mail
from django.db import transaction
from django.urls import reverse

from products.models import Subscription, SubscriptionEvent

log = logging.getLogger(__name__)

_DECISIONS = {
    "approve": "approved",
    "reject": "rejected",
    "suspend": "suspended",
    "reactivate": "reactivated",
    "cancel": "cancelled",
}


def _site() -> str:
    """What goes before a path in a mail's link: SITE_URL, or nothing without it."""
    return str(getattr(settings, "SITE_URL", ""))


def _link(name: str) -> str:
    """An address to click in a mail: SITE_URL and the path, or the path alone without it."""
    return f"{_site()}{reverse(name)}"


def admin_addresses() -> list[str]:
    configured = [address for _, address in getattr(settings, "ADMINS", [])]
    if configured:
        return configured
    users = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    return list(users.values_list("email", flat=True))


def messages_for(event: SubscriptionEvent) -> list[tuple[str, str, list[str]]]:
    """(subject, body, recipients) for one event."""
    sub = event.subscription
    owner = sub.owner
    site = getattr(settings, "SITE_NAME", "API portal")
    out: list[tuple[str, str, list[str]]] = []
    if event.action == "subscribe" and sub.state == Subscription.SUBMITTED:
        out.append(
            (
                f"[{site}] Subscription request: {sub.product.name}",
                f"{owner.get_username()} asked to subscribe to {sub.product.name}"
                f"{f' ({sub.name})' if sub.name else ''}"
                f"{f' for the application {sub.application.name}' if sub.application else ''}.\n"
                f"Approve or reject it on the approval queue: {_link('products:approvals')}\n",
                admin_addresses(),
            )
        )
    if event.action == "subscribe" and sub.state == Subscription.ACTIVE:
        out.append(
            (
                f"[{site}] Your subscription to {sub.product.name} is active",
                f"Your subscription to {sub.product.name} is active. "
                f"Your keys: {_site()}{sub.get_absolute_url()}\n",
                [owner.email] if owner.email else [],
            )
        )
    if event.action in _DECISIONS and event.actor_id != owner.pk:
        done = _DECISIONS[event.action]
        reason = f"\nReason: {event.reason}\n" if event.reason else "\n"
        out.append(
            (
                f"[{site}] Your subscription to {sub.product.name} was {done}",
                f"Your subscription to {sub.product.name} was {done}.{reason}"
                f"Its keys and history: {_site()}{sub.get_absolute_url()}\n",
                [owner.email] if owner.email else [],
            )
        )
    return [m for m in out if m[2]]


def mail_configured() -> bool:
    """A default mailer exists (EMAIL_HOST in production, the console in the dev run)."""
    return "default" in mailers


def _send(event_id: int) -> None:
    if not mail_configured():
        return
    event = SubscriptionEvent.objects.select_related(
        "subscription__product", "subscription__owner"
    ).get(pk=event_id)
    for subject, body, recipients in messages_for(event):
        try:
            send_mail(subject, body, None, recipients)
            log.debug("subscription e-mail %r sent to %d recipient(s)", subject, len(recipients))
        except Exception:  # a mail server outage must not break the portal
            log.exception("subscription e-mail %r not sent", subject)


def after_commit(event: SubscriptionEvent) -> None:
    transaction.on_commit(lambda: _send(event.pk))

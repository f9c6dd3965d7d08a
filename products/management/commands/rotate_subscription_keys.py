"""`manage.py rotate_subscription_keys`: re-encrypt the shown copy of every subscription key
with the newest PRODUCTS_KEY_ENCRYPTION_KEYS entry, so an older entry can then be dropped.

The keys themselves do not change: developers and the gateway notice nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from products import keys
from products.models import Subscription


class Command(BaseCommand):
    help = "Re-encrypt stored subscription keys with the newest encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        done = unreadable = 0
        with transaction.atomic():
            for sub in Subscription.objects.select_for_update().only(
                "pk", "primary_encrypted", "secondary_encrypted"
            ):
                try:
                    sub.primary_encrypted = keys.reencrypt(sub.primary_encrypted)
                    sub.secondary_encrypted = keys.reencrypt(sub.secondary_encrypted)
                except keys.KeyUnreadable:  # encrypted with a key no longer listed
                    unreadable += 1
                    continue
                # update(), not save(): the gateway's key map need not reload for this.
                Subscription.objects.filter(pk=sub.pk).update(
                    primary_encrypted=sub.primary_encrypted,
                    secondary_encrypted=sub.secondary_encrypted,
                )
                done += 1
        self.stdout.write(f"{done} subscription(s) re-encrypted; {unreadable} unreadable.")

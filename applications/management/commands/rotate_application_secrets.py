"""`manage.py rotate_application_secrets`: re-encrypt every application's stored registration
access token and console secret with the newest PRODUCTS_KEY_ENCRYPTION_KEYS entry (the ring
applications/secrets.py shares with subscription keys), so an older entry can be dropped after
this and `rotate_subscription_keys`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from applications.models import Application
from products import keys

FIELDS = ("registration_token", "console_secret")


class Command(BaseCommand):
    help = "Re-encrypt applications' stored secrets with the newest encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        done = unreadable = 0
        with transaction.atomic():
            for app in Application.objects.select_for_update().only("pk", *FIELDS):
                try:
                    values = {f: keys.reencrypt(getattr(app, f)) for f in FIELDS if getattr(app, f)}
                except keys.KeyUnreadable:  # encrypted with a key no longer listed
                    unreadable += 1
                    continue
                if values:
                    Application.objects.filter(pk=app.pk).update(**values)
                    done += 1
        self.stdout.write(f"{done} application(s) re-encrypted; {unreadable} unreadable.")

"""`manage.py maintain`: delete what has expired (sessions, tokens, codes, old console
history, retired signing keys). Run it on a schedule; every replica may run it at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal import maintenance


class Command(BaseCommand):
    help = "Delete expired sessions, tokens and codes, old console history and retired keys."

    def handle(self, *args: Any, **options: Any) -> None:
        for what, count in maintenance.run().items():
            self.stdout.write(f"{count} {what} deleted")

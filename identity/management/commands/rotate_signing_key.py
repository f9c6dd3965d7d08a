"""Rotate the built-in provider's signing key; retired keys stay published until expiry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from identity import keys


class Command(BaseCommand):
    help = "Start signing with a new RSA key (old keys stay in the JWKS until their tokens expire)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--prune", action="store_true", help="Only delete retired keys past their grace period."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["prune"]:
            self.stdout.write(f"Deleted {keys.prune()} expired signing key(s).")
            return
        key = keys.rotate()
        pruned = keys.prune()
        self.stdout.write(f"Now signing with kid {key.kid}; pruned {pruned} expired key(s).")

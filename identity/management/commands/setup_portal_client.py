"""Create or update the portal's own sign-in client on the built-in provider (production)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from identity.clients import ensure_portal_client
from identity.issuer import issuer


class Command(BaseCommand):
    help = "Register the portal's sign-in client with the built-in provider (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        secret = settings.IDENTITY_PORTAL_CLIENT_SECRET
        if not secret:
            raise CommandError("Set IDENTITY_PORTAL_CLIENT_SECRET first.")
        client = ensure_portal_client(issuer(), secret)
        self.stdout.write(f"Client {client.client_id} redirects to: {client.redirect_uris}")

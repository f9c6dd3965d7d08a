"""Serve the portal for `make run`, printing where to go first."""

from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the portal on HOST:PORT (defaults 127.0.0.1:8000)."

    def handle(self, *args: Any, **options: Any) -> None:
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        base = f"http://{host}:{port}"
        self.stdout.write(
            self.style.SUCCESS(f"\n  API portal: {base}/apis/\n  Admin:      {base}/admin/\n")
        )
        call_command("runserver", f"{host}:{port}", use_reloader=False)

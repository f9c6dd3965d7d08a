"""Serve the portal for `make run`: Django and the gateway on one port, under granian.

`/gateway/<suffix>/...` goes to the gateway's own ASGI application, everything else to
Django, and `/static/` is served by granian from STATIC_ROOT (collected first).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the portal and the gateway on HOST:PORT (defaults 127.0.0.1:8000)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))

    def handle(self, *args: Any, **options: Any) -> None:
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces, RuntimeModes

        host = os.environ.get("HOST", "127.0.0.1")
        port = int(os.environ.get("PORT", "8000"))
        base = f"http://{host}:{port}"
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  API portal: {base}/apis/\n  Admin:      {base}/admin/\n"
                f"  Gateway:    {base}/gateway/<suffix>/ (demo: {base}/gateway/echo/)\n"
            )
        )
        static_url = "/" + settings.STATIC_URL.strip("/")
        Granian(
            "portal.asgi:application",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=options["workers"],
            http=HTTPModes.http1,
            runtime_mode=RuntimeModes.st,
            websockets=False,
            static_path_route=[static_url],
            static_path_mount=[Path(settings.STATIC_ROOT)],
        ).serve()

"""Serve the portal: Django and the gateway on one port, under granian.

`/gateway/<suffix>/...` goes to the gateway's own ASGI application, everything else to
Django. Static files are served by WhiteNoise: from the apps' folders with DEBUG on (`make
run` needs no collect step), and with DEBUG off from STATIC_ROOT, collected once at build
time (`manage.py collectstatic`) with content-hashed, precompressed names. Nothing is
written into the code folder at start, so it can be read-only.

Database connections: each worker process has its own pool (DATABASE_POOL_MAX_SIZE on
PostgreSQL); Django runs each request's synchronous code in a thread of its own, and a
request that finds the pool busy waits up to DATABASE_POOL_TIMEOUT. PostgreSQL therefore
sees at most workers x DATABASE_POOL_MAX_SIZE connections per machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from portal.lib.env import env_int, env_str, unread_lookalikes
from portal.startup import (
    SUPERVISOR_VARIABLE,
    require_production_secrets,
    unshared_counters_warning,
)

FILE_BACKENDS = (
    "portal.lib.mailfiles.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
)


def banner(base: str) -> str:
    """Where to go, printed at start; and where e-mails are, when they go to files (the dev
    run without EMAIL_HOST), since a publisher otherwise waits for a mail that never comes."""
    text = (
        f"\n  API portal: {base}/apis/\n  Admin:      {base}/admin/\n"
        f"  Gateway:    {base}/gateway/<suffix>/ (demo: {base}/gateway/echo/anything,"
        f" which needs a subscription key and a token: try it from {base}/apis/echo/)\n"
    )
    mailer: dict[str, Any] = settings.MAILERS.get("default", {})
    if mailer.get("BACKEND") in FILE_BACKENDS:
        folder = Path(str(mailer.get("OPTIONS", {}).get("file_path", ""))).resolve()
        if folder.is_relative_to(Path.cwd()):
            folder = folder.relative_to(Path.cwd())
        text += f"  E-mails:    written to {folder}/, one file each (none is sent)\n"
    return text


class Command(BaseCommand):
    help = "Serve the portal and the gateway on HOST:PORT (defaults 127.0.0.1:8000)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, help="default: WORKERS, else 1")

    def handle(self, *args: Any, **options: Any) -> None:
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces, RuntimeModes

        from gateway.version import url_problems
        from identity.checks import check_issuer
        from portal.checks import check_allowed_hosts_set

        require_production_secrets()
        # The deploy checks' warnings about a setting that makes pages refuse, said here too.
        issuer_host = [w for w in check_issuer(None) if w.id == "identity.W002"]
        for warning in [*check_allowed_hosts_set(None), *issuer_host]:
            self.stderr.write(f"Warning: {warning.msg} {warning.hint}")
        if settings.SECURE_SSL_REDIRECT and not settings.SECURE_PROXY_SSL_HEADER:
            # serve speaks plain HTTP: no request would ever be secure, so each would be
            # redirected, the balancer's https ones too (a loop).
            raise CommandError(
                "SECURE_SSL_REDIRECT=1 would redirect every request: serve speaks plain HTTP, "
                "and no X-Forwarded-Proto is believed. Set TRUSTED_PROXIES to the TLS load "
                "balancer's addresses (or BEHIND_TLS_PROXY=1), or let the balancer redirect."
            )
        # Checked before listening: granian's workers import the application only after the
        # port is bound, and a setting refused there was a traceback after "Listening at".
        try:
            workers = options["workers"] or env_int("WORKERS", 1, minimum=1)
            port = env_int("PORT", 8000, minimum=0, maximum=65535)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        for typo in unread_lookalikes(os.environ):
            self.stderr.write(f"Warning: {typo}")
        if problems := url_problems():
            raise CommandError(" ".join(problems))
        redis_urls = [settings.REDIS_URL, settings.GATEWAY_REDIS_URL]
        counters = "login limits, creation limits and cache (and the gateway's rate limits)"
        if unshared := unshared_counters_warning(workers, redis_urls, counters):
            self.stderr.write(unshared)
        host = env_str("HOST", "127.0.0.1")
        base = f"http://{host}:{port}"
        if not settings.DEBUG and not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
            self.stderr.write(
                f"Static files are not collected in STATIC_ROOT={settings.STATIC_ROOT}: run "
                "`manage.py collectstatic` at build time (pages will link unhashed names)."
            )
        self.stdout.write(self.style.SUCCESS(banner(base)))
        # Each worker ends itself when this process is gone (portal.startup).
        os.environ[SUPERVISOR_VARIABLE] = str(os.getpid())
        Granian(
            "portal.asgi:application",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            http=HTTPModes.http1,
            runtime_mode=RuntimeModes.st,
            websockets=False,
        ).serve()

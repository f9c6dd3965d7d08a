from __future__ import annotations

import logging
import os

from django.apps import AppConfig
from django.conf import settings


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Try-it console"

    def ready(self) -> None:
        # oauthlib refuses http:// OAuth endpoints unless this process-wide switch is on. Only
        # the development run needs them (the built-in provider on http://127.0.0.1); with
        # DEBUG off the console, like RFC 6749, insists on TLS and says so when a grant fails.
        if settings.DEBUG:
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
        # A server may grant fewer scopes than asked (RFC 6749 section 3.3); the console shows
        # what was granted instead of failing the grant.
        os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
        # Both libraries log whole token responses at DEBUG; tokens never reach the logs
        # (SECURITY.md case 32) whatever LOG_LEVEL says.
        for name in ("requests_oauthlib", "oauthlib"):
            logging.getLogger(name).setLevel(logging.WARNING)
        from console import checks  # noqa: F401  (registers the system checks)

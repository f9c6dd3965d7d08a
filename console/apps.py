from __future__ import annotations

import logging
import os

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Try-it console"

    def ready(self) -> None:
        # oauthlib refuses http:// endpoints unless this variable is set. The console applies
        # its own, stricter rule instead (console.grants.check_endpoint: https, or http only on
        # loopback hosts the configuration names, as for the built-in provider), so oauthlib's
        # all-or-nothing switch is turned on once here rather than around each call.
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
        # A server may grant fewer scopes than asked (RFC 6749 section 3.3); the console shows
        # what was granted instead of failing the grant.
        os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
        # Both libraries log whole token responses at DEBUG; tokens never reach the logs
        # (SECURITY.md case 32) whatever LOG_LEVEL says.
        for name in ("requests_oauthlib", "oauthlib"):
            logging.getLogger(name).setLevel(logging.WARNING)
        from console import checks  # noqa: F401  (registers the system checks)

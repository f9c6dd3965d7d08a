"""Load the demo catalog and let each app set up its part of the demo journey.

Idempotent: `make run` calls it on every start. It reads only the specs this project ships
(portal/demo/specs), never the shared corpus.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_SPECS = Path(__file__).resolve().parents[2] / "demo" / "specs"
DEMO_APIS = (("echo", "echo.yaml"), ("petstore", "petstore.yaml"))
# Apps that set up their part of the demo, in dependency order: clients before the routes
# and authorization servers that use them.
SEED_APPS = ("identity", "gateway", "products", "console", "onboarding")
# The demo's own changes (its subscription, the legacy grants it enables) still go into the
# audit trail's tables; their log lines are not printed, since the summary above them says the
# same in words and `make run` is a newcomer's first screen.
AUDIT_LOGGERS = ("portal.audit", "console.audit")


@contextlib.contextmanager
def _audit_lines_quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in AUDIT_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = "Import and publish the demo APIs and configure the demo journey."

    def handle(self, *args: Any, **options: Any) -> None:
        for slug, filename in DEMO_APIS:
            call_command(
                "importspec", str(DEMO_SPECS / filename), slug=slug, publish=True, replace=True,
                stdout=self.stdout, stderr=self.stderr,
            )  # fmt: skip
        with _audit_lines_quiet():
            for app in SEED_APPS:
                if apps.is_installed(app):
                    importlib.import_module(f"{app}.demo").seed(self.stdout)

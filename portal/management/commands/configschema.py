"""`manage.py configschema`: the configuration file's JSON Schema, or its key reference.

    manage.py configschema > docs/config.schema.json
    manage.py configschema --markdown > docs/config-reference.md

Both files are committed; tests/portal/test_configschema.py fails when they are stale.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.lib import configschema


class Command(BaseCommand):
    help = "Print the applyconfig file's JSON Schema (or, with --markdown, its key reference)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--markdown", action="store_true", help="the key reference")

    def handle(self, *args: Any, **options: Any) -> None:
        text = configschema.markdown() if options["markdown"] else configschema.schema_text()
        self.stdout.write(text, ending="")

"""`manage.py applyconfig FILE`: apply a declarative YAML configuration, idempotently.

The file's top-level keys are sections owned by apps (`apis` by the catalog and gateway,
`authorization_servers` by the console, ...; see portal/lib/configfile.py). Every section is
validated before anything is written, then all are applied in one transaction: an invalid
file is refused with its line and reason, and nothing is half-applied. Applying the same
file twice changes nothing the second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from portal.lib import configschema
from portal.lib.configfile import ConfigError, Context, appliers, parse

_MAX_BYTES = 5 * 1024 * 1024


class Command(BaseCommand):
    help = "Apply a YAML configuration file (APIs, gateway policies, authorization servers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the YAML configuration file")
        parser.add_argument("--check", action="store_true", help="validate only; write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read: {exc.strerror or exc}") from None
        if len(data) > _MAX_BYTES:
            raise CommandError(f"{path}: larger than {_MAX_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text") from None
        ctx = Context(base_dir=path.resolve().parent)
        sections = appliers()
        plans: list[tuple[Any, Any]] = []
        try:
            parsed = parse(text)
            configschema.validate(parsed)
            root = parsed.mapping("the file", set(sections))
            for name, module in sections.items():
                if name in root:
                    plans.append((module, module.validate(root[name], ctx)))
        except ConfigError as exc:
            raise CommandError(f"{path}:{exc.line}: {exc.message}") from None
        for module, plan in plans:
            for warning in getattr(module, "warnings", lambda *_: [])(plan, ctx):
                self.stderr.write(f"{path}:{warning.line}: warning: {warning.message}")
        if options["check"]:
            self.stdout.write(f"{path}: valid ({', '.join(s for s in sections if s in root)})")
            return
        try:
            with transaction.atomic():
                lines: list[str] = []
                for module, plan in plans:
                    lines += module.apply(plan, ctx)
        except ConfigError as exc:
            raise CommandError(f"{path}:{exc.line}: {exc.message}; nothing was changed") from None
        for line in lines:
            self.stdout.write(line)
        if not lines:
            self.stdout.write("Nothing to change.")

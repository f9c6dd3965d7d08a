"""`manage.py importspec PATH|URL [--slug SLUG] [--publish] [--replace] [--root FILE]`.

Exit status: 0 imported; 1 the document was refused (the message names the place: line and
column for syntax errors, the JSON pointer and the rule for spec errors); 2 the file or URL
could not be read; 3 the import was refused (same version label without --replace, bad slug).
A failed import stores nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apis.importer import ImportRefused, VersionExists, import_spec, plural
from apis.openapi import ParsedSpec, SpecError, load_path
from apis.remote import NotADocument, Unreadable, load_url

# `scheme://`: a URL, whatever the scheme (a Windows drive `C:\\` has no `//`).
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class Command(BaseCommand):
    help = (
        "Import an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML), a folder or a zip "
        "bundle, or a URL, as a new version of an API."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="a file, folder, zip, or http(s) URL")
        parser.add_argument("--slug", help="the API's slug (default: from info.title)")
        parser.add_argument("--publish", action="store_true", help="publish the API")
        parser.add_argument(
            "--replace", action="store_true", help="replace the version with the same label"
        )
        parser.add_argument("--root", help="root document of a folder or zip bundle")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        spec = self._load(source, options.get("root"))
        try:
            result = import_spec(
                spec,
                slug=options.get("slug"),
                publish=bool(options.get("publish")),
                replace=bool(options.get("replace")),
            )
        except VersionExists as exc:
            raise CommandError(
                f"{exc}; use --replace to replace it (other versions are kept)", returncode=3
            ) from None
        except ImportRefused as exc:
            raise CommandError(str(exc), returncode=3) from None
        self.stdout.write(result.summary_line())
        if spec.warnings:
            self.stdout.write(f"{plural(len(spec.warnings), 'warning')}:")
            for warning in spec.warnings:
                self.stdout.write(f"  warning: {warning}")

    def _load(self, source: str, root: str | None) -> ParsedSpec:
        scheme = _URL_SCHEME.match(source)
        try:
            if source.lower().startswith(("http://", "https://")):
                return self._load_url(source, root)
            if scheme:
                # `ftp://host/x.yaml` is also a relative path: never read it as one.
                raise CommandError(
                    f"{source}: {scheme.group(1).lower()}: URLs are not imported; give an "
                    "http(s) URL or a local file, folder or zip",
                    returncode=2,
                )
            path = Path(source)
            if not path.exists():
                raise CommandError(f"{source}: no such file or folder", returncode=2)
            return load_path(path, root)
        except SpecError as exc:
            hint = (
                " (choose it with --root)"
                if exc.rule == "root" and "several files" in exc.message
                else ""
            )
            raise CommandError(str(exc) + hint, returncode=1) from None
        except OSError as exc:
            raise CommandError(
                f"{source}: cannot read: {exc.strerror or exc}", returncode=2
            ) from None

    def _load_url(self, url: str, root: str | None) -> ParsedSpec:
        try:
            return load_url(url, root)
        except Unreadable as exc:
            raise CommandError(str(exc), returncode=2) from None
        except NotADocument as exc:
            raise CommandError(str(exc), returncode=1) from None

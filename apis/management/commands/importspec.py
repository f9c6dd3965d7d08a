"""`manage.py importspec PATH|URL [--slug SLUG] [--publish] [--replace] [--root FILE]`.

Exit status: 0 imported; 1 the document was refused (the message names the place: line and
column for syntax errors, the JSON pointer and the rule for spec errors); 2 the file or URL
could not be read; 3 the import was refused (same version label without --replace, bad slug).
A failed import stores nothing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apis.importer import ImportRefused, VersionExists, import_spec, plural
from apis.openapi import ParsedSpec, SpecError, load, load_path
from apis.openapi.bundle import SingleFile, UrlWithSiblings, bundle_for_bytes, looks_like_html
from portal.lib import outbound

# `scheme://`: a URL, whatever the scheme (a Windows drive `C:\\` has no `//`).
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _sibling_fetcher() -> Callable[[str], bytes | None]:
    """Fetches a file a fetched document's `$ref` names, through the outbound wrapper (its
    address rules, timeouts and size cap): None when the server says it has no such file
    (404, 410); any other refusal or failure is an error naming the URL and its status."""

    def fetch(url: str) -> bytes | None:
        try:
            response = outbound.fetch(url, max_bytes=int(settings.APIS_MAX_SPEC_BYTES))
        except outbound.OutboundError as exc:
            if exc.kind == "status" and exc.status in (404, 410):
                return None
            raise SpecError(f"{url}: {exc.message}", source=url, rule="ref-fetch") from None
        if looks_like_html(response.body):
            raise SpecError(
                f"{url} returned an HTML page, not the file a $ref names",
                source=url,
                rule="ref-fetch",
            )
        return response.body

    return fetch


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
            response = outbound.fetch(url, max_bytes=int(settings.APIS_MAX_SPEC_BYTES))
        except outbound.OutboundError as exc:
            raise CommandError(f"{url}: {exc.message}", returncode=2) from None
        name = posixpath.basename(urlsplit(response.url or url).path) or "document"
        content_type = response.header("Content-Type").split(";")[0].strip().lower()
        if content_type in ("text/html", "application/xhtml+xml") or looks_like_html(response.body):
            raise CommandError(
                f"{url}: the URL returned an HTML page, not an OpenAPI document; give the "
                "address of the raw JSON or YAML file",
                returncode=1,
            )
        bundle = bundle_for_bytes(response.body, name, root)
        if isinstance(bundle, SingleFile):
            # Its `$ref`s may name files beside it, as Swagger UI fetches them.
            bundle = UrlWithSiblings(response.url or url, response.body, _sibling_fetcher())
        return load(bundle)

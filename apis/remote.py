"""An OpenAPI document read from an http(s) URL, with the files its `$ref`s name beside it,
through the outbound wrapper (its address rules, timeouts and size cap). Used by
`manage.py importspec URL` and the admin's import form."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings

from apis.openapi import ParsedSpec, SpecError, load
from apis.openapi.bundle import SingleFile, UrlWithSiblings, bundle_for_bytes, looks_like_html
from portal.lib import outbound


class Unreadable(Exception):
    """The URL could not be read (refused address, timeout, an error status, too large)."""


class NotADocument(Exception):
    """The URL answered an HTML page: the address of a viewer, not of the document."""


def sibling_fetcher() -> Callable[[str], bytes | None]:
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


def load_url(url: str, root: str | None) -> ParsedSpec:
    """The document at `url` (or the zip there, with `root`), parsed; raises Unreadable,
    NotADocument or SpecError, each naming the URL."""
    try:
        response = outbound.fetch(url, max_bytes=int(settings.APIS_MAX_SPEC_BYTES))
    except outbound.OutboundError as exc:
        raise Unreadable(f"{url}: {exc.message}") from None
    name = posixpath.basename(urlsplit(response.url or url).path) or "document"
    content_type = response.header("Content-Type").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml") or looks_like_html(response.body):
        raise NotADocument(
            f"{url}: the URL returned an HTML page, not an OpenAPI document; give the "
            "address of the raw JSON or YAML file"
        )
    bundle = bundle_for_bytes(response.body, name, root)
    if isinstance(bundle, SingleFile):
        # Its `$ref`s may name files beside it, as Swagger UI fetches them.
        bundle = UrlWithSiblings(response.url or url, response.body, sibling_fetcher())
    return load(bundle)

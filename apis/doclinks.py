"""Links written for Redoc, pointed at this portal's pages.

Specs written for Redoc link from one description to an operation, a tag or a heading of
the API's description as `#operation/<operationId>`, `#tag/<name>` and `#section/<Heading>`
(Docker's and many others); specs written for Redocly write an operation as
`#tag/<tag>/<METHOD>/<path>` or `#tag/<tag>/operation/<operationId>` and a heading as
`#description/<heading-slug>` (Lichess); specs written for RapiDoc write a tag as
`#tag--<name>`, the name's spaces and `#:?&={}` as `-` (VRChat). On our pages those fragments
name nothing; here they become links to the operation's page, to the tag's section of the API
page and to the heading there. An id that names no operation, or a heading the description
does not have, is left as written.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode

from apis.markdown import section_anchor
from apis.models import ApiVersion, Operation
from apis.navigation import operation_url, tag_anchor, tag_groups
from apis.reference import api_description

_LINK = re.compile(rb'href="#(operation|tag|section|description)/([^"]+)"')
_KINDS = ("operation", "tag", "section", "description")
# Redocly's operation links inside the tag one: `board/POST/api/board/game/{gameId}`.
_REDOCLY_OPERATION = re.compile(
    r"^[^/]+/(?:(get|put|post|delete|options|head|patch|trace|query)(/.*)|operation/(.+))$",
    re.IGNORECASE,
)
_HEADING_ID = re.compile(r'<h[2-6] id="([^"]+)">')
_RAPIDOC_TAG = re.compile(rb'href="#tag--([^"]+)"')
# The characters RapiDoc writes as `-` in a tag's element id (its invalidCharsRegEx).
_RAPIDOC_INVALID = re.compile(r"[\s#:?&={}]")


def point_redoc_links(html: bytes, api_slug: str, version: ApiVersion, label: str | None) -> bytes:
    """`html` with each Redoc-style in-page link replaced by the page it means."""
    if b'href="#tag--' in html:
        html = _point_rapidoc_tags(html, api_slug, version, label)
    if not any(f'href="#{kind}/'.encode() in html for kind in _KINDS):
        return html  # the common case: a few scans, nothing else
    found = {(kind, unquote(name.decode())) for kind, name in _LINK.findall(html)}
    redocly = {
        name: match
        for kind, name in found
        if kind == b"tag" and (match := _REDOCLY_OPERATION.match(name))
    }
    ids = [name for kind, name in found if kind == b"operation"]
    ids += [match[3] for match in redocly.values() if match[3]]
    slugs = dict(
        Operation.objects.filter(version_id=version.pk, operation_id__in=ids).values_list(
            "operation_id", "slug"
        )
    )
    paths = {match[2] for match in redocly.values() if match[2]}
    by_route = {}
    if paths:
        routes = Operation.objects.filter(version_id=version.pk, path__in=paths, kind="operation")
        by_route = {(m, p): slug for m, p, slug in routes.values_list("method", "path", "slug")}
    anchors = {}
    if any(kind == b"tag" for kind, _ in found):
        # The page's own ids: two tags may want the same one (navigation.tag_anchors).
        groups = tag_groups(version.pk, api_slug, version.overview, label)
        anchors = {group.name: group.anchor for group in groups}
    headings: set[str] = set()
    if any(kind in (b"section", b"description") for kind, _ in found):
        headings = set(_HEADING_ID.findall(api_description(version.overview)))
    page = reverse("apis:detail", args=[api_slug])
    query = f"?{urlencode({'v': label})}" if label else ""

    def target(match: re.Match[bytes]) -> bytes:
        kind, name = match[1], unquote(match[2].decode())
        if kind == b"tag" and name in redocly:
            method, path, operation_id = redocly[name].groups()
            slug = slugs.get(operation_id) if operation_id else by_route.get((method.lower(), path))
            if not slug:
                return match[0]
            url = operation_url(api_slug, slug, label)
        elif kind == b"tag":
            url = f"{page}{query}#{anchors.get(name) or tag_anchor(name)}"
        elif kind == b"section":
            # Redoc's nested headings read `#section/Parent/Child`: the last is the heading.
            anchor = section_anchor(name.rsplit("/", 1)[-1])
            if anchor not in headings:
                return match[0]
            url = f"{page}{query}#{anchor}"
        elif kind == b"description":
            # Redocly's heading links carry the heading's slug: ours is the same with a prefix.
            anchor = section_anchor(name)
            if anchor not in headings:
                return match[0]
            url = f"{page}{query}#{anchor}"
        elif name in slugs:
            url = operation_url(api_slug, slugs[name], label)
        else:
            return match[0]
        return f'href="{escape(url)}"'.encode()

    return _LINK.sub(target, html)


def _point_rapidoc_tags(
    html: bytes, api_slug: str, version: ApiVersion, label: str | None
) -> bytes:
    """RapiDoc's `#tag--<name>` links pointed at the tag's section of the API page."""
    groups = tag_groups(version.pk, api_slug, version.overview, label)
    anchors = {_RAPIDOC_INVALID.sub("-", group.name): group.anchor for group in groups}
    page = reverse("apis:detail", args=[api_slug])
    query = f"?{urlencode({'v': label})}" if label else ""

    def target(match: re.Match[bytes]) -> bytes:
        anchor = anchors.get(unquote(match[1].decode()))
        return f'href="{escape(f"{page}{query}#{anchor}")}"'.encode() if anchor else match[0]

    return _RAPIDOC_TAG.sub(target, html)

"""Links written for Redoc, pointed at this portal's pages.

Specs written for Redoc link from one description to an operation, a tag or a heading of
the API's description as `#operation/<operationId>`, `#tag/<name>` and `#section/<Heading>`
(Docker's and many others). On our pages those fragments name nothing; here they become links
to the operation's page, to the tag's section of the API page and to the heading there. An id
that names no operation, or a heading the description does not have, is left as written.
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

_LINK = re.compile(rb'href="#(operation|tag|section)/([^"]+)"')
_HEADING_ID = re.compile(r'<h[2-6] id="([^"]+)">')


def point_redoc_links(html: bytes, api_slug: str, version: ApiVersion, label: str | None) -> bytes:
    """`html` with each Redoc-style in-page link replaced by the page it means."""
    if not any(f'href="#{kind}/'.encode() in html for kind in ("operation", "tag", "section")):
        return html  # the common case: a few scans, nothing else
    found = {(kind, unquote(name.decode())) for kind, name in _LINK.findall(html)}
    ids = [name for kind, name in found if kind == b"operation"]
    slugs = dict(
        Operation.objects.filter(version_id=version.pk, operation_id__in=ids).values_list(
            "operation_id", "slug"
        )
    )
    anchors = {}
    if any(kind == b"tag" for kind, _ in found):
        # The page's own ids: two tags may want the same one (navigation.tag_anchors).
        groups = tag_groups(version.pk, api_slug, version.overview, label)
        anchors = {group.name: group.anchor for group in groups}
    headings: set[str] = set()
    if any(kind == b"section" for kind, _ in found):
        headings = set(_HEADING_ID.findall(api_description(version.overview)))
    page = reverse("apis:detail", args=[api_slug])
    query = f"?{urlencode({'v': label})}" if label else ""

    def target(match: re.Match[bytes]) -> bytes:
        kind, name = match[1], unquote(match[2].decode())
        if kind == b"tag":
            url = f"{page}{query}#{anchors.get(name) or tag_anchor(name)}"
        elif kind == b"section":
            # Redoc's nested headings read `#section/Parent/Child`: the last is the heading.
            anchor = section_anchor(name.rsplit("/", 1)[-1])
            if anchor not in headings:
                return match[0]
            url = f"{page}{query}#{anchor}"
        elif name in slugs:
            url = operation_url(api_slug, slugs[name], label)
        else:
            return match[0]
        return f'href="{escape(url)}"'.encode()

    return _LINK.sub(target, html)

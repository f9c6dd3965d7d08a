"""Links written for Redoc, pointed at this portal's pages.

Specs written for Redoc link from one description to an operation or a tag as
`#operation/<operationId>` and `#tag/<name>` (Docker's and many others). On our pages those
fragments name nothing; here they become links to the operation's page and to the tag's
section of the API page. An id that names no operation of the version is left as written.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode

from apis.models import ApiVersion, Operation
from apis.navigation import operation_url, tag_anchor, tag_groups

_LINK = re.compile(rb'href="#(operation|tag)/([^"]+)"')


def point_redoc_links(html: bytes, api_slug: str, version: ApiVersion, label: str | None) -> bytes:
    """`html` with each Redoc-style in-page link replaced by the page it means."""
    if b'href="#operation/' not in html and b'href="#tag/' not in html:
        return html  # the common case: one scan, nothing else
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
    page = reverse("apis:detail", args=[api_slug])
    query = f"?{urlencode({'v': label})}" if label else ""

    def target(match: re.Match[bytes]) -> bytes:
        kind, name = match[1], unquote(match[2].decode())
        if kind == b"tag":
            url = f"{page}{query}#{anchors.get(name) or tag_anchor(name)}"
        elif name in slugs:
            url = operation_url(api_slug, slugs[name], label)
        else:
            return match[0]
        return f'href="{escape(url)}"'.encode()

    return _LINK.sub(target, html)

"""The operations of a version grouped by tag, and the side navigation built from them.

Kubernetes has 1,123 operations, so the navigation is built once per version and process as
escaped HTML and reused by every page of that version; the current page is marked with a string
replacement rather than by re-rendering the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode

from apis.markdown import operation_title, render_markdown
from apis.models import Operation
from portal.lib.lru import LRU

UNTAGGED = "Other operations"
WEBHOOKS = "Webhooks"


@dataclass(frozen=True)
class OperationLink:
    slug: str
    kind: str
    method: str
    path: str
    summary: str
    deprecated: bool
    url: str


@dataclass(frozen=True)
class TagGroup:
    name: str
    description_html: str
    operations: tuple[OperationLink, ...]

    @property
    def anchor(self) -> str:
        return "tag-" + "".join(ch if ch.isalnum() else "-" for ch in self.name.lower())


_groups: LRU[tuple[TagGroup, ...]] = LRU(32)
_navs: LRU[str] = LRU(32)


def operation_url(api_slug: str, op_slug: str, version_label: str | None) -> str:
    # reverse() once per process, then string work: the first view of a Kubernetes page
    # builds 1,123 of these. Quoted as reverse() quotes (RFC 3986 sub-delims, / ~ : @ kept).
    prefix, middle, suffix = _operation_pattern()
    url = prefix + quote(api_slug, safe=_SAFE) + middle + quote(op_slug, safe=_SAFE) + suffix
    return f"{url}?{urlencode({'v': version_label})}" if version_label else url


_SAFE = "!$&'()*+,;=/~:@"


@cache
def _operation_pattern() -> tuple[str, str, str]:
    url = reverse("apis:operation", args=["api-slug-marker", "op-slug-marker"])
    prefix, _, rest = url.partition("api-slug-marker")
    middle, _, suffix = rest.partition("op-slug-marker")
    return prefix, middle, suffix


def tag_groups(
    version_id: int, api_slug: str, overview: dict[str, Any], version_label: str | None
) -> tuple[TagGroup, ...]:
    """Operations grouped by their first tag, in the order of the spec's `tags`, then webhooks."""
    key = (version_id, version_label or "")
    cached = _groups.get(key)
    if cached is not None:
        return cached
    rows = Operation.objects.filter(version_id=version_id).values_list(
        "slug", "kind", "method", "path", "summary", "tag", "deprecated", "operation_id"
    )
    by_tag: dict[str, list[OperationLink]] = {}
    for slug, kind, method, path, summary, tag, deprecated, operation_id in rows:
        group = WEBHOOKS if kind == Operation.KIND_WEBHOOK else (tag or UNTAGGED)
        link = OperationLink(
            slug, kind, method, path, operation_title(summary, operation_id), deprecated,
            operation_url(api_slug, slug, version_label),
        )  # fmt: skip
        by_tag.setdefault(group, []).append(link)
    declared = [t for t in overview.get("tags", []) if isinstance(t, dict) and "name" in t]
    order = [str(t["name"]) for t in declared]
    descriptions = {str(t["name"]): str(t.get("description") or "") for t in declared}
    names = [n for n in order if n in by_tag]
    names += sorted(n for n in by_tag if n not in names and n not in (UNTAGGED, WEBHOOKS))
    names += [n for n in (UNTAGGED, WEBHOOKS) if n in by_tag]
    groups = tuple(
        TagGroup(n, str(render_markdown(descriptions.get(n, ""))), tuple(by_tag[n])) for n in names
    )
    return _groups.set(key, groups)


def nav_html(groups: tuple[TagGroup, ...], version_id: int, version_label: str | None) -> str:
    key = (version_id, version_label or "")
    cached = _navs.get(key)
    if cached is None:
        parts = []
        for group in groups:
            links = "".join(
                f'<li data-filter="{escape((op.method + " " + op.path + " " + op.summary).lower())}">'
                f'<a href="{escape(op.url)}"{" class=deprecated" if op.deprecated else ""}>'
                f'<span class="method method-{escape(op.method)}">{escape(op.method.upper())}</span>'
                f'<span class="nav-label">{escape(op.summary or op.path)}</span></a></li>'
                for op in group.operations
            )
            parts.append(
                f'<li class="nav-group"><details open><summary>{escape(group.name)}'
                f' <span class="count">{len(group.operations)}</span></summary>'
                f"<ul>{links}</ul></details></li>"
            )
        cached = _navs.set(key, f'<ul class="nav-tree">{"".join(parts)}</ul>')
    return cached


def mark_current(nav: str, url: str) -> str:
    """The navigation with the link to `url` marked as the current page."""
    needle = f'<a href="{escape(url)}"'
    return nav.replace(needle, needle + ' aria-current="page"', 1)


def clear_cache() -> None:
    _groups.clear()
    _navs.clear()

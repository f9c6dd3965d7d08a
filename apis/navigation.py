"""The operations of a version grouped by tag, and the side navigation built from them.

Kubernetes has 1,123 operations and the browser's cost grows with DOM nodes, so the API page
lists each operation as one `<a>` whose method CSS draws from `data-m`, in blocks the browser
lays out only near the viewport (past the first screen), and the side navigation
starts with its groups folded: static/js/nav.js fetches a group's links from `apis:nav` when it
is opened, and without scripts a folded group links to its section of the API page, which lists
every operation. Only an operation page's own group is open from the start.

A document with Redoc's `x-tagGroups` has its groups listed under those groups' names, in their
order (_in_tag_sets); one without it renders exactly as it did before they were read.

The markup is built once per version and process as escaped HTML and reused by every page of
that version; the current page is marked with a string replacement rather than re-rendered.
It is escaped with the standard library's `html.escape`, which Django's `escape` calls behind
a lazy-text check that cost five times as much (90,000 calls at 9,000 tags).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from html import escape
from typing import Any
from urllib.parse import quote

from django.urls import reverse
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

    @property
    def filter_text(self) -> str:
        return f"{self.method} {self.path} {self.summary} {self.slug}".lower()


@dataclass(frozen=True)
class TagSet:
    """One of Redoc's `x-tagGroups`: a heading over some tags (Mattermost has 40 tags in 8)."""

    index: int  # in the page's order, from 0
    name: str
    anchor: str  # the id of its section on the API page


@dataclass(frozen=True)
class TagGroup:
    name: str
    operations: tuple[OperationLink, ...]
    anchor: str  # the id of its section on the API page, unique on the page (tag_anchors)
    # The side navigation's list: the summary, else the path.
    nav_list_html: str = field(default="", repr=False)
    # What readers see: OpenAPI 3.2's tag `summary` where the spec gives one, after its
    # `parent`'s ("Pets › Adoption"); else the name.
    title: str = ""
    # The tag's description (Markdown), the operations listed ahead of this group on the API
    # page, and that page's path: what its section is built from.
    description: str = field(default="", repr=False)
    before: int = 0
    page: str = ""
    # The group of tags of the document's `x-tagGroups` it is listed in, if any, and whether
    # it is that group's first and last tag.
    tag_set: TagSet | None = None
    set_first: bool = False
    set_last: bool = False

    @property
    def heading(self) -> str:
        return self.title or self.name

    @cached_property
    def section_html(self) -> str:
        """The API page's section for this group: its heading, description and operations
        (path and summary). Built once per version, on the API page's first view: the template
        loop it replaces cost ~5 ms a view, and only that page shows a tag's description
        (OpenProject's 53 hold Markdown tables: 0.25 s of each operation page's first view)."""
        description = str(render_markdown(self.description))
        level = 3 if self.tag_set is None else 4
        html = _section_html(
            self.heading, self.anchor, description, self.operations, self.before, self.page, level
        )
        if self.tag_set is None:
            return html
        if self.set_first:
            anchor = self.tag_set.anchor
            html = (
                f'<section class="tag-set" id="{anchor}"><h3><a class="anchor" href="#{anchor}">'
                f"{escape(self.tag_set.name)}</a></h3>{html}"
            )
        return html + "</section>" if self.set_last else html


def tag_anchor(name: str) -> str:
    """The id a tag's section would like (letters and digits, the rest `-`)."""
    return "tag-" + "".join(ch if ch.isalnum() else "-" for ch in name.lower())


def tag_anchors(names: list[str]) -> dict[str, str]:
    """Each group's section id, in page order: "Pet store" and "pet-store" would both like
    `tag-pet-store`, so the second gets `tag-pet-store-2`."""
    return dict(zip(names, _unique([tag_anchor(name) for name in names]), strict=True))


def _unique(anchors: list[str]) -> list[str]:
    taken: set[str] = set()
    unique = []
    for base in anchors:
        anchor = base
        n = 1
        while anchor in taken:
            n += 1
            anchor = f"{base}-{n}"
        taken.add(anchor)
        unique.append(anchor)
    return unique


_groups: LRU[tuple[TagGroup, ...]] = LRU(32)
_navs: LRU[tuple[str, ...]] = LRU(32)
_tocs: LRU[str] = LRU(32)


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


def _link(op: OperationLink, label: str, extra: str = "", page: str = "", title: str = "") -> str:
    """An operation's link; on the API page (`page`, its path) relative to it: Kubernetes'
    1,123 links are 18 KB shorter, which the browser parses before the list is whole."""
    cls = ' class="deprecated"' if op.deprecated else ""
    url = f"./{op.url[len(page) :]}" if page and op.url.startswith(page) else op.url
    tip = f' title="{escape(title)}"' if title else ""
    return (
        f'<a href="{escape(url)}" data-m="{escape(op.method)}"{tip}{cls}>{escape(label)}{extra}</a>'
    )


# The API page lists operations in blocks of BLOCK links. Blocks after the first
# FIRST_SCREEN operations of the page are "later" (CSS `content-visibility: auto`): the browser
# lays them out only when they near the viewport. Not every block: Chromium lays a page out
# with all such blocks skipped, finds which are on screen, then styles and lays out again, and
# a long page arrives in several parts, each painted; with the first screen never skipped that
# is one pass per part. Not whole tag groups: Kubernetes' first group alone has 248 operations.
BLOCK = 25
FIRST_SCREEN = 40  # operations a tall screen shows (about 30 rows fit in 1,300 px)


def _section_html(
    title: str,
    anchor: str,
    description: str,
    ops: tuple[OperationLink, ...],
    before: int,
    page: str,
    level: int = 3,
) -> str:
    """A group's section of the API page (at `page`), `before` operations listed ahead; its
    heading an <h4> under an x-tagGroup's <h3>."""
    about = f'<div class="md" hx-disable>{description}</div>' if description else ""
    return (
        f'<section class="tag-group" id="{anchor}"><h{level}><a class="anchor" href="#{anchor}">'
        f"{escape(title)}</a></h{level}>{about}"
        f'<div class="op-list">{_list_html(ops, before, page)}</div></section>'
    )


def _list_html(ops: tuple[OperationLink, ...], before: int, page: str) -> str:
    blocks = []
    for start in range(0, len(ops), BLOCK):
        block = ops[start : start + BLOCK]
        later = " later" if before + start >= FIRST_SCREEN else ""
        # No <li> per operation: a block link is one element, a list item two and a marker.
        links = "".join(
            _link(op, op.path, f"<span>{escape(op.summary)}</span>" if op.summary else "", page)
            for op in block
        )
        # Its row count sizes a skipped block (portal.css), so a reader scrolled to a group
        # stays on it once the blocks around it are drawn.
        blocks.append(f'<div class="op-block{later}" data-rows="{len(block)}">{links}</div>')
    return "".join(blocks)


def _nav_list_html(ops: tuple[OperationLink, ...]) -> str:
    # The side bar cuts a long name with an ellipsis; the title tells the whole route.
    return "".join(
        f"<li>{_link(op, op.summary or op.path, title=f'{op.method.upper()} {op.path}')}</li>"
        for op in ops
    )


def tag_groups(
    version_id: int, api_slug: str, overview: dict[str, Any], version_label: str | None
) -> tuple[TagGroup, ...]:
    """Operations grouped by their first tag, in the order of the spec's `tags`, then webhooks
    by theirs, then the untagged webhooks."""
    # The slug too: it is editable, and the links carry it.
    key = (version_id, api_slug, version_label or "")
    cached = _groups.get(key)
    if cached is not None:
        return cached
    rows = Operation.objects.filter(version_id=version_id).values_list(
        "slug", "kind", "method", "path", "summary", "tag", "deprecated", "operation_id"
    )
    by_tag: dict[str, list[OperationLink]] = {}
    hooks: list[OperationLink] = []
    hooks_by_tag: dict[str, list[OperationLink]] = {}
    for slug, kind, method, path, summary, tag, deprecated, operation_id in rows:
        link = OperationLink(
            slug, kind, method, path, operation_title(summary, operation_id), deprecated,
            operation_url(api_slug, slug, version_label),
        )  # fmt: skip
        if kind == Operation.KIND_WEBHOOK:
            (hooks_by_tag.setdefault(tag, []) if tag else hooks).append(link)
        else:
            by_tag.setdefault(tag or UNTAGGED, []).append(link)
    declared = [t for t in overview.get("tags", []) if isinstance(t, dict) and "name" in t]
    order = list(dict.fromkeys(str(t["name"]) for t in declared))
    descriptions = {str(t["name"]): str(t.get("description") or "") for t in declared}
    titles = _tag_titles(declared)
    names = _parents_first([n for n in order if n in by_tag], declared)
    # A set to look names up in: Microsoft Graph has thousands of tags, and a list made this
    # quadratic (about 0.3 s of the first view of each page at 9,000 tags).
    placed = set(names)
    names += sorted(n for n in by_tag if n not in placed and n != UNTAGGED)
    names += [UNTAGGED] if UNTAGGED in by_tag and UNTAGGED not in placed else []
    # The tag each group lists (x-tagGroups name tags): the untagged have none.
    tag_of = {name: name for name in names if name != UNTAGGED or name in placed}
    # Tagged webhooks: a group per tag, after the operations and never mixed with them
    # (Resend tags endpoints "Webhooks"), titled "Webhooks › tag" so they read as webhooks.
    hook_tags = [n for n in order if n in hooks_by_tag]
    hooked = set(hook_tags)
    hook_tags += sorted(n for n in hooks_by_tag if n not in hooked)
    # Named for the tag (its anchor, where a `#tag/` link lands) unless operations have it.
    for tag in hook_tags:
        name = tag if tag not in by_tag else f"{WEBHOOKS}/{tag}"
        by_tag[name] = hooks_by_tag[tag]
        names.append(name)
        tag_of[name] = tag
        title = titles.get(tag, tag)
        # "Webhook Events" says what it holds already: not "Webhooks › Webhook Events".
        titles[name] = title if "webhook" in title.lower() else f"{WEBHOOKS} › {title}"
        descriptions[name] = descriptions.get(tag, "") if name == tag else ""
    if hooks:
        # Their own group, under a name no tag's anchor has: Resend tags five endpoints
        # "Webhooks", and both groups were one, listed twice under one id.
        taken = {tag_anchor(n) for n in names}
        candidates = (WEBHOOKS, "Webhook events", f"{WEBHOOKS} ({len(hooks)})")
        hook_group = next((n for n in candidates if tag_anchor(n) not in taken), candidates[-1])
        by_tag[hook_group] = hooks
        names.append(hook_group)
    names, set_of, set_names = _in_tag_sets(names, tag_of, overview.get("tagGroups"))
    anchors = tag_anchors(names)
    # An x-tagGroup's section on the API page: `group-people` ("tag-" is a tag's).
    set_anchors = _unique(["group-" + tag_anchor(t)[4:] for t in set_names])
    tag_sets = [TagSet(i, *at) for i, at in enumerate(zip(set_names, set_anchors, strict=True))]
    page = reverse("apis:detail", args=[api_slug])
    groups = []
    before = 0
    for i, name in enumerate(names):
        ops = tuple(by_tag[name])
        at = set_of.get(name)
        groups.append(
            TagGroup(
                name, ops, anchors[name], _nav_list_html(ops), titles.get(name, name),
                descriptions.get(name, ""), before, page,
                None if at is None else tag_sets[at],
                at is not None and (i == 0 or set_of.get(names[i - 1]) != at),
                at is not None and (i + 1 == len(names) or set_of.get(names[i + 1]) != at),
            )
        )  # fmt: skip
        before += len(ops)
    return _groups.set(key, tuple(groups))


OTHER_TAGS = ("Other", "Ungrouped", "Other tags")


def _in_tag_sets(
    names: list[str], tag_of: dict[str, str], declared: Any
) -> tuple[list[str], dict[str, int], list[str]]:
    """The groups in the order of the document's `x-tagGroups` (as stored at import: a list
    of `{name, tags}`), the index of each group's set and the sets' names. Each set's tags in its
    order, a tag listed twice in the first set that lists it, unknown tags ignored, sets with no
    operations left out. Redoc hides the tags no set lists; here they follow, in their order,
    under "Other", so no operation is lost. Without sets the order is unchanged."""
    if not isinstance(declared, list) or not declared:
        return names, {}, []
    by_tag: dict[str, list[str]] = {}
    for name in names:
        if name in tag_of:
            by_tag.setdefault(tag_of[name], []).append(name)
    order: list[str] = []
    set_of: dict[str, int] = {}
    titles: list[str] = []
    for entry in declared:
        title = entry.get("name") if isinstance(entry, dict) else None
        tags = entry.get("tags") if isinstance(entry, dict) else None
        if not isinstance(title, str) or not isinstance(tags, list):
            continue
        # A tag is listed once: its groups leave by_tag with it.
        members = [n for tag in tags if isinstance(tag, str) for n in by_tag.pop(tag, ())]
        if members:
            set_of.update(dict.fromkeys(members, len(titles)))
            titles.append(title)
            order += members
    if not set_of:
        return names, {}, []
    rest = [n for n in names if n not in set_of]
    if rest:
        taken = {t.lower() for t in titles}
        set_of.update(dict.fromkeys(rest, len(titles)))
        titles.append(next((t for t in OTHER_TAGS if t.lower() not in taken), OTHER_TAGS[-1]))
        order += rest
    return order, set_of, titles


def _tag_titles(declared: list[dict[str, Any]]) -> dict[str, str]:
    """Each declared tag's title: its 3.2 `summary` (else its name), after its parents'."""
    by_name = {str(t["name"]): t for t in declared}

    def own(name: str) -> str:
        summary = by_name[name].get("summary")
        return summary.strip() if isinstance(summary, str) and summary.strip() else name

    titles = {}
    for name in by_name:
        parts, seen, at = [own(name)], {name}, name
        # A parent chain the spec may have made a loop of; a few levels at most are shown.
        while len(parts) < 4:
            parent = by_name[at].get("parent")
            if not isinstance(parent, str) or parent not in by_name or parent in seen:
                break
            parts.insert(0, own(parent))
            seen.add(parent)
            at = parent
        titles[name] = " › ".join(parts)
    return titles


def _parents_first(names: list[str], declared: list[dict[str, Any]]) -> list[str]:
    """The groups in the spec's order, each child tag moved to follow its parent's family."""
    parent_of = {str(t["name"]): t["parent"] for t in declared if isinstance(t.get("parent"), str)}
    present = set(names)
    children: dict[str, list[str]] = {}
    roots = []
    for name in names:
        parent = parent_of.get(name)
        if parent in present and parent != name:
            children.setdefault(parent, []).append(name)
        else:
            roots.append(name)
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        placed.add(name)
        ordered.append(name)
        for child in children.get(name, []):
            place(child)

    for name in roots:
        place(name)
    ordered += [n for n in names if n not in placed]  # a parent loop with no root
    return ordered


def _query(version_label: str | None, **params: str | int) -> str:
    items = {**({"v": version_label} if version_label else {}), **params}
    return f"?{urlencode(items)}" if items else ""


def _summary(group: TagGroup, shown: int | None = None) -> str:
    count = len(group.operations) if shown is None else f"{shown} of {len(group.operations)}"
    return f'<summary>{escape(group.heading)} <span class="count">{count}</span></summary>'


def _in_sets_html(
    groups: tuple[TagGroup, ...], items: Iterable[tuple[int, str]], fold: bool = False
) -> str:
    """The navigation's items (each a group's index and its <li>), those of each x-tagGroup in a
    list labelled with its name; without x-tagGroups the items as they are. Where the tags fold
    (`fold`: an operation page, the filter) so does the x-tagGroup, open at first; the API
    page's table of contents folds nothing (_contents says why)."""
    tag, end = ("summary", "</ul></details></li>") if fold else ("span", "</ul></li>")
    parts = []
    open_set: TagSet | None = None
    for i, item in items:
        tag_set = groups[i].tag_set
        if tag_set is not open_set:
            if open_set is not None:
                parts.append(end)
            open_set = tag_set
            if tag_set is not None:
                label = f"nav-s-{tag_set.index}"
                parts.append(
                    f'<li class="nav-section">{"<details open>" if fold else ""}<{tag} '
                    f'class="nav-section-name" id="{label}">{escape(tag_set.name)}</{tag}>'
                    f'<ul class="nav-section-tags" aria-labelledby="{label}">'
                )
        parts.append(item)
    if open_set is not None:
        parts.append(end)
    return "".join(parts)


def _folded_groups(
    groups: tuple[TagGroup, ...], api_slug: str, version_label: str | None
) -> tuple[str, ...]:
    """Each group folded: opening it fetches its links; without scripts a link to its section."""
    page = reverse("apis:detail", args=[api_slug]) + _query(version_label)
    return tuple(
        f'<li class="nav-group"><details data-g="{i}">{_summary(group)}'
        f'<a class="nav-more" href="{escape(page)}#{group.anchor}">All operations of this group</a>'
        "</details></li>"
        for i, group in enumerate(groups)
    )


def _contents(groups: tuple[TagGroup, ...], api_slug: str, version_label: str | None) -> str:
    """The API page's navigation: its table of contents, each group a link to its section.

    The page lists every operation already, so nothing unfolds here: a <details> a group (its
    shadow tree and marker) cost about 11 ms of the browser's layout on Kubernetes' 64 groups,
    before the page's first paint."""
    page = escape(reverse("apis:detail", args=[api_slug]) + _query(version_label))
    return _in_sets_html(
        groups,
        (
            (i, f'<li class="nav-group"><a class="nav-toc" href="{page}#{group.anchor}">'
                f'{escape(group.heading)} <span class="count">{len(group.operations)}</span></a></li>')
            for i, group in enumerate(groups)
        ),
    )  # fmt: skip


def _open_group(group: TagGroup, html: str | None = None, shown: int | None = None) -> str:
    return (
        f'<li class="nav-group"><details open>{_summary(group, shown)}'
        f'<ul class="nav-ops">{group.nav_list_html if html is None else html}</ul></details></li>'
    )


# An operation page lists at most NAV_GROUPS groups, those around its own: at 9,000 tags
# (Microsoft Graph) all of them were 2 MB and 45,000 elements on every page, 1.8 s before the
# browser had read it. The filter finds any operation, and the API page's table of contents
# lists every group.
NAV_GROUPS = 100
# The filter lists at most FILTER_MAX operations: a word every operation holds ("get") opened
# every group.
FILTER_MAX = 300


def nav_html(
    groups: tuple[TagGroup, ...],
    version_id: int,
    api_slug: str,
    version_label: str | None,
    current: OperationLink | None = None,
) -> str:
    """The side navigation: on the API page (no `current`) its table of contents; on an
    operation page the groups folded, the operation's open and the page marked."""
    # The slug too: it is editable, and the links carry it.
    key = (version_id, api_slug, version_label or "")
    if current is None:
        contents = _tocs.get_or_compute(key, lambda: _contents(groups, api_slug, version_label))
        return f'<ul class="nav-tree" id="nav-tree">{contents}</ul>'
    folded = _navs.get(key)
    if folded is None:
        folded = _navs.set(key, _folded_groups(groups, api_slug, version_label))
    at = next((i for i, group in enumerate(groups) if current in group.operations), None)
    start = max(0, min((at or 0) - NAV_GROUPS // 2, len(groups) - NAV_GROUPS))
    end = start + NAV_GROUPS
    items = list(enumerate(folded[start:end], start))
    if at is not None:
        items[at - start] = (at, mark_current(_open_group(groups[at]), current.url))
    parts = [_in_sets_html(groups, items, fold=True)]
    toc = reverse("apis:detail", args=[api_slug]) + _query(version_label) + "#nav-tree"
    if start:
        parts.insert(0, _more_groups(start, toc))
    if end < len(groups):
        parts.append(_more_groups(len(groups) - end, toc))
    return f'<ul class="nav-tree" id="nav-tree">{"".join(parts)}</ul>'


def _more_groups(count: int, toc: str) -> str:
    label = f"{count:,} more group{'' if count == 1 else 's'}"
    return (
        f'<li class="nav-group"><a class="nav-toc nav-skip" href="{escape(toc)}">{label}</a></li>'
    )


def group_links(group: TagGroup) -> str:
    """The links of one group, which replace its `.nav-more` link when it is opened."""
    return f'<ul class="nav-ops">{group.nav_list_html}</ul>'


def filtered_nav(groups: tuple[TagGroup, ...], terms: list[str], current_url: str = "") -> str:
    """The navigation of the operations whose method, path, summary or id hold every term,
    the first FILTER_MAX of them."""
    items = []
    listed = matched = 0
    for i, group in enumerate(groups):
        found = tuple(op for op in group.operations if all(t in op.filter_text for t in terms))
        matched += len(found)
        room = FILTER_MAX - listed
        if found and room > 0:
            items.append((i, _open_group(group, _nav_list_html(found[:room]), len(found))))
            listed += min(len(found), room)
    if not items:
        return '<ul class="nav-tree" id="nav-tree"><li class="muted nav-none">No operation matches.</li></ul>'
    parts = [_in_sets_html(groups, items, fold=True)]
    if matched > listed:
        parts.insert(
            0,
            f'<li class="muted nav-none">The first {listed:,} of {matched:,} operations that '
            "match: add words to narrow it.</li>",
        )
    html = f'<ul class="nav-tree" id="nav-tree">{"".join(parts)}</ul>'
    return mark_current(html, current_url) if current_url else html


def find_operation(groups: tuple[TagGroup, ...], slug: str) -> OperationLink | None:
    return next((op for g in groups for op in g.operations if op.slug == slug), None)


def mark_current(nav: str, url: str) -> str:
    """The navigation with the link to `url` marked as the current page."""
    needle = f'<a href="{escape(url)}"'
    return nav.replace(needle, needle + ' aria-current="page"', 1)


def clear_cache() -> None:
    _groups.clear()
    _navs.clear()
    _tocs.clear()

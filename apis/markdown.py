"""CommonMark from specs, rendered safe.

Spec text is untrusted (SECURITY.md cases 40 to 43): markdown-it-py turns it into HTML, raw
HTML included (real specs write `<br>`, `<ul><li>` and `<a href>` in descriptions, as Redoc
and Swagger UI render them), then nh3 keeps only our tags (others go, their text stays;
`<script>` and `<style>` go with their content), drops every attribute we did not list (so no
event handlers and no `hx-*`), and keeps links only for https (without userinfo) and mailto.
Images are not allowed at all: a spec must not make the reader's browser fetch a remote
resource.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import unescape
from typing import Any
from urllib.parse import unquote, urlsplit

import nh3
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

_md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])

# Every element name of HTML (with the obsolete ones browsers still parse), SVG and MathML's
# roots. A "tag" of any other name in a description is the author's placeholder, not markup:
# Vault writes `<oid>;UTF8:<utf8 string value>`, others `Bearer <token>`; CommonMark reads
# them as raw HTML, which nh3 then dropped with nothing left, so the page said `;UTF8:`.
HTML_ELEMENTS = frozenset({
    "a", "abbr", "acronym", "address", "applet", "area", "article", "aside", "audio", "b", "base",
    "basefont", "bdi", "bdo", "bgsound", "big", "blink", "blockquote", "body", "br", "button",
    "canvas", "caption", "center", "cite", "code", "col", "colgroup", "data", "datalist", "dd",
    "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em", "embed", "fieldset",
    "figcaption", "figure", "font", "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4",
    "h5", "h6", "head", "header", "hgroup", "hr", "html", "i", "iframe", "image", "img", "input",
    "ins", "isindex", "kbd", "keygen", "label", "legend", "li", "link", "listing", "main", "map",
    "mark", "marquee", "math", "menu", "menuitem", "meta", "meter", "multicol", "nav", "nextid",
    "nobr", "noembed", "noframes", "noscript", "object", "ol", "optgroup", "option", "output", "p",
    "param", "picture", "plaintext", "pre", "progress", "q", "rb", "rp", "rt", "rtc", "ruby", "s",
    "samp", "script", "search", "section", "select", "slot", "small", "source", "spacer", "span",
    "strike", "strong", "style", "sub", "summary", "sup", "svg", "table", "tbody", "td",
    "template", "textarea", "tfoot", "th", "thead", "time", "title", "tr", "track", "tt", "u",
    "ul", "var", "video", "wbr", "xmp",
})  # fmt: skip
# Group 3: the tag goes on with an attribute written `name="value"` (or 'value').
_TAG_OPEN = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9-]*)(?=(\s+[A-Za-z_:][-\w:.]*\s*=\s*["'])?)""")


def _placeholders_as_text(html: str, custom: set[str] | None = None) -> str:
    """Raw HTML from a description with each tag of no HTML element's name written as text,
    but for a custom element (a hyphen in its name, as the web's require) opened with an
    attribute, and its closing tag: a site's component (solved.ac's `<solved-icon
    type="solve-tier:1">`), markup that nh3 drops as it drops other unknown markup.
    `custom` keeps the names met so, from one tag of a description to the next."""
    custom = set() if custom is None else custom

    def tag(match: re.Match[str]) -> str:
        name = match[2].lower()
        if "-" in name and match[3] and not match[1]:
            custom.add(name)
        known = name in HTML_ELEMENTS or name in custom
        return match[0] if known else f"&lt;{match[1]}{match[2]}"

    return _TAG_OPEN.sub(tag, html)


def _raw_html(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    custom = env.setdefault("custom_elements", set()) if isinstance(env, dict) else None
    return _placeholders_as_text(_relative_anchors(tokens[idx].content, env), custom)


_md.add_render_rule("html_inline", _raw_html)
_md.add_render_rule("html_block", _raw_html)

_ANCHOR_OPEN = re.compile(r"""<a\s(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_ANCHOR_HREF = re.compile(r"""\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_ANCHOR_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
_ANCHOR_TAG = re.compile(f"{_ANCHOR_OPEN.pattern}|{_ANCHOR_CLOSE.pattern}", re.IGNORECASE)


def _relative_anchors(html: str, env: Any) -> str:
    """Raw `<a href="/docs/y">text</a>` read as a Markdown link to the same: its text, then
    the reference in code (_link_close). An inline tag comes alone (the stack in `env`
    pairs it with its `</a>`); a block carries both."""
    if "<a" not in html.lower() and "</a" not in html.lower():
        return html

    def tag(match: re.Match[str]) -> str:
        stack = env.setdefault("links", [])
        if _ANCHOR_CLOSE.fullmatch(match[0]):
            href = stack.pop() if stack else None
            return match[0] if href is None else f" (<code>{escapeHtml(unquote(href))}</code>)"
        found = _ANCHOR_HREF.search(match[0])
        href = unescape(next((g for g in found.groups() if g is not None), "")) if found else ""
        relative = _relative_path(href)
        stack.append(href if relative else None)
        return "" if relative else match[0]

    return _ANCHOR_TAG.sub(tag, html)


# A relative reference (RFC 3986 4.2) with a path: `/docs/auth`, `guides/x`, `../y`; no
# scheme (a colon before the first `/`, `?` or `#`), not `//host` nor an in-page `#anchor`.
_RELATIVE_PATH = re.compile(r"(?!//)[^:/?#]*(?:[/?][^#]*)?(?:#.*)?")


def _relative_path(href: str) -> bool:
    return bool(href) and not href.startswith("#") and _RELATIVE_PATH.fullmatch(href) is not None


def _link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    # A link relative to where the spec was published (`[the guide](/docs/auth)`) would lead
    # to a page of this portal, which has none such; nh3 drops its href and the reader lost
    # where it went. Its text stays, followed by the reference as written (_link_close).
    href = str(tokens[idx].attrGet("href") or "")
    relative = _relative_path(href)
    env.setdefault("links", []).append(href if relative else None)
    return "" if relative else self.renderToken(tokens, idx, options, env)


def _link_close(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    opened = env.get("links") or [None]
    href = opened.pop()
    if href is None:
        return self.renderToken(tokens, idx, options, env)
    return f" (<code>{escapeHtml(unquote(href))}</code>)"


_md.add_render_rule("link_open", _link_open)
_md.add_render_rule("link_close", _link_close)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"align", "class"},
    "td": {"align", "class"},
}
SAFE_SCHEMES = {"https", "mailto"}
# A table column's alignment as a class (portal.css), not markdown-it's style attribute:
# the CSP allows no inline style, so that was refused, and reported, on every such table.
_ALIGN_STYLE = re.compile(r'<(th|td) style="text-align:(left|center|right)">')
_ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    # nh3 keeps relative URLs, and `java%09script:` is one; keep only absolute https/mailto
    # links and in-page anchors.
    if attribute == "href":
        return value if value.startswith("#") or safe_url(value) else None
    if attribute == "class":  # only ours: a spec's own classes could borrow our styles
        return value if value in _ALIGN_CLASSES else None
    return value


# One line of words and harmless punctuation, starting with a letter: CommonMark makes it a
# paragraph of the same text, so markdown-it and nh3 (about 130 µs together) are skipped. Tag
# descriptions are mostly such lines: at 9,000 tags they were most of an API's first view.
_PLAIN = re.compile(r"[^\W\d_](?:[^\W_]|[ ,;:'\"?()/%$@.-])*(?<! )")


# The most of one description rendered: nh3 on deeply nested raw HTML and markdown-it on a
# paragraph of many lines grow faster than the text (200 KB of `<div>`: 5.6 s), and a page
# may show many descriptions. Real descriptions stay far below; the rest is left out.
MAX_MARKDOWN_CHARS = 100_000
_CUT_NOTE = '<p class="muted">(The description is cut here: it is over 100,000 characters.)</p>\n'


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> SafeString:
    """CommonMark to sanitised HTML; cached because specs repeat descriptions a lot."""
    if not text:
        return mark_safe("")
    if _PLAIN.fullmatch(text):
        return mark_safe(f"<p>{text}</p>\n")  # noqa: S308 - no markup character in it
    cut = len(text) > MAX_MARKDOWN_CHARS
    source = text[:MAX_MARKDOWN_CHARS] if cut else text
    html = _ALIGN_STYLE.sub(r'<\1 class="align-\2">', _md.render(source))
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=SAFE_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_filter_attribute,
    )
    return mark_safe(_outline(cleaned) + (_CUT_NOTE if cut else ""))  # noqa: S308 - nh3 output


_HEADING = re.compile(r"<(/?)h([1-6])>")


def _outline(html: str) -> str:
    """A description's headings renumbered from h2 without gaps (`#` and `###` become h2 and
    h3): a spec's `# Title` made a second h1 on the page and its jumps skipped levels, which
    screen readers and axe's heading order report. h2 sits under any heading of our pages."""
    levels = sorted({int(level) for _, level in _HEADING.findall(html)})
    if not levels:
        return html
    mapped = {level: min(2 + i, 6) for i, level in enumerate(levels)}
    return _HEADING.sub(lambda m: f"<{m[1]}h{mapped[int(m[2])]}>", html)


_OUTLINED = re.compile(r"<h([2-6])>(.*?)</h\1>", re.S)


def section_anchor(name: str) -> str:
    """The id of an API description's heading `name` on the API page; also the target of a
    Redoc link to it (`#section/Registry-auth`, Redoc's heading with dashes for spaces)."""
    slug = slugify(unescape(strip_tags(name)))
    return f"section-{slug}" if slug else ""


@lru_cache(maxsize=256)
def with_section_ids(html: SafeString) -> SafeString:
    """The rendered API description with an id on each heading (`section-errors`, then
    `section-errors-2`), so Redoc's `#section/...` links have somewhere to lead. Only the API
    page's description: one page holds many descriptions, each free to repeat a heading."""
    taken: set[str] = set()

    def heading(match: re.Match[str]) -> str:
        anchor = section_anchor(match[2])
        if not anchor:
            return match[0]
        unique, n = anchor, 1
        while unique in taken:
            n += 1
            unique = f"{anchor}-{n}"
        taken.add(unique)
        return f'<h{match[1]} id="{unique}">{match[2]}</h{match[1]}>'

    return mark_safe(_OUTLINED.sub(heading, html))  # noqa: S308 - ids made by slugify


def plain_excerpt(text: str, limit: int = 300) -> str:
    """The first paragraph of a Markdown text as plain text (unescaped: its users escape it),
    for titles, cards and meta tags."""
    first = text.strip().split("\n\n", 1)[0]
    plain = " ".join(unescape(strip_tags(str(render_markdown(first)))).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


_MARKUP = set("*_`[]#<>&\\\n")


def operation_title(summary: str, operation_id: str = "", limit: int = 100) -> str:
    """A short plain-text title for an operation.

    The summary when it is one plain line; OpenAI writes paragraphs of Markdown there, so a
    long or rich summary gives way to the operationId in words (`createChatCompletion` ->
    `Create chat completion`), and only without one to the summary's plain excerpt.
    """
    if len(summary) <= limit and not _MARKUP.intersection(summary):
        return summary
    return id_words(operation_id) or plain_excerpt(summary, limit)


def id_words(operation_id: str) -> str:
    """An operationId in words: `createChatCompletion` -> `Create chat completion`."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_\-.]+", " ", operation_id[:200]).split()
    return " ".join([words[0].capitalize(), *(w.lower() for w in words[1:])]) if words else ""


# An `@` (userinfo) or a backslash in the authority, before any `/`, `?` or `#`.
_HIDDEN_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*[@\\]", re.IGNORECASE)


def hides_its_host(url: str) -> bool:
    """`https://docs.example.com@evil.example/` shows one host and goes to another; so does a
    backslash in the authority, which browsers read as a slash and Python does not
    (`https://example.com\\@evil.example/`): the two would disagree on the host."""
    return _HIDDEN_HOST.match(url) is not None


def safe_url(value: object) -> str | None:
    """The URL if it is an absolute https or mailto URL, else None (case 43); never one that
    `hides_its_host`."""
    if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() == "https" and parts.netloc:
        return None if hides_its_host(value) else value
    if parts.scheme.lower() == "mailto" and parts.path:
        return value
    return None

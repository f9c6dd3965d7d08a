from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.utils.html import strip_tags

from apis.markdown import operation_title, plain_excerpt, render_markdown, safe_url


class _Elements(HTMLParser):
    """Collects the elements and attributes a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def test_commonmark_is_rendered() -> None:
    html = render_markdown("# Title\n\nSome **bold** text and `code`.\n\n- one\n- two")
    assert "<h2>Title</h2>" in html  # under the page's own h1
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<svg onload=alert(1)>",
        '<iframe src="https://evil.example"></iframe>',
        '<form action="https://evil.example"><input name=x></form>',
        "<style>@import 'https://evil.example/x.css';</style>",
    ],
)
def test_case40_raw_html_is_inert(source: str) -> None:
    """SECURITY.md case 40: tags from the spec come out as text, never as elements."""
    found = elements(render_markdown(f"Before\n\n{source}\n\nAfter"))
    assert found.tags <= {"p"}
    assert not {a for a in found.attributes if a.startswith("on")}


def test_html_that_specs_write_in_descriptions_is_rendered_not_shown_as_text() -> None:
    # Spotify, Okta and PagerDuty write HTML in their descriptions; it showed as literal
    # `<br/>` and `<a href=...>` text on hundreds of pages.
    html = render_markdown(
        'Line one<br/>line two. See <a href="https://example.com/x" onclick="steal()">docs</a>.'
        '\n\n<ul><li>first</li><li>second</li></ul>\n\n<div style="color:red">boxed</div>'
        '\n\n<a href="javascript:alert(1)">bad</a> <span hx-get="/x">ok</span>'
    )
    found = elements(html)
    assert {"br", "a", "ul", "li"} <= found.tags and "&lt;" not in html
    assert 'href="https://example.com/x"' in html and "onclick" not in html
    assert "boxed" in html and "div" not in found.tags and "style" not in found.attributes
    assert "javascript" not in html and "hx-get" not in html and "ok" in html


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        # Vault's pki other_sans: the page said "with the format ;UTF8: for each entry".
        (
            "The format <oid>;UTF8:<utf8 string value> per entry.",
            "&lt;oid&gt;;UTF8:&lt;utf8 string value&gt;",
        ),
        ("Send Authorization: Bearer <your-api-token>.", "Bearer &lt;your-api-token&gt;."),
        (
            "A list of <Pet> objects, closed by </Pet>.",
            "&lt;Pet&gt; objects, closed by &lt;/Pet&gt;",
        ),
        ("<token>\n\nOn a line of its own.", "&lt;token&gt;"),
    ],
)
def test_a_placeholder_in_angle_brackets_is_text_not_a_dropped_tag(source: str, shown: str) -> None:
    """A "tag" no HTML element is named after is the author's placeholder: shown, escaped."""
    html = render_markdown(source)
    assert shown in html
    assert elements(html).tags <= {"p"}


def test_html_elements_beside_a_placeholder_stay_markup_or_go() -> None:
    html = render_markdown("<b>Bold</b> <oid> <script>alert(1)</script><img src=x onerror=y>")
    found = elements(html)
    assert found.tags == {"p", "b"} and "&lt;oid&gt;" in html
    assert "script" not in html and "alert" not in html and "img" not in html


def test_a_custom_element_with_attributes_is_markup_that_goes_not_a_placeholder() -> None:
    """solved.ac's TypeSpec spec draws its tiers with a site component in each enum's
    description and table: `<solved-icon type="solve-tier:1"></solved-icon> Bronze V`. As a
    name of no HTML element, each was shown as a placeholder, the whole tag in text, 130
    times on one schema. A custom element's name has a hyphen, and a placeholder carries no
    `name="value"`: one written so is markup, dropped (its text stays) like other unknown
    markup. `<your-api-token>` (no attribute) is still a placeholder."""
    html = render_markdown(
        '<solved-icon type="solve-tier:1"></solved-icon> <span class="tier">Bronze V</span>'
        " is 1; send <your-api-token> as the token."
    )
    assert "solved-icon" not in html and "Bronze V is 1" in strip_tags(html)
    assert "&lt;your-api-token&gt;" in html
    assert elements(html).tags <= {"p", "span"}


def test_table_alignment_is_a_class_not_an_inline_style() -> None:
    # markdown-it aligns columns with style="text-align:..."; the CSP refuses inline styles,
    # so the alignment was lost and the browser reported a violation for every such table.
    html = render_markdown(
        "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n"
        '<table><tr><td class="button" style="text-align:right">x</td></tr></table>'
    )
    assert "style=" not in html
    assert '<th class="align-left">a</th>' in html and '<td class="align-center">2</td>' in html
    assert '<td class="align-right">3</td>' in html
    assert "<td>x</td>" in html  # a spec's own class and style are dropped


def test_a_descriptions_headings_start_at_h2_without_gaps() -> None:
    # NYT's "# The Community API v3" was a second h1, and Google Maps' h3 -> h5 skipped a
    # level: both are reported by screen readers' outlines and axe's heading order.
    html = render_markdown("# Title\n\nText\n\n### Part\n\n###### Deep\n\n### Again")
    assert re.findall(r"<h(\d)>", html) == ["2", "3", "4", "3"]
    assert render_markdown("## Only\n\nx").startswith("<h2>Only</h2>")


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java&#x09;script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "http://plain-http.example/",
    ],
)
def test_case41_unsafe_link_schemes_lose_their_href(link: str) -> None:
    """SECURITY.md case 41."""
    html = render_markdown(f"[click]({link})")
    assert "href" not in html
    assert "click" in html


@pytest.mark.parametrize(
    "text",
    [
        "[docs](https://docs.example.com@evil.example/)",
        "<https://user:pass@evil.example/>",
        '<a href="https://docs.example.com:443@evil.example/">docs</a>',
        "[docs]: https://docs.example.com@evil.example/\n\nSee [docs].",
    ],
)
def test_links_with_userinfo_are_not_links(text: str) -> None:
    # `https://docs.example.com@evil.example/` goes to evil.example: a spec could show one
    # host and send the reader to another. The text stays, the link goes.
    html = render_markdown(text)
    assert "href" not in html
    assert "docs" in html or "evil.example" in html


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("See [the guide](/docs/auth).", "See the guide (<code>/docs/auth</code>)."),
        ("[next](guides/paging?x=1#top)", "next (<code>guides/paging?x=1#top</code>)"),
        ("[up](../errors)", "up (<code>../errors</code>)"),
        ("[ü](/docs/%C3%BCber%20uns)", "ü (<code>/docs/über uns</code>)"),
        ('See <a href="/docs/auth">the guide</a>.', "See the guide (<code>/docs/auth</code>)."),
        ("<p>Read <A HREF='a?x=1&amp;y=2'>this</A></p>", "Read this (<code>a?x=1&amp;y=2</code>)"),
    ],
)
def test_a_site_relative_link_keeps_its_reference_as_text(text: str, shown: str) -> None:
    # `[the guide](/docs/auth)` means the spec's own site, not this portal (which has no such
    # page): the href was dropped and the reader saw link-like text leading nowhere, with
    # no hint of where the guide is.
    html = render_markdown(text)
    assert "<a" not in html
    assert shown in html


def test_in_page_and_absolute_links_stay_links_beside_relative_ones() -> None:
    html = render_markdown("[a](#errors), [b](/docs/b) and [c](https://example.com/c)")
    assert '<a href="#errors"' in html and '<a href="https://example.com/c"' in html
    assert "b (<code>/docs/b</code>)" in html
    raw = render_markdown('<a href="https://example.com/c">c</a>, <a href="/d">d</a>, <a>e</a>')
    assert '<a href="https://example.com/c" rel="noopener noreferrer nofollow">c</a>' in raw
    assert "d (<code>/d</code>)" in raw and "e</a>" in raw


def test_https_links_get_safe_rel() -> None:
    html = render_markdown("[docs](https://example.com/docs)")
    assert 'href="https://example.com/docs"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_images_are_not_loaded() -> None:
    html = render_markdown("![tracker](https://evil.example/pixel.png)")
    assert "<img" not in html


def test_case42_htmx_attributes_never_survive() -> None:
    """SECURITY.md case 42."""
    found = elements(render_markdown('<div hx-get="/console/run" hx-trigger="load">x</div>'))
    assert not {a for a in found.attributes if a.startswith("hx-")}
    assert "div" not in found.tags


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com", "https://example.com"),
        ("mailto:a@example.com", "mailto:a@example.com"),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("http://example.com", None),
        ("//example.com", None),
        ("https://exa mple.com", None),
        ("https://docs.example.com@evil.example/", None),  # userinfo: goes to evil.example
        ("https://user:pass@example.com/", None),
        ("https://example.com\\@evil.example/", None),  # browser: example.com
        ("https://example.com/a@b", "https://example.com/a@b"),  # an @ in the path is fine
        (None, None),
        (42, None),
    ],
)
def test_case43_safe_url(url: object, expected: str | None) -> None:
    """SECURITY.md case 43: URL fields only become links for https and mailto."""
    assert safe_url(url) == expected


def test_plain_excerpt_takes_the_first_paragraph() -> None:
    text = "The **first** paragraph.\n\nThe second."
    assert plain_excerpt(text) == "The first paragraph."
    assert plain_excerpt("x" * 400, limit=50).endswith("…")


def test_plain_excerpt_is_text_not_html() -> None:
    # Its callers escape it as text: 'Pets &amp;amp; owners' was what the page then said.
    assert plain_excerpt("Pets & owners <list>, 1 < 2") == "Pets & owners <list>, 1 < 2"
    assert operation_title("Pets & **owners**") == "Pets & owners"


@pytest.mark.parametrize(
    ("summary", "operation_id", "title"),
    [
        ("List pets", "listPets", "List pets"),
        (
            "**Starting a new project?** We recommend…",
            "createChatCompletion",
            "Create chat completion",
        ),
        ("x" * 150, "get_user_by_id", "Get user by id"),
        ("Uses `code`", "", "Uses code"),
        ("", "", ""),
    ],
)
def test_operation_title(summary: str, operation_id: str, title: str) -> None:
    assert operation_title(summary, operation_id) == title


@pytest.mark.parametrize(
    "text",
    [
        "Entity 4500", "Get entity 4500.", "It's a (test): 50% off/now @ $5; ok?", "Entité ünïcode",
        "a  b", "e.g. https://example.com/x", 'A "quoted" word', "x - y", "Ends with a space ",
        "1. first", "- item", "# Title", "Title\n===", "a *b* c", "a_b_c", "AT&T", "x <b>y</b>",
        "[link](https://example.com)", "`code`", "a | b", "~~gone~~", "back\\slash", "tab\there",
        "line\nbreak", "    indented", "a\u00a0b", "_x_",
    ],
)  # fmt: skip
def test_a_plain_line_renders_as_commonmark_renders_it(text: str) -> None:
    """One line of words takes a short way past markdown-it and nh3 (9,000 tag descriptions
    were most of a huge API's first view): what it gives is what the whole way gives."""
    from apis import markdown

    render_markdown.cache_clear()
    quick = str(render_markdown(text))
    render_markdown.cache_clear()
    plain, markdown._PLAIN = markdown._PLAIN, re.compile(r"(?!)")  # matches nothing
    try:
        assert quick == str(render_markdown(text))
    finally:
        markdown._PLAIN = plain
        render_markdown.cache_clear()


@pytest.mark.parametrize("text", ["<div>" * 60_000, "x\n" * 150_000])
def test_a_description_past_the_limit_is_rendered_up_to_it(text: str) -> None:
    """nh3 on 40,000 nested `<div>`s (200 KB) took 5.6 s and markdown-it on 160,000 lines
    5.3 s, each growing faster than the text: a spec of such descriptions held an API page's
    first view for minutes. Past MAX_MARKDOWN_CHARS the rest is left out, and said so."""
    from apis.markdown import MAX_MARKDOWN_CHARS

    html = str(render_markdown(text))
    assert "description is cut here" in html
    assert html.count("x") <= MAX_MARKDOWN_CHARS
    assert str(render_markdown("a *short* one")) == "<p>a <em>short</em> one</p>\n"

"""Every top-level property of every body of the corpus appears on its operation page.

For each operation (all of them, or an even sample of `SAMPLE` operations in the larger
documents, always including the first and the last), each request and response body's schema
is read from the stored operation by this test's own small reader (independent of the
renderer): `$ref`s followed, `allOf` merged with the `required` beside it, and each
`oneOf`/`anyOf` variant on its own with the parent's `required`. Each property must be a
top-level row of that body's tree on the page, and each required one marked required.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import orjson
import pytest
from django.test import Client

from apis.importer import import_spec
from tests.apis.corpus import CorpusDoc, manifest_documents, parsed
from tests.conftest import SHARED_SPECS

pytestmark = pytest.mark.corpus

DOCS = manifest_documents(SHARED_SPECS) if SHARED_SPECS.is_dir() else []
SAMPLE = 100
PREFIX = "#/components/schemas/"


class Expect:
    """What one body must show at its top level: names, and names marked required."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.names: set[str] = set()
        self.required: set[str] = set()

    def deref(self, node: Any, seen: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or not ref.startswith(PREFIX):
                return None, seen
            seen = (*seen, ref)
            node = self.schemas.get(ref[len(PREFIX) :].replace("~1", "/").replace("~0", "~"))
        return node, seen

    def level(self, node: Any, seen: tuple[str, ...]) -> tuple[dict[str, bool], list[Any]]:
        """(property -> required, variant lists) of one instance with allOf merged."""
        node, seen = self.deref(node, seen)
        if not isinstance(node, dict):
            return {}, []
        props: dict[str, bool] = {}
        variants: list[Any] = []
        for part in node.get("allOf") or []:
            more, more_variants = self.level(part, seen)
            for name, req in more.items():
                props[name] = props.get(name, False) or req
            variants += more_variants
        for name in node.get("properties") or {}:
            props.setdefault(str(name), False)
        for name in node.get("required") or []:
            if str(name) in props:
                props[str(name)] = True
        for key in ("oneOf", "anyOf"):
            if isinstance(node.get(key), list):
                variants.append((node[key], {str(r) for r in node.get("required") or []}, seen))
        return props, variants

    def add(self, schema: Any, inherited: frozenset[str] = frozenset(), depth: int = 0) -> None:
        props, variants = self.level(schema, ())
        for name, req in props.items():
            self.names.add(name)
            if req or name in inherited:
                self.required.add(name)
        if depth < 3:
            for options, required, _ in variants:
                for option in options:
                    self.add(option, frozenset(required | inherited), depth + 1)


_TOKEN = re.compile(r'<li(?: class="([^"]*)")?[^>]*>|</li>|<code class="prop-name">([^<]*)</code>')


def top_level_rows(tree_html: str) -> tuple[set[str], set[str]]:
    """Names of a tree's top-level rows (not inside another row), and those marked required."""
    names: set[str] = set()
    required: set[str] = set()
    stack: list[str] = []
    for match in _TOKEN.finditer(tree_html):
        token = match.group(0)
        if token == "</li>":
            if stack:
                stack.pop()
        elif token.startswith("<li"):
            stack.append(match.group(1) or "")
        elif stack and stack[-1] == "prop" and stack.count("prop") == 1:
            name = htmllib.unescape(match.group(2))
            names.add(name)
            head = tree_html[match.end() : tree_html.find("</div>", match.end())]
            if "badge-required" in head:
                required.add(name)
    return names, required


def media_sections(page: str) -> dict[str, str]:
    """anchor -> the HTML of that media type's block on the page."""
    parts = page.split('<div class="media-type" id="')
    out = {}
    for part in parts[1:]:
        anchor, _, rest = part.partition('"')
        out[anchor] = rest
    return out


def sample(slugs: list[str]) -> list[str]:
    if len(slugs) <= SAMPLE:
        return slugs
    step = len(slugs) / SAMPLE
    picked = [slugs[int(i * step)] for i in range(SAMPLE)]
    return list(dict.fromkeys([*picked, slugs[-1]]))


def bodies(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """(anchor prefix, content) of the request body and each response."""
    out = [("request", (data.get("requestBody") or {}).get("content"))]
    for status, response in (data.get("responses") or {}).items():
        if isinstance(response, dict):
            out.append((f"response-{status}", response.get("content")))
    return out


def anchor(prefix: str, media: str) -> str:
    return f"{prefix}-" + "".join(ch if ch.isalnum() else "-" for ch in media.lower())


@pytest.mark.parametrize("doc", DOCS, ids=[d.id for d in DOCS])
def test_every_top_level_property_is_on_the_page(doc: CorpusDoc, db: None) -> None:
    spec = parsed(doc.rel, doc.bundle)
    result = import_spec(spec, slug="corpus", publish=True)
    document = orjson.loads(bytes(result.version.normalised))
    schemas = (document.get("components") or {}).get("schemas") or {}
    client = Client()
    operations = dict(result.version.operations.values_list("slug", "data"))
    for slug in sample(list(operations)):
        data = operations[slug]
        page = client.get(f"/apis/corpus/operations/{slug}/").content.decode()
        sections = media_sections(page)
        for prefix, content in bodies(data):
            for media, body in (content or {}).items() if isinstance(content, dict) else []:
                schema = body.get("schema") if isinstance(body, dict) else None
                if not isinstance(schema, dict):
                    continue
                expect = Expect(schemas)
                expect.add(schema)
                if not expect.names:
                    continue
                where = f"{slug} {prefix} {media}"
                section = sections.get(anchor(prefix, media))
                assert section is not None, f"{where}: no block on the page"
                same = re.match(
                    r'>\s*<h[34]>.*?</h[34]>\s*<p class="muted">Same schema as <a href="#([^"]+)"',
                    section,
                    re.S,
                )
                if same:
                    section = sections[same.group(1)]
                shown, marked = top_level_rows(section.split('<details class="raw-schema">')[0])
                assert expect.names <= shown, f"{where}: missing {sorted(expect.names - shown)}"
                assert expect.required <= marked, (
                    f"{where}: not marked required {sorted(expect.required - marked)}"
                )

"""JSON Schemas shown as a readable tree, built as HTML in Python.

Template recursion is too slow for the large schemas of real specs (Stripe, Kubernetes), so the
tree is assembled from escaped strings here. Three bounds keep every page small and fast:
a `$ref` already being expanded is drawn as a recursion marker; named schemas nest only a few
levels deep; and a page-wide row budget. Past the last two a schema becomes a link to its own
page that htmx swaps in place when JavaScript is on.

All text from the spec is escaped; descriptions go through `render_markdown` (nh3) inside an
`hx-disable` container.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape  # the stdlib's: Django's lazy-aware wrapper costs 5x on big trees
from typing import Any

import orjson
from django.utils.safestring import SafeString, mark_safe

from apis.documents import ref_name, resolve_ref
from apis.markdown import render_markdown

COMPOSITIONS = (("allOf", "all of"), ("oneOf", "one of"), ("anyOf", "any of"))
CONSTRAINTS = (
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("pattern", "pattern"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("uniqueItems", "unique items"),
    ("minProperties", "min properties"),
    ("maxProperties", "max properties"),
    ("multipleOf", "multiple of"),
)
RAW_LIMIT = 100_000


def short_json(value: Any, limit: int = 200) -> str:
    """A compact one-line JSON rendering of an example or default value."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty_json(value: Any, limit: int = RAW_LIMIT) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        text = str(value)
    return text if len(text) <= limit else text[:limit] + "\n… (truncated)"


@dataclass
class SchemaRenderer:
    """Renders schemas of one normalised document; one instance per page (shared budget)."""

    doc: dict[str, Any]
    schema_url: Callable[[str], str]
    fragment_url: Callable[[str], str]
    budget: int = 500
    max_named_depth: int = 3
    rows: int = field(default=0, init=False)

    # Public entry points -------------------------------------------------------------

    def block(self, schema: Any, *, raw: bool = True) -> SafeString:
        """A whole schema: its type line, its tree and the raw JSON Schema behind a click."""
        if not isinstance(schema, dict):
            return mark_safe('<p class="muted">No schema.</p>')
        parts = ['<div class="schema-tree">']
        parts.append(self._head(schema, ()))
        parts.append(self._children(schema, (), 0))
        if raw:
            target = self.deref(schema)
            parts.append(
                '<details class="raw-schema"><summary>JSON Schema</summary>'
                f"<pre><code>{escape(pretty_json(target))}</code></pre></details>"
            )
        parts.append("</div>")
        return mark_safe("".join(parts))

    def type_label(self, schema: Any) -> str:
        """A short human type: `string <date-time>`, `array of Pet`, `string | null`."""
        if not isinstance(schema, dict):
            return "any" if schema is True or schema == {} else "never"
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return ref_name(ref)
        types = schema.get("type")
        names = (
            [str(t) for t in types] if isinstance(types, list) else ([str(types)] if types else [])
        )
        if schema.get("nullable") is True and "null" not in names:
            names.append("null")
        if "const" in schema:
            return f"const {short_json(schema['const'], 40)}"
        if not names:
            for key, label in COMPOSITIONS:
                if isinstance(schema.get(key), list):
                    return label
            if "properties" in schema:
                names = ["object"]
            elif "enum" in schema:
                names = ["enum"]
            else:
                return "any"
        label = " | ".join(names)
        if "array" in names and isinstance(schema.get("items"), dict):
            label = label.replace("array", f"array of {self.type_label(schema['items'])}", 1)
        fmt = schema.get("format")
        if isinstance(fmt, str):
            label += f" <{fmt}>"
        return label

    # Internals -------------------------------------------------------------------------

    def deref(self, schema: dict[str, Any]) -> Any:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = resolve_ref(self.doc, ref)
            return target if target is not None else schema
        return schema

    def _head(self, schema: dict[str, Any], stack: tuple[str, ...]) -> str:
        target = self.deref(schema)
        out = [
            f'<div class="schema-type"><span class="type">{escape(self.type_label(schema))}</span>'
        ]
        if (
            isinstance(schema.get("$ref"), str)
            and isinstance(target, dict)
            and target is not schema
        ):
            out.append(f' <span class="type-of">{escape(self.type_label(target))}</span>')
        out.append("</div>")
        if isinstance(target, dict):
            out.append(self._details(target))
        return "".join(out)

    def _details(self, schema: dict[str, Any]) -> str:
        """Description, flags, enum, default, examples and constraints of one schema."""
        out: list[str] = []
        description = schema.get("description")
        if isinstance(description, str) and description.strip():
            out.append(
                f'<div class="md schema-desc" hx-disable>{render_markdown(description)}</div>'
            )
        meta: list[str] = []
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            values = " ".join(f"<code>{escape(short_json(v, 60))}</code>" for v in enum[:50])
            more = f" … {len(enum) - 50} more" if len(enum) > 50 else ""
            meta.append(
                f'<span class="meta-item"><span class="meta-key">Enum</span> {values}{more}</span>'
            )
        if "default" in schema:
            meta.append(
                '<span class="meta-item"><span class="meta-key">Default</span> '
                f"<code>{escape(short_json(schema['default']))}</code></span>"
            )
        example = schema.get("example")
        examples = schema.get("examples")
        if example is not None:
            meta.append(
                '<span class="meta-item"><span class="meta-key">Example</span> '
                f"<code>{escape(short_json(example))}</code></span>"
            )
        elif isinstance(examples, list) and examples:
            meta.append(
                '<span class="meta-item"><span class="meta-key">Examples</span> '
                + " ".join(f"<code>{escape(short_json(v))}</code>" for v in examples[:5])
                + "</span>"
            )
        for key, label in CONSTRAINTS:
            if key in schema and not isinstance(schema[key], (dict, list)):
                meta.append(
                    f'<span class="meta-item"><span class="meta-key">{label}</span> '
                    f"<code>{escape(short_json(schema[key], 80))}</code></span>"
                )
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(discriminator.get("propertyName"), str):
            mapping = discriminator.get("mapping")
            pairs = ""
            if isinstance(mapping, dict) and mapping:
                pairs = " " + ", ".join(
                    f"<code>{escape(str(k))}</code> → {escape(ref_name(str(v)))}"
                    for k, v in list(mapping.items())[:50]
                )
            meta.append(
                '<span class="meta-item"><span class="meta-key">Discriminator</span> '
                f"<code>{escape(discriminator['propertyName'])}</code>{pairs}</span>"
            )
        if meta:
            out.append(f'<div class="schema-meta">{"".join(meta)}</div>')
        return "".join(out)

    def _flags(self, schema: dict[str, Any], required: bool) -> str:
        flags = []
        if required:
            flags.append('<span class="badge badge-required">required</span>')
        for key, label in (("readOnly", "read-only"), ("writeOnly", "write-only")):
            if schema.get(key) is True:
                flags.append(f'<span class="badge">{label}</span>')
        if schema.get("deprecated") is True:
            flags.append('<span class="badge badge-deprecated">deprecated</span>')
        return "".join(flags)

    def _children(self, schema: dict[str, Any], stack: tuple[str, ...], depth: int) -> str:
        """The nested part of a schema: properties, items, compositions, additional props."""
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref_name(ref)
            if ref in stack:
                return self._marker(name)
            target = resolve_ref(self.doc, ref)
            if not isinstance(target, dict):
                return f'<p class="muted">Unresolved reference <code>{escape(ref)}</code></p>'
            if len(stack) >= self.max_named_depth or self.rows >= self.budget:
                return self._lazy(name)
            return self._children(target, (*stack, ref), depth)
        if depth > 40:  # anonymous nesting this deep is pathological; stop drawing
            return '<p class="muted">…</p>'
        out: list[str] = []
        properties = schema.get("properties")
        required: list[Any] = schema["required"] if isinstance(schema.get("required"), list) else []
        rows: list[str] = []
        if isinstance(properties, dict):
            for name, prop in properties.items():
                rows.append(self._row(str(name), prop, str(name) in required, stack, depth))
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            rows.append(
                self._row("[additional properties]", additional, False, stack, depth, key=True)
            )
        elif additional is True and not properties:
            rows.append(self._row("[additional properties]", {}, False, stack, depth, key=True))
        pattern_props = schema.get("patternProperties")
        if isinstance(pattern_props, dict):
            for pattern, prop in pattern_props.items():
                rows.append(self._row(f"/{pattern}/", prop, False, stack, depth, key=True))
        if rows:
            out.append(f'<ul class="schema-props">{"".join(rows)}</ul>')
        items = schema.get("items")
        if isinstance(items, dict):
            inner = self._children(items, stack, depth + 1)
            if inner:
                out.append(
                    f'<div class="schema-items"><span class="meta-key">items</span> '
                    f'<span class="type">{escape(self.type_label(items))}</span>{inner}</div>'
                )
        for key, label in COMPOSITIONS:
            variants = schema.get(key)
            if isinstance(variants, list) and variants:
                out.append(self._composition(label, variants, stack, depth))
        if isinstance(schema.get("not"), dict):
            out.append(self._composition("not", [schema["not"]], stack, depth))
        return "".join(out)

    def _row(
        self,
        name: str,
        prop: Any,
        required: bool,
        stack: tuple[str, ...],
        depth: int,
        key: bool = False,
    ) -> str:
        self.rows += 1
        if self.rows > self.budget:
            if self.rows == self.budget + 1:
                return '<li class="prop muted">More properties are on the schema pages.</li>'
            return ""
        prop = prop if isinstance(prop, dict) else {}
        target = self.deref(prop)
        target = target if isinstance(target, dict) else {}
        name_html = f'<code class="prop-name{" prop-key" if key else ""}">{escape(name)}</code>'
        head = (
            f'<div class="prop-head">{name_html} <span class="type">'
            f"{escape(self.type_label(prop))}</span>{self._flags(target, required)}</div>"
        )
        details = self._details(target)
        children = self._children(prop, stack, depth + 1)
        if children:
            # Nested objects start folded below the first level so long schemas stay scannable.
            opened = " open" if depth == 0 else ""
            children = (
                f'<details class="prop-children"{opened}><summary>'
                f"{escape(self.type_label(prop))}</summary>{children}</details>"
            )
        return f'<li class="prop">{head}{details}{children}</li>'

    def _composition(
        self, label: str, variants: list[Any], stack: tuple[str, ...], depth: int
    ) -> str:
        items = []
        for index, variant in enumerate(variants, 1):
            if not isinstance(variant, dict):
                continue
            self.rows += 1
            if self.rows > self.budget:
                items.append(f'<li class="variant">{self._lazy_or_more(variant)}</li>')
                continue
            title = self.type_label(variant)
            target = self.deref(variant)
            body = self._details(target) if isinstance(target, dict) else ""
            body += self._children(variant, stack, depth + 1)
            items.append(
                f'<li class="variant"><div class="variant-head">'
                f'<span class="variant-index">{index}</span> <span class="type">{escape(title)}</span>'
                f"</div>{body}</li>"
            )
        return (
            f'<div class="composition"><div class="composition-label">{escape(label)}</div>'
            f'<ol class="variants">{"".join(items)}</ol></div>'
        )

    def _lazy_or_more(self, schema: dict[str, Any]) -> str:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._lazy(ref_name(ref))
        return '<span class="muted">More on the schema pages.</span>'

    def _marker(self, name: str) -> str:
        return (
            f'<p class="recursive" title="This schema contains itself">↻ recursive: '
            f'<a href="{escape(self.schema_url(name))}">{escape(name)}</a></p>'
        )

    def _lazy(self, name: str) -> str:
        return (
            f'<p class="lazy-schema"><a href="{escape(self.schema_url(name))}" '
            f'hx-get="{escape(self.fragment_url(name))}" hx-swap="outerHTML" '
            f'hx-target="closest .lazy-schema">Show {escape(name)}</a></p>'
        )

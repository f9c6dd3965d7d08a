"""JSON Schemas shown as a readable tree, built as HTML in Python.

Template recursion is too slow for the large schemas of real specs (Stripe, Kubernetes), so the
tree is assembled from escaped strings here. Bounds keep every page small and fast, and they
only ever cut depth, never breadth: every property, variant and constraint of a level that is
drawn is drawn. A `$ref` already being expanded is drawn as a recursion marker; below the top
level, named schemas nest only a few levels deep and a page-wide row budget stops descending.
Where a cut is, the tree says so with a link (to the named schema's page, or to the part of
the schema by JSON pointer) that htmx swaps in place when JavaScript is on.

What each schema says (`$ref`s followed, `allOf` merged, type labels) is read by
apis.schema_reader.SchemaReader, which SchemaRenderer extends.

All text from the spec is escaped; descriptions go through `render_markdown` (nh3) inside an
`hx-disable` container.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape  # the stdlib's: Django's lazy-aware wrapper costs 5x on big trees
from typing import Any
from urllib.parse import quote

import orjson
from django.utils.safestring import SafeString, mark_safe

from apis.documents import ref_name
from apis.markdown import render_markdown
from apis.openapi.sample import dynamic_anchors
from apis.openapi.values import is_number
from apis.schema_reader import (
    COMPOSITIONS,
    NEVER,
    SCHEMA_PREFIX,
    SUBSCHEMAS,
    SchemaReader,
    Where,
    at_pointer,
    boolean_label,
    is_null_type,
    short_json,
)

# Bounds are handled apart (3.0 writes `exclusiveMinimum: true`, 3.1 a number).
CONSTRAINTS = (
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("pattern", "pattern"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("uniqueItems", "unique items"),
    ("minContains", "min contains"),
    ("maxContains", "max contains"),
    ("minProperties", "min properties"),
    ("maxProperties", "max properties"),
    ("multipleOf", "multiple of"),
)
RAW_LIMIT = 100_000


def pretty_json(value: Any, limit: int = RAW_LIMIT) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        text = str(value)
    return text if len(text) <= limit else text[:limit] + "\n… (truncated)"


_BOUND_KEYS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_CONSTRAINT_KEYS = frozenset([*(key for key, _ in CONSTRAINTS), "dependentRequired"])


def bounds(schema: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Lower and upper bounds as (sign, value), in both the 3.0 and the 3.1 forms."""
    out: list[tuple[str, Any]] = []
    if _BOUND_KEYS.isdisjoint(schema.keys()):
        return out  # the usual case, checked cheaply: most schemas have no bounds
    for inclusive, exclusive, le, lt in (
        ("minimum", "exclusiveMinimum", "≥", ">"),
        ("maximum", "exclusiveMaximum", "≤", "<"),
    ):
        value, flag = schema.get(inclusive), schema.get(exclusive)
        if is_number(flag):
            out.append((lt, flag))
            if is_number(value):
                out.append((le, value))
        elif is_number(value):
            out.append((lt if flag is True else le, value))
    return out


def constraints(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value as compact JSON) of a schema's validation keywords; value "" for flags."""
    out = [(sign, short_json(value)) for sign, value in bounds(schema)]
    if _CONSTRAINT_KEYS.isdisjoint(schema.keys()):
        return out
    for key, label in CONSTRAINTS:
        value = schema.get(key)
        if key == "uniqueItems":
            if value is True:
                out.append((label, ""))
        elif key == "pattern" and isinstance(value, str):
            # A regex as written: JSON would double each backslash (`\\d` for `\d`).
            out.append((label, f'"{value if len(value) <= 80 else value[:79] + "…"}"'))
        elif key in schema and not isinstance(value, (dict, list, bool)):
            out.append((label, short_json(value, 80)))
    dependent = schema.get("dependentRequired")
    if isinstance(dependent, dict):  # {"card": ["billing_address"]}: with card, these too
        for name, names in dependent.items():
            if isinstance(names, list):
                out.append((f"with {name}, required", ", ".join(str(n) for n in names)))
    return out


@dataclass
class SchemaRenderer(SchemaReader):
    """Renders schemas of one normalised document; one instance per page (shared budget).

    `part_url(root, pointer)` is where a cut inline part loads from; without it inline parts
    are drawn whole and only named schemas are cut. `scoped_url(url, places)` is a cut part's
    `url` carrying the places (as `Where`) of the `$dynamicAnchor`s bound where it was cut;
    the view that draws the part passes them back to `bind`.
    """

    schema_url: Callable[[str], str]
    fragment_url: Callable[[str], str]
    part_url: Callable[[str, str], str] | None = None
    scoped_url: Callable[[str, list[tuple[str, str]]], str] | None = None
    budget: int = 500
    max_named_depth: int = 3
    rows: int = field(default=0, init=False)
    # Named schemas drawn whole as variants at the top level of the current block: a repeat
    # links to the first. Variants there are never cut by the budget, so without this 15
    # levels of `oneOf: [$ref X, $ref X, $ref X]` (1 KB of spec) drew 3**15 variants.
    drawn_whole: set[str] = field(default_factory=set, init=False)

    # Public entry points -------------------------------------------------------------

    def block(self, schema: Any, *, raw: bool = True, where: Where = None) -> SafeString:
        """A whole schema: its type line, its tree and the raw JSON Schema behind a click.

        Its top level (through `$ref`, `allOf`, `oneOf` and `anyOf`) is always drawn whole,
        even when the page's budget is spent; `where` locates it for links to cut parts.
        """
        if not isinstance(schema, dict):
            return mark_safe('<p class="muted">No schema.</p>')
        if schema == NEVER:
            return mark_safe(
                '<div class="schema-tree"><div class="schema-type"><span class="type">'
                f"{boolean_label(False)}</span></div></div>"
            )
        self.drawn_whole = set()
        parts = ['<div class="schema-tree">']
        parts.append(self._head(schema, ()))
        parts.append(self._children(schema, (), 0, 0, where))
        if raw:
            target = self.deref(schema)
            parts.append(
                '<details class="raw-schema"><summary>JSON Schema</summary>'
                f"<pre><code>{escape(pretty_json(target))}</code></pre></details>"
            )
        parts.append("</div>")
        return mark_safe("".join(parts))

    def part(self, schema: Any, where: Where) -> SafeString:
        """What sits below one cut row: the part a lazy link loads, with a fresh budget."""
        if not isinstance(schema, dict):
            return mark_safe('<p class="muted">No schema.</p>')
        self.drawn_whole = set()
        html = self._children(schema, (), 0, 0, where)
        return mark_safe(html or '<p class="muted">Nothing more to show.</p>')

    # Internals -------------------------------------------------------------------------

    def _head(self, schema: dict[str, Any], stack: tuple[str, ...]) -> str:
        target = self.shown(schema)
        label = self.type_label(schema)
        # A bare `oneOf`/`anyOf` says so in the label of its variants, drawn right below.
        said_below = any(
            label == name and isinstance(schema.get(key), list) and schema[key]
            for key, name in COMPOSITIONS[1:]
        )
        out = ['<div class="schema-type">']
        if not said_below:
            out.append(f'<span class="type">{escape(label)}</span>')
        ref = schema.get("$ref")
        if isinstance(ref, str) and isinstance(target, dict | bool) and target is not schema:
            out.append(f' <span class="type-of">{escape(self.type_label(target))}</span>')
        if isinstance(target, dict):
            out.append(self._flags(schema, target, False))
        out.append("</div>")
        if isinstance(target, dict):
            out.append(self._details(target))
        return "".join(out)

    def _meta(self, key: str, value: str) -> str:
        return f'<span class="meta-item"><span class="meta-key">{key}</span> {value}</span>'

    def _details(self, schema: dict[str, Any]) -> str:
        """Description, enum, default, examples, constraints and discriminator of a schema."""
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
            meta.append(self._meta("Enum", values + more))
        if "default" in schema:
            meta.append(
                self._meta("Default", f"<code>{escape(short_json(schema['default']))}</code>")
            )
        example = schema.get("example")
        examples = schema.get("examples")
        if example is not None:
            meta.append(self._meta("Example", f"<code>{escape(short_json(example))}</code>"))
        elif isinstance(examples, list) and examples:
            meta.append(
                self._meta(
                    "Examples",
                    " ".join(f"<code>{escape(short_json(v))}</code>" for v in examples[:5]),
                )
            )
        for label, value in constraints(schema):
            if label in ("≥", ">", "≤", "<"):
                meta.append(
                    f'<span class="meta-item">{escape(label)} <code>{escape(value)}</code></span>'
                )
            elif value:
                meta.append(self._meta(label, f"<code>{escape(value)}</code>"))
            else:
                meta.append(f'<span class="meta-item"><span class="meta-key">{label}</span></span>')
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(discriminator.get("propertyName"), str):
            mapping = discriminator.get("mapping")
            pairs = ""
            if isinstance(mapping, dict) and mapping:
                pairs = " " + ", ".join(
                    f"<code>{escape(str(k))}</code> → {self._schema_link(str(v))}"
                    for k, v in list(mapping.items())[:50]
                )
            fallback = discriminator.get("defaultMapping")  # OpenAPI 3.2
            if isinstance(fallback, str) and fallback:
                pairs += ("," if pairs else "") + f" any other → {self._schema_link(fallback)}"
            meta.append(
                self._meta(
                    "Discriminator", f"<code>{escape(discriminator['propertyName'])}</code>{pairs}"
                )
            )
        if meta:
            out.append(f'<div class="schema-meta">{"".join(meta)}</div>')
        return "".join(out)

    def _schema_link(self, target: str) -> str:
        """A discriminator mapping value (a `$ref` or a bare schema name) as a link to it."""
        if target.startswith(SCHEMA_PREFIX):
            rest = target[len(SCHEMA_PREFIX) :]
            name = "" if "/" in rest else ref_name(target)
        else:
            name = "" if "/" in target or "#" in target else target
        if name and name in self.schemas:
            return f'<a href="{escape(self.schema_url(name))}">{escape(name)}</a>'
        return f"<code>{escape(target)}</code>"

    def _flags(self, prop: dict[str, Any], target: dict[str, Any], required: bool) -> str:
        """Badges; a keyword beside a `$ref` (3.1) wins over the target's."""

        def flag(key: str) -> bool:
            return (prop[key] if key in prop else target.get(key)) is True

        flags = []
        if required:
            # OpenAPI: a required read-only property is required in responses only, a
            # write-only one in requests only. One drawing serves both directions, so it says so.
            where = " in responses" if flag("readOnly") else ""
            where = " in requests" if flag("writeOnly") and not where else where
            flags.append(f'<span class="badge badge-required">required{where}</span>')
        for key, label in (("readOnly", "read-only"), ("writeOnly", "write-only")):
            if flag(key):
                flags.append(f'<span class="badge">{label}</span>')
        if flag("deprecated"):
            flags.append('<span class="badge badge-deprecated">deprecated</span>')
        return "".join(flags)

    def _children(
        self,
        schema: dict[str, Any],
        stack: tuple[str, ...],
        level: int,
        nest: int,
        where: Where,
        inherited: frozenset[str] = frozenset(),
    ) -> str:
        """The nested part of a schema: properties, items, variants, additional properties.

        `level` counts property nestings (0 is the top level, never cut); `inherited` are the
        names a `required` beside a oneOf/anyOf makes required in each variant.
        """
        fresh = {k: v for k, v in self._anchors(schema, where).items() if k not in self.dynamic}
        for name, (anchor, at) in fresh.items():
            self.dynamic[name], self.dynamic_at[name] = anchor, at
        try:
            bound = self._bound(schema)
            if isinstance(bound, dict) and bound is not schema and nest <= 40:
                # Below a bound schema, places are in it (not under the `$dynamicRef`).
                at = self.dynamic_at.get(str(schema["$dynamicRef"])[1:])
                return self._children(bound, stack, level, nest + 1, at, inherited)
            return self._scoped_children(schema, stack, level, nest, where, inherited)
        finally:
            for name in fresh:
                del self.dynamic[name], self.dynamic_at[name]

    def _anchors(self, schema: dict[str, Any], where: Where) -> dict[str, tuple[Any, Where]]:
        """The `$dynamicAnchor`s `schema` declares, each with its place (for `scoped_url`)."""
        found = dynamic_anchors(schema)
        if not found:
            return {}
        defs = schema.get("$defs")
        keys = {id(v): k for k, v in defs.items()} if isinstance(defs, dict) else {}
        return {
            name: (part, where if part is schema else at_pointer(where, "$defs", keys[id(part)]))
            for name, part in found.items()
        }

    def _scoped(self, url: str) -> str:
        """`url` of a cut part, carrying the places of the anchors bound here."""
        places = [at for at in self.dynamic_at.values() if at is not None]
        return self.scoped_url(url, places) if places and self.scoped_url else url

    def _scoped_children(
        self,
        schema: dict[str, Any],
        stack: tuple[str, ...],
        level: int,
        nest: int,
        where: Where,
        inherited: frozenset[str],
    ) -> str:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref_name(ref)
            if ref in stack:
                return self._marker(name)
            target = self.lookup(ref)
            if isinstance(target, bool):
                return ""  # `true` or `false`: nothing below it (its row says which)
            if not isinstance(target, dict):
                return f'<p class="muted">Unresolved reference <code>{escape(ref)}</code></p>'
            if level > 0 and (len(stack) >= self.max_named_depth or self.rows >= self.budget):
                return self._lazy(name)
            if level == 0 and nest > 0:  # a variant of the top level (see drawn_whole)
                if ref in self.drawn_whole:
                    return (
                        f'<p class="muted">As <a href="{escape(self.schema_url(name))}">'
                        f"{escape(name)}</a> above.</p>"
                    )
                self.drawn_whole.add(ref)
            return self._children(
                target, (*stack, ref), level, nest, self._where_of(ref), inherited
            )
        if nest > 40:  # anonymous nesting this deep is pathological; stop drawing
            return '<p class="muted">…</p>'
        out: list[str] = []
        view = self.object_view(schema, where, stack)
        required = view.required | inherited
        rows: list[str] = []
        for name, (prop, at) in view.properties.items():
            rows.append(self._row(name, prop, name in required, stack, level, nest, at))
        additional, additional_at = view.additional or (None, None)
        if isinstance(additional, dict):
            rows.append(
                self._row(
                    "[additional properties]", additional, False, stack, level, nest,
                    additional_at, key=True,
                )
            )  # fmt: skip
        elif additional is True and not view.properties:
            rows.append(
                self._row("[additional properties]", {}, False, stack, level, nest, None, key=True)
            )
        for pattern, (prop, at) in view.patterns.items():
            rows.append(self._row(f"/{pattern}/", prop, False, stack, level, nest, at, key=True))
        if rows:
            out.append(f'<ul class="schema-props">{"".join(rows)}</ul>')
        for name in view.cycles:
            out.append(self._marker(name))
        prefix, prefix_where = view.prefix or ([], where)
        for n, part in enumerate(prefix[:20]):
            # A tuple's positions (JSON Schema 2020-12), each drawn as `items` is.
            if isinstance(part, dict):
                at = at_pointer(prefix_where, "prefixItems", n)
                inner = self._children(part, stack, level, nest + 1, at)
                if inner:
                    out.append(self._items(f"item {n + 1}", part, inner))
        items, items_at = view.items or (None, None)
        if isinstance(items, dict):
            inner = self._children(items, stack, level, nest + 1, items_at)
            if not inner:
                # A scalar item's enum, constraints or description: the row's label alone
                # ("array of string") says nothing of the values a filter list allows.
                shown = self.shown(items)
                inner = self._details(shown) if isinstance(shown, dict) else ""
            # Beside a tuple, `items` is what may follow it: said even when it is a scalar.
            if inner or prefix:
                out.append(self._items("further items" if prefix else "items", items, inner))
        elif items is False and prefix:
            out.append(self._items("further items", False, ""))
        for label, variants in view.compositions:
            out.append(self._composition(label, variants, stack, level, nest, frozenset(required)))
        return "".join(out)

    def _items(self, label: str, schema: Any, inner: str) -> str:
        return (
            f'<div class="schema-items"><span class="meta-key">{escape(label)}</span> '
            f'<span class="type">{escape(self.type_label(schema))}</span>{inner}</div>'
        )

    def _has_nested(self, schema: Any, hops: int = 0) -> bool:
        """Whether drawing `schema` would draw anything below its own row."""
        target = self.deref_any(schema)
        if not isinstance(target, dict) or hops > 4:
            return False
        if any(
            k in target
            for k in ("properties", "allOf", "oneOf", "anyOf", "dependentSchemas", *SUBSCHEMAS)
        ):
            return True
        if "patternProperties" in target or isinstance(target.get("additionalProperties"), dict):
            return True
        if isinstance(target.get("prefixItems"), list) and target["prefixItems"]:
            return True
        return "items" in target and self._has_nested(target["items"], hops + 1)

    def _descend(
        self, schema: dict[str, Any], stack: tuple[str, ...], level: int, nest: int, where: Where
    ) -> str:
        """What sits below a row or variant: drawn, or past the budget a link to load it."""
        if level > 0 and self.rows >= self.budget and self._has_nested(schema):
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref not in stack and self._where_of(ref):
                return self._lazy(ref_name(ref))
            if where is not None and self.part_url is not None and not isinstance(ref, str):
                return self._lazy_part(where)
        return self._children(schema, stack, level, nest, where)

    def _row(
        self,
        name: str,
        prop: Any,
        required: bool,
        stack: tuple[str, ...],
        level: int,
        nest: int,
        where: Where,
        key: bool = False,
    ) -> str:
        self.rows += 1
        label = self.type_label(prop)  # before a `true`/`false` schema becomes {}: any/never
        prop = prop if isinstance(prop, dict) else {}
        target = self.shown(prop)
        # A named schema: its name, then what it is (`APIClientID string`), as a head reads;
        # the name alone hides that Plaid's scalar fields are strings.
        of = ""
        if isinstance(target, bool):
            of = f' <span class="type-of">{boolean_label(target)}</span>'
        elif (
            (isinstance(prop.get("$ref"), str) or self.wrapped_ref(prop) is not None)
            and isinstance(target, dict)
            and target is not prop
        ):
            of = f' <span class="type-of">{escape(self.type_label(target))}</span>'
        target = target if isinstance(target, dict) else {}
        # A `title` names the field for people (`Customer email`): the property's own,
        # else its schema's.
        title = prop.get("title") if isinstance(prop.get("title"), str) else target.get("title")
        of += _title_html(title, name, label)
        # A property may be named by the empty string (SendGrid's segments): JSON's spelling.
        shown_name = escape(name) if name else '""'
        name_html = f'<code class="prop-name{" prop-key" if key else ""}">{shown_name}</code>'
        head = (
            f'<div class="prop-head">{name_html} <span class="type">'
            f"{escape(label)}</span>{of}{self._flags(prop, target, required)}</div>"
        )
        details = self._details(target)
        children = self._descend(prop, stack, level + 1, nest + 1, where)
        if children:
            # Nested objects start folded below the first level so long schemas stay scannable.
            opened = " open" if level == 0 else ""
            children = (
                f'<details class="prop-children"{opened}><summary>'
                f"{escape(self.type_label(prop))}</summary>{children}</details>"
            )
        return f'<li class="prop">{head}{details}{children}</li>'

    def _composition(
        self,
        label: str,
        variants: list[tuple[Any, Where]],
        stack: tuple[str, ...],
        level: int,
        nest: int,
        inherited: frozenset[str],
    ) -> str:
        items = []
        heads = []
        for variant, _where in variants:
            if not isinstance(variant, dict | bool):
                continue
            title = self.type_label(variant)
            if label in ("one of", "any of") and len(variants) > 1 and is_null_type(variant):
                title = "null"  # `{nullable: true}` beside the others reads as 3.1's null
            target = self.shown(variant) if isinstance(variant, dict) else variant
            if isinstance(target, bool) and target is not variant:
                title += f" ({boolean_label(target)})"
            # A variant's `title` (`Card`, `Bank Account`) is how readers tell them apart:
            # its own, else its schema's, as a property's row shows it.
            named = variant.get("title") if isinstance(variant, dict) else None
            if not isinstance(named, str) and isinstance(target, dict):
                named = target.get("title")
            heads.append((title, named if isinstance(named, str) and named.strip() else None))
        # Untitled variants that read alike ("object", "object"): each named by what sets
        # it apart (_variant_hint), as Redoc labels its options.
        alike = [title for title, named in heads if named is None]
        shown = 0
        for index, (variant, where) in enumerate(variants):
            if not isinstance(variant, dict | bool):
                continue
            self.rows += 1
            title, named = heads[shown]
            shown += 1
            target = self.shown(variant) if isinstance(variant, dict) else variant
            if named is None and alike.count(title) > 1 and isinstance(target, dict):
                named = _variant_hint(target)
            head = f'<span class="type">{escape(title)}</span>{_title_html(named, title)}'
            body = self._details(target) if isinstance(target, dict) else ""
            if isinstance(target, dict):
                body += self._required_names(target)
            if isinstance(variant, dict):
                body += self._descend_variant(variant, stack, level, nest + 1, where, inherited)
            items.append(
                f'<li class="variant"><div class="variant-head">'
                f'<span class="variant-index">{index + 1}</span> {head}'
                f"</div>{body}</li>"
            )
        return (
            f'<div class="composition"><div class="composition-label">{escape(label)}</div>'
            f'<ol class="variants">{"".join(items)}</ol></div>'
        )

    def _required_names(self, variant: dict[str, Any]) -> str:
        """The names a variant requires of properties drawn elsewhere (its parent's): GitHub's
        `anyOf: [{required: [name]}, {required: [email]}]`, a `then: {required: [phone]}`.
        Its own properties carry the flag on their rows."""
        required = variant.get("required")
        own = variant.get("properties")
        own = own if isinstance(own, dict) else {}
        names = (
            [n for n in required if isinstance(n, str) and n not in own]
            if isinstance(required, list)
            else []
        )
        if not names:
            return ""
        shown = ", ".join(names[:50]) + (f" … {len(names) - 50} more" if len(names) > 50 else "")
        return f'<div class="schema-meta">{self._meta("required", f"<code>{escape(shown)}</code>")}</div>'

    def _descend_variant(
        self,
        variant: dict[str, Any],
        stack: tuple[str, ...],
        level: int,
        nest: int,
        where: Where,
        inherited: frozenset[str],
    ) -> str:
        # A variant is the same instance as its parent: same level, and the parent's
        # `required` applies to its properties.
        if level > 0 and self.rows >= self.budget and self._has_nested(variant):
            return self._descend(variant, stack, level, nest, where)
        return self._children(variant, stack, level, nest, where, inherited)

    def _marker(self, name: str) -> str:
        return (
            f'<p class="recursive" title="This schema contains itself">↻ recursive: '
            f'<a href="{escape(self.schema_url(name))}">{escape(name)}</a></p>'
        )

    def _lazy(self, name: str) -> str:
        return (
            f'<p class="lazy-schema"><a href="{escape(self._scoped(self.schema_url(name)))}" '
            f'hx-get="{escape(self._scoped(self.fragment_url(name)))}" hx-swap="outerHTML" '
            f'hx-target="closest .lazy-schema">Show {escape(name)}</a></p>'
        )

    def _lazy_part(self, where: tuple[str, str]) -> str:
        assert self.part_url is not None
        url = escape(self._scoped(self.part_url(*where)))
        return (
            f'<p class="lazy-schema"><a href="{url}" hx-get="{url}" hx-swap="outerHTML" '
            'hx-target="closest .lazy-schema">Show the nested fields</a> '
            '<span class="muted">(not drawn here to keep the page fast)</span></p>'
        )


def _variant_hint(schema: dict[str, Any]) -> str | None:
    """A few words telling an untitled variant from others of its type: a property fixed to
    one value (`kind: "card"`), else the properties it requires (`with email`), else the
    ones it has; a scalar's values (`"a" | "b"`)."""
    values = schema.get("enum")
    if "const" in schema:
        values = [schema["const"]]
    if isinstance(values, list) and values:
        shown = " | ".join(short_json(v, 40) for v in values[:4])
        return shown + (" | …" if len(values) > 4 else "")
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    for name, prop in props.items():
        if not isinstance(prop, dict):
            continue
        fixed = prop.get("enum")
        if "const" in prop:
            fixed = [prop["const"]]
        if isinstance(fixed, list) and len(fixed) == 1:
            return f"{name}: {short_json(fixed[0], 40)}"
    # Required names of properties drawn elsewhere are said below it (_required_names).
    required = schema.get("required")
    names = (
        [n for n in required if isinstance(n, str) and n in props]
        if isinstance(required, list)
        else []
    )
    names = names or [str(n) for n in props]
    if not names:
        return None
    return "with " + ", ".join(names[:3]) + (" …" if len(names) > 3 else "")


def _title_html(title: Any, *said: str) -> str:
    """A schema's `title` beside a row's name and type, unless it only repeats one of them:
    Plaid titles each schema with its own name, and rows read `RequestID string RequestID`."""
    if not isinstance(title, str) or not title.strip():
        return ""
    title = title.strip()
    if any(title.casefold() == other.casefold() for other in said):
        return ""
    return f' <span class="prop-title">{escape(title[:200])}</span>'


def part_query(pointer: str) -> str:
    """The query string naming a part of a schema by JSON pointer."""
    return "at=" + quote(pointer, safe="/~")

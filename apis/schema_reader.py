"""What a JSON Schema of one document says, read the way the reference pages show it.

`$ref`s are followed, with the keywords written beside them laid over their target; `allOf` is
merged into one object, as Redoc and Scalar show it, so a `required` beside it marks the merged
properties (a `required` beside `oneOf`/`anyOf` marks each variant's); JSON Schema 2020-12's
`$dynamicRef`s are read in their dynamic scope; and each schema gets a short type label. No
HTML here: apis.schema_tree draws what this reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from apis.documents import ref_name, resolve_ref
from apis.openapi.errors import escape_token as _token

COMPOSITIONS = (("allOf", "all of"), ("oneOf", "one of"), ("anyOf", "any of"))
# Single subschemas drawn as a composition of one (JSON Schema 2020-12, OpenAPI 3.1): what
# `then` or `else` adds, or what an item of `contains` holds, is part of the instance too;
# `propertyNames`, what each key of it must be.
SUBSCHEMAS = ("not", "if", "then", "else", "contains", "propertyNames")
SCHEMA_PREFIX = "#/components/schemas/"

# Where a node sits: (component schema name, or "" for the operation; JSON pointer in it).
Where = tuple[str, str] | None


def short_json(value: Any, limit: int = 200) -> str:
    """A compact one-line JSON rendering of an example or default value."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Keywords that describe a value without constraining its shape: an allOf part holding only
# these (and `type`) annotates the reference beside it (see wrapped_ref).
_ANNOTATIONS = frozenset(
    ["description", "title", "nullable", "example", "examples", "default", "readOnly",
     "writeOnly", "deprecated", "externalDocs", "type"]
)  # fmt: skip
# What makes a schema an object's or an array's (or a choice of them): not a scalar allOf.
_NOT_SCALAR = frozenset(
    ["properties", "additionalProperties", "patternProperties", "items", "prefixItems",
     "allOf", "oneOf", "anyOf", "$dynamicRef"]
)  # fmt: skip
NEVER: dict[str, Any] = {"not": {}}  # `false`, as apis.openapi.model spells a boolean body schema


def _typed_over(own: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Keywords written beside a reference, to lay over its target: all but a `type` where
    the target has one. Generators write `type: object` beside any `$ref` (a string enum's
    too), which OpenAPI 3.0 ignores and 3.1 could never satisfy: the target's type is the
    value's."""
    if "type" in own and "type" in target:
        return {k: v for k, v in own.items() if k != "type"}
    return own


def _laid_over(earlier: tuple[Any, Where] | None, prop: Any, at: Where) -> tuple[Any, Where]:
    """A property a later allOf part names again: a value must fit both parts. Zulip's
    responses name every base property again as `{}` (for `additionalProperties: false`),
    and `avatar_url: {nullable: true}`: the earlier schema stays, with those annotations laid
    over it (the earlier place kept: its nested rows are read from there). A part that
    constrains the property itself replaces it, as before."""
    if earlier is None or not isinstance(earlier[0], dict) or not isinstance(prop, dict):
        return prop, at
    if not prop:
        return earlier
    if all(k in _ANNOTATIONS or k.startswith("x-") for k in prop):
        return {**earlier[0], **prop}, earlier[1]
    return prop, at


def boolean_label(schema: Any) -> str:
    """What a non-object schema allows: JSON Schema 2020-12 (OpenAPI 3.1+) writes `true` for
    "any value" and `false` for "none"; anything else is not a schema, read as no constraint."""
    if isinstance(schema, bool):
        return "any value" if schema else "no value allowed"
    return "any"


def is_null_type(schema: Any) -> bool:
    """`{type: "null"}` (or `["null"]`, or `const: null`) and nothing else that narrows it;
    or 3.0's way of writing it beside another variant, `nullable: true` with no type
    (schemars' `anyOf: [{$ref: WalConfigDiff}, {nullable: true}]`, all over Qdrant)."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or kind == ["null"] or ("const" in schema and schema["const"] is None):
        return True
    return schema.get("nullable") is True and _BARE_NULLABLE.issuperset(schema)


# What a `nullable: true` variant may say besides and still allow only null.
_BARE_NULLABLE = frozenset(["nullable", "description", "title"])


def at_pointer(where: Where, *keys: Any) -> Where:
    if where is None:
        return None
    return where[0], where[1] + "".join("/" + _token(k) for k in keys)


@dataclass
class ObjectView:
    """A schema's own level with `allOf` merged in: what one instance must hold."""

    properties: dict[str, tuple[Any, Where]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    # (label, [(variant, its where)]) for oneOf/anyOf and SUBSCHEMAS, from the schema or its
    # parts.
    compositions: list[tuple[str, list[tuple[Any, Where]]]] = field(default_factory=list)
    cycles: list[str] = field(default_factory=list)  # allOf parts that contain themselves
    # `additionalProperties` (the schema's own, else its parts' last) and `patternProperties`
    # with their places: a part's map of labels or `^customField\d+$` values are the whole's.
    additional: tuple[Any, Where] | None = None
    patterns: dict[str, tuple[Any, Where]] = field(default_factory=dict)
    # An array's `items` and `prefixItems` the same way: `allOf: [{$ref: Items}]` beside a
    # description is an array whose items are Items'.
    items: tuple[Any, Where] | None = None
    prefix: tuple[list[Any], Where] | None = None
    # The `$ref`s merged so far: a schema reached again through another part (a diamond,
    # `allOf: [$ref X, $ref X]` level after level) adds nothing the first merge did not.
    merged: set[str] = field(default_factory=set)


@dataclass
class SchemaReader:
    """Reads schemas of one normalised document.

    `doc` needs only `components/schemas` (a mapping that may load schemas on demand).
    """

    doc: Mapping[str, Any]
    # JSON Schema 2020-12's dynamic scope while reading: each `$dynamicAnchor` name, bound by
    # the outermost schema on the way down that declares it (`PaginatedResource<T>` drawn
    # with its caller's item type). A part loaded later by a lazy link starts with the
    # bindings of the place it was cut from (`bind`), each found again by its place.
    dynamic: dict[str, Any] = field(default_factory=dict, init=False)
    dynamic_at: dict[str, Where] = field(default_factory=dict, init=False)
    _labels: dict[tuple[int, int, tuple[tuple[str, int], ...]], tuple[Any, str]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        components = self.doc.get("components")
        schemas = components.get("schemas") if isinstance(components, Mapping) else None
        self.schemas: Mapping[str, Any] = schemas if isinstance(schemas, Mapping) else {}

    def bind(self, anchors: list[tuple[Any, Where]]) -> None:
        """Start with these `$dynamicAnchor` schemas (and their places) bound: the dynamic
        scope a cut part had where it was cut. Anything else is ignored."""
        for schema, where in anchors:
            name = schema.get("$dynamicAnchor") if isinstance(schema, dict) else None
            if isinstance(name, str) and name not in self.dynamic:
                self.dynamic[name], self.dynamic_at[name] = schema, where

    def type_label(self, schema: Any, _depth: int = 0) -> str:
        """A short human type: `string <date-time>`, `array of Pet`, `string | null`."""
        if not isinstance(schema, dict):
            return boolean_label(schema)
        if schema == NEVER:
            return boolean_label(False)
        bound = self._bound(schema)
        if bound is not schema and _depth < 8:
            return self.type_label(bound, _depth + 1)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return ref_name(ref)
        types = schema.get("type")
        names = (
            [str(t) for t in types] if isinstance(types, list) else ([str(types)] if types else [])
        )
        if schema.get("nullable") is True and "null" not in names:
            if not names:
                # 3.0's `nullable: true` beside no type (`oneOf: [string, array]`): what the
                # rest reads as, or null; it read "null" alone.
                rest = {k: v for k, v in schema.items() if k != "nullable"}
                label = self.type_label(rest, _depth + 1)
                return label if label == "any" or label.endswith("| null") else f"{label} | null"
            names.append("null")
        if "const" in schema:
            return f"const {short_json(schema['const'], 40)}"
        if not names:
            wrapped = self.wrapped_ref(schema)
            if wrapped is not None:
                return ref_name(wrapped[0])
            all_of = schema.get("allOf")
            if isinstance(all_of, list) and all_of and _depth < 8:
                # A merged allOf reads as its parts' type: object when any part is one.
                labels = [self._part_label(self.deref_any(p), _depth + 1) for p in all_of]
                if "properties" in schema or any(lb.startswith("object") for lb in labels):
                    return "object"
                # A part that only constrains (`{minLength: 2}`) reads "any": the others say.
                typed = set(labels) - {"any"}
                if len(typed) == 1:
                    return typed.pop()
            for key, label in COMPOSITIONS:
                variants = schema.get(key)
                if isinstance(variants, list):
                    if key != "allOf" and _depth < 8 and len(variants) == 1:
                        # One variant (utoipa's `oneOf: [{$ref: LogMode, description}]` beside
                        # a default): that variant, as a one-part allOf reads.
                        return self.type_label(variants[0], _depth + 1)
                    if key != "allOf" and _depth < 8 and len(variants) == 2:
                        # 3.1's nullable: `anyOf: [{$ref: Pet}, {type: "null"}]` reads Pet | null.
                        others = [v for v in variants if not is_null_type(v)]
                        if len(others) == 1:
                            return f"{self.type_label(others[0], _depth + 1)} | null"
                    return label
            if "properties" in schema:
                names = ["object"]
            elif isinstance(schema.get("prefixItems"), list):
                names = ["array"]
            elif "enum" in schema:
                names = ["enum"]
            else:
                return "any"
        label = " | ".join(names)
        prefix = schema.get("prefixItems")
        if "array" in names and isinstance(prefix, list) and prefix:
            # A tuple (JSON Schema 2020-12): each position's type, in order.
            parts = ", ".join(self.type_label(p, _depth + 1) for p in prefix[:8])
            label = label.replace("array", f"array [{parts}{', …' if len(prefix) > 8 else ''}]", 1)
        elif "array" in names and isinstance(schema.get("items"), dict | bool):
            items = self.type_label(schema["items"], _depth + 1)
            if " | " in items:
                items = f"({items})"  # `array of (Pet | null) | null`: whose null is whose
            label = label.replace("array", f"array of {items}", 1)
        fmt = schema.get("format")
        if isinstance(fmt, str):
            label += f" <{fmt}>"
        # JSON Schema's (OpenAPI 3.1's) binary strings: how the text is encoded and what it
        # holds, `string <base64> image/png`; 3.0's `format: base64` beside it said once.
        encoding, media = schema.get("contentEncoding"), schema.get("contentMediaType")
        if isinstance(encoding, str) and encoding and encoding != fmt:
            label += f" <{encoding[:40]}>"
        if isinstance(media, str) and media:
            label += f" {media[:80]}"
        return label

    def _part_label(self, part: Any, depth: int) -> str:
        """`type_label` of an allOf part, once per part, depth and dynamic scope: the parts'
        labels are read 8 levels down, and levels of `allOf: [$ref X, $ref X]` read the same
        schemas fan**8 times. The part is held beside its label, so its id is not reused."""
        scope = tuple((name, id(bound)) for name, bound in self.dynamic.items())
        key = (id(part), depth, scope)
        hit = self._labels.get(key)
        if hit is not None and hit[0] is part:
            return hit[1]
        label = self.type_label(part, depth)
        self._labels[key] = (part, label)
        return label

    def _bound(self, schema: dict[str, Any]) -> Any:
        """The schema a `$dynamicRef: '#name'` is bound to here, else `schema` itself."""
        ref = schema.get("$dynamicRef")
        if isinstance(ref, str) and ref.startswith("#"):
            return self.dynamic.get(ref[1:], schema)
        return schema

    def lookup(self, ref: str) -> Any:
        """The target of `#/components/schemas/<name>[/<pointer>]`, else None."""
        if not ref.startswith(SCHEMA_PREFIX):
            return None
        name, _, rest = ref[len(SCHEMA_PREFIX) :].partition("/")
        target = self.schemas.get(name.replace("~1", "/").replace("~0", "~"))
        return resolve_ref(target, "#/" + rest) if rest and isinstance(target, dict) else target

    def _hops(self, schema: dict[str, Any]) -> list[Any]:
        """`schema`, then each target its `$ref` leads to: an alias (`CodeAlias: {$ref:
        Code}`, what bundling a reference to another file leaves) is followed to what it
        names. At most 8 hops (a chain of aliases ends well within; a loop stops there)."""
        hops: list[Any] = [schema]
        for _ in range(8):
            node = hops[-1]
            ref = node.get("$ref") if isinstance(node, dict) else None
            target = self.lookup(ref) if isinstance(ref, str) else None
            if target is None:
                break
            hops.append(target)
        return hops

    def deref(self, schema: dict[str, Any]) -> Any:
        return self._hops(schema)[-1]

    def deref_any(self, schema: Any) -> Any:
        return self.deref(schema) if isinstance(schema, dict) else schema

    def wrapped_ref(self, schema: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """(the `$ref`, the annotations) when `schema` is OpenAPI 3.0's way of describing one
        use of a shared schema, whose `$ref` siblings it ignores: `allOf: [{$ref: X},
        {description: ...}]` (Asana writes it 79 times), or `{allOf: [{$ref: X}], description:
        ...}` (Pydantic, FastAPI). None for an allOf that adds more."""
        parts = schema.get("allOf")
        if not isinstance(parts, list) or not 1 <= len(parts) <= 4:
            return None
        if len(parts) == 1 and not all(
            key == "allOf" or key in _ANNOTATIONS or key.startswith("x-") for key in schema
        ):
            return None  # `{allOf: [{$ref: Base}], properties: ...}` extends Base
        refs = [p["$ref"] for p in parts if isinstance(p, dict) and isinstance(p.get("$ref"), str)]
        others = [p for p in parts if isinstance(p, dict) and "$ref" not in p]
        if len(refs) != 1 or len(others) != len(parts) - 1:
            return None
        if any(not _ANNOTATIONS.issuperset(part) for part in others):
            return None
        annotations: dict[str, Any] = {}
        for part in others:
            annotations.update({k: v for k, v in part.items() if k != "type"})
        return refs[0], annotations

    def shown(self, schema: dict[str, Any]) -> Any:
        """What a reader is told about `schema`: its `$ref`'s target, with the keywords written
        beside the `$ref` over the target's. JSON Schema 2020-12 (OpenAPI 3.1) applies them,
        and specs everywhere describe each use of a shared schema that way."""
        hops = self._hops(schema)
        target = hops[-1]
        if isinstance(target, dict) and target is not schema:
            # Each hop's own keywords over those of what it names, the outermost winning.
            beside = [{k: v for k, v in hop.items() if k != "$ref"} for hop in hops[:-1]]
            if any(beside):
                merged = dict(target)
                for own in reversed(beside):
                    merged.update(_typed_over(own, merged))
                return merged
        wrapped = self.wrapped_ref(schema) if target is schema else None
        if wrapped is not None:
            inner = self.deref({"$ref": wrapped[0]})
            if isinstance(inner, dict):
                own = {k: v for k, v in schema.items() if k != "allOf"}
                return {**inner, **wrapped[1], **_typed_over(own, inner)}
        return target

    def object_view(
        self, schema: dict[str, Any], where: Where, stack: tuple[str, ...]
    ) -> ObjectView:
        """The properties, required names and variants one instance of `schema` has."""
        view = ObjectView()
        self._merge(schema, where, stack, view, 0)
        return view

    # Internals -------------------------------------------------------------------------

    def _scalar_all_of(self, schema: dict[str, Any]) -> list[Any] | None:
        """The parts of an `allOf` that makes a string, number or boolean (`[{$ref: Code},
        {minLength: 2}]`): nothing to merge into rows, so each part is shown as a variant
        is. None for an object's or an array's, and for a described `$ref` (wrapped_ref)."""
        parts = schema.get("allOf")
        if not isinstance(parts, list) or not parts or self.wrapped_ref(schema) is not None:
            return None
        for part in [schema, *(self.deref_any(p) for p in parts)]:
            if not isinstance(part, dict) or any(k in part for k in _NOT_SCALAR if k != "allOf"):
                return None
            types = part.get("type")
            if {"object", "array"} & set(types if isinstance(types, list) else [types]):
                return None
            if part is not schema and "allOf" in part:
                return None
        return parts

    def _merge(
        self, schema: dict[str, Any], where: Where, stack: tuple[str, ...], view: ObjectView, n: int
    ) -> None:
        all_of = schema.get("allOf")
        scalar = self._scalar_all_of(schema)
        if scalar is not None:
            located = [(p, at_pointer(where, "allOf", i)) for i, p in enumerate(scalar)]
            view.compositions.append(("all of", located))
        elif isinstance(all_of, list) and n < 16:
            for index, part in enumerate(all_of):
                if not isinstance(part, dict):
                    continue
                ref = part.get("$ref")
                if isinstance(ref, str):
                    if ref in stack:
                        view.cycles.append(ref_name(ref))
                        continue
                    if ref in view.merged:
                        continue
                    view.merged.add(ref)
                    target = self.lookup(ref)
                    if isinstance(target, dict):
                        self._merge(target, self._where_of(ref), (*stack, ref), view, n + 1)
                    continue
                self._merge(part, at_pointer(where, "allOf", index), stack, view, n + 1)
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for name, prop in properties.items():
                at = at_pointer(where, "properties", name)
                view.properties[str(name)] = _laid_over(view.properties.get(str(name)), prop, at)
        required = schema.get("required")
        if isinstance(required, list):
            view.required.update(str(r) for r in required)
        if "additionalProperties" in schema:
            at = at_pointer(where, "additionalProperties")
            view.additional = (schema["additionalProperties"], at)
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict):
            for pattern, prop in patterns.items():
                at = at_pointer(where, "patternProperties", pattern)
                view.patterns[str(pattern)] = (prop, at)
        if "items" in schema:
            view.items = (schema["items"], at_pointer(where, "items"))
        if isinstance(schema.get("prefixItems"), list):
            view.prefix = (schema["prefixItems"], where)
        for key, label in COMPOSITIONS[1:]:
            variants = schema.get(key)
            if isinstance(variants, list) and variants:
                located = [(v, at_pointer(where, key, i)) for i, v in enumerate(variants)]
                view.compositions.append((label, located))
        for key in SUBSCHEMAS:
            if isinstance(schema.get(key), dict):
                label = "property names" if key == "propertyNames" else key
                view.compositions.append((label, [(schema[key], at_pointer(where, key))]))
        dependent = schema.get("dependentSchemas")
        if isinstance(dependent, dict):  # what an instance with `number` must also be
            for name, sub in list(dependent.items())[:20]:
                if isinstance(sub, dict):
                    at = at_pointer(where, "dependentSchemas", name)
                    view.compositions.append((f"with {name}", [(sub, at)]))

    def _where_of(self, ref: str) -> Where:
        return (ref_name(ref), "") if ref.startswith(SCHEMA_PREFIX) else None

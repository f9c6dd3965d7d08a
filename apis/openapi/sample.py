"""Example payloads for a schema: the spec's own example first, else one generated.

Used by the gateway's mock backend (as APIM's mock-response does) and by the console for
request bodies. `#/components/schemas/...` refs resolve against the normalised document;
cycles stop with an empty value instead of recursing, and output size is bounded.
"""

from __future__ import annotations

from typing import Any

from apis.openapi.errors import unescape_token
from apis.openapi.examples import (
    allows_null,
    as_written,
    example_value_key,
    has_example,
    may_stand,
    of_its_type,
)
from apis.openapi.flags import flagged
from apis.openapi.scalar_sample import (
    OF_KIND,
    below_maximum,
    enum_value,
    fits_pattern,
    kind_of,
    positive,
    scalar,
)
from apis.openapi.values import as_dict, as_list, is_number

MAX_DEPTH = 12
# How many of a oneOf's options are sampled in turn for one that no other also fits.
_MAX_OPTIONS = 8
_MAX_NODES = 2_000
# The most JSON values repeated items may make, written out (about a megabyte of text at worst).
_MAX_WEIGHT = 20_000
_PRELOAD_LEVELS = 3


def media_example(media: dict[str, Any], document: dict[str, Any]) -> Any:
    """A media type object's `example`, first `examples` value, or a generated sample."""
    if has_example(media):
        return media["example"]
    examples = media.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]  # JSON Schema's list where OpenAPI wants a map (model._examples)
    if isinstance(examples, dict):
        for example in examples.values():
            key = example_value_key(example) if isinstance(example, dict) else None
            if key:
                return example[key]
    schema = media.get("schema")
    return sample(schema, document) if isinstance(schema, dict) else None


def sample(
    schema: Any, document: dict[str, Any], max_depth: int = MAX_DEPTH, *, request: bool = False
) -> Any:
    """A value that fits `schema`, preferring the schema's own example, const or default.

    `max_depth` bounds nesting (each `$ref` counts one): reference pages ask for less than
    the mock backend, for samples a reader can take in and only the schemas already loaded.
    `request`: a value sent to the API, so with `writeOnly` properties (a password) and
    without `readOnly` ones (an id the server sets); else one it answers, the other way."""
    return _Sampler(document, max_depth, request).build(schema, 0, ())


class _Sampler:
    def __init__(
        self, document: dict[str, Any], max_depth: int = MAX_DEPTH, request: bool = False
    ) -> None:
        self.max_depth = max_depth
        self.left_out = "readOnly" if request else "writeOnly"
        schemas = document.get("components", {}).get("schemas", {})
        self.schemas: dict[str, Any] = schemas if isinstance(schemas, dict) else {}
        self.nodes = 0
        self.weights: dict[int, tuple[Any, int]] = {}  # _weight's, by identity (value kept)
        # JSON Schema 2020-12's dynamic scope: each `$dynamicAnchor` name, bound by the
        # outermost schema on the way down that declares it (`PaginatedResource<T>` read with
        # its caller's item type).
        self.dynamic: dict[str, Any] = {}
        # The allOf being built: its parts (by identity, `$ref` targets too), the names they
        # declare (a part may require one without declaring it) and the names any of them
        # requires (a part may declare one another requires).
        self.siblings: list[tuple[set[int], set[str], set[str]]] = []

    def _resolve(self, ref: Any) -> tuple[str, Any]:
        name = _schema_name(ref)
        if name:
            preload = getattr(self.schemas, "preload", None)
            if preload is not None and not dict.__contains__(self.schemas, name):
                # Schemas read row by row (apis.documents.LazySchemas): fetch this one and
                # what it references a few levels down, a query a level, instead of a query
                # for each schema the walk meets (93 for one Stripe sample).
                preload({"$ref": ref}, _PRELOAD_LEVELS)
            return name, self.schemas.get(name)
        return "", None

    def _as_child(self, ref: str, target: Any, value: Any) -> Any:
        """`value` of the schema at `ref` with the discriminator value its parent gives it:
        `Cat: allOf [Pet, ...]`, where Pet's discriminator maps `cat` to Cat. Not when the
        parent is a oneOf/anyOf that does not list it: InfluxDB's PostCheck, `allOf [$ref
        CheckDiscriminator]`, is that union again, not a variant of it (its sample said
        `"type": "PostCheck"`, which no variant allows)."""
        parts = target.get("allOf") if isinstance(target, dict) else None
        parts = parts if isinstance(parts, list) else []
        for part in parts:
            if isinstance(part, dict) and "$ref" in part:
                _, parent = self._resolve(part["$ref"])
                if isinstance(parent, dict) and isinstance(parent.get("discriminator"), dict):
                    options = [*as_list(parent.get("oneOf")), *as_list(parent.get("anyOf"))]
                    if options and not any(as_dict(o).get("$ref") == ref for o in options):
                        return value
                    return _tagged(parent, {"$ref": ref}, value, parts, target)
        return value

    def _tagged_option(self, schema: dict[str, Any], option: Any, value: Any) -> Any:
        """`value` of a oneOf/anyOf `option` with the discriminator's value naming it, held
        to the option's own values for that property (OpenSearch's BinaryProperty:
        `type: {enum: [binary]}` under an unmapped discriminator)."""
        if not isinstance(schema.get("discriminator"), dict):
            return value
        target = (
            self._target(option["$ref"]) if isinstance(option, dict) and "$ref" in option else None
        )
        parts = target.get("allOf") if isinstance(target, dict) else None
        # A part by `$ref` counts as its own (OpenAI's InputMessageResource: allOf [$ref
        # InputMessage, which allows `type` only "message", ...]).
        own = [target, *(self._deref(p) for p in as_list(parts))] if target else []
        return _tagged(schema, option, value, own, target)

    def _beside(
        self, schema: dict[str, Any], option: Any, value: dict[str, Any], base: dict[str, Any]
    ) -> dict[str, Any]:
        """An option's `value` with `base`, the sample of the properties beside the options.
        The option's value for a name stands where it declares that name (or it is the
        discriminator's); a name it only requires (`{required: [start]}`, sampled "string")
        keeps the schema's own value, and one it forbids (`end: {not: {}}`) is left out:
        Rebilly's RiskScoreBracket, `start` an integer, got "string" and `end: null`."""
        target = self._deref(option)
        declared = self._declared(target)
        tag = as_dict(schema.get("discriminator")).get("propertyName")
        merged = {**base}
        for name, item in value.items():
            if name in declared or name == tag or name not in merged:
                merged[name] = item
        for name, sub in as_dict(target.get("properties")).items():
            if _allows_nothing(self._deref(sub) if _ref_of(sub) else sub):
                merged.pop(name, None)
        return merged

    def _containing(self, schema: dict[str, Any], depth: int, seen: tuple[str, ...]) -> list[Any]:
        """The items a 2020-12 `contains` asks for (`minContains` of them, 1 by default)."""
        contains = schema.get("contains")
        if not isinstance(contains, dict) or self._closes_cycle(contains, seen):
            return []
        least = schema.get("minContains", 1)
        least = least if isinstance(least, int) and 0 < least <= 20 else 1
        value = self.build(contains, depth + 1, seen)
        if least > 1 and least * self._weight(value) > _MAX_WEIGHT:
            least = 1  # as for repeated items
        return [] if value is None else [value] * least

    def _pins(self, schema: Any) -> bool:
        """Whether `schema` (through a `$ref`) fixes its sample: an enum, const, default or
        example."""
        if isinstance(schema, dict) and "$ref" in schema:
            schema = self._target(schema["$ref"])
        keys = ("enum", "const", "default", "example", "examples")
        return isinstance(schema, dict) and any(key in schema for key in keys)

    def _closes_cycle(self, schema: Any, seen: tuple[str, ...], hops: int = 3) -> bool:
        """Whether `schema` is a `$ref` back to a schema being sampled (a cycle's end), a
        one-part allOf of one (`friend: {description: ..., allOf: [$ref: Pet]}`), a oneOf
        or anyOf each of whose options is one, or an object that requires one, a few hops
        down (TypeSpec's PersonRelative requires `person`, a Person again)."""
        parts = schema.get("allOf") if isinstance(schema, dict) else None
        if isinstance(parts, list) and len(parts) == 1 and "$ref" not in schema:
            return self._closes_cycle(parts[0], seen, hops)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key) if isinstance(schema, dict) else None
            if isinstance(options, list) and options and "$ref" not in schema:
                return all(self._closes_cycle(option, seen, hops) for option in options)
        if (
            isinstance(schema, dict)
            and "$ref" not in schema
            and kind_of(schema) == "array"
            and positive(schema.get("minItems"))
        ):
            # A list that may not be empty, of a schema being sampled (Kong's metering
            # QueryFilterString.and): the cycle leaves it [], which its minItems refuses.
            return self._closes_cycle(schema.get("items"), seen, hops)
        name = _schema_name(schema.get("$ref") if isinstance(schema, dict) else None)
        if name and name in seen:
            return True
        if hops <= 0 or not seen:
            return False
        target = self._deref(schema)
        props = target.get("properties")
        if not isinstance(props, dict) or has_example(target) or "default" in target:
            return False
        inner = (*seen, name) if name else seen
        return any(
            isinstance(required, str)
            and isinstance(props.get(required), dict)
            and not flagged(props[required], self.left_out, self._target, self.max_depth)
            and self._closes_cycle(props[required], inner, hops - 1)
            for required in as_list(target.get("required"))
        )

    def _distinct(self, item: Any, n: int, items: Any) -> list[Any]:
        """`n` distinct values like `item` for `uniqueItems` (Discord's bulk delete wants two
        different ids), or `n` copies of `item` when no simple change keeps it valid."""
        if isinstance(items, dict) and "$ref" in items:
            items = self._target(items["$ref"])
        if not isinstance(items, dict):
            return [item] * n
        enum = items.get("enum")
        if isinstance(enum, list):
            values = [v for i, v in enumerate(enum) if v not in enum[:i]]
            fits = OF_KIND.get(kind_of(items))
            values = [v for v in values if fits is None or fits(v)]
            return values[:n] if len(values) >= n else [item] * n
        if is_number(item) and kind_of(items) in ("integer", "number"):
            step: Any = items.get("multipleOf")
            step = step if is_number(step) and step > 0 else 1
            values = [item + i * step for i in range(n)]
            return values if below_maximum(values[-1], items) else [item] * n
        if isinstance(item, str) and kind_of(items) == "string":
            if item[-1:].isdigit() and n <= 10:  # ten last digits, then they would repeat
                values = [item[:-1] + str((int(item[-1]) + i) % 10) for i in range(n)]
            elif "format" not in items:
                values = [item, *(item + str(i) for i in range(1, n))]
            else:
                return [item] * n
            pattern, longest = items.get("pattern"), items.get("maxLength")
            if all(
                (not isinstance(pattern, str) or fits_pattern(v, pattern))
                and (not isinstance(longest, int) or len(v) <= longest)
                for v in values
            ):
                return values
        return [item] * n

    def _only_one(
        self, options: list[Any], option: Any, value: Any, depth: int, seen: tuple[str, ...]
    ) -> tuple[Any, Any]:
        """A oneOf's option and its sample that no other option also fits, when the first
        one's does: hey-api's `import` body is oneOf [Model (requires foo), Other (requires
        nothing)], and Model's sample fit both, which oneOf refuses (the console's check
        said "valid under each of"). Where every sample fits another, the first stays."""
        if not any(self._fits(value, o) for o in options if o is not option):
            return option, value
        tried = [(option, value)]
        for other in options[:_MAX_OPTIONS]:
            if other is option or self._closes_cycle(other, seen):
                continue
            candidate = self.build(other, depth, seen)
            if candidate is not None and not any(
                self._fits(candidate, o) for o in options if o is not other
            ):
                return other, candidate
            tried.append((other, candidate))
        for other, candidate in tried:
            trimmed = self._without_others_required(options, other, candidate)
            if trimmed is not candidate:
                return other, trimmed
        return option, value

    def _without_others_required(self, options: list[Any], option: Any, value: Any) -> Any:
        """`value` (the option's object sample) without, for each other option it also fits,
        a name that one requires and `option` does not, when that leaves a value only
        `option` fits: Medusa's variants are oneOf [Create (requires title, prices), Update
        (requires nothing)], open objects declaring the same names, so every full sample
        fit both; Update's without title fits Update alone. Else `value` itself."""
        if not isinstance(value, dict):
            return value
        own = self._required(option)
        trimmed = dict(value)
        for other in options[:_MAX_OPTIONS]:
            if other is option or not self._fits(trimmed, other):
                continue
            name = next((n for n in self._required(other) if n in trimmed and n not in own), None)
            if name is None:
                return value
            del trimmed[name]
        if trimmed == value or not self._fits(trimmed, option):
            return value
        if any(self._fits(trimmed, o) for o in options if o is not option):
            return value
        return trimmed

    def _required(self, schema: Any) -> list[str]:
        """The names `schema` (a reference followed) and its allOf parts require."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            schema = self._target(schema["$ref"])
        if not isinstance(schema, dict):
            return []
        names = [n for n in as_list(schema.get("required")) if isinstance(n, str)]
        for part in as_list(schema.get("allOf")):
            if isinstance(part, dict) and isinstance(part.get("$ref"), str):
                part = self._target(part["$ref"])
            if isinstance(part, dict):
                names += [n for n in as_list(part.get("required")) if isinstance(n, str)]
        return names

    def _an_option_fits(self, schema: dict[str, Any], value: Any, depth: int = 0) -> bool:
        """Whether one of the schema's oneOf/anyOf options (if it lists any) may hold `value`,
        and so in each of its allOf parts. Meilisearch writes `mode: {oneOf: [{$ref:
        LogMode}], default: Human}`, LogMode an enum without "Human"; Text Generation
        Inference `grammar: {allOf: [{$ref: GrammarType}], default: "null"}`, GrammarType a
        oneOf of objects: either default would be refused by the console's own check."""
        options = [*as_list(schema.get("oneOf")), *as_list(schema.get("anyOf"))]
        if options and not any(self._fits(value, option) for option in options):
            return False
        for part in as_list(schema.get("allOf")) if depth < 4 else ():
            if isinstance(part, dict) and isinstance(part.get("$ref"), str):
                part = self._target(part["$ref"])
            if isinstance(part, dict) and not self._an_option_fits(part, value, depth + 1):
                return False
        return True

    def _fits(self, value: Any, schema: Any, depth: int = 0) -> bool:
        """Whether `value` may be valid under `schema`, judged loosely (types, enum, const,
        required and closed properties, a few levels down): True when unsure."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            schema = self._target(schema["$ref"])
        if depth > 6 or not isinstance(schema, dict):
            return schema is not False
        if not of_its_type(schema, value):
            return False
        if "const" in schema and value != schema["const"]:
            return False
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and value not in enum:
            return value is None and allows_null(schema)
        if not all(self._fits(value, part, depth + 1) for part in as_list(schema.get("allOf"))):
            return False
        if isinstance(value, dict):
            props = schema.get("properties")
            props = props if isinstance(props, dict) else {}
            for name in as_list(schema.get("required")):
                if not isinstance(name, str) or name in value:
                    continue
                if not flagged(props.get(name), self.left_out, self._target, self.max_depth):
                    return False
            closed = schema.get("additionalProperties") is False
            if closed and "patternProperties" not in schema:
                declared = self._declared(schema)
                if any(name not in declared for name in value):
                    return False
            for name, sub in props.items():
                if name in value and not self._fits(value[name], sub, depth + 1):
                    return False
        if isinstance(value, list) and isinstance(schema.get("items"), dict):
            return all(self._fits(item, schema["items"], depth + 1) for item in value[:5])
        return True

    def _at_least(
        self, out: dict[str, Any], schema: dict[str, Any], depth: int, seen: tuple[str, ...]
    ) -> None:
        """Adds entries to `out` up to the schema's `minProperties` (at most 20), each one
        fitting `additionalProperties` (else any value does): APIs.guru's ApiVersion.info is
        `type: object, minProperties: 1`, and sampled as {} it broke its own schema. Not
        where other keywords govern the names (a closed object, patternProperties)."""
        least = schema.get("minProperties")
        additional = schema.get("additionalProperties")
        if (
            not isinstance(least, int)
            or isinstance(least, bool)
            or len(out) >= least
            or additional is False
            or "patternProperties" in schema
            or "propertyNames" in schema
        ):
            return
        if isinstance(additional, dict) and self._closes_cycle(additional, seen):
            return
        index = 1
        while len(out) < min(least, 20):
            name = "key" if index == 1 else f"key{index}"
            index += 1
            if name not in out:
                extra = isinstance(additional, dict)
                out[name] = self.build(additional, depth + 1, seen) if extra else "string"

    def _deref(self, schema: Any) -> dict[str, Any]:
        if _ref_of(schema):
            schema = self._target(schema["$ref"])
        return schema if isinstance(schema, dict) else {}

    def _declared(
        self, schema: Any, depth: int = 0, read: dict[int, int] | None = None
    ) -> set[str]:
        """The property names `schema` declares, its allOf parts' too (through `$ref`s).
        A part already read as high up (`read`: its identity, the least depth) adds
        nothing: levels of `allOf: [$ref X] * 5` were read 5**8 times each."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            schema = self._target(schema["$ref"])
        if not isinstance(schema, dict) or depth > 8:
            return set()
        read = {} if read is None else read
        if read.get(id(schema), depth + 1) <= depth:
            return set()
        read[id(schema)] = depth
        props = schema.get("properties")
        names = {str(n) for n in props} if isinstance(props, dict) else set()
        for part in as_list(schema.get("allOf")):
            names |= self._declared(part, depth + 1, read)
        return names

    def _undeclared(
        self, out: dict[str, Any], schema: dict[str, Any], depth: int, seen: tuple[str, ...]
    ) -> None:
        """Adds to `out` each property `schema` requires but no schema declares: DigitalOcean's
        logtail spec requires `endpoint` and declares only `token`, and the console's check
        refused the sample without it. Its value fits `additionalProperties`, else any does;
        a declared one left out (readOnly in a request) stays out."""
        required = [n for n in as_list(schema.get("required")) if isinstance(n, str)]
        missing = [n for n in required if n not in out]
        additional = schema.get("additionalProperties")
        if not missing or additional is False:
            return
        declared = self._declared(schema)
        for ids, names, _ in self.siblings[-1:]:
            if id(schema) in ids:  # an allOf part: what its siblings declare is declared
                declared |= names
        for name in missing:
            if name in declared:
                continue
            if isinstance(additional, dict):
                if self._closes_cycle(additional, seen):
                    continue
                out[name] = self.build(additional, depth + 1, seen)
            else:
                out[name] = "string"

    def _target(self, ref: str) -> Any:
        return self._resolve(ref)[1]

    def _dynamic_target(self, schema: Any) -> Any:
        """The schema a `$dynamicRef: '#name'` is bound to here, else `schema` itself."""
        ref = schema.get("$dynamicRef") if isinstance(schema, dict) else None
        if isinstance(ref, str) and ref.startswith("#"):
            return self.dynamic.get(ref[1:], schema)
        return schema

    def _weight(self, value: Any) -> int:
        """How many JSON values `value` holds written out, each shared copy counted: items
        are repeated by reference, so a sample's own node count does not tell its size."""
        if not isinstance(value, dict | list):
            return 1
        hit = self.weights.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        inner = value.values() if isinstance(value, dict) else value
        weight = 1 + sum(self._weight(v) for v in inner)
        self.weights[id(value)] = (value, weight)
        return weight

    def _spent(self) -> bool:
        """Whether the walk has met `_MAX_NODES` schemas: from then on an object gets only
        its required fields and a list is empty, so a huge body (a Kubernetes pod spec)
        ends in values that fit, not in `null`s; at twice that it stops outright."""
        return self.nodes > _MAX_NODES

    def build(self, schema: Any, depth: int, seen: tuple[str, ...]) -> Any:
        """A value for `schema`, `depth` levels of data (objects and arrays) down: `$ref`s
        and compositions cost none, so a field three refs away still gets a typed value.
        Past `max_depth` a list is empty and an object has only its required fields; a
        scalar still gets its typed value."""
        self.nodes += 1
        if not isinstance(schema, dict) or self.nodes > 2 * _MAX_NODES:
            return None
        fresh = {k: v for k, v in dynamic_anchors(schema).items() if k not in self.dynamic}
        self.dynamic.update(fresh)
        try:
            return self._build(schema, depth, seen)
        finally:
            for name in fresh:
                del self.dynamic[name]

    def _build(self, schema: dict[str, Any], depth: int, seen: tuple[str, ...]) -> Any:
        target = self._dynamic_target(schema)
        if target is not schema:
            # The schema it is bound to, unless that is being built at this very data level
            # (`{$dynamicAnchor: n, allOf: [{$dynamicRef: '#n'}]}`): a cycle, as a `$ref`'s.
            # (NUL: no component name has one, imports refuse it.)
            place = f"\x00{id(target)}@{depth}"
            if place in seen:
                return None
            return self.build(target, depth, (*seen, place))
        if "$ref" in schema:
            name, target = self._resolve(schema["$ref"])
            if not name or name in seen:
                return None  # unresolvable or a cycle: stop here
            value = self.build(target, depth, (*seen, name))
            return self._as_child(schema["$ref"], target, value)
        if has_example(schema):
            example = as_written(schema, schema["example"])
            if may_stand(schema, example):
                return example
        if "const" in schema:
            return schema["const"]
        if (
            has_example(schema, "default")
            and may_stand(schema, schema["default"])
            and self._an_option_fits(schema, schema["default"])
        ):
            return schema["default"]
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            example = as_written(schema, examples[0])
            if may_stand(schema, example):
                return example
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum_value(enum, kind_of(schema))
        condition = schema.get("if")
        if isinstance(condition, dict) and ("then" in schema or "else" in schema):
            # JSON Schema's if/then/else: the `if` made true and its `then` met (`kind:
            # card` and the card's fields), or with no `then`, the `else` met.
            met = {k: v for k, v in schema.items() if k not in ("if", "then", "else")}
            then = schema.get("then")
            for branch in [condition, then] if isinstance(then, dict) else [schema.get("else")]:
                met = _with_branch(met, branch)
            return self.build(met, depth, seen)
        parts = schema.get("allOf")
        if (
            isinstance(parts, list)
            and kind_of(schema) not in (None, "object", "array")
            and all(isinstance(p, dict) and "$ref" not in p for p in parts)
        ):
            # A scalar whose parts only constrain it (`type: string, allOf: [{pattern},
            # {pattern}]`): one schema with their keywords, not a merge of objects.
            flat = {k: v for k, v in schema.items() if k != "allOf"}
            for part in parts:
                for k, v in part.items():
                    flat.setdefault(k, v)
            return self.build(flat, depth, seen)
        for key in ("allOf",):
            if isinstance(schema.get(key), list):
                merged: dict[str, Any] = {}
                parts = schema[key]
                ids = {id(p) for p in parts}
                ids |= {id(self._target(p["$ref"])) for p in parts if _ref_of(p)}
                needed = {
                    n
                    for p in [schema, *parts]
                    for n in as_list(self._deref(p).get("required"))
                    if isinstance(n, str)
                }
                self.siblings.append((ids, self._declared(schema), needed))
                try:
                    for part in parts:
                        value = self.build(part, depth, seen)
                        if isinstance(value, dict):
                            # A part that names a property again with no schema of its own
                            # (Zulip's `result: {}` beside JsonSuccessBase, for
                            # `additionalProperties: false`) samples it as null: the value
                            # an earlier part gave stands.
                            merged.update(
                                (k, v) for k, v in value.items() if v is not None or k not in merged
                            )
                        elif value is not None and not merged:
                            return value
                finally:
                    self.siblings.pop()
                extra = {k: v for k, v in schema.items() if k != "allOf"}
                if extra.get("properties"):
                    own = self.build({**extra, "type": "object"}, depth, seen)
                    props = extra["properties"] if isinstance(extra["properties"], dict) else {}
                    for name, value in own.items() if isinstance(own, dict) else ():
                        # A part's value stands against a loose one of the schema's own
                        # (`mode: {type: string}` beside a part's `mode: {enum: [short]}`).
                        if merged.get(name) is None or self._pins(props.get(name)):
                            merged[name] = value
                self._undeclared(merged, schema, depth, seen)
                return merged
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                if _constrains_only(options[0]) and kind_of(schema) is not None:
                    # `type: object, properties, anyOf: [{required: [id]}, {required: [name]}]`:
                    # the variants only constrain the schema's own value (Apideck's
                    # CustomField), which alone would sample as null.
                    own = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
                    required = [*as_list(own.get("required")), *as_list(options[0].get("required"))]
                    declared = own.get("properties")
                    if key == "oneOf" and isinstance(declared, dict):
                        # Not what only another variant requires: the value would fit that
                        # one too (OpenAI's file_search: oneOf [{required: [vector_store_ids]},
                        # {required: [vector_stores]}]).
                        others = {
                            n for o in options[1:] if isinstance(o, dict)
                            for n in as_list(o.get("required"))
                        } - set(required)  # fmt: skip
                        own["properties"] = {k: v for k, v in declared.items() if k not in others}
                    return self.build({**options[0], **own, "required": required}, depth, seen)
                # The first option that does not close a cycle (OpenSearch's `filter: oneOf:
                # [$ref Query, array of $ref Query]`): the one that does samples as null.
                option = next((o for o in options if not self._closes_cycle(o, seen)), options[0])
                value = self.build(option, depth, seen)
                if key == "oneOf" and not isinstance(schema.get("discriminator"), dict):
                    option, value = self._only_one(options, option, value, depth, seen)
                value = self._tagged_option(schema, option, value)
                if isinstance(value, dict) and as_dict(schema.get("properties")):
                    # Properties beside the options are the value's too (a Rust struct with
                    # a flattened enum, Svix's IngestSourceIn: `required: [name]` and the
                    # source's kind as oneOf); the option's own value for a name stands.
                    own = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
                    base = self.build({**own, "type": "object"}, depth, seen)
                    if isinstance(base, dict):
                        value = self._beside(schema, option, value, base)
                return value
        kind = kind_of(schema)
        if kind == "object":
            out: dict[str, Any] = {}
            # Past the depth or the budget: the required fields only, so the value still fits.
            short = depth > self.max_depth or self._spent()
            props = schema.get("properties")
            required = schema.get("required")
            required = required if isinstance(required, list) else []
            for ids, _, needed in self.siblings[-1:]:
                if id(schema) in ids:  # an allOf part: what a sibling requires is required
                    required = [*required, *(n for n in needed if n not in required)]
            # `maxProperties` (OpenSearch's QueryContainer: one query of 50 kinds) leaves
            # room for that many, the required ones first.
            most = schema.get("maxProperties")
            room = most if isinstance(most, int) and not isinstance(most, bool) else None
            if isinstance(props, dict):
                if room is not None:
                    room -= sum(1 for name in props if name in required)
                optional = 0
                # Fifty properties at most, besides the required ones (GitHub's
                # full-repository requires `forks`, its 70th).
                for index, (name, sub) in enumerate(props.items()):
                    if name not in required and (index >= 50 or short or self._spent()):
                        continue
                    if flagged(sub, self.left_out, self._target, self.max_depth):
                        continue
                    if name not in required:
                        if self._closes_cycle(sub, seen):
                            continue  # left out rather than a `null` its type refuses
                        if room is not None and optional >= room:
                            continue
                        optional += 1
                    out[str(name)] = self.build(sub, depth + 1, seen)
            self._undeclared(out, schema, depth, seen)
            additional = schema.get("additionalProperties")
            if (
                not out
                and isinstance(additional, dict)
                and not short
                and (room is None or room > 0)
                and not self._closes_cycle(additional, seen)  # `{"key": null}` otherwise
            ):
                out["key"] = self.build(additional, depth + 1, seen)
            self._at_least(out, schema, depth, seen)
            return _not_all_of(out, schema.get("not"), required)
        if kind == "array":
            if depth > self.max_depth or self._spent():
                return []
            prefix = schema.get("prefixItems")
            if not isinstance(prefix, list) and isinstance(schema.get("items"), list):
                prefix = schema["items"]  # draft-04's tuple form (Redoc's demo)
            if isinstance(prefix, list) and prefix:
                # A tuple (JSON Schema 2020-12): one value per position.
                return [self.build(part, depth + 1, seen) for part in prefix[:20]]
            if _allows_nothing(self._dynamic_target(schema.get("items"))):
                return []
            if self._closes_cycle(schema.get("items"), seen):
                return []  # not `[null]`, which the item's type refuses
            before = self.nodes
            item = self.build(schema.get("items"), depth + 1, seen)
            count = schema.get("minItems")
            n = count if isinstance(count, int) and 0 < count <= 3 else 1
            # More when asked (`minItems: 10`), while the copies stay small: a sample of big
            # items repeated would swell every page and body that shows it.
            if isinstance(count, int) and 3 < count <= 50:
                n = count if count * (self.nodes - before) <= _MAX_NODES // 10 else 1
            contained = self._containing(schema, depth, seen)
            if item is None and "items" not in schema:
                return contained
            if n > 1 and n * self._weight(item) > _MAX_WEIGHT:
                n = 1  # copies of a big item (arrays of arrays, each level tripled) stay one
            rest = max(n - len(contained), 0)
            if rest > 1 and schema.get("uniqueItems") is True:
                return contained + self._distinct(item, rest, schema.get("items"))
            return contained + [item] * rest
        return scalar(schema, kind)


def _with_branch(schema: dict[str, Any], branch: Any) -> dict[str, Any]:
    """`schema` with the keywords of an if/then/else branch laid over it: the branch's
    property rules on the schema's own (`const: card` over `enum: [card, bank]`,
    `minLength` beside `type: string`), its required names added to the schema's."""
    if not isinstance(branch, dict):
        return schema
    out = dict(schema)
    for key, value in branch.items():
        if key == "properties" and isinstance(value, dict):
            props = dict(as_dict(out.get("properties")))
            for name, rule in value.items():
                own = props.get(name)
                if not isinstance(own, dict) or not isinstance(rule, dict):
                    props[name] = rule if own is None else own
                elif "$ref" in own:  # the branch's pin stands; otherwise the named schema
                    props[name] = rule if "const" in rule or "enum" in rule else own
                else:
                    props[name] = {**own, **rule}
            out["properties"] = props
        elif key == "required":
            out["required"] = [*as_list(out.get("required")), *as_list(value)]
        else:
            out.setdefault(key, value)
    return out


def _ref_of(schema: Any) -> bool:
    return isinstance(schema, dict) and isinstance(schema.get("$ref"), str)


def _not_all_of(out: dict[str, Any], ruled_out: Any, required: list[Any]) -> dict[str, Any]:
    """`out` without the optional ones of properties a `not: {required: [a, b]}` forbids
    together (OpenSearch's `aggregations` and `aggs`, one field's two names), the first kept."""
    names = ruled_out.get("required") if isinstance(ruled_out, dict) else None
    if not isinstance(names, list) or not names or not all(name in out for name in names):
        return out
    optional = [name for name in names if name not in required]
    drop = set(optional[1:] if len(optional) == len(names) else optional)
    return {k: v for k, v in out.items() if k not in drop}


def dynamic_anchors(schema: dict[str, Any]) -> dict[str, Any]:
    """The `$dynamicAnchor`s a schema declares: its own, and those of its `$defs`."""
    found: dict[str, Any] = {}
    defs = schema.get("$defs")
    for part in [schema, *(defs.values() if isinstance(defs, dict) else [])]:
        name = part.get("$dynamicAnchor") if isinstance(part, dict) else None
        if isinstance(name, str):
            found.setdefault(name, part)
    return found


# Keywords that give a schema a value of its own; a variant without any only constrains.
_VALUE_KEYWORDS = frozenset(
    {
        "$ref", "$dynamicRef", "type", "properties", "additionalProperties", "items",
        "prefixItems", "allOf", "oneOf", "anyOf", "enum", "const", "example", "examples",
        "default",
    }
)  # fmt: skip


def _constrains_only(variant: Any) -> bool:
    """A oneOf/anyOf variant such as `{required: [id]}`: no value of its own to sample."""
    return isinstance(variant, dict) and not _VALUE_KEYWORDS.intersection(variant)


def _allows_nothing(schema: Any) -> bool:
    """`false`, or `not: {}` alone: no value fits (an unbound generic's placeholder)."""
    if isinstance(schema, dict):
        rest = {k: v for k, v in schema.items() if k not in ("$dynamicAnchor", "description")}
        return rest == {"not": {}}
    return schema is False


def _schema_name(ref: Any) -> str:
    """The component schema `ref` names (`#/components/schemas/...`), else ""."""
    prefix = "#/components/schemas/"
    if isinstance(ref, str) and ref.startswith(prefix):
        return unescape_token(ref[len(prefix) :])
    return ""


def _own_values_exclude(parts: list[Any], prop: Any, tagged: dict[str, Any]) -> bool:
    """Whether an inline part of a child's allOf allows `prop` only values (enum, const)
    other than the one the parent's discriminator gave it."""
    for part in parts:
        props = part.get("properties") if isinstance(part, dict) else None
        own = props.get(prop) if isinstance(props, dict) and isinstance(prop, str) else None
        if not isinstance(own, dict):
            continue
        if "const" in own and own["const"] != tagged.get(prop):
            return True
        if isinstance(own.get("enum"), list) and tagged.get(prop) not in own["enum"]:
            return True
    return False


def _tagged(
    schema: dict[str, Any],
    option: Any,
    value: Any,
    own: list[Any] | None = None,
    target: Any = None,
) -> Any:
    """`value`, sampled from `option`, with the discriminator's value that names it: the
    key its `mapping` gives the option's `$ref` (or bare schema name), else the option's
    `target` schema's `x-discriminator-value` (swagger-codegen's, in Opsgenie's Swagger 2.0
    document), else the schema's name (OpenAPI's implicit mapping). Left as generated,
    Kratos' login body sent `"method": "string"`, which names no variant. Where the
    discriminating `schema` or the option's `own` schemas allow the property only values
    (enum, const) without that name, the spec's word stands."""
    discriminator = schema.get("discriminator")
    if not isinstance(value, dict) or not isinstance(discriminator, dict):
        return value
    prop = discriminator.get("propertyName")
    ref = option.get("$ref") if isinstance(option, dict) else None
    if not isinstance(prop, str) or not isinstance(ref, str) or "/" not in ref:
        return value
    name = ref.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")
    mapping = discriminator.get("mapping")
    mapping = mapping if isinstance(mapping, dict) else {}
    key = next((k for k, to in mapping.items() if to in (ref, name)), None)
    if key is None:
        named = target.get("x-discriminator-value") if isinstance(target, dict) else None
        key = named if isinstance(named, str | int) and not isinstance(named, bool) else name
    tagged = {**value, prop: str(key)}
    return value if _own_values_exclude([schema, *(own or [])], prop, tagged) else tagged

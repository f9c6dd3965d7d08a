"""Request bodies and responses checked against the operation's schemas (jsonschema).

Schemas are those of the normalised document: every `$ref` is `#/components/schemas/<Name>`,
so a validator rooted at the converted schemas a check reaches resolves them all; those are
read row by row (apis.documents.schema_document), not with the whole document. OpenAPI 3.0
schemas are brought to JSON Schema 2020-12 first (`nullable`, boolean exclusive bounds), and
`readOnly` properties are not required in requests nor `writeOnly` ones in responses.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError

from apis.documents import SCHEMA_PREFIX, LazySchemas, object_fields, ref_name, refs_in
from apis.openapi.errors import escape_token
from apis.openapi.flags import flagged
from apis.openapi.model import MediaType, OperationModel, Parameter, Response
from apis.openapi.regex_safety import linear, safe_search
from apis.openapi.values import is_number
from console.calls import is_json_media

MAX_ERRORS = 20
# RFC 7396: a JSON merge patch of the documented schema (check_value).
MERGE_PATCH = "application/merge-patch+json"
_MAX_DEPTH = 200
# Keyword checks one value may cost. Applicators can multiply the work (a oneOf of two
# references to a oneOf of two...; a value nested as deep as a recursive schema's branches):
# a spec is untrusted, so its checks stop at a budget instead of holding a worker for ever.
# Real bodies against real schemas take a few thousand.
STEP_BUDGET = 100_000
# (version pk, direction) -> (the schemas they were made from, converted schemas by name)
_cache: OrderedDict[tuple[int, str], tuple[dict[str, Any], dict[str, Any]]] = OrderedDict()
_lock = threading.Lock()


_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMAS = {
    "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "additionalItems",
}  # fmt: skip
_NUMBERS = {"minimum", "maximum", "multipleOf"}
_COUNTS = {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}


class _TooComplex(Exception):
    pass


_steps_left: ContextVar[list[int]] = ContextVar("_steps_left")


def _counted(keyword: Callable[..., Any]) -> Callable[..., Any]:
    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        left = _steps_left.get()
        left[0] -= 1
        if left[0] < 0:
            raise _TooComplex
        return keyword(validator, value, instance, schema)

    return check


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """`pattern` without catastrophic backtracking (apis.openapi.regex_safety)."""
    if isinstance(instance, str) and safe_search(pattern, instance) is False:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_ONE_OF = Draft202012Validator.VALIDATORS["oneOf"]


# The converted named schemas of the check under way, for a discriminator the variants'
# parent declares (`Cat: allOf [Pet, ...]`).
_named_in_check: ContextVar[Mapping[str, Any] | None] = ContextVar("_named_in_check", default=None)


def _parents_discriminator(one_of: list[Any]) -> Any:
    """The discriminator every variant inherits, when the oneOf has none of its own: each a
    `$ref` to a schema whose allOf holds a `$ref` to the same schema declaring one."""
    named = _named_in_check.get() or {}
    found: list[Any] = []
    for variant in one_of:
        ref = variant.get("$ref") if isinstance(variant, dict) else None
        target = named.get(ref_name(ref)) if isinstance(ref, str) else None
        parts = target.get("allOf") if isinstance(target, dict) else None
        refs = [p["$ref"] for p in parts or [] if isinstance(p, dict) and "$ref" in p]
        parents = [named.get(ref_name(r)) for r in refs if isinstance(r, str)]
        own = [p["discriminator"] for p in parents if isinstance(p, dict) and "discriminator" in p]
        if len(own) != 1:
            return None
        found.append(own[0])
    return found[0] if found and all(d is found[0] for d in found) else None


def _discriminated(one_of: Any, instance: Any, schema: Any) -> int | None:
    """The index of the oneOf variant an OpenAPI discriminator picks for `instance`: the
    mapping's entry for its property's value, else the schema of that name, else (3.2) the
    `defaultMapping`'s; None when there is no discriminator, no such value or no such
    variant."""
    if not isinstance(one_of, list):
        return None
    found = schema.get("discriminator") if isinstance(schema, dict) else None
    if found is None:
        found = _parents_discriminator(one_of)
    if not isinstance(found, dict) or not isinstance(instance, dict):
        return None
    name = found.get("propertyName")
    if not isinstance(name, str):
        return None
    value = instance.get(name)
    if isinstance(value, str):
        mapping = found.get("mapping")
        target = mapping.get(value) if isinstance(mapping, dict) else None
        index = _variant(one_of, target if isinstance(target, str) else value)
        if index is not None:
            return index
    fallback = found.get("defaultMapping")
    return _variant(one_of, fallback) if isinstance(fallback, str) and fallback else None


def _variant(one_of: list[Any], target: str) -> int | None:
    """The index of the variant that is a `$ref` to `target` (a reference or a name)."""
    ref = target if target.startswith("#") else SCHEMA_PREFIX + escape_token(target)
    for index, variant in enumerate(one_of):
        if isinstance(variant, dict) and variant.get("$ref") == ref:
            return index
    return None


# Formats are annotations, but they tell apart oneOf options a value fits several of.
_FORMATS = FormatChecker(["date", "email", "ipv4", "ipv6", "uuid"])
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", re.ASCII)


@_FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or _DATE_TIME.fullmatch(value) is not None


def _one_by_format(validator: Any, one_of: list[Any], instance: Any) -> bool:
    """Whether, of the options `instance` fits, exactly one still does with formats asserted
    (Kong's metering `timing`: oneOf [enum [immediate, ...], string <date-time>])."""
    fits = [o for o in one_of if validator.evolve(schema=o).is_valid(instance)]
    if len(fits) < 2:
        return False
    strict = validator.evolve(format_checker=_FORMATS)
    return sum(1 for o in fits if strict.evolve(schema=o).is_valid(instance)) == 1


def _one_of(validator: Any, one_of: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """oneOf, or with a discriminator the variant it names: variants that allow more
    properties than their own often all fit (`{"pet_type": "Cat"}` is a Cat and a Dog)."""
    index = _discriminated(one_of, instance, schema)
    if index is None:
        errors = list(_ONE_OF(validator, one_of, instance, schema))
        if errors and isinstance(one_of, list) and _one_by_format(validator, one_of, instance):
            return
        yield from errors
    else:
        yield from validator.descend(instance, one_of[index], schema_path=index)


_Validator = validators.extend(
    Draft202012Validator,
    {
        keyword: _counted(
            _pattern if keyword == "pattern" else _one_of if keyword == "oneOf" else check
        )
        for keyword, check in Draft202012Validator.VALIDATORS.items()
    },
)


def _keep(key: str, value: Any) -> bool:
    """False for keyword values the checker would crash on (real specs have them)."""
    if key in _NUMBERS or key in ("exclusiveMinimum", "exclusiveMaximum"):
        return is_number(value) or (key.startswith("exclusive") and isinstance(value, bool))
    if key in _COUNTS:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if key == "required":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if key == "type":
        return isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
    if key == "enum":
        # Not an empty one: it allows nothing, and Discord's generator writes `enum: []`
        # beside an allOf that lists the values (the pages show none for it either).
        return isinstance(value, list) and bool(value)
    if key == "pattern":
        try:
            re.compile(value)
        except (re.error, TypeError):
            return False
        return True
    # Formats are annotations here (only a oneOf's tie-break asserts known ones).
    return key != "format" or isinstance(value, str)


def _named(schemas: Mapping[str, Any]) -> Callable[[str], Any]:
    """The document's named schema a `$ref` names, or None."""
    return lambda ref: schemas.get(ref_name(ref)) if ref.startswith(SCHEMA_PREFIX) else None


def _flagged_names(
    node: dict[str, Any], direction: str, schemas: Mapping[str, Any] | None
) -> frozenset[str]:
    """The properties `node` declares, itself or in its `allOf` parts, that a body going
    `direction` leaves out: readOnly ones in a request, writeOnly ones in a response."""
    skip = "readOnly" if direction == "request" else "writeOnly"
    declared, _ = object_fields({"components": {"schemas": schemas or {}}}, node)
    resolve = _named(schemas or {})
    return frozenset(name for name, prop in declared.items() if flagged(prop, skip, resolve))


def _convert(
    node: Any,
    *,
    legacy: bool,
    direction: str,
    depth: int = 0,
    schemas: Mapping[str, Any] | None = None,
    skipped: frozenset[str] = frozenset(),
) -> Any:
    """A 2020-12 copy of a schema; `direction` is "request" or "response"; `schemas`, the
    document's named ones, to see a property's flags through its `$ref`; `skipped`, the
    names the `allOf` this schema is a part of flags (readOnly in a request), which the part
    does not require either.

    Only schema positions are walked: examples, defaults, enums and const values are data and
    are kept as they are.
    """
    if depth > _MAX_DEPTH or not isinstance(node, dict):
        return {} if depth > _MAX_DEPTH or not isinstance(node, bool) else node

    def sub(value: Any) -> Any:
        return _convert(value, legacy=legacy, direction=direction, depth=depth + 1, schemas=schemas)

    out: dict[str, Any] = {}
    # OpenAPI 3.0 ignores a Reference Object's other keys; a `type` there (generators write
    # `type: object` beside any `$ref`, a string enum's too) is not the value's, as the
    # sample and the pages' type of the target take it.
    ref_type = legacy and isinstance(node.get("$ref"), str)
    for key, value in node.items():
        if not _keep(key, value) or (ref_type and key == "type"):
            continue
        if key == "allOf" and isinstance(value, list):
            # A part may require what a sibling part declares readOnly (PagerDuty's field
            # option: allOf [$ref Editable (id readOnly), {required: [id, ...]}]).
            names = skipped | _flagged_names(node, direction, schemas)
            out[key] = [
                _convert(part, legacy=legacy, direction=direction, depth=depth + 1,
                         schemas=schemas, skipped=names)
                for part in value
            ]  # fmt: skip
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: sub(schema) for name, schema in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [sub(schema) for schema in value]
        elif key in _SCHEMAS:
            out[key] = [sub(v) for v in value] if isinstance(value, list) else sub(value)
        else:
            out[key] = value
    if isinstance(out.get("items"), list) and "prefixItems" not in out:
        # Draft-04's tuple form (`items: [A, B]`, then `additionalItems`) in 2020-12 words;
        # the checker crashes on a list `items`.
        out["prefixItems"] = out.pop("items")
        if "additionalItems" in out:
            out["items"] = out.pop("additionalItems")
    elif isinstance(out.get("items"), list):
        out.pop("items")
    enum = out.get("enum")
    if out.get("type") == "string" and isinstance(enum, list):
        # A string's enum written as YAML booleans or numbers (`enum: [true, false]`,
        # Plaid's `[4.1]`) lists their text, as the fields and the samples hold it: no string
        # is a boolean, and every value was refused.
        out["enum"] = [
            orjson.dumps(v).decode() if isinstance(v, bool | int | float) else v for v in enum
        ]
    null_or_rest = False
    # 3.0's `nullable: true` allows null in a 3.1 document too, as the pages and the samples
    # read it: OpenAI's 3.1 spec keeps `nullable: true, default: null`, and the check refused
    # the sample, its default.
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        elif kind is None and any(k in out for k in ("oneOf", "anyOf", "allOf")):
            # No type beside it (`nullable: true, oneOf: [string, array]`): null or what
            # the rest allows, as the pages read it (DigitalOcean's inference `stop`).
            null_or_rest = True
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    if legacy:
        for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if out.get(flag) is True and bound in out:
                out[flag] = out.pop(bound)
            elif isinstance(out.get(flag), bool):
                out.pop(flag)
    else:
        out = {
            k: v for k, v in out.items() if not (k.startswith("exclusive") and isinstance(v, bool))
        }
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and not all(linear(p) for p in patterns):
        # The checker matches these against every property name with `re` itself; which names
        # are "additional" then cannot be told either.
        for keyword in ("patternProperties", "additionalProperties", "unevaluatedProperties"):
            out.pop(keyword, None)
    if isinstance(out.get("required"), list):
        # The properties may be declared in `allOf` parts beside the `required` (PagerDuty's
        # `required: [id, ...]` beside `allOf: [{properties: {id: {readOnly: true}}}]`).
        names = skipped | _flagged_names(node, direction, schemas)
        out["required"] = [r for r in out["required"] if r not in names]
    return {"anyOf": [{"type": "null"}, out]} if null_or_rest else out


def _legacy(doc: dict[str, Any]) -> bool:
    version = str(doc.get("openapi", "3.0"))
    return not version.startswith(("3.1", "3.2"))


def _components(
    doc: dict[str, Any], key: int, direction: str, schema: dict[str, Any]
) -> dict[str, Any]:
    """The converted named schemas `schema` reaches through `$ref`s, every level.

    `doc` may be the whole document or `apis.documents.schema_document()`, whose schemas are
    read row by row: one query a level of references, never the whole document. Conversions
    are kept per (version, direction) for the next check.
    """
    # Not `or {}`: lazily read schemas are an empty dict until asked.
    schemas = (doc.get("components") or {}).get("schemas")
    if not isinstance(schemas, dict):
        schemas = {}
    with _lock:
        cached = _cache.get((key, direction))
        # The same pk can name another document (a deleted and re-imported version).
        if cached is None or cached[0] is not schemas:
            cached = (schemas, {})
            _cache[(key, direction)] = cached
            while len(_cache) > 8:
                _cache.popitem(last=False)
        _cache.move_to_end((key, direction))
    converted = cached[1]
    legacy = _legacy(doc)
    reached: dict[str, Any] = {}
    frontier: list[Any] = [schema]
    while frontier:
        names = {
            ref_name(ref) for ref in refs_in(frontier) if ref.startswith(SCHEMA_PREFIX)
        } - reached.keys()
        if isinstance(schemas, LazySchemas):
            schemas.load(n for n in names if n not in converted)
        frontier = []
        for name in names:
            if name not in converted:
                raw = schemas.get(name)
                if raw is None:
                    continue  # unresolvable: the checker says it could not use the schema
                converted[name] = _convert(raw, legacy=legacy, direction=direction, schemas=schemas)
            reached[name] = converted[name]
            frontier.append(converted[name])
    return reached


def _path(error_path: Any, prefix: str) -> str:
    text = prefix
    for part in error_path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def check_value(
    doc: dict[str, Any],
    key: int,
    schema: Any,
    value: Any,
    *,
    direction: str,
    prefix: str,
    merge_patch: bool = False,
) -> list[str]:
    """Mismatches of `value` against `schema`, as short sentences with a JSON path. A
    `merge_patch` (RFC 7396) of the schema names only what changes, at any depth, and `null`
    removes a member: neither a missing required member nor a null is a mismatch."""
    if not isinstance(schema, dict) or not schema:
        return []
    schemas = (doc.get("components") or {}).get("schemas")
    converted = _convert(
        schema,
        legacy=_legacy(doc),
        direction=direction,
        schemas=schemas if isinstance(schemas, dict) else {},
    )
    components = {"schemas": _components(doc, key, direction, schema)}
    full = {**converted, "components": components} if isinstance(converted, dict) else {}
    budget = _steps_left.set([STEP_BUDGET])
    named = _named_in_check.set(components["schemas"])
    try:
        validator = _Validator(full)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    except _TooComplex:
        return [
            "The documented schema is too complex to check this value against "
            f"(it took more than {STEP_BUDGET:,} steps); nothing was refused for it."
        ]
    except (SchemaError, RecursionError) as exc:
        return [f"The documented schema could not be used to check it ({type(exc).__name__})."]
    except Exception as exc:  # noqa: BLE001 - an unresolvable $ref in a spec must not 500
        return [f"The documented schema could not be used to check it ({type(exc).__name__})."]
    finally:
        _steps_left.reset(budget)
        _named_in_check.reset(named)
    if merge_patch:
        errors = [e for e in errors if e.validator != "required" and e.instance is not None]
    messages = []
    for error in errors[:MAX_ERRORS]:
        messages.append(f"{_path(error.absolute_path, prefix)}: {error.message}")
    if len(errors) > MAX_ERRORS:
        messages.append(f"… and {len(errors) - MAX_ERRORS} more.")
    return messages


def check_parameter(doc: dict[str, Any], key: int, param: Parameter, raw: str) -> list[str]:
    """Problems with the filled text of a parameter of a scalar type (integer, number,
    boolean, string), read as its type first: a query `repeat` of 99 or "abc" where the spec
    says an integer of at most 10. Arrays and objects are the sender's own affair."""
    schema = param.schema if isinstance(param.schema, dict) else {}
    kind = schema.get("type")
    # OpenAPI 3.1's `type: [integer, string]`: the text may be read as any of them.
    listed = [k for k in kind if k != "null"] if isinstance(kind, list) else [kind]
    kinds = [k for k in listed if isinstance(k, str) and k in _SCALARS]
    if raw == "" or not kinds or len(kinds) < len(listed):
        return []
    where = f"{param.location} {param.name}"
    readings = [v for v in (_typed(raw, k) for k in kinds) if v is not None]
    if not readings:
        names = [_SCALARS[k] for k in kinds]
        wanted = ", ".join(names[:-1]) + " nor " + names[-1] if len(names) > 1 else names[0]
        return [f"{where}: {raw!r} is not {wanted}"]
    first: list[str] | None = None
    for value in readings:
        found = check_value(doc, key, schema, value, direction="request", prefix=where)
        if not found:
            return []
        first = found if first is None else first
    return first or []


_SCALARS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "string": "text",
}


def _typed(raw: str, kind: str) -> Any:
    """The text of a parameter as the value its type names, or None when it is not one."""
    if kind == "string":
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.strip().lower())
    try:
        number = float(raw) if kind == "number" else int(raw.strip())
    except ValueError:
        return None
    return number if kind == "integer" or number == number else None  # NaN is no number


def media_types(operation: OperationModel) -> list[str]:
    """The request body's media types, in the document's order (the console's editors)."""
    body = operation.request_body
    return [media.name for media in body.content] if body else []


def _body_schema(media: MediaType | None) -> dict[str, Any] | None:
    # A 3.2 `itemSchema` describes each item of a stream, not the body as one JSON value.
    return None if media is None or media.streamed else media.schema


def check_request_body(
    doc: dict[str, Any], key: int, operation: OperationModel, media_type: str, text: str
) -> list[str]:
    """Problems with a JSON request body before it is sent; [] when it fits or has no schema."""
    if not is_json_media(media_type) or not text.strip():
        return []
    body = operation.request_body
    media = next((m for m in body.content if m.name == media_type), None) if body else None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return [f"body: not valid JSON ({exc})"]
    return check_value(
        doc,
        key,
        _body_schema(media),
        value,
        direction="request",
        prefix="body",
        merge_patch=media_type.split(";", 1)[0].strip().lower() == MERGE_PATCH,
    )


def _response_for(responses: tuple[Response, ...], status: int) -> Response | None:
    by_status = {response.status: response for response in responses}
    for code in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if code in by_status:
            return by_status[code]
    return None


def _media_for(content: tuple[MediaType, ...], content_type: str) -> MediaType | None:
    base = content_type.split(";", 1)[0].strip().lower()
    by_name = {media.name: media for media in content}
    if base in by_name:
        return by_name[base]
    for media in content:
        if media.name.split(";", 1)[0].strip().lower() == base:
            return media
    major = base.split("/", 1)[0]
    return by_name.get(f"{major}/*") or by_name.get("*/*")


def check_response(
    doc: dict[str, Any],
    key: int,
    operation: OperationModel,
    status: int,
    content_type: str,
    body: bytes,
) -> list[str]:
    """Where a response departs from what the operation documents."""
    if not operation.responses:
        return []
    response = _response_for(operation.responses, status)
    if response is None:
        documented = ", ".join(sorted(r.status for r in operation.responses))
        return [f"Status {status} is not documented for this operation (documented: {documented})."]
    if not response.content or not body:
        return []
    if not content_type:
        return ["The response has a body but no Content-Type."]
    media = _media_for(response.content, content_type)
    if media is None:
        documented = ", ".join(m.name for m in response.content)
        return [
            f"Content-Type {content_type.split(';')[0]} is not documented for "
            f"{response.status} (documented: {documented})."
        ]
    schema = _body_schema(media)
    if not is_json_media(content_type) or schema is None:
        return []
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ["The body is not valid JSON although its Content-Type says JSON."]
    return check_value(doc, key, schema, value, direction="response", prefix="body")

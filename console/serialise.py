"""Values written as OpenAPI's `style`, `explode` and `encoding` say: one rule for every writer.

The console's sends (console/calls.py), the reference samples (console/samples.py) and so
the snippets made of either read their parameters and form fields through here, so a sample
that is copied sends what the console sends. The console's form holds text: an array as
items joined with commas, an object as JSON (`field_text`, `param_text`); `typed` reads it
back. The forms are OpenAPI 3.1's style examples (§4.8.12.4), for `R=100, G=200`:

    simple   R,100,G,200          exploded  R=100,G=200
    label    .R,100,G,200         exploded  .R=100.G=200
    matrix   ;color=R,100,G,200   exploded  ;R=100;G=200
    form     color=R,100,G,200    exploded  R=100&G=200   (cookies too; 3.2's `cookie`: `; `)
    deepObject                              color[R]=100&color[G]=200

A parameter described by `content` is its media type's text (JSON, typically), never split.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import orjson

from apis.openapi.model import COLLECTION_DELIMITED, Parameter

# What joins an unexploded array's items, by style; `tabDelimited` is Swagger 2.0's tsv
# (apis.openapi.model.COLLECTION_DELIMITED), which no 3.x style says.
DELIMITERS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}


def field_text(value: Any) -> str:
    """A value as the console's form writes it in a field: JSON for objects and arrays,
    true or false, "" for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def param_text(value: Any) -> str:
    """A parameter's value in its one field: an array's items joined with commas, as
    `typed` reads them back."""
    if isinstance(value, list):
        return ",".join(field_text(v) for v in value)
    return field_text(value)


def schema_type(schema: Any) -> str:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    return str(kind or "")


def typed(param: Parameter, raw: str) -> str | list[str] | dict[str, Any]:
    """A parameter's field read as what it stands for: an array's items, an object's
    fields (typed as JSON), else the text. A `content` parameter's text is sent as typed."""
    if param.media_type:
        return raw
    kind = schema_type(param.schema)
    if kind == "array":
        return _items(raw)
    if kind == "object":
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
        return value if isinstance(value, dict) else raw
    return raw


def _items(raw: str) -> list[str]:
    """An array field's items: comma-separated, or written as JSON when an item has commas
    of its own (Docker's `platform`, a JSON-encoded OCI platform per item): a JSON object
    is one item, a JSON array lists them, each as its field's text."""
    text = raw.strip()
    if text[:1] in ("{", "["):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return [text]
        if isinstance(value, list):
            return [field_text(item) for item in value]
    return [v.strip() for v in raw.split(",") if v.strip()]


def _members(value: dict[str, Any]) -> list[tuple[str, str]]:
    """An object's fields as (key, text); a list-valued field repeats its key."""
    return [
        (str(key), field_text(item))
        for key, member in value.items()
        for item in (member if isinstance(member, list) else [member])
    ]


def _flat(pairs: list[tuple[str, str]]) -> list[str]:
    return [part for pair in pairs for part in pair]


def query_pairs(param: Parameter, raw: str) -> list[tuple[str, str]]:
    """A query parameter's field as (name, value) pairs: Stripe's `deepObject` reads
    `scope[type]=account`, a `form` object exploded its fields as parameters of their own;
    JSON text in `scope=` is refused."""
    name, value = param.name, typed(param, raw)
    delimiter = DELIMITERS.get(param.style, ",")
    if isinstance(value, dict):
        members = _members(value)
        if param.style == "deepObject":
            return [(f"{name}[{key}]", text) for key, text in members]
        if param.explode:
            return members
        return [(name, delimiter.join(_flat(members)))]
    if isinstance(value, list):
        if not param.explode:
            return [(name, delimiter.join(value))]
        return [(name, item) for item in value]
    return [(name, value)]


# What `allowReserved` leaves as it is in a query value: RFC 3986's reserved characters,
# less those a query or a form reads (`[ ] #`, `& = +`), as OpenAPI 3.1.1 says.
_RESERVED_KEPT = ":/?@!$'()*,;"
_TRIPLE = re.compile(r"(%[0-9A-Fa-f]{2})")


def query_text(pairs: list[tuple[str, str]], *, allow_reserved: bool, safe: str = "") -> str:
    """Query pairs as text; with `allow_reserved`, values keep their reserved characters and
    their percent-encoded triples (`%41` stays `%41`, not `%2541`)."""
    if not allow_reserved:
        return urlencode(pairs, safe=safe)
    return "&".join(
        quote_plus(key, safe=safe)
        + "="
        + "".join(
            part if _TRIPLE.fullmatch(part) else quote_plus(part, safe=_RESERVED_KEPT + safe)
            for part in _TRIPLE.split(value)
        )
        for key, value in pairs
    )


def path_segment(value: str) -> str:
    quoted = quote(value, safe="")
    # '.' and '..' survive quoting and would walk out of the API's route.
    return quoted.replace(".", "%2E") if set(value) <= {"."} else quoted


def path_text(param: Parameter, raw: str) -> str:
    """A path parameter's field as its `style` writes it in the path: `simple` `3,4`,
    `label` `.3.4` (exploded) or `.3,4`, `matrix` `;id=3;id=4` (exploded) or `;id=3,4`;
    objects as the module's table shows."""
    value, explode = typed(param, raw), param.explode
    if isinstance(value, dict):
        members = [(path_segment(k), path_segment(v)) for k, v in _members(value)]
        parts = [f"{k}={v}" for k, v in members] if explode else _flat(members)
    else:
        parts = [path_segment(v) for v in (value if isinstance(value, list) else [value])]
    if param.style == "label":
        return "." + ("." if explode else ",").join(parts)
    if param.style == "matrix":
        if isinstance(value, dict) and explode:
            return "".join(";" + part for part in parts)
        key = ";" + quote(param.name, safe="")
        return key + "=" + (key + "=" if explode and isinstance(value, list) else ",").join(parts)
    return quote(DELIMITERS.get(param.style, ","), safe=",|").join(parts)


def header_text(param: Parameter, raw: str) -> str:
    """A header parameter's value: `simple`, as in a path but not percent-encoded."""
    value = typed(param, raw)
    if isinstance(value, dict):
        members = _members(value)
        return ",".join([f"{k}={v}" for k, v in members] if param.explode else _flat(members))
    if isinstance(value, list):
        return DELIMITERS.get(param.style, ",").join(value)
    return value


def cookie_text(param: Parameter, raw: str) -> str:
    """A cookie parameter's part of the Cookie header. `form` (the default) as OpenAPI's
    table writes it, values percent-encoded: `color=blue,black` unexploded, and exploded
    `color=blue&color=black` or `R=100&G=200`, as a query would; OpenAPI 3.2's `cookie`
    style, which cookie parsers read, puts `; ` between the pairs and encodes nothing (the
    spec's values come escaped)."""
    value = typed(param, raw)
    escape = (lambda text: text) if param.style == "cookie" else (lambda t: quote(t, safe=""))
    name = param.name
    if isinstance(value, dict):
        members = [(escape(k), escape(v)) for k, v in _members(value)]
        pairs = members if param.explode else [(name, ",".join(_flat(members)))]
    elif isinstance(value, list):
        items = [escape(item) for item in value]
        pairs = [(name, i) for i in items] if param.explode else [(name, ",".join(items))]
    else:
        pairs = [(name, escape(value))]
    return ("; " if param.style == "cookie" else "&").join(f"{k}={v}" for k, v in pairs)


def form_value(schema: Any, text: str) -> Any:
    """A form field's text as the value its property's schema says it holds: an object or
    array typed as JSON, else the text (a string that looks like JSON stays a string)."""
    kind = schema_type(schema)
    if kind not in ("object", "array"):
        return text
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    return value if isinstance(value, dict if kind == "object" else list) else text


def form_pairs(name: str, value: Any, encoding: dict[str, Any]) -> list[tuple[str, str]]:
    """A form body field as (name, value) pairs, as its Encoding object says: Stripe's
    `deepObject` fields read `address[city]=Paris` and `expand[0]=sources`; an array of
    plain values is `form`, exploded (one field per item) unless the encoding says not.
    An object is its JSON (the default contentType) unless a style or explode is given, and
    so is any value whose encoding gives a contentType and no style (OpenAPI: style and
    explode, when given, override contentType; else contentType governs)."""
    style = str(encoding.get("style") or "form")
    style = COLLECTION_DELIMITED.get(str(encoding.get("x-collectionFormat")), style)
    explode = encoding["explode"] is True if "explode" in encoding else style == "form"
    styled = "style" in encoding or "explode" in encoding or style != "form"
    if not styled and "contentType" in encoding:
        return [(name, field_text(value))]  # the contentType governs: the value whole
    if style == "deepObject" and isinstance(value, dict | list):
        return _deep_pairs(name, value, 0)
    if isinstance(value, dict) and styled:
        members = _members(value)
        if style == "form" and explode:
            return members
        return [(name, DELIMITERS.get(style, ",").join(_flat(members)))]
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        texts = [field_text(v) for v in value]
        if style == "form" and explode:
            return [(name, text) for text in texts]
        return [(name, DELIMITERS.get(style, ",").join(texts))]
    return [(name, field_text(value))]  # an object with no style: its JSON


# A part's type goes into a header: a plain `type/subtype`, no wildcard, no line break.
_PART_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")


def body_fields(
    fields: list[tuple[str, Any, str]], encoding: dict[str, Any], *, multipart: bool
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """A form body's fields, each (name, value, text as typed), as (name, value) pairs and,
    for multipart, the Content-Type of each part written whole: the encoding's contentType
    (its first type), else `application/json` for an object's JSON. A field written whole
    keeps its typed text; a styled one (deepObject, delimited) is written by `form_pairs`
    and, as OpenAPI says, its contentType is ignored."""
    pairs: list[tuple[str, str]] = []
    types: dict[str, str] = {}
    for name, value, text in fields:
        field_encoding = encoding.get(name)
        field_encoding = field_encoding if isinstance(field_encoding, dict) else {}
        written = form_pairs(name, value, field_encoding)
        if written != [(name, field_text(value))]:
            pairs += written
            continue
        pairs.append((name, text))
        declared = field_encoding.get("contentType")
        kind = part_type(encoding, name)
        if multipart and kind:
            types[name] = kind
        elif multipart and not isinstance(declared, str) and isinstance(value, dict | list):
            types[name] = "application/json"
    return pairs, types


def part_type(encoding: Mapping[str, Any], name: str) -> str:
    """The one media type a body part's encoding gives it (the first of a list), or "" when
    it gives none or a wildcard (`*/*`, `image/*`)."""
    field_encoding = encoding.get(name)
    declared = field_encoding.get("contentType") if isinstance(field_encoding, dict) else None
    kind = declared.split(",")[0].strip() if isinstance(declared, str) else ""
    return kind if _PART_TYPE.fullmatch(kind) else ""


def _deep_pairs(name: str, value: Any, depth: int) -> list[tuple[str, str]]:
    if depth < 8 and isinstance(value, dict):
        return [p for k, v in value.items() for p in _deep_pairs(f"{name}[{k}]", v, depth + 1)]
    if depth < 8 and isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _deep_pairs(f"{name}[{i}]", v, depth + 1)]
    return [(name, field_text(value))]


def querystring_text(media_type: str, value: Any) -> str:
    """The whole query string an OpenAPI 3.2 `in: querystring` parameter's `value` makes:
    an object's fields form-encoded (a list's items each a field of the same name) for
    application/x-www-form-urlencoded, else the value's text percent-encoded as one."""
    if isinstance(value, dict) and media_type.split(";")[0].strip().lower() == (
        "application/x-www-form-urlencoded"
    ):
        return urlencode(_members(value))
    text = value if isinstance(value, str) else field_text(value)
    return quote(text.removeprefix("?"), safe=":/?@=&+,;")  # `$`, `[`: as OpenAPI 3.2 shows

"""A typed model of one stored operation: the shapes checked once, here, for every reader.

Stored operations are the normalised OpenAPI operation objects (path-level parameters and
servers merged in, non-schema `$ref`s resolved). Specs put anything anywhere, so every
`isinstance` a reader would need lives in `operation_model()`; the reference page, the
samples and the console read plain typed fields. Schemas stay JSON Schema dicts (their
vocabulary is open-ended), each with the JSON pointer where it sits in the operation, which
lazy links use.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from apis.openapi.errors import escape_token as token
from apis.openapi.examples import example_value_key, has_example, json_text_value
from apis.openapi.values import as_dict, as_list

METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"})
LOCATIONS = ("path", "query", "header", "cookie")
# A header parameter of these names "SHALL be ignored" (OpenAPI): the body's media type, the
# accepted one and the credentials are the call's own, set by its content and its security.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
# Swagger 2.0 collection formats kept as `x-collectionFormat` where no 3.x style says them.
COLLECTION_DELIMITED = {"ssv": "spaceDelimited", "pipes": "pipeDelimited", "tsv": "tabDelimited"}
NO_VALUE: Any = object()  # an example that is absent (None is a valid example value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


@dataclass(frozen=True)
class Example:
    name: str
    summary: str
    value: Any = NO_VALUE
    external: str = ""
    description: str = ""  # CommonMark, as the Example object writes it


@dataclass(frozen=True)
class MediaType:
    name: str
    schema: dict[str, Any] | None
    pointer: str  # of the schema, in the operation
    examples: tuple[Example, ...]  # `example` first (named "example"), then `examples`
    description: str = ""  # OpenAPI 3.2 lets a Media Type Object say what it holds
    # A form body's fields: name -> Encoding object (`style`, `explode`, `contentType`).
    encoding: dict[str, Any] = field(default_factory=dict)

    @property
    def streamed(self) -> bool:
        """Whether `schema` is an OpenAPI 3.2 `itemSchema`: each item of a stream, not the body."""
        return self.pointer.endswith("/itemSchema")

    @property
    def example(self) -> Any:
        """The first example value, or NO_VALUE."""
        return next((e.value for e in self.examples if e.value is not NO_VALUE), NO_VALUE)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    deprecated: bool
    description: str
    schema: dict[str, Any] | None
    pointer: str
    examples: tuple[Example, ...]
    explode: bool = True
    media_type: str = ""  # of a parameter described by `content` (3.2 `querystring`: always)
    style: str = "form"  # how the value is written: form, deepObject, pipeDelimited, simple…
    allow_reserved: bool = False  # a query value's reserved characters are sent as they are
    allow_empty_value: bool = False  # a query parameter may be sent with no value (`?flag=`)


@dataclass(frozen=True)
class RequestBody:
    required: bool
    description: str
    content: tuple[MediaType, ...]


@dataclass(frozen=True)
class Link:
    name: str
    operation_id: str
    operation_ref: str
    parameters: dict[str, Any]
    description: str


@dataclass(frozen=True)
class Response:
    status: str
    description: str
    headers: tuple[Parameter, ...]
    content: tuple[MediaType, ...]
    links: tuple[Link, ...]
    summary: str = ""  # OpenAPI 3.2's short line for the response


@dataclass(frozen=True)
class CodeSample:
    """A sample the publisher wrote (`x-codeSamples`, Redoc's extension; `x-code-samples`)."""

    lang: str
    label: str
    source: str


# A sample is code to read, not a document: these bound what one operation shows.
MAX_CODE_SAMPLES = 12
MAX_CODE_SAMPLE_CHARS = 20_000


def _code_samples(data: dict[str, Any]) -> tuple[CodeSample, ...]:
    raw = data.get("x-codeSamples", data.get("x-code-samples"))
    out = []
    for item in as_list(raw)[:MAX_CODE_SAMPLES]:
        item = as_dict(item)
        source, lang = item.get("source"), _str(item.get("lang")).strip()
        if not isinstance(source, str) or not source.strip() or not lang:
            continue
        label = _str(item.get("label")).strip() or lang
        out.append(CodeSample(lang[:40], label[:60], source[:MAX_CODE_SAMPLE_CHARS]))
    return tuple(out)


@dataclass(frozen=True)
class Callback:
    """A request the API sends to the caller's server: what the receiver must accept, and
    the answers the API expects back (a 204 may mean "stop sending", as in the OpenAPI
    callback example)."""

    name: str
    expression: str
    method: str
    summary: str
    body: RequestBody | None
    responses: tuple[Response, ...] = ()
    description: str = ""
    parameters: tuple[Parameter, ...] = ()


@dataclass(frozen=True)
class OperationModel:
    operation_id: str
    summary: str
    description: str
    deprecated: bool
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    request_body: RequestBody | None
    responses: tuple[Response, ...]
    # Alternatives, each a tuple of (scheme name, scopes) that must all hold.
    security: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] | None
    callbacks: tuple[Callback, ...]
    servers: tuple[dict[str, Any], ...]
    external_docs: dict[str, Any] = field(default_factory=dict)
    code_samples: tuple[CodeSample, ...] = ()


def _examples(container: dict[str, Any]) -> tuple[Example, ...]:
    out: list[Example] = []
    if has_example(container):
        out.append(Example("example", "", container["example"]))
    listed = container.get("examples")
    if isinstance(listed, list):
        # JSON Schema's shape where OpenAPI wants a map of Example objects (specs copy a
        # schema's `examples` up): each value an example, numbered, rather than none.
        out.extend(Example(f"example {n}", "", v) for n, v in enumerate(listed[:20], 1))
    for name, ex in as_dict(listed).items():
        ex = as_dict(ex)
        value_key = example_value_key(ex)
        if value_key:
            out.append(
                Example(
                    str(name),
                    _str(ex.get("summary")),
                    ex[value_key],
                    description=_str(ex.get("description")),
                )
            )
        elif "externalValue" in ex:
            out.append(
                Example(
                    str(name),
                    _str(ex.get("summary")),
                    external=_str(ex["externalValue"]),
                    description=_str(ex.get("description")),
                )
            )
    return tuple(out)


def is_json_media(media_type: str) -> bool:
    """`application/json` or a `+json` type, parameters aside (the console reads it too)."""
    base = media_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _json_text_read(examples: tuple[Example, ...], schema: Any) -> tuple[Example, ...]:
    """A JSON body's examples, each string holding JSON text read as that JSON."""
    out = []
    for ex in examples:
        value = json_text_value(ex.value, schema)
        out.append(ex if value is ex.value else replace(ex, value=value))
    return tuple(out)


NEVER: dict[str, Any] = {"not": {}}  # the object spelling of the `false` schema


def _content(raw: Any, pointer: str) -> tuple[MediaType, ...]:
    out = []
    for name, media in as_dict(raw).items():
        media = as_dict(media)
        key = "schema" if "schema" in media or "itemSchema" not in media else "itemSchema"
        schema = media.get(key)  # itemSchema: OpenAPI 3.2 streaming media types
        if isinstance(schema, bool):
            # 3.1+ boolean schemas: `true` is any value, `false` none, as JSON Schema reads them.
            schema = {} if schema else NEVER
        out.append(
            MediaType(
                name=str(name),
                schema=schema if isinstance(schema, dict) else None,
                pointer=f"{pointer}/{token(name)}/{key}",
                examples=(
                    _json_text_read(_examples(media), schema)
                    if is_json_media(str(name))
                    else _examples(media)
                ),
                description=_str(media.get("description")),
                encoding={
                    str(k): v
                    for k, v in as_dict(media.get("encoding")).items()
                    if isinstance(v, dict)
                },
            )
        )
    return tuple(out)


def _parameter(raw: dict[str, Any], pointer: str, location: str = "") -> Parameter:
    schema = raw.get("schema")
    schema_pointer = f"{pointer}/schema"
    examples = _examples(raw)
    media_type = ""
    if not isinstance(schema, dict):
        # A parameter may describe itself through `content` (one media type) instead.
        content = _content(raw.get("content"), f"{pointer}/content")
        if content:
            schema, schema_pointer = content[0].schema, content[0].pointer
            examples = examples or content[0].examples
            media_type = content[0].name
    where = _str(raw.get("in")) or location
    style = _str(raw.get("style")) or ("form" if where in ("query", "cookie") else "simple")
    # A Swagger 2.0 delimiter 3.x has no style for there (apis.openapi.convert2).
    style = COLLECTION_DELIMITED.get(_str(raw.get("x-collectionFormat")), style)
    return Parameter(
        name=_str(raw.get("name")),
        location=_str(raw.get("in")) or location,
        required=raw.get("required") is True or raw.get("in") == "path",
        deprecated=raw.get("deprecated") is True,
        description=_str(raw.get("description")),
        schema=schema if isinstance(schema, dict) else None,
        pointer=schema_pointer,
        examples=examples,
        # `explode` defaults to true for `form` and 3.2's `cookie` (OpenAPI's Parameter object).
        explode=raw["explode"] is True if "explode" in raw else style in ("form", "cookie"),
        media_type=media_type,
        style=style,
        allow_reserved=raw.get("allowReserved") is True,
        # OpenAPI gives `allowEmptyValue` a meaning in a query only (2.0: formData too, which
        # becomes a body field).
        allow_empty_value=raw.get("allowEmptyValue") is True and where == "query",
    )


def _body(raw: Any, pointer: str) -> RequestBody | None:
    if not isinstance(raw, dict):
        return None
    return RequestBody(
        required=raw.get("required") is True,
        description=_str(raw.get("description")),
        content=_content(raw.get("content"), f"{pointer}/content"),
    )


def _links(raw: Any) -> tuple[Link, ...]:
    return tuple(
        Link(
            name=str(name),
            operation_id=_str(as_dict(link).get("operationId")),
            operation_ref=_str(as_dict(link).get("operationRef")),
            parameters=as_dict(as_dict(link).get("parameters")),
            description=_str(as_dict(link).get("description")),
        )
        for name, link in as_dict(raw).items()
    )


def _security(raw: Any) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] | None:
    if not isinstance(raw, list):
        return None  # not stated (the importer copies the document's default in)
    return tuple(
        tuple(
            (str(name), tuple(str(s) for s in as_list(scopes))) for name, scopes in option.items()
        )
        for option in raw
        if isinstance(option, dict)
    )


def operation_model(data: dict[str, Any]) -> OperationModel:
    """The typed view of a stored operation's data; never raises on odd shapes."""
    data = as_dict(data)
    return OperationModel(
        operation_id=_str(data.get("operationId")),
        summary=_str(data.get("summary")),
        description=_str(data.get("description")),
        deprecated=data.get("deprecated") is True,
        tags=tuple(str(t) for t in as_list(data.get("tags"))),
        parameters=_parameters(data.get("parameters"), ""),
        request_body=_body(data.get("requestBody"), "/requestBody"),
        responses=_responses(data.get("responses"), ""),
        security=_security(data.get("security")),
        callbacks=_callbacks(data.get("callbacks")),
        servers=tuple(s for s in as_list(data.get("servers")) if isinstance(s, dict)),
        external_docs=as_dict(data.get("externalDocs")),
        code_samples=_code_samples(data),
    )


def _parameters(raw: Any, base: str) -> tuple[Parameter, ...]:
    return tuple(
        _parameter(item, f"{base}/parameters/{index}")
        for index, item in enumerate(as_list(raw))
        if isinstance(item, dict)
    )


def _responses(raw: Any, base: str) -> tuple[Response, ...]:
    responses = []
    for status, answer in as_dict(raw).items():
        answer = as_dict(answer)
        at = f"{base}/responses/{token(status)}"
        responses.append(
            Response(
                status=str(status),
                description=_str(answer.get("description")),
                summary=_str(answer.get("summary")),  # OpenAPI 3.2
                headers=tuple(
                    _parameter(
                        {"name": name, **as_dict(header)}, f"{at}/headers/{token(name)}", "header"
                    )
                    for name, header in as_dict(answer.get("headers")).items()
                ),
                content=_content(answer.get("content"), f"{at}/content"),
                links=_links(answer.get("links")),
            )
        )
    return tuple(responses)


def _callbacks(raw: Any) -> tuple[Callback, ...]:
    callbacks = []
    for name, expressions in as_dict(raw).items():
        for expression, item in as_dict(expressions).items():
            item = as_dict(item)
            at = f"/callbacks/{token(name)}/{token(expression)}"
            # Path-item parameters apply to each of its operations, unless one redefines them.
            shared = _parameters(item.get("parameters"), at)
            for method, op in item.items():
                if not (isinstance(op, dict) and str(method).lower() in METHODS):
                    continue
                base = f"{at}/{token(method)}"
                own = _parameters(op.get("parameters"), base)
                redefined = {(p.name, p.location) for p in own}
                callbacks.append(
                    Callback(
                        name=str(name),
                        expression=str(expression),
                        method=str(method).lower(),
                        summary=_str(op.get("summary")),
                        description=_str(op.get("description")),
                        parameters=(
                            *(p for p in shared if (p.name, p.location) not in redefined),
                            *own,
                        ),
                        body=_body(op.get("requestBody"), f"{base}/requestBody"),
                        responses=_responses(op.get("responses"), base),
                    )
                )
    return tuple(callbacks)

"""What the operation page shows, computed from a stored operation and its document.

Plain data in, plain data out (no request): the view passes the result to the template.
Everything from the spec stays untrusted text here; templates escape it and descriptions go
through `render_markdown`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.utils.safestring import SafeString
from django.utils.text import slugify

from apis.markdown import id_words, operation_title, render_markdown, safe_url, with_section_ids
from apis.openapi import model
from apis.openapi.examples import has_example
from apis.openapi.sample import sample
from apis.openapi.stream_sample import stream_note, stream_sample
from apis.openapi.values import as_dict
from apis.openapi.xml_sample import is_xml, xml_sample, xml_text
from apis.schema_reader import short_json
from apis.schema_tree import SchemaRenderer, constraints, pretty_json
from portal.lib.lru import LRU

PARAM_LOCATIONS = ("path", "query", "header", "cookie")


@dataclass
class Example:
    name: str
    summary: str
    value: str
    description: SafeString = field(default_factory=lambda: render_markdown(""))


@dataclass
class Param:
    name: str
    location: str
    required: bool
    deprecated: bool
    type_label: str
    description: SafeString
    default: str | None
    enum: list[str]
    examples: list[Example]
    schema_html: SafeString | None
    # (label, value) of minimum, maxLength, pattern...; value "" for flags such as unique items.
    constraints: list[tuple[str, str]] = field(default_factory=list)
    anchor: str = ""  # `<location>-<name>`, unique in its table (set by _anchor_rows)
    # (style, "exploded" or "not exploded") when not the location's default, else None.
    style: tuple[str, str] | None = None
    allow_reserved: bool = False  # a query value's `/`, `:`, `,`… are sent unencoded
    allow_empty_value: bool = False  # the query parameter may be sent with no value
    ignored: bool = False  # a header OpenAPI ignores (model.IGNORED_HEADERS)


@dataclass
class MediaType:
    name: str
    schema_html: SafeString | None
    examples: list[Example]
    anchor: str
    # (anchor, label) of an earlier media type on the page with the very same schema.
    same_as: tuple[str, str] | None = None
    # A JSON sample made from the schema, for responses with no example of their own.
    generated: str = ""
    generated_note: str = "Generated from the schema"  # what the sample is, above it
    first_sample: bool = False
    # OpenAPI 3.2 `itemSchema`: the schema is each item of a stream, not the whole body.
    streamed: bool = False
    description: SafeString = field(default_factory=lambda: render_markdown(""))
    # (field, how it is written) of a form body's Encoding objects.
    encoding: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Response:
    status: str
    description: SafeString
    headers: list[Param]
    content: list[MediaType]
    links: list[dict[str, Any]]
    summary: str = ""

    @property
    def tone(self) -> str:
        return {"2": "ok", "3": "redirect", "4": "client", "5": "server"}.get(
            self.status[:1], "other"
        )

    @property
    def description_below(self) -> SafeString | str:
        """The description under the status line, unless that line already says all of it:
        without a summary it shows the description's text up to 160 characters, so a short
        plain paragraph ("Success.") would be said twice."""
        html = str(self.description).strip()
        if not self.summary and html.startswith("<p>") and html.endswith("</p>"):
            text = html[3:-4]
            if "<" not in text and len(text) <= 160:
                return ""
        return self.description


@dataclass
class Callback:
    name: str
    expression: str
    method: str
    summary: str
    description: SafeString
    params_by_location: list[tuple[str, list[Param]]]
    id_prefix: str
    body_description: SafeString
    body: list[MediaType]
    responses: list[Response]


@dataclass
class SecurityOption:
    schemes: list[dict[str, Any]]


@dataclass
class OperationView:
    summary: str
    # A summary too long or rich for a title (OpenAI writes paragraphs) is also shown in full.
    summary_html: SafeString
    description: SafeString
    deprecated: bool
    params_by_location: list[tuple[str, list[Param]]]
    request_body_required: bool
    request_body_description: SafeString
    request_body: list[MediaType]
    responses: list[Response]
    security: list[SecurityOption]
    callbacks: list[Callback]
    servers: list[dict[str, Any]]
    external_docs: dict[str, str] | None
    tags: list[str] = field(default_factory=list)

    @property
    def has_response_samples(self) -> bool:
        return any(m.examples or m.generated for r in self.responses for m in r.content)


def _examples(
    examples: tuple[model.Example, ...], write: Callable[[Any], str] | None = None
) -> list[Example]:
    out: list[Example] = []
    for ex in examples[:11]:
        if ex.value is not model.NO_VALUE:
            text = write(ex.value) if write else pretty_json(ex.value, 20_000)
            out.append(Example(ex.name, ex.summary, text, render_markdown(ex.description)))
        elif ex.external:
            out.append(
                Example(ex.name, "external value", ex.external, render_markdown(ex.description))
            )
    return out


def _example_writer(media: model.MediaType, doc: Mapping[str, Any]) -> Callable[[Any], str] | None:
    """How a body's examples read, when not as JSON: an XML or CSV example is text, shown as
    written (not as a JSON string, in quotes with its line breaks escaped); an XML body's
    example given as data is written as XML, as the schema's `xml` objects say."""
    if is_json(media.name):
        return None

    def write(value: Any) -> str:
        if isinstance(value, str):
            return value if len(value) <= 20_000 else value[:20_000] + "\n… (truncated)"
        if is_xml(media.name) and media.schema is not None:
            return xml_text(media.schema, doc, value)
        return pretty_json(value, 20_000)

    return write


def _schema_examples(target: dict[str, Any]) -> list[Example]:
    """A parameter's examples from its schema: OpenAPI's `example`, else JSON Schema's
    `examples` list (3.1 writes `schema: {examples: [Milano Centrale, Paris]}`)."""
    if has_example(target):
        return [Example("example", "", pretty_json(target["example"], 20_000))]
    listed = target.get("examples")
    if isinstance(listed, list):
        return [Example("example", "", pretty_json(value, 20_000)) for value in listed[:11]]
    return []


# How a style reads where OpenAPI has no name for it (a Swagger 2.0 collectionFormat).
STYLE_LABELS = {"tabDelimited": "tab-delimited (Swagger 2.0 tsv)"}


def _style(raw: model.Parameter) -> tuple[str, str] | None:
    """A parameter's style and explode when either is not its location's default (form,
    exploded, in a query or cookie; simple, not exploded, in a path or header): how to
    write `scope[type]=…` or `ids=a,b` is otherwise nowhere on the page."""
    if raw.media_type or raw.location not in model.LOCATIONS:
        return None  # `content` parameters are their media type's text: no style applies
    default = "form" if raw.location in ("query", "cookie") else "simple"
    if raw.style == default and raw.explode == (default == "form"):
        return None
    return STYLE_LABELS.get(raw.style, raw.style), "exploded" if raw.explode else "not exploded"


def _encoding(encoding: dict[str, Any]) -> list[tuple[str, str]]:
    """How each field of a form body is written, as its Encoding object says: its style
    (`deepObject, exploded`), else its part's content type (`as image/png`), and the headers
    its multipart part carries (`part header X-Rate-Limit-Limit`; Content-Type among them is
    ignored, as OpenAPI says: the content type says it)."""
    out = []
    for name, spec in list(encoding.items())[:50]:
        said = []
        collection = model.COLLECTION_DELIMITED.get(str(spec.get("x-collectionFormat")))
        if "style" in spec or "explode" in spec or collection:
            style = collection or str(spec.get("style") or "form")
            explode = spec["explode"] is True if "explode" in spec else style == "form"
            said.append(
                f"{STYLE_LABELS.get(style, style)}, {'exploded' if explode else 'not exploded'}"
            )
        elif isinstance(spec.get("contentType"), str):
            said.append(f"as {spec['contentType'][:200]}")
        headers = spec.get("headers")
        names = [
            str(h)[:100]
            for h in (headers if isinstance(headers, dict) else {})
            if str(h).lower() != "content-type"
        ][:20]
        if names:
            said.append(f"part header{'s' if len(names) > 1 else ''} {', '.join(names)}")
        if said:
            out.append((name, "; ".join(said)))
    return out


def _nested(schema: dict[str, Any]) -> bool:
    """Whether a parameter's schema has a tree to draw below its row: an object's, or a
    composition's."""
    return (
        schema.get("type") == "object"
        or "properties" in schema
        or any(k in schema for k in ("allOf", "oneOf", "anyOf"))
    )


def _param(raw: model.Parameter, renderer: SchemaRenderer, *, request: bool = True) -> Param:
    """A parameter's row; `request` False for a response's header (none is the call's to set)."""
    schema = raw.schema or {}
    target = renderer.shown(schema)
    target = target if isinstance(target, dict) else {}
    enum: list[Any] = target["enum"] if isinstance(target.get("enum"), list) else []
    nested = _nested(target)
    items = target.get("items")
    for _ in range(5):  # an array's items, or an array of arrays' innermost ones
        # shown, not deref: `{allOf: [{$ref: Color}], description}` is Color's values too.
        inner = renderer.shown(items) if not enum and isinstance(items, dict) else None
        if not isinstance(inner, dict):
            break
        if isinstance(inner.get("enum"), list):
            enum = inner["enum"]
        # Objects as items (Zulip's `narrow`, a JSON array of {operator, operand}): their
        # tree below the row, as an object's own is; the row alone said "array of one of".
        nested = nested or _nested(inner)
        items = inner.get("items")
    own = str(target.get("description") or "")
    description = raw.description or own
    if nested and description.strip() == own.strip():
        description = ""  # the schema's tree below the row says it (OpenSearch's expand_wildcards)
    ignored = request and raw.location == "header" and raw.name.lower() in model.IGNORED_HEADERS
    return Param(
        name=raw.name,
        location=raw.location,
        # Path parameters are always required (OpenAPI says so, whatever the spec writes); a
        # header OpenAPI ignores is the call's own, required of no reader ("required" beside
        # "Ignored" contradicted it).
        required=raw.required and not ignored,
        deprecated=raw.deprecated,
        type_label=renderer.type_label(schema),
        description=render_markdown(description),
        default=short_json(target["default"]) if "default" in target else None,
        enum=[short_json(v, 80) for v in enum[:100]],
        examples=_examples(raw.examples) or _schema_examples(target),
        constraints=constraints(target),
        style=_style(raw),
        allow_reserved=raw.allow_reserved and raw.location == "query",
        allow_empty_value=raw.allow_empty_value,
        ignored=ignored,
        schema_html=(
            renderer.block(schema, raw=False, where=("", raw.pointer)) if nested else None
        ),
    )


def _anchor_rows(params: list[Param]) -> list[Param]:
    """Give each row an id of its own: names that differ only in case or punctuation
    (`filter[name]`, `filtername`; `X-Files`, `x-files`) would share their slug."""
    seen: set[str] = set()
    for param in params:
        base = f"{param.location}-{slugify(param.name)}".rstrip("-")
        anchor, n = base, 1
        while anchor in seen:
            n += 1
            anchor = f"{base}-{n}"
        seen.add(anchor)
        param.anchor = anchor
    return params


def _media_types(
    content: tuple[model.MediaType, ...],
    renderer: SchemaRenderer,
    prefix: str,
    shown: dict[bytes, tuple[str, str]],
) -> list[MediaType]:
    """Media types of a body; a schema already drawn on the page is linked, not drawn again.

    Kubernetes offers every body as JSON, YAML and protobuf with one schema: drawing it once
    keeps its pages a quarter of the size.
    """
    out: list[MediaType] = []
    for media in content:
        slug = "".join(ch if ch.isalnum() else "-" for ch in media.name.lower())
        anchor = f"{prefix}-{slug}"
        html = same_as = None
        if media.schema is not None:
            # A stream of Pets is not the same body as one Pet, though the schema is.
            key = (b"stream:" if media.streamed else b"") + orjson.dumps(
                media.schema, option=orjson.OPT_SORT_KEYS
            )
            same_as = shown.get(key)
            if same_as is None:
                shown[key] = (anchor, f"{prefix.replace('-', ' ')} {media.name}")
                html = renderer.block(media.schema, where=("", media.pointer))
        examples = _examples(media.examples, _example_writer(media, renderer.doc))
        view = MediaType(media.name, html, examples, anchor, same_as)
        view.streamed = media.streamed
        if media.description:
            view.description = render_markdown(media.description)
        view.encoding = _encoding(media.encoding)
        out.append(view)
    return out


def _security(
    requirements: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] | None,
    schemes: dict[str, Any],
) -> list[SecurityOption]:
    options: list[SecurityOption] = []
    for requirement in requirements or ():
        entries = []
        for name, scopes in requirement:
            scheme = as_dict(schemes.get(name))
            entries.append(
                {
                    "name": name,
                    "type": str(scheme.get("type", "")),
                    "detail": str(scheme.get("scheme") or scheme.get("in") or ""),
                    "scopes": list(scopes),
                }
            )
        options.append(SecurityOption(entries))
    return options


# Operation rows never change after import, so their rendered view is kept per process: the
# first visit pays for the schema tree, later ones only for the page around it.
_views: LRU[OperationView] = LRU(256)


def cached_operation_view(
    operation_id: int, api_slug: str, label: str | None, build: Callable[[], OperationView]
) -> OperationView:
    # The API's slug is in the key: it can be renamed, and the view's links carry it.
    return _views.get_or_compute((operation_id, api_slug, label), build)


def clear_cache() -> None:
    _views.clear()


# (operationIds, (path, method) pairs) -> URL of each operation found in the same version.
LinkResolver = Callable[[list[str], list[tuple[str, str]]], dict[Any, str]]


def _link_targets(responses: list[Response], resolve: LinkResolver | None) -> None:
    """Point each response link at the operation page it names (operationId or an internal
    operationRef `#/paths/<path>/<method>`); a target not in this version stays text."""
    links = [link for r in responses for link in r.links]
    if not links or resolve is None:
        return
    pairs: dict[str, tuple[str, str]] = {}
    for link in links:
        ref = link["operation_ref"]
        parts = ref.split("/") if ref.startswith("#/paths/") else []
        if len(parts) == 4:
            path = parts[2].replace("~1", "/").replace("~0", "~")
            pairs[ref] = (path, parts[3].lower())
    urls = resolve(
        [link["operation_id"] for link in links if link["operation_id"]], list(pairs.values())
    )
    for link in links:
        key = link["operation_id"] or pairs.get(link["operation_ref"])
        link["url"] = urls.get(key, "") if key else ""


def build_operation_view(
    data: dict[str, Any],
    overview: dict[str, Any],
    renderer: SchemaRenderer,
    link_targets: LinkResolver | None = None,
) -> OperationView:
    op = model.operation_model(data)
    shown: dict[bytes, tuple[str, str]] = {}
    params = _by_location(op.parameters, renderer)
    # Drawn in page order: the row budget goes to what a reader meets first.
    body = op.request_body
    request_body = _media_types(body.content if body else (), renderer, "request", shown)
    responses = [_response(r, renderer, "response", shown) for r in op.responses]
    _response_samples(responses, op.responses, renderer)
    _link_targets(responses, link_targets)
    callbacks = [_callback(cb, n, renderer, shown) for n, cb in enumerate(op.callbacks, 1)]
    external_docs = None
    if safe_url(op.external_docs.get("url")):
        external_docs = {
            "url": str(safe_url(op.external_docs.get("url"))),
            "description": str(op.external_docs.get("description") or op.external_docs["url"]),
        }
    schemes = as_dict(overview.get("securitySchemes"))
    title = operation_title(op.summary, op.operation_id)
    return OperationView(
        # No summary: the operationId in words, as Redoc heads it (else the page says the
        # method and path, as Swagger UI does); the path alone headed GET and DELETE of
        # `/pets/{id}` alike.
        summary=title or id_words(op.operation_id),
        summary_html=render_markdown(op.summary) if title != op.summary else render_markdown(""),
        description=render_markdown(op.description),
        deprecated=op.deprecated,
        params_by_location=params,
        request_body_required=body.required if body else False,
        request_body_description=render_markdown(body.description if body else ""),
        request_body=request_body,
        responses=responses,
        security=_security(op.security, schemes),
        callbacks=callbacks,
        servers=[{**server, "url": shown_server_url(server.get("url"))} for server in op.servers],
        external_docs=external_docs,
        tags=list(op.tags),
    )


def shown_server_url(url: Any) -> str:
    """A server's URL as the pages say it. An empty one (NetBox's) is relative to where the
    document is served, and a call's URL is the server's followed by the path: `/` says so."""
    return str(url) if url else "/"


PAGE_SAMPLE_DEPTH = 6  # nesting of samples made for the page (documents.preload matches it)


def _by_location(
    parameters: tuple[model.Parameter, ...], renderer: SchemaRenderer
) -> list[tuple[str, list[Param]]]:
    """Rows grouped by where each value goes (path, query, header, cookie), in that order."""
    params: dict[str, list[Param]] = {loc: [] for loc in PARAM_LOCATIONS}
    for raw in parameters:
        param = _param(raw, renderer)
        params.setdefault(param.location, []).append(param)
    _anchor_rows([p for items in params.values() for p in items])
    return [(loc, items) for loc, items in params.items() if items]


def _response(
    r: model.Response, renderer: SchemaRenderer, prefix: str, shown: dict[bytes, tuple[str, str]]
) -> Response:
    return Response(
        status=r.status,
        description=render_markdown(r.description),
        summary=r.summary,
        headers=_anchor_rows([_param(h, renderer, request=False) for h in r.headers]),
        content=_media_types(r.content, renderer, f"{prefix}-{r.status}", shown),
        links=[
            {
                "name": link.name,
                "operation_id": link.operation_id,
                "operation_ref": link.operation_ref,
                "parameters": {str(k): short_json(v) for k, v in link.parameters.items()},
                "description": render_markdown(link.description),
            }
            for link in r.links
        ],
    )


def _callback(
    cb: model.Callback, n: int, renderer: SchemaRenderer, shown: dict[bytes, tuple[str, str]]
) -> Callback:
    # Its rows and sections get ids of their own: a callback often repeats the operation's
    # parameter and status names.
    prefix = f"callback-{slugify(cb.name)}-{n}"
    return Callback(
        name=cb.name,
        expression=cb.expression,
        method=cb.method,
        summary=cb.summary,
        description=render_markdown(cb.description),
        params_by_location=_by_location(cb.parameters, renderer),
        id_prefix=prefix,
        body_description=render_markdown(cb.body.description if cb.body else ""),
        body=_media_types(cb.body.content if cb.body else (), renderer, prefix, shown),
        responses=[_response(r, renderer, f"{prefix}-response", shown) for r in cb.responses],
    )


def _response_samples(
    responses: list[Response], raw: tuple[model.Response, ...], renderer: SchemaRenderer
) -> None:
    """A sample made from the schema for each JSON or XML response that has no example, and
    for each stream whose framing is known (a few items of a 3.2 `itemSchema`)."""
    first = True
    made: dict[bytes, str] = {}  # 200 and 201 often name the same schema: sample it once
    for response, source in zip(responses, raw, strict=True):
        for media, typed in zip(response.content, source.content, strict=True):
            if typed.streamed:
                if not media.examples and typed.schema is not None:
                    media.generated = stream_sample(
                        media.name, typed.schema, renderer.doc, PAGE_SAMPLE_DEPTH
                    )
                    media.generated_note = stream_note(media.name)
            elif not media.examples and is_json(media.name) and typed.schema is not None:
                key = orjson.dumps(typed.schema)
                if key not in made:
                    value = sample(typed.schema, renderer.doc, PAGE_SAMPLE_DEPTH)  # type: ignore[arg-type]
                    made[key] = "" if value is None else pretty_json(value, 20_000)
                if made[key]:
                    media.generated = made[key]
            elif not media.examples and is_xml(media.name) and typed.schema is not None:
                media.generated = xml_sample(typed.schema, renderer.doc, PAGE_SAMPLE_DEPTH)
            if first and (media.examples or media.generated):
                media.first_sample, first = True, False


def is_json(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or base == "*/*"


@dataclass
class Overview:
    title: str
    version: str
    summary: str
    description: SafeString
    terms_url: str | None
    contact: dict[str, str]
    license: dict[str, str]
    external_docs: dict[str, str] | None
    servers: list[dict[str, Any]]
    security_schemes: list[dict[str, Any]]


def _flows(scheme: dict[str, Any]) -> list[dict[str, Any]]:
    flows = as_dict(scheme.get("flows"))
    out = []
    for name, flow in flows.items():
        if not isinstance(flow, dict):
            continue
        scopes = as_dict(flow.get("scopes"))
        out.append(
            {
                "name": str(name),
                # Shown as text only: these URLs come from the spec and are never called.
                "authorization_url": str(flow.get("authorizationUrl") or ""),
                "token_url": str(flow.get("tokenUrl") or ""),
                "refresh_url": str(flow.get("refreshUrl") or ""),
                # OpenAPI 3.2's device authorization flow (RFC 8628).
                "device_authorization_url": str(flow.get("deviceAuthorizationUrl") or ""),
                "scopes": [(str(k), str(v)) for k, v in scopes.items()],
            }
        )
    return out


def api_description(overview: dict[str, Any]) -> SafeString:
    """The API's own description as its page shows it, headings with ids."""
    return with_section_ids(
        render_markdown(str(as_dict(overview.get("info")).get("description") or ""))
    )


def build_overview(overview: dict[str, Any]) -> Overview:
    info = as_dict(overview.get("info"))
    contact = as_dict(info.get("contact"))
    license_ = as_dict(info.get("license"))
    external = as_dict(overview.get("externalDocs"))
    email = contact.get("email")
    schemes = as_dict(overview.get("securitySchemes"))
    servers = []
    for server in overview.get("servers") or []:
        if not isinstance(server, dict):
            continue
        variables = as_dict(server.get("variables"))
        servers.append(
            {
                "url": shown_server_url(server.get("url")),
                # OpenAPI 3.2's short name for the server (`prod`), beside its description.
                "name": str(server.get("name") or "")[:100],
                "description": str(server.get("description") or ""),
                "variables": [
                    {
                        "name": str(k),
                        "default": str(v.get("default", "")),
                        "enum": [str(e) for e in v.get("enum") or []]
                        if isinstance(v.get("enum"), list)
                        else [],
                        "description": str(v.get("description") or ""),
                    }
                    for k, v in variables.items()
                    if isinstance(v, dict)
                ],
            }
        )
    return Overview(
        title=str(info.get("title") or ""),
        version=str(info.get("version") or ""),
        summary=str(info.get("summary") or "") if isinstance(info.get("summary"), str) else "",
        description=api_description(overview),
        terms_url=safe_url(info.get("termsOfService")),
        contact={
            "name": str(contact.get("name") or ""),
            "url": safe_url(contact.get("url")) or "",
            "email": str(email)
            if isinstance(email, str) and "@" in email and ":" not in email
            else "",
        },
        license={
            "name": str(license_.get("name") or license_.get("identifier") or ""),
            "url": safe_url(license_.get("url")) or "",
        },
        external_docs=(
            {
                "url": str(safe_url(external.get("url"))),
                "description": str(external.get("description") or ""),
            }
            if safe_url(external.get("url"))
            else None
        ),
        servers=servers,
        security_schemes=[
            {
                "name": str(name),
                "type": str(s.get("type", "")),
                "description": render_markdown(str(s.get("description") or "")),
                "scheme": str(s.get("scheme") or ""),
                "bearer_format": str(s.get("bearerFormat") or ""),
                "in": str(s.get("in") or ""),
                "param_name": str(s.get("name") or ""),
                "openid_connect_url": str(s.get("openIdConnectUrl") or ""),
                # OpenAPI 3.2: the server's RFC 8414 metadata, and schemes on their way out.
                "oauth2_metadata_url": str(s.get("oauth2MetadataUrl") or ""),
                "deprecated": s.get("deprecated") is True,
                "flows": _flows(s),
            }
            for name, s in schemes.items()
            if isinstance(s, dict)
        ],
    )

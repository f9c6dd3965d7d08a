"""Request samples on the reference pages: the console's snippets for a call made of the
spec's own examples (or values generated from the schemas), shown to anyone.

Credentials are placeholders named for the operation's security scheme (`$ACCESS_TOKEN`,
`$API_KEY`, `$API_USER` and `$API_PASSWORD`); nothing here reads a session or a token. Anonymous readers
get the spec's first server; signed-in users the server the console would call for them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from apis.documents import deref_schema, object_fields
from apis.models import Api, ApiVersion, Operation
from apis.openapi.model import NO_VALUE, OperationModel, Parameter, operation_model
from apis.openapi.query_keys import fixed_query
from apis.openapi.sample import sample
from apis.openapi.stream_sample import stream_framing, stream_sample
from apis.openapi.xml_sample import is_xml, xml_text
from apis.reference import PAGE_SAMPLE_DEPTH
from console import calls, serialise
from console.calls import PreparedCall, body_kind
from console.snippets import BASIC_PASSWORD, BASIC_USER, Snippet, snippets
from portal.lib.jsonindent import dumps_indented
from portal.lib.lru import LRU
from products.console import key_header, needs_key

TOKEN = "$ACCESS_TOKEN"
API_KEY = "$API_KEY"
SUBSCRIPTION_KEY = "$SUBSCRIPTION_KEY"
PASSWORD = "$PASSWORD"  # a `format: password` parameter or form field the console sent
EXAMPLE_SERVER = "https://api.example.com"


@dataclass(frozen=True)
class RequestSample:
    snippets: list[Snippet]
    media_type: str
    server: str
    credentials: str  # which placeholder to replace, in words; "" when none is needed
    published: list[Snippet] = field(default_factory=list)  # the publisher's own, shown first
    # No server in the spec and no gateway route: `server` is a stand-in. Not read from the
    # address: a spec may name the stand-in's own https://api.example.com.
    server_unknown: bool = False
    # The spec's server as written when it gives no address to call (Shlink's
    # `{scheme}://{host}`, host "" by default): the stand-in is used, and this is said.
    server_written: str = ""

    @property
    def open_key(self) -> str:
        """The snippet shown open: the publisher's first, else the portal's first."""
        first = self.published or self.snippets
        return first[0].key if first else ""


def _language(lang: str) -> str:
    """A class-safe language name: `C#` -> `csharp`, `Node.js` -> `node-js`."""
    name = lang.lower().replace("#", "sharp").replace("+", "plus")
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-") or "text"


def published_samples(op: OperationModel) -> list[Snippet]:
    """The samples the spec's publisher wrote for the operation, in their order."""
    return [
        Snippet(f"published-{index}", sample.label, _language(sample.lang), sample.source)
        for index, sample in enumerate(op.code_samples)
    ]


# Generated request-body samples by (operation, media type, depth): a version's document never
# changes (a re-import makes new operations), and a huge body's took tens of milliseconds.
_BODY_SAMPLES: LRU[tuple[Any]] = LRU(256)


def body_sample(
    operation: Operation, media_type: str, schema: Any, document: Mapping[str, Any], depth: int
) -> Any:
    """A sample made from the schema of `operation`'s body in `media_type`, for the request
    sample and the console's body editor, each its own copy. Both made it on every view:
    about 14 ms each for DocuSign's template recipient tabs (a 586 KB page)."""

    def make() -> tuple[Any]:
        return (sample(schema, document, depth, request=True),)  # type: ignore[arg-type]

    key = (operation.pk, media_type, depth)
    made = _BODY_SAMPLES.get_or_compute(key, make) if operation.pk is not None else make()
    return copy.deepcopy(made[0])


def clear_cache() -> None:
    _BODY_SAMPLES.clear()


def _example(param: Parameter, document: Mapping[str, Any]) -> Any:
    value = next((e.value for e in param.examples if e.value is not NO_VALUE), NO_VALUE)
    if value is NO_VALUE:
        value = sample(param.schema, document, PAGE_SAMPLE_DEPTH)  # type: ignore[arg-type]
    return value


def _param_value(param: Parameter, document: Mapping[str, Any]) -> str:
    return serialise.param_text(_example(param, document)) or param.name or "value"


def _server(
    api: Api, version: ApiVersion, operation: Operation, signed_in: bool
) -> tuple[str, list[calls.Target]]:
    options = calls.targets(api, version, operation)
    if signed_in:
        allowed = [o for o in options if o.allowed]
        if allowed:
            return allowed[0].url, options
    for option in options:
        if not option.is_gateway and _has_host(option.url):
            return option.url, options
    usable = [o for o in options if _has_host(o.url)]
    # A server with no host once its variables are filled (`{scheme}://{host}`, host ""):
    # written as it is, samples called `https:/rest/...`; the stand-in is a URL to copy.
    return (usable[0].url if usable else EXAMPLE_SERVER), options


def _has_host(url: str) -> bool:
    """Whether `url` names a host a call can go to (the gateway's own base counts)."""
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:
        return False


def _written_server(version: ApiVersion, operation: Operation) -> str:
    servers = operation.data.get("servers") or version.overview.get("servers") or []
    first = servers[0] if isinstance(servers, list) and servers else None
    return str(first.get("url") or "") if isinstance(first, dict) else ""


def _credentials(
    op: OperationModel, version: ApiVersion
) -> tuple[str | None, str, dict[str, str], list[tuple[str, str]], str]:
    """(token, scheme, headers, query) for the first security requirement, and what to say."""
    schemes = version.overview.get("securitySchemes")
    schemes = schemes if isinstance(schemes, dict) else {}
    headers: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    token: str | None = None
    scheme_word = "Bearer"
    said: list[str] = []
    first = op.security[0] if op.security else ()
    for name, _ in first:
        scheme = schemes.get(name)
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        http_scheme = str(scheme.get("scheme") or "").lower()
        if kind == "http" and http_scheme == "basic":
            token, scheme_word = TOKEN, "Basic"  # snippets() writes user and password
            said.append(
                f"${BASIC_USER} and ${BASIC_PASSWORD}: your user name and password ({name})"
            )
        elif kind in ("oauth2", "openIdConnect") or (kind == "http" and http_scheme == "bearer"):
            token, scheme_word = TOKEN, "Bearer"
            said.append(f"{TOKEN}: an access token ({name})")
        elif kind == "apiKey" and isinstance(scheme.get("name"), str):
            where, key = scheme.get("in"), scheme["name"]
            if where == "query":
                query.append((key, API_KEY))
            elif where == "cookie":
                headers["Cookie"] = f"{key}={API_KEY}"
            else:
                headers[key] = API_KEY
            said.append(f"{API_KEY}: your key ({name})")
    return token, scheme_word, headers, query, "; ".join(said)


def request_sample(
    api: Api,
    version: ApiVersion,
    operation: Operation,
    document: Mapping[str, Any],
    *,
    signed_in: bool,
) -> RequestSample:
    """The call for `operation` with example values, as curl, Python, fetch and HTTPie."""
    server, options = _server(api, version, operation, signed_in)
    op = operation_model(operation.data)
    token, scheme, headers, query, said = _credentials(op, version)
    through_gateway = any(o.is_gateway and o.url == server for o in options)
    if through_gateway and needs_key(api):  # the gateway's own check, beside the spec's
        headers[key_header(api)] = SUBSCRIPTION_KEY
        said = "; ".join(filter(None, [said, f"{SUBSCRIPTION_KEY}: your subscription's key"]))
    path, fixed = fixed_query(operation.path)
    path = calls.colon_templates(path, [calls.deref_param(p, document) for p in op.parameters])
    query[:0] = fixed
    querystring = ""
    cookies: list[str] = []
    written: list[str] = []  # each query parameter as its style writes it
    for param in op.parameters:
        param = calls.deref_param(param, document)
        name, where = param.name, param.location
        if where == "querystring" and param.required and not querystring:
            # OpenAPI 3.2: one parameter that is the whole query string.
            querystring = serialise.querystring_text(param.media_type, _example(param, document))
            continue
        if not calls.fills(param) or not param.required:
            continue  # optional parameters stay out of the sample, as in the console
        if where == "query" and any(name == key for key, _ in fixed):
            continue
        value = _param_value(param, document)
        if where == "path":
            path = path.replace("{" + name + "}", serialise.path_text(param, value))
        elif where == "query":  # as the console sends it
            pairs = serialise.query_pairs(param, value)
            written.append(
                serialise.query_text(pairs, allow_reserved=param.allow_reserved, safe="$")
            )
        elif where == "header" and name.lower() not in calls.FORBIDDEN_HEADERS:
            headers[name] = serialise.header_text(param, value)
        elif where == "cookie":
            cookies.append(serialise.cookie_text(param, value))
    if cookies:  # before an API key's cookie, as the console joins them
        headers["Cookie"] = "; ".join(filter(None, [*cookies, headers.get("Cookie", "")]))
    url = server.rstrip("/") + (path if path.startswith("/") else "/" + path)
    # Placeholders stay readable: `$API_KEY`, not `%24API_KEY`.
    query_text = "&".join(filter(None, [urlencode(query, safe="$"), *written, querystring]))
    if query_text:
        url += "?" + query_text
    call = PreparedCall(method=operation.method.upper(), url=url, headers=headers)
    media_type = ""
    if op.request_body and op.request_body.content:
        media = op.request_body.content[0]
        media_type = media.name
        example = media.example
        if example is NO_VALUE and media.streamed and stream_framing(media_type):
            # A 3.2 `itemSchema`: a few items in the stream's framing, not one as the body.
            example = stream_sample(
                media_type, media.schema, document, PAGE_SAMPLE_DEPTH, request=True
            )
        elif example is NO_VALUE:
            example = body_sample(operation, media_type, media.schema, document, PAGE_SAMPLE_DEPTH)
        if is_xml(media_type) and not isinstance(example, str):
            example = xml_text(media.schema, document, example)  # not the data's JSON
        if body_kind(media_type) == "multipart" and isinstance(example, dict):
            example = xml_parts(example, media.schema, document, media.encoding)
        _body(call, media_type, example, _binary_parts(media.schema, document), media.encoding)
    headers.setdefault("Accept", calls.documented_accept(operation) or "application/json")
    return RequestSample(
        snippets(call, token, scheme),
        media_type,
        server,
        said,
        published_samples(op),
        server_unknown=server == EXAMPLE_SERVER and not any(o.url == server for o in options),
        server_written=_written_server(version, operation) if options else "",
    )


def _body(
    call: PreparedCall,
    media_type: str,
    example: Any,
    binary: dict[str, str] | None,
    encoding: Mapping[str, Any] | None = None,
) -> None:
    """The sample's body. `binary`: the fields that are files (see _binary_parts), or None
    when the body is not an object; {"": ...} when the whole body is a file."""
    kind = body_kind(media_type)
    call.body_kind = kind
    binary = binary or {}
    if kind == "json":
        call.text_body = dumps_indented(example)[0].decode()
        call.headers["Content-Type"] = calls.sent_media_type(media_type)
    elif kind in ("form", "multipart"):
        fields = example if isinstance(example, dict) else {}
        if kind == "multipart":  # a file part is a file to pick, not its sample text
            # The encoding's type for a file part (TypeSpec's `photos`: image/jpeg) first.
            call.files = [
                calls.Upload(
                    name,
                    f"{name}.bin",
                    serialise.part_type(encoding or {}, name) or binary[name],
                    b"",
                )
                for name in binary
            ]
        values = [
            (str(k), v, serialise.field_text(v))
            for k, v in fields.items()
            if not (kind == "multipart" and k in binary)
        ]
        call.form_fields, call.part_types = serialise.body_fields(
            values, dict(encoding or {}), multipart=kind == "multipart"
        )
        call.headers["Content-Type"] = media_type
    elif kind == "raw":
        if "" in binary:
            call.files = [calls.Upload("", "file.bin", media_type, b"")]
        else:
            call.text_body = example if isinstance(example, str) else serialise.field_text(example)
        call.headers["Content-Type"] = calls.sent_media_type(media_type, call.text_body or "")


def xml_parts(
    fields: dict[str, Any],
    schema: Any,
    document: Mapping[str, Any],
    encoding: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A multipart body's fields with each part whose encoding says XML written as XML:
    the part's JSON went out as application/xml. The part's root is its `xml.name`, else the
    component it refers to, else the property's name."""
    properties, _ = object_fields(document, schema)
    return {
        name: part_text(str(name), value, properties.get(name), document, encoding)
        for name, value in fields.items()
    }


def part_text(
    name: str,
    value: Any,
    schema: Any,
    document: Mapping[str, Any],
    encoding: Mapping[str, Any] | None,
) -> Any:
    """`value` of the multipart part `name`, as XML when its encoding's type is XML."""
    if value is None or isinstance(value, str) or not isinstance(schema, dict):
        return value
    if not is_xml(serialise.part_type(encoding or {}, name)):
        return value
    found = schema.get("xml")
    xml: dict[str, Any] = found if isinstance(found, dict) else {}
    if "$ref" not in schema and not isinstance(xml.get("name"), str):
        schema = {**schema, "xml": {**xml, "name": name}}
    return xml_text(schema, document, value)


def _binary_parts(schema: Any, document: Mapping[str, Any]) -> dict[str, str] | None:
    """Which parts of a body are files, each with its content type: {"": type} when the
    body itself is one (`format: binary`, or 3.1's `contentMediaType`), else its properties
    (of `allOf` members too) that are files or arrays of files, also as FastAPI's optional
    ones (`anyOf: [binary, null]`, calls.param_schema); None when neither."""
    schema = deref_schema(document, schema)
    if _is_file(schema):
        return {"": _file_type(schema)}
    found: dict[str, str] = {}
    for name, prop in object_fields(document, schema)[0].items():
        prop = calls.param_schema(document, prop)
        items = deref_schema(document, prop.get("items")) if prop.get("type") == "array" else {}
        if _is_file(prop) or (items and _is_file(items)):
            found[str(name)] = _file_type(items or prop)
    return found or None


def _is_file(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary" or (
        isinstance(schema.get("contentMediaType"), str) and "contentEncoding" not in schema
    )


def _file_type(schema: dict[str, Any]) -> str:
    media = schema.get("contentMediaType")
    return media if isinstance(media, str) else "application/octet-stream"

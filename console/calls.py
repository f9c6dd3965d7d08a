"""Building a call from an operation and the console form, sending it, reading the answer.

Where a call may go is decided here and nowhere else: the API's gateway route, and spec
servers only when their origin is in CONSOLE_ALLOWED_ORIGINS (a spec's `servers` are
attacker-controlled text, SECURITY.md cases 44 and 46). Headers are limited to the ones the
operation declares, minus those the console or the transport owns (case 49).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import orjson
from django.conf import settings
from urllib3.filepost import encode_multipart_formdata

from apis import documents
from apis.documents import schema_document
from apis.models import Api, ApiVersion, Operation
from apis.openapi.model import IGNORED_HEADERS, Parameter, is_json_media
from apis.openapi.query_keys import fixed_query
from console import conf, http
from console.serialise import (
    body_fields,
    cookie_text,
    form_value,
    header_text,
    path_text,
    query_pairs,
    query_text,
)
from console.tokens import Token
from portal.lib import outbound, requestlog
from portal.lib.headers import never_forwarded

# Headers a user may never set: the console, the transport or the gateway owns them.
# Headers a user may not set: what the outbound wrapper never sends (framing, Host, proxies),
# what the console sets itself, and the spoofable X- headers the gateway strips anyway.
FORBIDDEN_HEADERS = outbound.NEVER_SENT | {"authorization", "cookie"}


def _forbidden(name: str) -> bool:
    # Underscores read as dashes: WSGI backends see `X_User_Sub` as `X-User-Sub`.
    lowered = name.lower().replace("_", "-")
    return lowered in FORBIDDEN_HEADERS or never_forwarded(lowered)


_BAD_VALUE = re.compile(r"[\r\n\x00]")
# `querystring`: OpenAPI 3.2's one parameter that is the whole query string.
LOCATIONS = ("path", "query", "querystring", "header", "cookie")


class CallError(Exception):
    """The call cannot be sent as asked; the message tells the user why."""


@dataclass(frozen=True)
class Target:
    url: str  # base URL, no trailing slash
    label: str
    allowed: bool
    reason: str = ""
    is_gateway: bool = False


def gateway_base() -> str:
    """Where the gateway answers (CONSOLE_GATEWAY_URL).

    Configured, never taken from the request: ALLOWED_HOSTS does not check the port, so a
    Host header of 127.0.0.1:6379 would otherwise aim the console at a local service.
    """
    return str(getattr(settings, "CONSOLE_GATEWAY_URL", "") or "").rstrip("/")


def through_gateway(url: str) -> bool:
    """Whether a call to `url` goes through this portal's gateway."""
    base = gateway_base()
    return bool(base) and url.startswith(base + "/")


def _server_url(server: dict[str, Any]) -> str:
    url = str(server.get("url") or "")
    variables = server.get("variables") if isinstance(server.get("variables"), dict) else {}
    for name, var in (variables or {}).items():
        default = var.get("default", "") if isinstance(var, dict) else ""
        url = url.replace("{" + str(name) + "}", str(default))
    return url.rstrip("/")


def targets(api: Api, version: ApiVersion, operation: Operation) -> list[Target]:
    """The servers a call may go to: the gateway first (the default), then allowlisted ones."""
    found: list[Target] = []
    route = getattr(api, "gateway_route", None) if _has_gateway() else None
    if route is not None and getattr(route, "is_enabled", False) and gateway_base():
        found.append(
            Target(
                url=f"{gateway_base()}/{route.suffix}",
                label="Gateway",
                allowed=True,
                is_gateway=True,
            )
        )
    allowed_origins = {http.origin(o) for o in conf.allowed_origins()}
    servers = operation.data.get("servers") or version.overview.get("servers") or []
    seen = {t.url for t in found}
    for server in servers if isinstance(servers, list) else []:
        if not isinstance(server, dict):
            continue
        url = _server_url(server)
        # Kratos' `/` is cut to "" (no trailing slash): still the portal's origin, not nothing.
        relative = str(server.get("url") or "").startswith("/")
        if url.startswith("//") and gateway_base():
            # Protocol-relative (Rebilly's `//api.rebilly.com/v2.1`): the portal's scheme, as a
            # relative server takes its origin (below). As written, samples read `curl //api...`.
            url = f"{urlsplit(gateway_base()).scheme}:{url}"
        elif relative and gateway_base():
            # A relative server is relative to where the portal serves the document: the
            # portal's own origin, which is the gateway's in the default run.
            url = http.origin(gateway_base()) + url
        if not url or url in seen:
            continue
        seen.add(url)
        try:
            parts = urlsplit(url)
            origin = http.origin(url)  # reads the port: ValueError past 65535, or not digits
        except ValueError:
            # An unclosed [v6 bracket, a port of letters, `{port}` with no default: a server
            # no call can go to, listed like the others (it made the whole console a 500).
            found.append(Target(url, url, False, "not a valid URL (its host or port)"))
            continue
        written = str(server.get("url") or "")
        if parts.scheme in ("http", "https") and not parts.hostname and "{" in written:
            # Shlink's `{scheme}://{host}`, host "" by default: "https:" alone said nothing
            # of why; the template says what the spec leaves to fill.
            found.append(Target(url, url, False, f"no host in {written} as the spec fills it"))
        elif parts.scheme not in ("http", "https") or not parts.hostname:
            found.append(Target(url, url, False, "not an absolute http(s) URL"))
        elif parts.username or parts.password:
            found.append(Target(url, url, False, "URLs with user info are refused"))
        elif origin not in allowed_origins:
            found.append(Target(url, url, False, "not on this portal's allowlist"))
        else:
            found.append(Target(url, url, True))
    return found


def _has_gateway() -> bool:
    from django.apps import apps

    return apps.is_installed("gateway")


def pick_target(options: list[Target], wanted: str) -> Target:
    """The allowed target the form names; refuse anything else before any DNS or connect."""
    for option in options:
        if option.allowed and option.url == wanted:
            return option
    allowed = [o for o in options if o.allowed]
    if not wanted and allowed:
        return allowed[0]
    if not allowed:
        raise CallError("This API has no gateway or allowlisted server the console may call.")
    raise CallError(f"The console only calls {', '.join(o.url for o in allowed)}.")


@dataclass
class Upload:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class ConsoleInput:
    """What the user filled in, as plain data (also what the history keeps)."""

    server: str = ""
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    media_type: str = ""
    body: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    token: str = ""
    force: bool = False
    uploads: list[Upload] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "params": self.params,
            "media_type": self.media_type,
            "body": self.body,
            "fields": self.fields,
            "token": self.token,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConsoleInput:
        params = data.get("params") if isinstance(data.get("params"), dict) else {}
        fields_ = data.get("fields") if isinstance(data.get("fields"), dict) else {}
        return cls(
            server=str(data.get("server") or ""),
            params={
                loc: {str(k): str(v) for k, v in (params or {}).get(loc, {}).items()}
                for loc in LOCATIONS
                if isinstance((params or {}).get(loc), dict)
            },
            media_type=str(data.get("media_type") or ""),
            body=str(data.get("body") or ""),
            fields={str(k): str(v) for k, v in (fields_ or {}).items()},
            token=str(data.get("token") or ""),
        )


@dataclass
class PreparedCall:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""
    body_kind: str = "none"  # none | json | form | multipart | raw
    text_body: str = ""
    form_fields: list[tuple[str, str]] = field(default_factory=list)
    # A multipart part's Content-Type by field name, as the body's encoding says.
    part_types: dict[str, str] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)
    target: Target | None = None
    warnings: list[str] = field(default_factory=list)


# OpenAPI: a header parameter of these names "SHALL be ignored"; the body's media type, the
# documented answer's and the token (or API key) are the console's to send.
IGNORED_HEADER_PARAMS = IGNORED_HEADERS


def fills(param: Parameter) -> bool:
    """Whether the console (and the samples) fill `param`: named, in a location it sends,
    and not a header OpenAPI says to ignore (Yelp's spec requires an Authorization one) nor
    one of the message's framing, which the HTTP client writes from the body (Webex Contact
    Center's flow import requires a Content-Length parameter: refused when filled, missing
    when not, the call could not be sent at all)."""
    if not param.name or param.location not in LOCATIONS:
        return False
    lowered = param.name.lower()
    return not (
        param.location == "header"
        and (lowered in IGNORED_HEADER_PARAMS or lowered in outbound.FRAMING_HEADERS)
    )


def parameters(operation: Operation) -> list[Parameter]:
    """The operation's parameters the console can fill."""
    return [p for p in operation.model.parameters if fills(p)]


def param_schema(document: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    """The schema a parameter's value is: its `$ref`'s target, also through a one-part
    `allOf` (FastAPI's described enum, `allOf: [{$ref: Sort}]`) or a `null` beside one
    variant (an optional one, `anyOf: [{$ref: Sort}, {type: null}]`). An example written
    beside the wrapper (FastAPI's `Query(examples=...)`) is the parameter's own: it is kept."""
    schema = documents.deref_schema(document, schema)
    for _ in range(4):  # wrappers in wrappers, a few deep
        own = {key: schema[key] for key in ("example", "examples") if key in schema}
        inner = None
        if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            inner = schema["allOf"][0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and len(options) == 2:
                kept = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
                inner = kept[0] if len(kept) == 1 else inner
        if not isinstance(inner, dict):
            break
        schema = documents.deref_schema(document, inner)
        if own:
            schema = {**schema, **own}
    return schema


def documented_empty(param: Parameter, document: Mapping[str, Any]) -> bool:
    """A required path, query or header parameter whose documented example (or default) is
    "": empty is the call (Matrix's `stateKey`, `.../state/m.room.name/`; a `filter=` the
    spec shows), so it may be sent empty: an empty segment, `name=`, an empty header. Any
    other required parameter must be filled (as Swagger UI asks)."""
    if param.location not in ("path", "query", "header"):
        return False
    if param.examples:
        return param.examples[0].value == ""
    schema = param_schema(document, param.schema)
    return schema.get("example", schema.get("default")) == ""


def deref_param(param: Parameter, document: Mapping[str, Any]) -> Parameter:
    """`param` with its schema seen through a `$ref` and FastAPI's wrappers (param_schema),
    so its style applies to the type meant: Typesense's `searchParameters` is a `$ref` to an
    object that goes as `q=...&query_by=...`, and went as `searchParameters={"q": ...}`;
    FastAPI's optional list (`anyOf: [array, null]`) went as one item, `status=a%2Cb`."""
    schema = param_schema(document, param.schema)
    if not schema or schema is param.schema:
        return param
    return replace(param, schema=schema)


def sent_media_type(media_type: str, body: str | bytes = b"") -> str:
    """The Content-Type a body goes with: its media type, but one type for a wildcard, which
    only Accept may hold (ASP.NET Core's specs list `application/*+json`, springdoc's `*/*`):
    JSON for a JSON one or for a body that is JSON text, text/plain under `text/*`, else
    application/octet-stream."""
    base = media_type.split(";", 1)[0].strip().lower()
    if "*" not in base:
        return media_type
    if is_json_media(base):
        return "application/json"
    if base.startswith("text/"):
        return "text/plain"
    try:
        parsed = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        parsed = None
    return "application/json" if isinstance(parsed, dict | list) else "application/octet-stream"


def body_kind(media_type: str) -> str:
    base = media_type.split(";", 1)[0].strip().lower()
    if not base:
        return "none"
    if is_json_media(base):
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base.startswith("multipart/"):
        return "multipart"
    return "raw"


# What a query may hold as it is (RFC 3986's pchar, `/` and `?`), and `%` of what is
# already percent-encoded.
_QUERY_SAFE = "!$&'()*+,;=:@/?%"


def _check_header(name: str, value: str) -> None:
    if not outbound.HEADER_NAME.fullmatch(name):
        raise CallError(f"{name!r} is not a valid header name.")
    if _BAD_VALUE.search(value) or _BAD_VALUE.search(name):
        raise CallError(f"The {name} header contains a line break or NUL; it was refused.")
    if _forbidden(name):
        raise CallError(
            f"The console does not send a {name} header; the gateway or the console sets it."
        )
    if not outbound.is_latin1(value):
        raise CallError(
            f"The {name} header contains characters an HTTP header cannot carry (such as "
            "€ or emoji); it was refused."
        )


# What a server may read as a segment boundary: `/` and `\` (urllib3 sends `\` as %5C, which
# IIS decodes to one); their encoded forms are caught by decoding first.
_SEPARATOR = re.compile(r"[/\\]")
# How many rounds of percent-decoding a server or proxy in front of it might apply.
_DECODE_ROUNDS = 3


def _walks_out(template: str) -> bool:
    """Whether a spec's path template has a `.` or `..` segment, plain or percent-encoded:
    urllib3 sends it as written and a server resolves it (one that decodes first, `%2E%2E`
    too, or twice, `%252E`) to a path outside the chosen server's, with the user's token.
    Tomcat and Spring read `..;x` as `..` (what follows `;` is a path parameter), and NFKC
    turns fullwidth `．．` into `..`. The template is attacker-controlled text; a
    parameter's value is the user's own (and quoted)."""
    text = template
    for _ in range(_DECODE_ROUNDS + 1):
        segments = (segment.split(";", 1)[0] for segment in _SEPARATOR.split(text))
        if any(segment in (".", "..") for segment in segments):
            return True
        # NFKC, as some backends apply it: fullwidth `．．／` reads as `../`.
        decoded = unicodedata.normalize("NFKC", unquote(text))
        if decoded == text:
            return False
        text = decoded
    return False


def documented_accept(operation: Operation) -> str:
    """The media type the operation's success answer is documented in (its first 2xx
    response with content, else `default`), or "" when none is: GitHub's /octocat answers a
    text stream and a server that honours Accept refuses `application/json` with a 406."""
    responses = operation.model.responses
    success = [r for r in responses if r.status.startswith("2") and r.content]
    fallback = [r for r in responses if r.status == "default" and r.content]
    for response in success or fallback:
        name = response.content[0].name
        # A spec's media type key goes into a header: only a plain `type/subtype`.
        return name if _MEDIA_TYPE.fullmatch(name) else ""
    return ""


_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+*-]+")


# A path segment written `:name`, as Express, Go's routers and Rails write a template.
_COLON_SEGMENT = re.compile(r"(?<=/):([A-Za-z_][A-Za-z0-9_]*)(?=/|$)")


def colon_templates(path: str, params: list[Parameter]) -> str:
    """`path` with each `:name` segment of a declared path parameter the path does not
    write as `{name}` made that template (`/users/:id` -> `/users/{id}`). OpenAPI reads `:id`
    as text (so do the page and Swagger UI; the importer warns), but a spec declaring `id`
    in the path means it: the call went to `/users/:id` with the value typed for id unused."""
    names = {p.name for p in params if p.location == "path" and "{" + p.name + "}" not in path}
    if not names:
        return path
    return _COLON_SEGMENT.sub(lambda m: "{" + m[1] + "}" if m[1] in names else m[0], path)


def build_call(
    operation: Operation,
    data: ConsoleInput,
    options: list[Target],
    *,
    media_types: list[str] | None = None,
) -> PreparedCall:
    """The exact request the console will send, or a CallError naming the first problem."""
    target = pick_target(options, data.server)
    path, query = fixed_query(operation.path)
    document = schema_document(operation.version_id)
    path = colon_templates(path, [deref_param(p, document) for p in parameters(operation)])
    if _walks_out(path):
        raise CallError(
            "The operation's path has a '.' or '..' segment: it would leave the chosen server."
        )
    fixed = {name for name, _ in query}
    headers: dict[str, str] = {}
    cookies: list[str] = []
    missing: list[str] = []
    querystring = ""
    written: list[str] = []  # each query parameter as its style writes it
    for param in parameters(operation):
        param = deref_param(param, document)
        name, where = param.name, param.location
        if where == "query" and name in fixed:
            continue  # sent as the path's own query says
        raw = data.params.get(where, {}).get(name, "")
        if raw == "" and documented_empty(param, document):
            if where == "path":
                path = path.replace("{" + name + "}", "")
                continue
            # else written empty below, as documented
        elif raw == "":
            if param.required:
                missing.append(f"{name} ({where})")
            continue
        if where == "querystring":
            if _BAD_VALUE.search(raw):
                raise CallError(f"The query string {name} contains line breaks.")
            # Sent as written; only what cannot stand in a URL is percent-encoded.
            querystring = quote(raw.removeprefix("?"), safe=_QUERY_SAFE)
            continue
        if where == "path":
            path = path.replace("{" + name + "}", path_text(param, raw))
        elif where == "query":
            written.append(query_text(query_pairs(param, raw), allow_reserved=param.allow_reserved))
        elif where == "header":
            _check_header(name, raw)
            headers[name] = header_text(param, raw)
            _check_header(name, headers[name])
        else:
            if _BAD_VALUE.search(raw) or ";" in raw or ";" in name or "=" in name:
                raise CallError(f"The cookie {name} contains characters a cookie cannot carry.")
            cookies.append(cookie_text(param, raw))
    if missing:
        raise CallError(f"Fill in the required parameters: {', '.join(missing)}.")
    if "{" in path:
        raise CallError(f"The path still has unfilled parameters: {path}.")
    url = target.url + (path if path.startswith("/") else "/" + path)
    full_query = "&".join(filter(None, [urlencode(query), *written, querystring]))
    if full_query:
        url += "?" + full_query
    if not url.startswith(target.url + "/"):
        raise CallError("The path would leave the chosen server.")
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    call = PreparedCall(method=operation.method.upper(), url=url, headers=headers, target=target)
    _attach_body(call, data, media_types or [], operation)
    documented = documented_accept(operation)
    accept = f"{documented}, */*;q=0.8" if documented and documented != "*/*" else ""
    headers.setdefault("Accept", accept or "application/json, */*;q=0.8")
    return call


def _form_fields(
    operation: Operation, data: ConsoleInput, *, multipart: bool
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The form's fields as the body's encoding writes them (console/serialise.py, as the
    samples do): each object or array property is typed as JSON in its field, also as
    FastAPI's optional one (`anyOf: [array, null]`, param_schema)."""
    body = operation.model.request_body
    media = next((m for m in body.content if m.name == data.media_type), None) if body else None
    document = schema_document(operation.version_id)
    properties, _ = documents.object_fields(document, media.schema if media else None)
    typed = [
        (
            name,
            form_value(param_schema(document, properties.get(name)), text),
            text,
        )
        for name, text in data.fields.items()
        if text != ""
    ]
    return body_fields(typed, media.encoding if media else {}, multipart=multipart)


def is_secret(schema: Mapping[str, Any]) -> bool:
    """A value the spec marks `format: password` (Traccar's login form): typed hidden in the
    console and never kept in the call's history."""
    return schema.get("format") == "password"


def secret_fields(operation: Operation, media_type: str) -> set[str]:
    """The body's form fields of `media_type` that are secrets (is_secret)."""
    body = operation.model.request_body
    media = next((m for m in body.content if m.name == media_type), None) if body else None
    if media is None:
        return set()
    document = schema_document(operation.version_id)
    schema = documents.deref_schema(document, media.schema)
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    return {
        str(name)
        for name, prop in (properties or {}).items()
        if is_secret(param_schema(document, prop))
    }


def secret_params(operation: Operation) -> set[tuple[str, str]]:
    """The parameters (location, name) that are secrets (is_secret): a PIN in the query, a
    password header."""
    document = schema_document(operation.version_id)
    found = set()
    for param in parameters(operation):
        param = deref_param(param, document)
        if is_secret(param_schema(document, param.schema)):
            found.add((param.location, param.name))
    return found


def _attach_body(
    call: PreparedCall, data: ConsoleInput, media_types: list[str], operation: Operation
) -> None:
    media = data.media_type
    if media and media_types and media not in media_types:
        raise CallError(f"This operation takes {', '.join(media_types)}, not {media}.")
    kind = body_kind(media)
    call.body_kind = kind
    if kind == "none":
        return
    if _BAD_VALUE.search(media):
        raise CallError("The media type contains a line break.")
    if kind == "json":
        if not data.body.strip():
            call.body_kind = "none"
            return
        try:
            orjson.loads(data.body)
        except orjson.JSONDecodeError as exc:
            raise CallError(f"The body is not valid JSON: {exc}.") from None
        call.text_body = data.body
        call.body = data.body.encode()
        call.headers["Content-Type"] = sent_media_type(media)
    elif kind == "form":
        call.form_fields, _ = _form_fields(operation, data, multipart=False)
        call.body = urlencode(call.form_fields).encode()
        call.headers["Content-Type"] = media
    elif kind == "multipart":
        call.form_fields, call.part_types = _form_fields(operation, data, multipart=True)
        call.files = list(data.uploads)
        parts: list[tuple[str, Any]] = [
            (k, (None, v, call.part_types[k]) if k in call.part_types else v)
            for k, v in call.form_fields
        ]
        parts += [(u.field, (u.filename, u.data, u.content_type)) for u in call.files]
        body, content_type = encode_multipart_formdata(parts)
        call.body = body
        call.headers["Content-Type"] = content_type
    else:
        upload = next((u for u in data.uploads if u.field == "body"), None)
        sent = sent_media_type(media, data.body)
        if upload is not None:
            call.files = [upload]
            call.body = upload.data
            # A file sent for `*/*` goes as its own type, which the browser gave.
            own = upload.content_type if sent != media else ""
            sent = own if own and "*" not in own and not _BAD_VALUE.search(own) else sent
        else:
            call.text_body = data.body
            call.body = data.body.encode()
        call.headers["Content-Type"] = sent


@dataclass
class CallResult:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    elapsed_ms: int
    size: int
    dropped_headers: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        for key, value in self.headers:
            if key.lower() == "content-type":
                return value
        return ""


def with_api_keys(call: PreparedCall, keys: list[Any], *, placeholder: str = "") -> PreparedCall:
    """A copy of `call` with each API key where its scheme names it (header, query, cookie).

    The call shown in the page, the history and the snippets is the one without keys (or,
    with `placeholder`, with the placeholder in their place): a key in a query string would
    otherwise sit in every URL the console shows.
    """
    out = replace(call, headers=dict(call.headers))
    for key in keys:
        value = placeholder or key.value
        if key.location == "header":
            if key.param.lower() != "authorization":
                _check_header(key.param, value)
            if key.param.lower() in {h.lower() for h in out.headers}:
                raise CallError(f"The {key.param} header is set twice; clear the parameter.")
            out.headers[key.param] = value
        elif key.location == "query":
            joiner = "&" if urlsplit(out.url).query else "?"
            # A placeholder stays readable (`$API_KEY`, not `%24API_KEY`): snippets read it.
            out.url += joiner + urlencode([(key.param, value)], safe="$" if placeholder else "")
        else:
            cookie = f"{key.param}={quote(value, safe='$' if placeholder else '')}"
            existing = out.headers.get("Cookie")
            out.headers["Cookie"] = f"{existing}; {cookie}" if existing else cookie
    return out


def authorization_value(token: Token) -> str:
    scheme = "Bearer" if token.token_type.lower() == "bearer" else token.token_type
    return f"{scheme} {token.access_token}"


def send(
    call: PreparedCall, token: Token | None, secret_headers: dict[str, str] | None = None
) -> CallResult:
    """Send through the outbound wrapper to the checked target; never follows redirects.

    `secret_headers` (a subscription key) are added here only, never to `call.headers`,
    which pages, snippets and the history show."""
    headers = dict(call.headers)
    if token is not None:
        if any(name.lower() == "authorization" for name in headers):
            raise CallError("An API key already fills the Authorization header: send no token.")
        headers["Authorization"] = authorization_value(token)
    if request_id := requestlog.current():
        # The portal request's id travels on to the gateway and the backend's logs.
        headers[requestlog.HEADER] = request_id
    for name in secret_headers or {}:
        # One line per name: a second in another case (a parameter the spec declares) would
        # reach the gateway joined to this one, 'k1, k2', which is no key at all.
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
    headers |= secret_headers or {}
    # No extra private origins: only the configured gateway (conf.private_origins) may be on
    # loopback; an allowlisted public origin that resolves privately is refused (case 47).
    result = http.fetch(
        call.method,
        call.url,
        headers=headers,
        body=call.body,
        allow_headers=[name for name in call.headers if not _forbidden(name)]
        + list(secret_headers or {})
        + (["Cookie"] if "Cookie" in call.headers else [])
        + (["Authorization"] if "Authorization" in call.headers else []),
    )
    shown: list[tuple[str, str]] = []
    dropped: list[str] = []
    for key, value in result.headers:
        if key.lower() in ("set-cookie", "set-cookie2"):
            dropped.append(key)  # never relayed to the browser, never stored
            continue
        shown.append((key, value))
    return CallResult(
        status=result.status,
        reason=result.reason,
        headers=shown,
        body=result.body,
        elapsed_ms=result.elapsed_ms,
        size=len(result.body),
        dropped_headers=dropped,
    )

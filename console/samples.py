"""Request samples on the reference pages: the console's snippets for a call made of the
spec's own examples (or values generated from the schemas), shown to anyone.

Credentials are placeholders named for the operation's security scheme (`$ACCESS_TOKEN`,
`$API_KEY`, `$BASIC_CREDENTIALS`); nothing here reads a session or a token. Anonymous readers
get the spec's first server; signed-in users the server the console would call for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from apis.models import Api, ApiVersion, Operation
from apis.openapi.sample import media_example, sample
from console import calls
from console.calls import PreparedCall, body_kind, parameters
from console.snippets import Snippet, snippets

TOKEN = "$ACCESS_TOKEN"
API_KEY = "$API_KEY"
BASIC = "$BASIC_CREDENTIALS"
EXAMPLE_SERVER = "https://api.example.com"


@dataclass(frozen=True)
class RequestSample:
    snippets: list[Snippet]
    media_type: str
    server: str
    credentials: str  # which placeholder to replace, in words; "" when none is needed


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def _param_value(param: dict[str, Any], document: Mapping[str, Any]) -> str:
    if "example" in param:
        value = param["example"]
    elif isinstance(param.get("examples"), dict) and param["examples"]:
        first = next(iter(param["examples"].values()))
        value = first.get("value") if isinstance(first, dict) else None
    else:
        value = sample(param.get("schema"), document)  # type: ignore[arg-type]
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    text = _text(value)
    return text or str(param.get("name", "value"))


def _server(
    api: Api, version: ApiVersion, operation: Operation, signed_in: bool
) -> tuple[str, list[calls.Target]]:
    options = calls.targets(api, version, operation)
    if signed_in:
        allowed = [o for o in options if o.allowed]
        if allowed:
            return allowed[0].url, options
    for option in options:
        if not option.is_gateway and option.url.startswith(("http://", "https://")):
            return option.url, options
    return (options[0].url if options else EXAMPLE_SERVER), options


def _credentials(
    operation: Operation, version: ApiVersion
) -> tuple[str | None, str, dict[str, str], list[tuple[str, str]], str]:
    """(token, scheme, headers, query) for the first security requirement, and what to say."""
    security = operation.data.get("security")
    schemes = version.overview.get("securitySchemes")
    schemes = schemes if isinstance(schemes, dict) else {}
    headers: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    token: str | None = None
    scheme_word = "Bearer"
    said: list[str] = []
    first = (
        next((r for r in security if isinstance(r, dict)), None)
        if isinstance(security, list)
        else None
    )
    for name in first or {}:
        scheme = schemes.get(name)
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        http_scheme = str(scheme.get("scheme") or "").lower()
        if kind == "http" and http_scheme == "basic":
            token, scheme_word = BASIC, "Basic"
            said.append(f"{BASIC}: base64 of user:password ({name})")
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
    server, _ = _server(api, version, operation, signed_in)
    token, scheme, headers, query, said = _credentials(operation, version)
    path = operation.path
    for param in parameters(operation):
        name, where = str(param["name"]), str(param["in"])
        if not (param.get("required") or where == "path"):
            continue  # optional parameters stay out of the sample, as in the console
        value = _param_value(param, document)
        if where == "path":
            path = path.replace("{" + name + "}", quote(value, safe=""))
        elif where == "query":
            query.append((name, value))
        elif where == "header" and name.lower() not in calls.FORBIDDEN_HEADERS:
            headers[name] = value
    url = server.rstrip("/") + (path if path.startswith("/") else "/" + path)
    if query:
        # Placeholders stay readable: `$API_KEY`, not `%24API_KEY`.
        url += "?" + urlencode(query, safe="$")
    call = PreparedCall(method=operation.method.upper(), url=url, headers=headers)
    body = operation.data.get("requestBody")
    content = body.get("content") if isinstance(body, dict) else None
    media_type = ""
    if isinstance(content, dict) and content:
        media_type, media = next(iter(content.items()))
        media = media if isinstance(media, dict) else {}
        _body(call, str(media_type), media_example(media, dict(document)), document)
    headers.setdefault("Accept", "application/json")
    return RequestSample(snippets(call, token, scheme), str(media_type), server, said)


def _body(call: PreparedCall, media_type: str, example: Any, document: Mapping[str, Any]) -> None:
    kind = body_kind(media_type)
    call.body_kind = kind
    if kind == "json":
        call.text_body = orjson.dumps(example, option=orjson.OPT_INDENT_2).decode()
        call.headers["Content-Type"] = media_type
    elif kind in ("form", "multipart"):
        fields = example if isinstance(example, dict) else {}
        call.form_fields = [(str(k), _text(v)) for k, v in fields.items()]
        call.headers["Content-Type"] = media_type
    elif kind == "raw":
        call.text_body = example if isinstance(example, str) else _text(example)
        call.headers["Content-Type"] = media_type

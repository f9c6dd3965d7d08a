"""The built-in backends: echo (what the backend would receive) and mock (from the spec)."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from django.conf import settings

from gateway.config import OperationMatch, RouteConfig
from gateway.formbody import OverrideField
from gateway.problems import Headers, echoed, problem

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_JSON = [(b"content-type", b"application/json")]
# A media type as RFC 9110 section 8.3.1 writes one, its parameters visible ASCII: the spec's
# content key becomes the mock's Content-Type, where a line break would add headers of the
# spec author's (a Set-Cookie on the portal's origin) and a range (`*/*`) names no type.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*[\x20-\x7e]*)?")
_UNKNOWN_TYPE = "application/octet-stream"


async def echo(
    method: str,
    path: str,
    query: bytes,
    forward: Headers,
    headers: dict[bytes, bytes],
    receive: Receive,
    timeout: float = 30.0,
    token_header: bytes = b"authorization",
) -> tuple[int, Headers, bytes]:
    """Answer with the method, path, query, headers and body as JSON.

    The headers are those the gateway forwards to a backend (after stripping spoofable ones
    and adding its own), so the console shows exactly what a backend would see. The bearer
    token itself is shortened, in Authorization and in the header the route's validate-jwt
    reads (`token_header`): it is already visible to the caller, and echoing it would copy it
    into every place that stores responses.
    """
    limit = int(getattr(settings, "GATEWAY_ECHO_MAX_BYTES", 1024 * 1024))
    parts: list[bytes] = []  # joined once: linear in the number of chunks
    size = 0
    if b"content-length" in headers or b"transfer-encoding" in headers:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        # The server reports a malformed chunked body (or a cut one) this way.
                        return problem(400, "The request body was malformed or cut off.", "request")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return problem(
                            413, f"The echo backend takes bodies up to {limit} bytes.", "body-size"
                        )
                    parts.append(chunk)
                    if not message.get("more_body", False):
                        break
        except OverrideField as exc:
            return problem(400, str(exc), "method")
        except TimeoutError:
            return problem(
                408, f"The request body did not arrive within {timeout:g} s.", "request-timeout"
            )
    body = b"".join(parts)
    shown: dict[str, str] = {}
    for name, value in forward:
        text = value.decode("latin-1")
        if name == b"authorization" or name == token_header:
            scheme, _, token = text.partition(" ")
            if not token:  # a header without a scheme (require-scheme "")
                scheme, token = "", scheme
            text = f"{scheme} [{len(token)} characters]".lstrip() if token else "[redacted]"
        key = name.decode("latin-1")
        shown[key] = shown[key] + ", " + text if key in shown else text
    try:
        text_body: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text_body = None
    payload = {
        "method": method,
        "path": path,
        "query": dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)),
        "headers": shown,
        "body": text_body if text_body is not None else base64.b64encode(body).decode(),
        "bodyEncoding": "utf-8" if text_body is not None else "base64",
    }
    return 200, _JSON, orjson.dumps(payload)


def _pick_response(operation: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    responses = operation.get("responses")
    if not isinstance(responses, dict):
        return 200, {}
    # ASCII digits only: "2²" passes str.isdigit() and then fails int().
    codes = sorted(
        c for c in responses if str(c).isascii() and str(c).isdigit() and str(c).startswith("2")
    )
    if codes:
        return int(codes[0]), responses[codes[0]] or {}
    if "default" in responses:
        return 200, responses["default"] or {}
    return 200, {}


def _mock_answer(
    route: RouteConfig, slug: str, operation: dict[str, Any]
) -> tuple[int, str, bytes]:
    status, answer_type, body = _mock_content(route, operation)
    return status, _served_type(answer_type) if answer_type else "", body


def _served_type(media_type: str) -> str:
    """The Content-Type a mock answer carries for the spec's media type key."""
    if not _MEDIA_TYPE.fullmatch(media_type) or "*" in media_type.split(";", 1)[0]:
        return _UNKNOWN_TYPE
    return media_type


def _mock_content(route: RouteConfig, operation: dict[str, Any]) -> tuple[int, str, bytes]:
    from apis.documents import schema_document
    from apis.openapi.examples import json_text_value
    from apis.openapi.model import is_json_media
    from apis.openapi.sample import media_example
    from apis.openapi.xml_sample import is_xml, xml_text
    from portal.lib.jsonindent import dumps_indented

    status, response = _pick_response(operation)
    content = response.get("content") if isinstance(response, dict) else None
    if not isinstance(content, dict) or not content:
        return status, "", b""
    # application/json or +json first; not `x-ndjson`, which is lines of JSON, not JSON.
    media_type = next((m for m in content if is_json_media(m)), next(iter(content)))
    json_media = is_json_media(media_type)
    media = content[media_type] if isinstance(content[media_type], dict) else {}
    # Only the component schemas the sample reaches, six levels up front in a query each and
    # deeper ones as the sampler meets them (as the console reads them): not the normalised
    # document, megabytes for the largest specs.
    document = schema_document(route.version_id, media) if route.version_id else {}
    value = media_example(media, document)
    if json_media:
        value = json_text_value(value, media.get("schema"))
    if is_xml(media_type) and value is not None and not isinstance(value, str):
        # Not JSON under an XML type: the sample written as the schema's `xml` says.
        value = xml_text(media.get("schema"), document, value)
    if json_media or not isinstance(value, str):
        return (
            status,
            media_type if json_media else "application/json",
            dumps_indented(value)[0],
        )
    return status, media_type, value.encode()


async def mock(
    route: RouteConfig, method: str, path: str, match: OperationMatch | None = None
) -> tuple[int, Headers, bytes]:
    """The operation's example, else a sample from its response schema (APIM mock-response)."""
    match = match or route.match_operation(method, path)
    if match is None:
        detail = f"No operation of this API matches {echoed(f'{method} {path}')}."
        return problem(404, detail, "operation")
    cached = route.mock_cache.get(match.slug)
    if cached is None:
        from django.db import close_old_connections

        def work() -> tuple[int, str, bytes]:
            close_old_connections()
            try:
                return _mock_answer(route, match.slug, match.data)
            finally:
                close_old_connections()

        try:
            cached = await asyncio.to_thread(work)
        except Exception:
            logging.getLogger("gateway").exception("mock response for %s failed", match.slug)
            return problem(502, "The mock response could not be generated.", "mock")
        route.mock_cache[match.slug] = cached
    status, media_type, body = cached
    headers: Headers = [(b"content-type", media_type.encode("latin-1"))] if media_type else []
    if status in (204, 304):
        body = b""
    return status, headers, body

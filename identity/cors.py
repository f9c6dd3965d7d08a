"""CORS for the endpoints a single-page app calls from its own pages: token, revocation and
userinfo (discovery and JWKS are public, `*`).

A client's `allowed_origins` (its redirect URIs' origins, applications.flows) may read the
answers about that client: every token endpoint answer, errors too (a refused refresh tells
the app to sign the person in again; without CORS the browser reports a network failure),
its revocations, and userinfo with its tokens. oauthlib adds the header only to a token
endpoint's success, and only for https origins. A preflight carries no client, so it is
answered for an origin any client allows; the call itself is then answered per client.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from identity.clients import origin_of
from identity.models import Client

ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"


def request_origin(request: HttpRequest) -> str:
    """The Origin header when it is an origin (scheme://host[:port]), else ''. One with a
    control character (a NUL, which PostgreSQL refuses in the clients' lookup) is none."""
    origin = str(request.headers.get("Origin", ""))
    return origin if origin.isprintable() and origin and origin_of(origin) == origin else ""


def _client_allows(client: Client | None, origin: str) -> bool:
    return client is not None and bool(client.origin_allowed(origin))


def _any_client_allows(origin: str) -> bool:
    candidates = Client.objects.exclude(allowed_origins="").filter(allowed_origins__contains=origin)
    return any(client.origin_allowed(origin) for client in candidates)


def for_client(request: HttpRequest, response: HttpResponse, client: Client | None) -> None:
    """Let `client`'s pages read `response`; any other origin's, nothing."""
    patch_vary_headers(response, ("Origin",))
    origin = request_origin(request)
    if origin and _client_allows(client, origin):
        response["Access-Control-Allow-Origin"] = origin
    elif "Access-Control-Allow-Origin" in response:
        del response["Access-Control-Allow-Origin"]


def for_client_id(request: HttpRequest, response: HttpResponse, client_id: str) -> None:
    # Also the answer to a client id the endpoint refused: one with a NUL (400 there) is no
    # client, and PostgreSQL refuses it in a lookup.
    known = client_id and "\x00" not in client_id
    client = Client.objects.filter(client_id=client_id).first() if known else None
    for_client(request, response, client)


def preflight(request: HttpRequest, methods: str) -> HttpResponse:
    """The answer to a browser's OPTIONS before a call with an Authorization header (or
    another header a simple request may not carry)."""
    response = HttpResponse(status=204)
    response["Allow"] = f"{methods}, OPTIONS"
    patch_vary_headers(response, ("Origin",))
    origin = request_origin(request)
    if origin and _any_client_allows(origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = methods
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response

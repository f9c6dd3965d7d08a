"""Clients at an external authorization server: OAuth 2.0 Dynamic Client Registration
(RFC 7591) to create them, its management protocol (RFC 7592) to read, update and delete.

Every call goes through the console's door to the network (console/http.py, so
portal/lib/outbound.py: address rules, timeouts, size cap, no redirects to another host).
The server's answers are checked before anything is stored (SECURITY.md case 76): JSON, a
client id, a secret for a confidential client, and a management URI on the registration
endpoint's own origin (the registration access token is never sent anywhere else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from console import http
from console.discovery import endpoints
from console.models import AuthorizationServer
from console.refusals import GrantError

MAX_CLIENT_ID = 100  # Application.client_id
MAX_URI = 1000  # Application.registration_client_uri
# Kept encrypted in text columns, so no column bounds them: these do, far above real ones.
MAX_SECRET = 1000
MAX_TOKEN = 4096


class RegistrationError(Exception):
    """The server refused or answered something unusable; the message is for the developer.

    `upstream` is False only where the server named the developer's metadata as the fault
    (RFC 7591 section 3.2.2's invalid_redirect_uri and invalid_client_metadata): the same
    request will be refused again. Otherwise (unreachable, a 5xx, a refused token, an
    unusable answer) it is the server's, and the request may pass later."""

    def __init__(self, message: str, *, upstream: bool = True) -> None:
        super().__init__(message)
        self.upstream = upstream


# RFC 7591 section 3.2.2: errors that say what the client sent is wrong.
METADATA_ERRORS = frozenset({"invalid_redirect_uri", "invalid_client_metadata"})


@dataclass(frozen=True)
class ClientRecord:
    """What the server answered about a client (RFC 7591 section 3.2.1)."""

    client_id: str
    client_secret: str
    registration_access_token: str
    registration_client_uri: str
    metadata: dict[str, Any]


def metadata_for(kind: str, name: str, redirect_uris: list[str]) -> dict[str, Any]:
    """RFC 7591 client metadata for one of the portal's three kinds of application."""
    if kind == "machine":
        return {
            "client_name": name,
            "grant_types": ["client_credentials"],
            "response_types": [],
            "redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_basic",
        }
    return {
        "client_name": name,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "redirect_uris": list(redirect_uris),
        # A single-page or native app is a public client: no secret, PKCE (RFC 8252).
        "token_endpoint_auth_method": "none" if kind == "spa" else "client_secret_basic",
    }


def registration_endpoint(server: AuthorizationServer) -> str:
    """The configured registration URL, else the discovery document's."""
    if not server.developer_registration:
        raise RegistrationError(f"{server.name} does not take developers' applications.")
    if server.registration_url:
        return server.registration_url
    try:
        endpoints(server)  # refreshes the discovery document when stale
    except (GrantError, http.OutboundError) as exc:
        raise RegistrationError(f"Could not read {server.name}'s metadata: {exc}") from None
    found = (server.metadata or {}).get("registration_endpoint")
    if not isinstance(found, str) or not found:
        raise RegistrationError(f"{server.name} has no registration endpoint configured.")
    return found


def issuer_of(server: AuthorizationServer) -> str:
    try:
        return endpoints(server).issuer
    except (GrantError, http.OutboundError):
        return server.issuer


def _send(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> http.HttpResult:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = b""
    if body is not None:
        headers["Content-Type"] = "application/json"
        payload = orjson.dumps(body)
    try:
        return http.fetch(method, url, headers=headers, body=payload)
    except http.OutboundError as exc:
        raise RegistrationError(f"Could not reach the authorization server: {exc}") from None


def _json_object(result: http.HttpResult, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(result.body)
    except orjson.JSONDecodeError:
        raise RegistrationError(
            f"The authorization server's answer to {what} was not JSON."
        ) from None
    if not isinstance(value, dict):
        raise RegistrationError(f"The authorization server's answer to {what} was not an object.")
    return value


def _refusal(result: http.HttpResult, what: str) -> RegistrationError:
    """RFC 7591 section 3.2.2: `error` and `error_description`, shown as plain text."""
    try:
        body = orjson.loads(result.body)
    except orjson.JSONDecodeError:
        body = None
    detail = ""
    code = ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        code = body["error"]
        detail = code[:100]
        if isinstance(body.get("error_description"), str):
            detail += f": {body['error_description'][:300]}"
    detail = detail or f"HTTP {result.status}"
    theirs = not (400 <= result.status < 500 and code in METADATA_ERRORS)
    return RegistrationError(
        f"The authorization server refused {what} ({detail}).", upstream=theirs
    )


def _printable(value: str, *, space: bool = False) -> bool:
    """Visible ASCII only (and spaces when `space`): RFC 6749's VSCHAR for a secret, which
    goes into Basic credentials; a bearer token and a URI have no space either. A NUL is
    refused by PostgreSQL, and a line break would end the header it is sent in."""
    low = 32 if space else 33
    return all(low <= ord(c) <= 126 for c in value)


def _well_formed_uri(uri: str) -> bool:
    """Fits its column, visible ASCII, and a port urlsplit can read (not 99999)."""
    if len(uri) > MAX_URI or not _printable(uri):
        return False
    try:
        urlsplit(uri).port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return False
    return True


def _same_origin(uri: str, reference: str) -> bool:
    return _well_formed_uri(uri) and http.origin(uri) == http.origin(reference)


def _record(
    body: dict[str, Any], *, endpoint: str, confidential: bool, auth_method: str = ""
) -> ClientRecord:
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise RegistrationError("The authorization server answered with no client id.")
    if len(client_id) > MAX_CLIENT_ID or any(ord(c) < 33 or ord(c) > 126 for c in client_id):
        raise RegistrationError("The authorization server answered with a malformed client id.")
    secret = body.get("client_secret")
    secret = secret if isinstance(secret, str) else ""
    if confidential and not secret:
        raise RegistrationError("The authorization server gave this confidential client no secret.")
    token = body.get("registration_access_token")
    uri = body.get("registration_client_uri")
    token = token if isinstance(token, str) else ""
    uri = uri if isinstance(uri, str) else ""
    # Each is stored (sealed or as is) and sent again later: checked here, before the row
    # is written, where PostgreSQL would refuse a NUL or an over-long URI with a 500.
    if len(secret) > MAX_SECRET or not _printable(secret, space=True):
        raise RegistrationError("The authorization server answered with a malformed client secret.")
    if len(token) > MAX_TOKEN or not _printable(token):
        raise RegistrationError(
            "The authorization server answered with a malformed registration access token."
        )
    if uri and not _well_formed_uri(uri):
        raise RegistrationError(
            "The authorization server answered with a malformed management URI."
        )
    if uri and not _same_origin(uri, endpoint):
        # The registration access token would go there: only to the server that issued it.
        raise RegistrationError(
            "The authorization server's management URI is on another origin; refused."
        )
    if bool(token) != bool(uri):
        token = uri = ""  # half of RFC 7592 is none of it
    answered = body.get("token_endpoint_auth_method")
    if auth_method and isinstance(answered, str) and answered != auth_method:
        # RFC 7591 section 3.2.1 lets the server change what it was sent: a public client
        # made to need a secret it does not have, or a confidential one made public (its id
        # alone then gets tokens), cannot be the application the developer asked for.
        raise RegistrationError(
            f"The authorization server registered the client with token_endpoint_auth_method "
            f"{answered[:40]!r}, not {auth_method!r} as asked."
        )
    return ClientRecord(client_id, secret, token, uri, body)


def register(server: AuthorizationServer, metadata: dict[str, Any]) -> ClientRecord:
    """POST the metadata to the registration endpoint (with the initial access token)."""
    endpoint = registration_endpoint(server)
    http.check_url(endpoint)
    result = _send("POST", endpoint, server.initial_access_token, metadata)
    if result.status not in (200, 201):
        raise _refusal(result, "the registration")
    method = str(metadata.get("token_endpoint_auth_method") or "")
    confidential = method != "none"
    body = _json_object(result, "the registration")
    try:
        return _record(body, endpoint=endpoint, confidential=confidential, auth_method=method)
    except RegistrationError as exc:
        if not (body.get("client_id") or body.get("registration_client_uri")):
            raise  # nothing there to take back
        uri, token = body.get("registration_client_uri"), body.get("registration_access_token")
        if not (isinstance(uri, str) and _same_origin(uri, endpoint)):
            uri = ""  # the token goes to the server that issued it, or nowhere
        raise RegistrationError(f"{exc} {withdraw(uri, token)}", upstream=exc.upstream) from None


def read(uri: str, token: str) -> dict[str, Any]:
    """RFC 7592 section 2.1: the client's current registration."""
    result = _send("GET", uri, token)
    if result.status != 200:
        raise _refusal(result, "reading the registration")
    return _json_object(result, "reading the registration")


def update(uri: str, token: str, client_id: str, metadata: dict[str, Any]) -> ClientRecord:
    """RFC 7592 section 2.2: replace the metadata; the server may rotate the token."""
    result = _send("PUT", uri, token, {**metadata, "client_id": client_id})
    if result.status != 200:
        raise _refusal(result, "the update")
    body = _json_object(result, "the update")
    if body.get("client_id") != client_id:
        raise RegistrationError("The authorization server answered the update for another client.")
    method = str(metadata.get("token_endpoint_auth_method") or "")
    if body.get("registration_access_token") and not body.get("registration_client_uri"):
        # A rotated token with the URI left out (RFC 7592 section 3 requires it): the token
        # is for the same URI; dropping it would keep the old one, which no longer works.
        body = {**body, "registration_client_uri": uri}
    record = _record(body, endpoint=uri, confidential=False, auth_method=method)
    # A server that does not rotate the token sends the same one, or none.
    return ClientRecord(
        client_id,
        record.client_secret,
        record.registration_access_token or token,
        record.registration_client_uri or uri,
        body,
    )


def delete(uri: str, token: str) -> None:
    """RFC 7592 section 2.3: 204 when deleted; 401/404 when the server no longer knows it."""
    result = _send("DELETE", uri, token)
    if result.status in (200, 204, 401, 404):
        return
    raise _refusal(result, "the deletion")


def withdraw(uri: Any, token: Any) -> str:
    """Takes back a client the server created but the portal refused to store (RFC 7592
    deletion), so no live client is left there that nobody here knows of. Returns the
    sentence that ends the refusal's message."""
    usable = isinstance(token, str) and token and _printable(token)
    if isinstance(uri, str) and uri and _well_formed_uri(uri) and usable:
        try:
            delete(uri, token)
        except RegistrationError:
            pass
        else:
            return "The client it created there was withdrawn."
    return "The client may still be registered there: tell the portal's administrators."

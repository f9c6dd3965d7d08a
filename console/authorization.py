"""The two grants that go through the authorization endpoint: authorization code with PKCE
and implicit. A flow starts here (the URL to send the browser to, its one-time state kept in
the session) and finishes when the callback brings the code or the fragment back."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oauthlib.oauth2 import MobileApplicationClient, OAuth2Error, WebApplicationClient
from oauthlib.oauth2.rfc6749.parameters import validate_token_parameters
from oauthlib.oauth2.rfc6749.tokens import OAuth2Token

from console import http
from console.discovery import Endpoints, endpoints
from console.grants import extra_params, grant_enabled, to_token, token_request
from console.models import GRANT_AUTHORIZATION_CODE, GRANT_IMPLICIT, AuthorizationServer
from console.oauthsession import Session
from console.refusals import GrantError, describe, refusal
from console.tokens import Token

PENDING_KEY = "console_pending"
PENDING_TTL = 600  # seconds an authorization request may stay open
PENDING_MAX = 10  # open authorization requests kept per session


@dataclass
class AuthorizationRequest:
    url: str
    state: str


def _pending(store: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raw = store.get(PENDING_KEY)
    pending = raw if isinstance(raw, dict) else {}
    now = time.time()
    fresh = {k: v for k, v in pending.items() if now - float(v.get("created", 0)) < PENDING_TTL}
    # Keep the newest few: an abandoned flow must not grow the session forever.
    newest = sorted(fresh.items(), key=lambda kv: kv[1].get("created", 0))[-PENDING_MAX:]
    return dict(newest)


def _save_pending(store: Any, pending: dict[str, dict[str, Any]]) -> None:
    store[PENDING_KEY] = pending
    if hasattr(store, "modified"):
        store.modified = True


def start_authorization(
    server: AuthorizationServer,
    grant: str,
    scopes: list[str],
    *,
    redirect_uri: str,
    store: Any,
    return_to: str,
    form: dict[str, Any] | None = None,
) -> AuthorizationRequest:
    """Build the authorization URL and remember the one-time state in the session.

    `store` is the user's session; `return_to` is a local path checked by the caller, and
    `form` the console form as the user left it, restored on return.
    """
    if grant not in (GRANT_AUTHORIZATION_CODE, GRANT_IMPLICIT):
        raise GrantError("That grant does not use the authorization endpoint.")
    grant_enabled(server, grant)
    ends = endpoints(server)
    if not ends.authorize:
        raise GrantError(f"{server.name} has no authorization endpoint configured.")
    http.check_url(ends.authorize)
    state = secrets.token_urlsafe(32)
    entry: dict[str, Any] = {
        "server": server.slug,
        "grant": grant,
        "scopes": scopes,
        "redirect_uri": redirect_uri,
        "return_to": return_to,
        "form": form or {},
        "created": time.time(),
    }
    extra = extra_params(server.extra_authorize_params)
    if grant == GRANT_AUTHORIZATION_CODE:
        client: Any = WebApplicationClient(server.client_id)
        verifier = client.create_code_verifier(64)
        entry["code_verifier"] = verifier
        extra["code_challenge"] = client.create_code_challenge(verifier, "S256")
        extra["code_challenge_method"] = "S256"
    else:
        client = MobileApplicationClient(server.client_id)
    session = Session(client=client, scope=scopes, redirect_uri=redirect_uri)
    url, _ = session.authorization_url(ends.authorize, state=state, **extra)
    pending = _pending(store)
    pending[state] = entry
    _save_pending(store, pending)
    return AuthorizationRequest(url=url, state=state)


@dataclass
class Completed:
    token: Token
    return_to: str
    form: dict[str, Any]


def _take_pending(store: Any, state: str, grant: str) -> dict[str, Any]:
    """Pop the pending request for `state`: each state works once, in this browser only."""
    pending = _pending(store)
    entry = pending.pop(state, None) if state else None
    _save_pending(store, pending)
    if entry is None:
        raise GrantError(
            "This authorization response does not match a request started in this browser "
            "(unknown, used or expired state). Start again from the operation page."
        )
    if entry.get("grant") != grant:
        raise GrantError("This authorization response is for a different grant.")
    return entry


def _server_for(entry: dict[str, Any]) -> AuthorizationServer:
    server = AuthorizationServer.objects.filter(slug=entry.get("server")).first()
    if server is None:
        raise GrantError("The authorization server of this request no longer exists.")
    return server


def _check_issuer(params: dict[str, str], ends: Endpoints) -> None:
    """RFC 9207: when the server sends `iss` it must be the configured issuer."""
    iss = params.get("iss")
    if iss is None:
        if ends.iss_parameter_supported:
            raise GrantError("The authorization response has no iss although the server sends it.")
        return
    if not ends.issuer or iss != ends.issuer:
        raise GrantError(
            f"The authorization response came from issuer {iss!r}, not the configured "
            f"{ends.issuer or '(none configured)'}; it was refused (mix-up defence, RFC 9207)."
        )


def _error_from_params(params: dict[str, str], server: AuthorizationServer) -> None:
    if "error" in params:
        raise GrantError(refusal(params["error"], params.get("error_description", ""), server))


def _complete(
    store: Any,
    params: dict[str, str],
    grant: str,
    finish: Callable[[dict[str, Any], dict[str, str]], Completed],
) -> Completed:
    """Take the one-time pending entry for `state`, then finish; errors return to its page."""
    entry = _take_pending(store, params.get("state", ""), grant)
    try:
        return finish(entry, params)
    except GrantError as exc:
        exc.return_to = str(entry.get("return_to") or "")
        raise


def complete_authorization(store: Any, params: dict[str, str]) -> Completed:
    """Finish the authorization code flow: state, issuer, then the code exchange with PKCE."""
    return _complete(store, params, GRANT_AUTHORIZATION_CODE, _exchange_code)


def _exchange_code(entry: dict[str, Any], params: dict[str, str]) -> Completed:
    server = _server_for(entry)
    ends = endpoints(server)
    _check_issuer(params, ends)
    _error_from_params(params, server)
    code = params.get("code", "")
    if not code:
        raise GrantError("The authorization response has no code.")
    scopes = [str(s) for s in entry.get("scopes", [])]
    session = Session(
        client=WebApplicationClient(server.client_id),
        scope=scopes,
        redirect_uri=entry["redirect_uri"],
    )
    token = token_request(
        server,
        GRANT_AUTHORIZATION_CODE,
        scopes,
        session,
        code=code,
        code_verifier=entry["code_verifier"],
    )
    return Completed(token=token, return_to=entry["return_to"], form=entry.get("form") or {})


def complete_implicit(store: Any, params: dict[str, str]) -> Completed:
    """Finish the implicit grant from the fragment the callback page posted to the server."""
    return _complete(store, params, GRANT_IMPLICIT, _take_fragment)


def _take_fragment(entry: dict[str, Any], params: dict[str, str]) -> Completed:
    server = _server_for(entry)
    _check_issuer(params, endpoints(server))
    _error_from_params(params, server)
    scopes = [str(s) for s in entry.get("scopes", [])]
    # The fragment arrived by POST (state already matched), so oauthlib's URI parser, which
    # insists on an https redirect URI, is skipped for its token-parameter checks.
    response = OAuth2Token({k: v for k, v in params.items() if v and k != "iss"}, old_scope=scopes)
    try:
        validate_token_parameters(response)
    except (OAuth2Error, ValueError, ArithmeticError, Warning) as exc:
        raise GrantError(describe(exc, "the authorization endpoint")) from None
    token = to_token(dict(response), server, GRANT_IMPLICIT, scopes)
    return Completed(token=token, return_to=entry["return_to"], form=entry.get("form") or {})

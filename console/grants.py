"""Getting tokens with the grants that need no browser (client credentials, password),
refreshing and revoking them; the building blocks the redirect grants share
(console/authorization.py). Endpoints come only from the admin's AuthorizationServer rows,
never from a spec (SECURITY.md case 45).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote_plus, urlsplit

import requests
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2 import (
    BackendApplicationClient,
    LegacyApplicationClient,
    OAuth2Error,
    WebApplicationClient,
)

from console import conf, http, offered
from console.discovery import endpoints
from console.models import (
    CLIENT_AUTH_BASIC,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_LABELS,
    GRANT_PASSWORD,
    AuthorizationServer,
)
from console.oauthsession import Session, check_token_fields
from console.refreshes import SharedRefresh, shared_copy
from console.refusals import GrantError
from console.tokens import Token, scopes_key, split_scopes

log = logging.getLogger(__name__)


def _client_auth(server: AuthorizationServer) -> tuple[Any, dict[str, Any]]:
    """requests auth object and extra token-request kwargs for the configured client auth."""
    if server.client_auth == CLIENT_AUTH_BASIC and server.client_secret:
        # RFC 6749 section 2.3.1: form-encode both parts before Basic encoding.
        auth = requests.auth.HTTPBasicAuth(
            quote_plus(server.client_id), quote_plus(server.client_secret)
        )
        return auth, {"include_client_id": False}
    extra: dict[str, Any] = {"include_client_id": True}
    if server.client_secret:
        extra["client_secret"] = server.client_secret
    return None, extra


def grant_enabled(server: AuthorizationServer, grant: str) -> None:
    if grant not in offered.grants(server):
        raise GrantError(f"{GRANT_LABELS.get(grant, grant)} is not enabled for {server.name}.")


def extra_params(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items() if v not in (None, "")}


def to_token(
    response: dict[str, Any], server: AuthorizationServer, grant: str, scopes: list[str]
) -> Token:
    if not response.get("access_token"):
        raise GrantError("The token response had no access_token.")
    check_token_fields({k: v for k, v in response.items() if k != "scope"})
    return Token.from_response(
        response,
        server=server.slug,
        server_name=server.name,
        grant=grant,
        scopes=scopes_key(scopes),
    )


def token_request(
    server: AuthorizationServer,
    grant: str,
    scopes: list[str],
    session: Session,
    **kwargs: Any,
) -> Token:
    ends = endpoints(server)
    if not ends.token:
        raise GrantError(f"{server.name} has no token endpoint configured.")
    auth, extra = _client_auth(server)
    params = {**extra_params(server.extra_token_params), **kwargs}
    try:
        response = session.fetch_token(ends.token, auth=auth, **extra, **params)
    except (OAuth2Error, http.OutboundError, ValueError, ArithmeticError, Warning) as exc:
        raise GrantError.described(exc, ends.token, server) from None
    return to_token(dict(response), server, grant, scopes)


def _scope(scopes: list[str]) -> dict[str, str]:
    return {"scope": " ".join(scopes)} if scopes else {}


def client_credentials(server: AuthorizationServer, scopes: list[str]) -> Token:
    grant_enabled(server, GRANT_CLIENT_CREDENTIALS)
    session = Session(client=BackendApplicationClient(client_id=server.client_id), scope=scopes)
    # requests-oauthlib leaves `scope` out of the token request unless it is passed here.
    return token_request(server, GRANT_CLIENT_CREDENTIALS, scopes, session, **_scope(scopes))


@sensitive_variables("password")
def password(server: AuthorizationServer, scopes: list[str], username: str, password: str) -> Token:
    """The legacy password grant; the password is used once and kept nowhere."""
    grant_enabled(server, GRANT_PASSWORD)
    if not username or not password:
        raise GrantError("Enter the username and password to send to the authorization server.")
    session = Session(client=LegacyApplicationClient(client_id=server.client_id), scope=scopes)
    return token_request(
        server,
        GRANT_PASSWORD,
        scopes,
        session,
        username=username,
        password=password,
        **_scope(scopes),
    )


def refresh(server: AuthorizationServer, token: Token) -> Token:
    """A new access token from the refresh token; the old refresh token is kept if none comes.

    One refresh token goes to the server once, however many requests want it at the same
    time (two tabs sending with an expired token, a double click on Refresh): each request
    read the session before the other saved the new token, and a server that rotates refresh
    tokens with reuse detection (the built-in provider) takes a second use as theft and
    revokes the whole family, the first request's new token with it. The first request
    refreshes; the others wait for its answer and share it (console/refreshes.py)."""
    if not token.refresh_token:
        raise GrantError("This token has no refresh token; get a new token instead.")
    shared = SharedRefresh(token)
    done = shared.result()
    if done is not None:
        return shared_copy(done, token)
    if not shared.claim():
        done = shared.wait(conf.connect_timeout() + conf.read_timeout())
        if done is not None:
            return shared_copy(done, token)
        raise GrantError("Another request was refreshing this token and did not finish; try again.")
    try:
        new = _refresh_at_server(server, token)
        shared.keep(new)
        return new
    finally:
        shared.release()


def _refresh_at_server(server: AuthorizationServer, token: Token) -> Token:
    ends = endpoints(server)
    if not ends.refresh:
        raise GrantError(f"{server.name} has no token endpoint configured.")
    auth, extra = _client_auth(server)
    kwargs: dict[str, Any] = {}
    if extra.get("include_client_id"):
        kwargs["client_id"] = server.client_id
        if server.client_secret:
            kwargs["client_secret"] = server.client_secret
    session = Session(client=WebApplicationClient(server.client_id), token=None)
    try:
        response = session.refresh_token(
            ends.refresh, refresh_token=token.refresh_token, auth=auth, **kwargs
        )
    except (OAuth2Error, http.OutboundError, ValueError, ArithmeticError, Warning) as exc:
        raise GrantError.described(exc, ends.refresh) from None
    scopes = split_scopes(token.scopes)
    new = to_token(dict(response), server, token.grant, scopes)
    return new


def revoke(server: AuthorizationServer, token: Token) -> bool:
    """RFC 7009 revocation, best effort: forgetting a token must work even if this fails."""
    try:
        ends = endpoints(server)
    except (GrantError, http.OutboundError):
        return False
    if not ends.revoke:
        return False
    auth, extra = _client_auth(server)
    revoked = False
    for value, hint in (
        (token.refresh_token, "refresh_token"),
        (token.access_token, "access_token"),
    ):
        if not value:
            continue
        data = {"token": value, "token_type_hint": hint}
        if extra.get("include_client_id"):
            data["client_id"] = server.client_id
            if server.client_secret:
                data["client_secret"] = server.client_secret
        try:
            session = Session(client=WebApplicationClient(server.client_id))
            response = session.post(ends.revoke, data=data, auth=auth, withhold_token=True)
            revoked = revoked or response.status_code == 200
        except http.OutboundError:
            log.info("revocation at %s failed", urlsplit(ends.revoke).netloc)
    return revoked

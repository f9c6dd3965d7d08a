"""Getting tokens with each grant (requests-oauthlib), sent through the outbound wrapper.

requests-oauthlib builds and parses every OAuth message; its session's `send` hands the
prepared request to `console.http`, which calls `portal.lib.outbound` (timeouts, size cap,
resolved-address checks, no redirects). Endpoints come only from the admin's
AuthorizationServer rows, never from a spec (SECURITY.md case 45).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

import orjson
import requests
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2 import (
    BackendApplicationClient,
    LegacyApplicationClient,
    MobileApplicationClient,
    OAuth2Error,
    WebApplicationClient,
)
from oauthlib.oauth2.rfc6749.parameters import validate_token_parameters
from oauthlib.oauth2.rfc6749.tokens import OAuth2Token
from requests.structures import CaseInsensitiveDict
from requests_oauthlib import OAuth2Session

from console import conf, http, offered
from console.models import (
    CLIENT_AUTH_BASIC,
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_IMPLICIT,
    GRANT_LABELS,
    GRANT_PASSWORD,
    AuthorizationServer,
)
from console.refreshes import SharedRefresh, shared_copy
from console.tokens import Token, scopes_key, split_scopes

log = logging.getLogger(__name__)

PENDING_KEY = "console_pending"
PENDING_TTL = 600  # seconds an authorization request may stay open
PENDING_MAX = 10  # open authorization requests kept per session


class GrantError(Exception):
    """A grant failed; the message is safe to show to the user (no secrets in it).

    `return_to` is the page the flow started from, when known, to offer a way back.
    """

    return_to = ""
    error = ""  # the server's OAuth error code, when it answered with one

    @classmethod
    def described(
        cls, exc: Exception, endpoint: str, server: AuthorizationServer | None = None
    ) -> GrantError:
        made = cls(_describe(exc, endpoint, server))
        if isinstance(exc, OAuth2Error):
            made.error = str(exc.error or "")
        return made

    @property
    def dead_refresh_token(self) -> bool:
        """RFC 6749 5.2: invalid_grant on a refresh means the refresh token is no good (revoked,
        expired, reused): asking again gets the same answer."""
        return self.error == "invalid_grant"


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    refresh: str
    revoke: str
    issuer: str
    iss_parameter_supported: bool = False


def endpoints(server: AuthorizationServer, *, refresh: bool = False) -> Endpoints:
    """The server's endpoints: explicit ones first, then its discovery document."""
    meta: dict[str, Any] = server.metadata or {}
    if server.discovery_url:
        stale = (
            server.metadata_fetched is None
            or (timezone.now() - server.metadata_fetched).total_seconds() > conf.discovery_ttl()
        )
        if refresh or stale or not meta:
            meta = discover(server.discovery_url)
            check_discovered_issuer(server.discovery_url, server.issuer, meta["issuer"])
            server.metadata = meta
            server.metadata_fetched = timezone.now()
            if server.pk:
                AuthorizationServer.objects.filter(pk=server.pk).update(
                    metadata=meta, metadata_fetched=server.metadata_fetched
                )
    token = server.token_url or str(meta.get("token_endpoint") or "")
    return Endpoints(
        authorize=server.authorize_url or str(meta.get("authorization_endpoint") or ""),
        token=token,
        refresh=server.refresh_url or token,
        revoke=server.revoke_url or str(meta.get("revocation_endpoint") or ""),
        issuer=server.issuer or str(meta.get("issuer") or ""),
        iss_parameter_supported=meta.get("authorization_response_iss_parameter_supported") is True,
    )


_OIDC_WELL_KNOWN = "/.well-known/openid-configuration"
_OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"


def issuer_of(url: str) -> str | None:
    """The issuer a discovery URL was made from: OpenID Discovery 4 appends its well-known
    path to the issuer, RFC 8414 3 inserts its own between host and path. None for a URL of
    neither form."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return None
    if parts.path.endswith(_OIDC_WELL_KNOWN):
        return f"{parts.scheme}://{parts.netloc}{parts.path[: -len(_OIDC_WELL_KNOWN)]}"
    if parts.path == _OAUTH_WELL_KNOWN or parts.path.startswith(_OAUTH_WELL_KNOWN + "/"):
        return f"{parts.scheme}://{parts.netloc}{parts.path[len(_OAUTH_WELL_KNOWN) :]}"
    return None


def check_discovered_issuer(url: str, configured: str, discovered: str) -> None:
    """OpenID Discovery 4.3, RFC 8414 3.3: the document's issuer is the configured one, or
    (none configured) the one its URL was made from. Another issuer's document would have
    its endpoints sent the client secret and codes, and its issuer believed in `iss`."""
    expected = configured or issuer_of(url)
    if expected is None:
        return  # a URL of neither well-known form: nothing to compare it with
    if discovered.rstrip("/") != expected.rstrip("/"):
        raise GrantError(
            f"Discovery at {url} names issuer {discovered!r}, not "
            f"{expected!r}; it was refused (set the expected issuer if this is right)."
        )


def discover(url: str) -> dict[str, Any]:
    """Fetch and check an OpenID Connect / RFC 8414 metadata document."""
    result = http.fetch("GET", url, headers={"Accept": "application/json"})
    if result.status != 200:
        raise GrantError(f"Discovery at {url} answered {result.status}.")
    try:
        meta = orjson.loads(result.body)
    except orjson.JSONDecodeError:
        raise GrantError(f"Discovery at {url} did not return JSON.") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("issuer"), str):
        raise GrantError(f"Discovery at {url} returned no issuer.")
    for name in ("authorization_endpoint", "token_endpoint", "revocation_endpoint"):
        if name in meta and not isinstance(meta[name], str):
            raise GrantError(f"Discovery at {url} returned a malformed {name}.")
    if url.lower().startswith("https://") or meta["issuer"].lower().startswith("https://"):
        # Fetched over TLS from (or naming) an https issuer: a plain-http endpoint would
        # carry the client secret, the code and the tokens in the clear (the portal's own
        # sign-in refuses such a document too).
        for name in _DISCOVERED_ENDPOINTS:
            value = meta.get(name)
            if isinstance(value, str) and value and not value.lower().startswith("https://"):
                raise GrantError(
                    f"Discovery at {url} names {name} {value!r} on plain http for an "
                    "https issuer; it was refused."
                )
    return meta


_DISCOVERED_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "registration_endpoint",
    "introspection_endpoint",
)


# The longest token a gateway route takes (gateway Policy.max_token_bytes allows up to this).
TOKEN_MAX = 65536
_TOKEN_TYPE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")  # RFC 6749 section 11.1: a type-name


def _visible(value: str) -> bool:
    """RFC 6749 appendix A: tokens are VSCHARs (printable ASCII), which a header carries."""
    return all(" " <= c <= "~" for c in value)


def check_token_fields(params: Any) -> None:
    """Refuse a token response whose fields no request could carry or oauthlib could read:
    an access_token that is no string (kept as its Python text and sent as the token), one
    past what any gateway takes or with characters a header cannot carry; a token_type that
    is no RFC 6749 type name (it becomes the Authorization scheme); an expires_in or scope
    of another type (oauthlib raised TypeError or AttributeError: a 500)."""
    if not isinstance(params, dict) or "error" in params:
        return  # oauthlib reports a missing token or the server's error
    token = params.get("access_token")
    if "access_token" in params and not (isinstance(token, str) and token):
        raise GrantError("The token response's access_token is not a string.")
    for name in ("access_token", "refresh_token"):
        value = params.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise GrantError(f"The token response's {name} is not a string.")
        if len(value) > TOKEN_MAX:
            raise GrantError(
                f"The token response's {name} is {len(value):,} characters long, past the "
                f"{TOKEN_MAX:,} a gateway takes."
            )
        if not _visible(value):
            raise GrantError(
                f"The token response's {name} holds characters a request cannot carry."
            )
    kind = params.get("token_type")
    if kind not in (None, "") and not (isinstance(kind, str) and _TOKEN_TYPE.match(kind.strip())):
        raise GrantError("The token response's token_type is not a token type name.")
    expires = params.get("expires_in")
    number = isinstance(expires, int | float) and not isinstance(expires, bool)
    text = isinstance(expires, str) and re.fullmatch(r"-?[0-9]{1,18}", expires.strip())
    if expires not in (None, "") and not (number or text):
        raise GrantError("The token response's expires_in is not a number of seconds.")
    scope = params.get("scope")
    listed = isinstance(scope, list) and all(isinstance(s, str) for s in scope)
    if scope is not None and not (isinstance(scope, str) or listed):
        raise GrantError("The token response's scope is not a space-separated list.")


def _check_token_response(response: requests.Response) -> requests.Response:
    """requests-oauthlib's compliance hook: the raw answer, before oauthlib parses it."""
    kind = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if 300 <= response.status_code < 400:
        # Never followed (a login page, another host); read as a token response it was
        # "the server refused: missing_token".
        raise GrantError(
            f"The token endpoint answered {response.status_code}, a redirect, which is not "
            "followed: check the token URL."
        )
    try:
        params = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        if kind in ("application/x-www-form-urlencoded", "text/plain", ""):
            return response  # an old server's form-encoded answer: oauthlib reads it
        raise GrantError(
            f"The token endpoint answered {response.status_code} with {kind}, not a JSON "
            "token response."
        ) from None
    if not isinstance(params, dict):
        # RFC 6749 5.1 and 5.2: an object. oauthlib reads `null` or a number with `in`
        # (TypeError, a 500), and a string or list as one holding its names.
        raise GrantError(
            f"The token endpoint answered {response.status_code} with JSON that is not a JSON "
            "object, so no token response."
        )
    check_token_fields(params)
    return response


_TRANSPORT_HEADERS = frozenset(
    {"content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding"}
)


class _Session(OAuth2Session):
    """requests-oauthlib with the network part replaced by the outbound wrapper."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trust_env = False  # no proxies or .netrc from the environment
        for hook in ("access_token_response", "refresh_token_response"):
            self.register_compliance_hook(hook, _check_token_response)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raw = request.body
        body = raw.encode() if isinstance(raw, str) else raw if isinstance(raw, bytes) else b""
        # The wrapper sets its own User-Agent and framing; requests' defaults are dropped.
        headers = {
            k: v if isinstance(v, str) else v.decode("latin-1")
            for k, v in request.headers.items()
            if k.lower() not in _TRANSPORT_HEADERS
        }
        result = http.fetch(str(request.method), str(request.url), headers=headers, body=body)
        response = requests.Response()
        response.status_code = result.status
        response.headers = CaseInsensitiveDict(dict(result.headers))
        response._content = result.body
        response.url = str(request.url)
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers) or "utf-8"
        return response


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


def _grant_enabled(server: AuthorizationServer, grant: str) -> None:
    if grant not in offered.grants(server):
        raise GrantError(f"{GRANT_LABELS.get(grant, grant)} is not enabled for {server.name}.")


def _describe(exc: Exception, endpoint: str, server: AuthorizationServer | None = None) -> str:
    if isinstance(exc, OAuth2Error):
        return _refusal(exc.error or "invalid_request", exc.description or "", server)
    if isinstance(exc, http.OutboundError):
        return f"Could not reach {endpoint}: {exc}"
    return f"The token endpoint's answer was not understood ({type(exc).__name__})."


def _extra_params(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items() if v not in (None, "")}


def _to_token(
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


def _token_request(
    server: AuthorizationServer,
    grant: str,
    scopes: list[str],
    session: _Session,
    **kwargs: Any,
) -> Token:
    ends = endpoints(server)
    if not ends.token:
        raise GrantError(f"{server.name} has no token endpoint configured.")
    auth, extra = _client_auth(server)
    params = {**_extra_params(server.extra_token_params), **kwargs}
    try:
        response = session.fetch_token(ends.token, auth=auth, **extra, **params)
    except (OAuth2Error, http.OutboundError, ValueError, ArithmeticError, Warning) as exc:
        raise GrantError.described(exc, ends.token, server) from None
    return _to_token(dict(response), server, grant, scopes)


def _scope(scopes: list[str]) -> dict[str, str]:
    return {"scope": " ".join(scopes)} if scopes else {}


def client_credentials(server: AuthorizationServer, scopes: list[str]) -> Token:
    _grant_enabled(server, GRANT_CLIENT_CREDENTIALS)
    session = _Session(client=BackendApplicationClient(client_id=server.client_id), scope=scopes)
    # requests-oauthlib leaves `scope` out of the token request unless it is passed here.
    return _token_request(server, GRANT_CLIENT_CREDENTIALS, scopes, session, **_scope(scopes))


@sensitive_variables("password")
def password(server: AuthorizationServer, scopes: list[str], username: str, password: str) -> Token:
    """The legacy password grant; the password is used once and kept nowhere."""
    _grant_enabled(server, GRANT_PASSWORD)
    if not username or not password:
        raise GrantError("Enter the username and password to send to the authorization server.")
    session = _Session(client=LegacyApplicationClient(client_id=server.client_id), scope=scopes)
    return _token_request(
        server,
        GRANT_PASSWORD,
        scopes,
        session,
        username=username,
        password=password,
        **_scope(scopes),
    )


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
    _grant_enabled(server, grant)
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
    extra = _extra_params(server.extra_authorize_params)
    if grant == GRANT_AUTHORIZATION_CODE:
        client: Any = WebApplicationClient(server.client_id)
        verifier = client.create_code_verifier(64)
        entry["code_verifier"] = verifier
        extra["code_challenge"] = client.create_code_challenge(verifier, "S256")
        extra["code_challenge_method"] = "S256"
    else:
        client = MobileApplicationClient(server.client_id)
    session = _Session(client=client, scope=scopes, redirect_uri=redirect_uri)
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


def _refusal(error: str, description: str, server: AuthorizationServer | None = None) -> str:
    text = f"{error}: {description.strip()}" if description.strip() else error
    if error == "access_denied":  # the developer's own answer on the consent page, not a fault
        return (
            "No token: the authorization server denied access. You chose Deny, or the sign-in "
            f"there was cancelled. Get a token again and choose Allow. ({text})"
        )
    refused = f"The authorization server refused: {text}"
    refused += "" if refused.endswith((".", "!", "?")) else "."
    if error == "invalid_scope" and server is not None and offered.scopes_per_developer(server):
        # The provider names no reason (it would tell hidden APIs apart); the console can.
        refused += (
            " This client's tokens carry only the scopes your subscriptions grant: subscribe "
            "to a product that offers this API, then get a token again."
        )
    return refused


def _error_from_params(params: dict[str, str], server: AuthorizationServer) -> None:
    if "error" in params:
        raise GrantError(_refusal(params["error"], params.get("error_description", ""), server))


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
    session = _Session(
        client=WebApplicationClient(server.client_id),
        scope=scopes,
        redirect_uri=entry["redirect_uri"],
    )
    token = _token_request(
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
        raise GrantError(_describe(exc, "the authorization endpoint")) from None
    token = _to_token(dict(response), server, GRANT_IMPLICIT, scopes)
    return Completed(token=token, return_to=entry["return_to"], form=entry.get("form") or {})


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
    session = _Session(client=WebApplicationClient(server.client_id), token=None)
    try:
        response = session.refresh_token(
            ends.refresh, refresh_token=token.refresh_token, auth=auth, **kwargs
        )
    except (OAuth2Error, http.OutboundError, ValueError, ArithmeticError, Warning) as exc:
        raise GrantError.described(exc, ends.refresh) from None
    scopes = split_scopes(token.scopes)
    new = _to_token(dict(response), server, token.grant, scopes)
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
            session = _Session(client=WebApplicationClient(server.client_id))
            response = session.post(ends.revoke, data=data, auth=auth, withhold_token=True)
            revoked = revoked or response.status_code == 200
        except http.OutboundError:
            log.info("revocation at %s failed", urlsplit(ends.revoke).netloc)
    return revoked

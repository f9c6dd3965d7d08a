"""Credentials for an operation's security schemes, other than tokens from an authorization
server: a pasted bearer token, HTTP basic credentials, and API keys in a header, query
parameter or cookie.

Like tokens, they stay on the server in the session: the page shows only a masked hint, and
history and snippets hold placeholders. A pasted bearer token or basic credentials become a
`Token` in the `TokenStore` (one Authorization header, one token card, one "Forget"); API keys
live in their own store because they go beside a token, not instead of it.

Where API keys come from is `api_keys()`: today the keys a user pasted. A subscription's key
(the products app) is the next source: add it there and the send path picks it up.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from apis.models import Api, Operation
from console.tokens import Token, TokenStore, audiences

KEYS_SESSION_KEY = "console_keys"
# A pasted token's `server`: never an AuthorizationServer slug (slugs have no colon).
PASTED_PREFIX = "pasted:"
GRANT_PASTED = "pasted"
GRANT_BASIC = "basic"
MAX_SECRET = 8000
_BAD_VALUE = re.compile(r"[\x00-\x1f\x7f]")
_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class CredentialError(Exception):
    """A pasted credential that cannot be kept or sent; the message says why."""


@dataclass(frozen=True)
class Scheme:
    """One entry of the operation's security requirements, as the console can use it."""

    name: str  # the key in components/securitySchemes
    kind: str  # bearer | basic | apiKey | oauth2 | openIdConnect | unsupported
    location: str = ""  # apiKey: header | query | cookie
    param: str = ""  # apiKey: the header, query parameter or cookie name
    description: str = ""

    @property
    def pastable(self) -> bool:
        return self.kind in ("bearer", "basic", "apiKey")

    @property
    def where(self) -> str:
        """`header X-API-Key`, for labels."""
        return f"{self.location} {self.param}" if self.kind == "apiKey" else ""


def _scheme(name: str, raw: Any) -> Scheme:
    raw = raw if isinstance(raw, dict) else {}
    kind = str(raw.get("type") or "")
    description = str(raw.get("description") or "")[:300]
    if kind == "http":
        http_scheme = str(raw.get("scheme") or "").lower()
        if http_scheme in ("bearer", "basic"):
            return Scheme(name, http_scheme, description=description)
        return Scheme(name, "unsupported", description=f"HTTP {http_scheme} authentication")
    if kind == "apiKey":
        location = str(raw.get("in") or "")
        param = str(raw.get("name") or "")
        if location in ("header", "query", "cookie") and param:
            return Scheme(name, "apiKey", location, param, description)
        return Scheme(name, "unsupported", description="an API key with no usable location")
    if kind in ("oauth2", "openIdConnect"):
        return Scheme(name, kind, description=description)
    return Scheme(name, "unsupported", description=f"{kind or 'unknown'} authentication")


def operation_schemes(operation: Operation, overview: dict[str, Any]) -> list[Scheme]:
    """The schemes the operation's security requirements name, in order, each once."""
    schemes = overview.get("securitySchemes")
    schemes = schemes if isinstance(schemes, dict) else {}
    found: dict[str, Scheme] = {}
    for requirement in operation.model.security or ():
        for name, _ in requirement:
            if name not in found:
                found[name] = _scheme(name, schemes.get(name))
    return list(found.values())


def mask(secret: str) -> str:
    """Enough to tell two keys apart, never enough to use one."""
    if len(secret) >= 16:
        return "•••• " + secret[-4:]
    return "••••"


def _check_secret(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise CredentialError(f"Paste the {what} first.")
    if len(value) > MAX_SECRET:
        raise CredentialError(f"The {what} is longer than {MAX_SECRET:,} characters.")
    if _BAD_VALUE.search(value):
        raise CredentialError(f"The {what} contains a line break or control character.")
    return value


def pasted_server(api: Api) -> str:
    return PASTED_PREFIX + api.slug


def bearer_token(api: Api, scheme: Scheme, value: str) -> Token:
    value = _check_secret(value, "token")
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return Token(
        server=pasted_server(api),
        server_name="Pasted token",
        grant=GRANT_PASTED,
        scopes=scheme.name,  # one pasted credential per scheme: the store's key
        access_token=value,
    )


def basic_token(api: Api, scheme: Scheme, username: str, password: str) -> Token:
    if not username:
        raise CredentialError("Fill in the user name.")
    if ":" in username:
        raise CredentialError("A basic user name cannot contain a colon.")
    pair = _check_secret(f"{username}:{password}", "user name and password")
    return Token(
        server=pasted_server(api),
        server_name=f"Basic · {username}",
        grant=GRANT_BASIC,
        scopes=scheme.name,
        access_token=base64.b64encode(pair.encode()).decode(),
        token_type="Basic",
    )


def is_pasted(token: Token) -> bool:
    return token.server.startswith(PASTED_PREFIX)


@dataclass
class ApiKey:
    api: str
    scheme: str
    location: str
    param: str
    value: str
    source: str = "pasted"  # where it came from; a subscription key would say so

    @property
    def masked(self) -> str:
        return mask(self.value)


def _portal_cookies() -> set[str]:
    return {
        str(settings.SESSION_COOKIE_NAME).lower(),
        str(settings.CSRF_COOKIE_NAME).lower(),
        str(getattr(settings, "LANGUAGE_COOKIE_NAME", "django_language")).lower(),
    }


class KeyStore:
    """API keys the user pasted, per API and scheme, in the session."""

    def __init__(self, session: MutableMapping[str, Any]) -> None:
        self.session = session

    def _raw(self) -> dict[str, dict[str, Any]]:
        raw = self.session.get(KEYS_SESSION_KEY)
        return raw if isinstance(raw, dict) else {}

    def _save(self, raw: dict[str, dict[str, Any]]) -> None:
        self.session[KEYS_SESSION_KEY] = raw
        if hasattr(self.session, "modified"):
            self.session.modified = True

    def for_api(self, api: Api) -> dict[str, ApiKey]:
        found = {}
        for item in self._raw().values():
            try:
                key = ApiKey(**item)
            except TypeError:
                continue
            if key.api == api.slug:
                found[key.scheme] = key
        return found

    def put(self, api: Api, scheme: Scheme, value: str) -> ApiKey:
        value = _check_secret(value, "API key")
        if scheme.kind != "apiKey":
            raise CredentialError(f"{scheme.name} does not take an API key.")
        if scheme.location == "cookie":
            if not _COOKIE_NAME.match(scheme.param):
                raise CredentialError(f"{scheme.param!r} is not a cookie name the console sends.")
            if scheme.param.lower() in _portal_cookies():
                # The spec names one of the portal's own cookies: never send anything under it.
                raise CredentialError(
                    f"The console does not send a cookie named {scheme.param}: it is this "
                    "portal's own cookie."
                )
            if ";" in value or "," in value or " " in value:
                raise CredentialError("The key contains characters a cookie cannot carry.")
        key = ApiKey(api.slug, scheme.name, scheme.location, scheme.param, value)
        raw = self._raw()
        raw[f"{api.slug} {scheme.name}"] = asdict(key)
        self._save(raw)
        return key

    def forget(self, api: Api, scheme_name: str) -> bool:
        raw = self._raw()
        gone = raw.pop(f"{api.slug} {scheme_name}", None)
        self._save(raw)
        return gone is not None

    def clear(self) -> None:
        self.session.pop(KEYS_SESSION_KEY, None)


def keep(
    session: MutableMapping[str, Any],
    api: Api,
    scheme: Scheme,
    *,
    value: str = "",
    username: str = "",
    password: str = "",
) -> Token | None:
    """Keep what the user pasted for `scheme`; the Token when it goes in Authorization."""
    if scheme.kind == "apiKey":
        KeyStore(session).put(api, scheme, value)
        return None
    if scheme.kind == "bearer":
        return TokenStore(session).put(bearer_token(api, scheme, value))
    if scheme.kind == "basic":
        return TokenStore(session).put(basic_token(api, scheme, username, password))
    raise CredentialError(f"The console cannot keep a credential for {scheme.name}.")


def forget(session: MutableMapping[str, Any], api: Api, scheme: Scheme) -> None:
    if scheme.kind == "apiKey":
        KeyStore(session).forget(api, scheme.name)
        return
    store = TokenStore(session)
    for token in store.for_servers([pasted_server(api)]):
        if token.scopes == scheme.name:
            store.forget(token.id)


def api_keys(
    session: MutableMapping[str, Any], api: Api, schemes: Iterable[Scheme]
) -> list[ApiKey]:
    """The keys to send for the operation's API-key schemes.

    Sources in order: what the user pasted in this session. (The products app's
    subscription keys belong here, as a second source for schemes with no pasted key.)
    """
    pasted = KeyStore(session).for_api(api)
    found = []
    for scheme in schemes:
        if scheme.kind != "apiKey":
            continue
        key = pasted.get(scheme.name)
        if key is not None and key.location == scheme.location and key.param == scheme.param:
            found.append(key)
    return found


def expected_audience(api: Api) -> list[str]:
    """The audiences the gateway accepts for this API (its validate-jwt policy), or the
    built-in provider's convention `api://<slug>`."""
    route = getattr(api, "gateway_route", None)
    policy = getattr(route, "jwt_policy", None) if route is not None else None
    found = getattr(policy, "audiences", None) if policy is not None else None
    if isinstance(found, list) and found:
        return [str(a) for a in found]
    return [f"api://{api.slug}"]


def token_fits(token: Token, api: Api) -> bool:
    """Whether a token may be preselected for this API: its audience names it, or it says
    nothing about audience (an opaque or pasted token: the user chose it for this API)."""
    claims = token.claims
    if not claims or "aud" not in claims:
        return True
    return bool(set(audiences(claims)) & set(expected_audience(api)))


def token_fits_operation(token: Token, schemes: list[Scheme]) -> bool:
    """Whether a token may be preselected for an operation with these security schemes: a
    pasted credential only where its own scheme is asked for (a basic password never goes
    out on a bearer-only call), a token from an authorization server where a bearer, OAuth
    or OpenID scheme is asked for, or where the operation names none (the gateway's
    validate-jwt may still want one)."""
    if is_pasted(token):
        return any(scheme.name == token.scopes for scheme in schemes)
    return not schemes or any(s.kind in ("bearer", "oauth2", "openIdConnect") for s in schemes)

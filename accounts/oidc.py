"""allauth's generic OpenID Connect client, made strict.

- the discovery document's `issuer` must equal the configured one (or be a multi-tenant
  template that fits it, accounts/issuers.py), and an issuer on https has every endpoint on
  https;
- the ID token's signature is always checked (allauth skips it for tokens from the token
  endpoint, which is only safe over TLS: the built-in provider runs on plain loopback);
- `alg` comes from the key set, not from the token; `exp`, `iat`, `iss`, `aud` and `sub`
  are required; the ID token and userinfo must name the same subject;
- RFC 9207: an `iss` in the authorization response must be the provider's issuer;
- a `nonce` goes with each authorization request, kept in the session under its state, and
  the ID token must carry it (OIDC Core 3.1.3.7, step 11): one nonce, one sign-in;
- the raw ID token is kept in the server-side session for RP-initiated logout;
- the discovery document (once checked) and the key set are kept in the shared cache for
  OIDC_METADATA_TTL seconds; an ID token naming a key the kept set lacks refetches the set
  (the provider rotated its keys).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Client, OAuth2Error
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from requests import RequestException

from accounts import issuers

ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256")
LOGOUT_SESSION_KEY = "accounts_oidc_logout"
# {state id: nonce} of the sign-ins this browser started and has not finished.
NONCE_SESSION_KEY = "accounts_oidc_nonces"
MAX_PENDING_NONCES = 10
# The discovery document's endpoints the portal or the browser is sent to.
_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "end_session_endpoint",
)


# Claims allauth copies onto the user and the e-mail address; the longest each may be (the
# columns' lengths: Django's names are 150, an e-mail address 254).
PROFILE_CLAIMS = {
    "email": 254,
    "preferred_username": 150,
    "name": 300,
    "given_name": 150,
    "family_name": 150,
    "nickname": 150,
    "picture": 2048,
    "user_id": 255,
}


def _http_url(value: Any) -> bool:
    """A plain http(s) URL with a host and a readable port."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - reading it checks it (ValueError past 65535)
    except ValueError:
        return False
    # RFC 6749 3.1, 3.2: no fragment (the authorization request's parameters rode in it).
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and "#" not in value


def _printable(text: str) -> bool:
    """No control characters: PostgreSQL refuses a NUL, and a line break in a name or a
    subject is no one's."""
    return not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


def check_subject(claims: dict[str, Any]) -> None:
    """The subject becomes the linked account's uid: a non-empty string that fits its column
    (allauth raised ValueError for an empty one, ImproperlyConfigured past its length: a 500
    each), with no control characters."""
    sub = claims.get("sub")
    limit = int(getattr(settings, "SOCIALACCOUNT_UID_MAX_LENGTH", 191))
    if not isinstance(sub, str) or not sub or len(sub) > limit or not _printable(sub):
        raise OAuth2Error("bad_subject")


def profile_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims without the profile ones allauth cannot use: not a string (a number for
    name raised AttributeError, an object for preferred_username KeyError), longer than
    their column, or with control characters. The person signs in without them."""
    return {
        name: value
        for name, value in claims.items()
        if name not in PROFILE_CLAIMS
        or (isinstance(value, str) and len(value) <= PROFILE_CLAIMS[name] and _printable(value))
    }


class NonceClient(OAuth2Client):
    """allauth's client, with a fresh `nonce` in each authorization request (allauth sends
    none), kept in the session under the request's state."""

    def get_redirect_url(self, authorization_url: str, scope: Any, extra_params: Any) -> str:
        nonce = secrets.token_urlsafe(32)
        if self.state:
            pending = self.request.session.get(NONCE_SESSION_KEY)
            pending = dict(pending) if isinstance(pending, dict) else {}
            pending[str(self.state)] = nonce
            # Only the newest few: a browser starting sign-ins in a loop grows nothing.
            self.request.session[NONCE_SESSION_KEY] = dict(
                list(pending.items())[-MAX_PENDING_NONCES:]
            )
        # RFC 6749 3.1: the endpoint's own query (Azure AD B2C's ?p=policy) is kept, beside
        # the request's parameters; allauth appended '?client_id=...' after it.
        base, _, endpoint_query = authorization_url.partition("?")
        url = str(super().get_redirect_url(base, scope, {**extra_params, "nonce": nonce}))
        if not endpoint_query:
            return url
        ours = url.partition("?")[2]
        names = {name for name, _ in parse_qsl(ours, keep_blank_values=True)}
        kept = [
            (name, value)
            for name, value in parse_qsl(endpoint_query, keep_blank_values=True)
            if name not in names  # each parameter once, the portal's (RFC 6749 3.1)
        ]
        return f"{base}?{urlencode(kept)}&{ours}" if kept else url


def _metadata_key(what: str, *parts: Any) -> str:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return f"accounts:oidc:{what}:{digest[:32]}"


def take_nonce(request: HttpRequest) -> str:
    """The nonce sent with the authorization request this callback answers (by its state),
    removed from the session so that no ID token can be used twice; "" when there is none."""
    pending = request.session.get(NONCE_SESSION_KEY)
    if not isinstance(pending, dict):
        return ""
    nonce = pending.pop(str(request.GET.get("state", "")), "")
    request.session[NONCE_SESSION_KEY] = pending
    return nonce if isinstance(nonce, str) else ""


class StrictOIDCAdapter(OpenIDConnectOAuth2Adapter):
    client_class = NonceClient

    @property
    def openid_config(self) -> dict[str, Any]:
        if not hasattr(self, "_openid_config"):
            app_settings = self.get_provider().app.settings
            # Kept under everything its checks read, so a changed provider URL, override or
            # expected issuer is checked afresh.
            key = _metadata_key(
                "discovery",
                self.get_provider().server_url,
                app_settings.get("openid_configuration_overrides"),
                app_settings.get("expected_issuer"),
            )
            kept = cache.get(key)
            try:
                # Checked again as read: an entry of another shape (another version's, a
                # half-written one) raised KeyError or TypeError, a 500 per sign-in until
                # it expired; such an entry is fetched afresh.
                self._openid_config = self._check(kept)
                return self._openid_config
            except OAuth2Error:
                pass
            self._openid_config = self._checked_openid_config()
            cache.set(key, self._openid_config, settings.ACCOUNTS_METADATA_TTL)
        return self._openid_config

    def _checked_openid_config(self) -> dict[str, Any]:
        try:
            config = super().openid_config
        except (RequestException, ValueError) as exc:
            raise OAuth2Error("provider_unreachable") from exc
        finally:
            # allauth's property keeps what it fetched; only the checked document is kept.
            self.__dict__.pop("_openid_config", None)
        return self._check(config)

    def _check(self, config: Any) -> dict[str, Any]:
        if not isinstance(config, dict) or not isinstance(config.get("issuer"), str):
            raise OAuth2Error("bad_discovery")
        expected = self.get_provider().app.settings.get("expected_issuer")
        if expected and not issuers.discovered_issuer_fits(config["issuer"], expected):
            raise OAuth2Error("issuer_mismatch")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(config.get(key), str):
                raise OAuth2Error("bad_discovery")
        for key in _ENDPOINTS:
            value = config.get(key)
            if value is not None and key != "end_session_endpoint" and not _http_url(value):
                # urlsplit raised ValueError on an unclosed [ (a 500 as the sign-in
                # started); a port of 99999, gopher: or a number failed only once the
                # person had signed in at the provider.
                raise OAuth2Error("bad_discovery")
        methods = config.get("token_endpoint_auth_methods_supported")
        if "token_endpoint_auth_methods_supported" in config and not (
            isinstance(methods, list) and all(isinstance(m, str) for m in methods)
        ):
            # allauth tests `in` on it: 5 or null raised TypeError (a 500).
            config = {**config, "token_endpoint_auth_methods_supported": []}
        if config["issuer"].lower().startswith("https://"):
            # An issuer on https has every endpoint on https: a plain-http one sends the
            # code and client secret, the access token, the authorization request or
            # fetches the keys the ID token is checked with, where a network sees it.
            for key in _ENDPOINTS:
                value = config.get(key)
                if value is not None and not str(value).lower().startswith("https://"):
                    raise OAuth2Error("bad_discovery")
        return dict(config)

    def _keys(self, kid: Any) -> list[Any]:
        """The key set's entries for `kid` (all of them without one): the kept set's, or a
        fresh set's when the kept one lacks it."""
        uri = self.openid_config["jwks_uri"]
        key = _metadata_key("jwks", uri)
        kept = cache.get(key)
        # A kept entry of another shape ({}, keys not a list) is fetched again, not a 500.
        fresh = not (isinstance(kept, dict) and isinstance(kept.get("keys"), list))
        jwks = self._fetch_jwks() if fresh else kept
        found = _matching(jwks, kid)
        if not found and not fresh and cache.add(f"{key}:refetched", 1, _refetch_interval()):
            # The ID token came from the provider's own token endpoint, not from the
            # browser: an unknown kid is the provider's rotation, never a visitor's flood;
            # still, once a minute at most (a provider signing with a key it does not
            # publish had the set fetched at every sign-in).
            jwks, fresh = self._fetch_jwks(), True
            found = _matching(jwks, kid)
        if fresh:
            cache.set(key, jwks, settings.ACCOUNTS_METADATA_TTL)
        return found

    def _fetch_jwks(self) -> dict[str, Any]:
        try:
            with get_adapter().get_requests_session() as sess:
                response = sess.get(self.openid_config["jwks_uri"], allow_redirects=False)
                response.raise_for_status()
                data = response.json()
        except (RequestException, ValueError) as exc:
            raise OAuth2Error("provider_unreachable") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise OAuth2Error("invalid_id_token")
        return data

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise OAuth2Error("invalid_id_token") from exc
        candidates = self._keys(header.get("kid"))
        if len(candidates) != 1:
            raise OAuth2Error("invalid_id_token")
        jwk_data = candidates[0]
        alg, kty = jwk_data.get("alg"), jwk_data.get("kty")
        if not alg and isinstance(kty, str):
            # (a kty of another JSON type, a list, raised TypeError here: a 500)
            alg = {"RSA": "RS256", "EC": "ES256"}.get(kty)
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS or header.get("alg") != alg:
            raise OAuth2Error("invalid_id_token")
        try:
            key = jwt.PyJWK.from_json(json.dumps(jwk_data), algorithm=alg).key
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=[alg],
                audience=app.client_id,
                leeway=int(getattr(settings, "ACCOUNTS_CLOCK_SKEW", 60)),
                options={"require": ["exp", "iat", "iss", "aud", "sub"], "verify_iss": False},
            )
        except jwt.PyJWTError as exc:
            raise OAuth2Error("invalid_id_token") from exc
        expected = app.settings.get("expected_issuer") or ""
        if not issuers.token_issuer_fits(self.openid_config["issuer"], expected, claims):
            raise OAuth2Error("invalid_id_token")
        # RFC 9207: the authorization response and the ID token came from one issuer (with a
        # tenant template, the response's tenant could differ from the token's).
        sent = self.request.GET.get("iss")
        if sent is not None and sent != claims["iss"]:
            raise OAuth2Error("issuer_mismatch")
        # OIDC Core 3.1.3.7: several audiences need an azp naming us.
        several = isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1
        if several and claims.get("azp") != app.client_id:
            raise OAuth2Error("invalid_id_token")
        # OIDC Core 3.1.3.7 step 11: the nonce this browser sent for this state, once. An ID
        # token without it, or one issued for another sign-in, signs no one in.
        expected, carried = take_nonce(self.request), claims.get("nonce")
        if not expected or not isinstance(carried, str):
            raise OAuth2Error("invalid_id_token")
        if not hmac.compare_digest(carried.encode(), expected.encode()):
            raise OAuth2Error("invalid_id_token")
        check_subject(claims)
        self._raw_id_token = id_token
        return profile_claims(claims)

    def parse_token(self, data: dict[str, Any]) -> SocialToken:
        """allauth's, for a token response of any shape: an access_token that is no string
        is refused (it went on to userinfo as 'Bearer 5'); an expires_in int() cannot read
        or a timedelta cannot hold ('abc', an object, 10**20: a 500 each) is left out, as
        the portal keeps no provider token."""
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise OAuth2Error("token_request_failed")
        try:
            return super().parse_token(data)
        except (ValueError, TypeError, OverflowError):
            return super().parse_token({k: v for k, v in data.items() if k != self.expires_in_key})

    def _fetch_user_info(self, access_token: str) -> dict[str, Any]:
        if not self.openid_config.get("userinfo_endpoint"):
            # OpenID Discovery only recommends one: the ID token's claims are the person
            # (allauth asked requests for the URL None, and every sign-in failed).
            return {}
        data = super()._fetch_user_info(access_token)
        if not isinstance(data, dict):
            raise OAuth2Error("bad_userinfo")
        if "sub" in data:
            check_subject(data)
        return profile_claims(data)

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any
    ):
        response = kwargs.get("response") or {}
        if not response.get("id_token"):
            raise OAuth2Error("invalid_id_token")  # OpenID Connect: the ID token is mandatory
        login = super().complete_login(request, app, token, **kwargs)
        data = login.account.extra_data or {}
        userinfo, id_claims = data.get("userinfo"), data.get("id_token")
        if userinfo and id_claims and str(userinfo.get("sub")) != str(id_claims.get("sub")):
            raise OAuth2Error("subject_mismatch")
        request.session[LOGOUT_SESSION_KEY] = {
            "provider_id": self.provider_id,
            "id_token": getattr(self, "_raw_id_token", response.get("id_token")),
            "end_session_endpoint": self.openid_config.get("end_session_endpoint") or "",
            "client_id": app.client_id,
        }
        return login


def _refetch_interval() -> int:
    return int(getattr(settings, "ACCOUNTS_JWKS_REFETCH_INTERVAL", 60))


def _matching(jwks: dict[str, Any], kid: Any) -> list[Any]:
    return [k for k in jwks["keys"] if isinstance(k, dict) and (kid is None or k.get("kid") == kid)]


def check_response_issuer(adapter: StrictOIDCAdapter, request: HttpRequest) -> None:
    """RFC 9207: the authorization response's `iss`, when sent (or promised), must match."""
    iss = request.GET.get("iss")
    config = adapter.openid_config
    if iss is None:
        if config.get("authorization_response_iss_parameter_supported") and "code" in request.GET:
            raise OAuth2Error("issuer_mismatch")
        return
    expected = adapter.get_provider().app.settings.get("expected_issuer") or ""
    if not issuers.response_issuer_fits(config["issuer"], iss, expected):
        raise OAuth2Error("issuer_mismatch")

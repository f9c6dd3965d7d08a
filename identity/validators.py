"""The OAuth2 validator of the built-in provider: grants, claims, silent sign-in, the issuer."""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError
from oauthlib.openid.connect.core.exceptions import RequestNotSupported, RequestURINotSupported

from identity import grants, revocation
from identity import issuer as issuer_mod
from identity.tokens import audience_for, code_resources, explicit_resources

# Set by identity.views.Authorize in request.META, which DOT copies into the oauthlib
# request's headers. No HTTP header can produce these keys (those all start with HTTP_).
SIGNED_IN_USER = "IDENTITY_SIGNED_IN_USER"
# RFC 7636 4.1 and 4.2: a code_verifier, and so a plain challenge, is this; an S256
# challenge (base64url of 32 bytes) is too.
PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# The longest nonce a code can keep (DOT's Grant.nonce column).
MAX_NONCE = 255
# Authorization request parameters that may come more than once (RFC 8707 resource).
REPEATABLE = frozenset({"resource"})


def _audiences(scopes: list[str], resources: list[str]) -> list[str]:
    aud = audience_for(scopes, resources, "")
    return [aud] if isinstance(aud, str) else list(aud)


def _basic_credentials(request: Any) -> tuple[str, str]:
    """(client id, secret) of an HTTP Basic client authentication, as DOT decodes them."""
    import base64
    from urllib.parse import unquote_plus

    auth = request.headers.get("HTTP_AUTHORIZATION") if request.headers else None
    scheme, _, value = str(auth or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else ("", "")


def _user_active(request: Any) -> bool:
    """Whether the user a code or refresh token was issued for may still sign in. DOT sets
    `request.user` from the grant's row without asking: an administrator deactivated a
    developer, and their refresh tokens kept minting tokens (each with a new refresh token)."""
    user = getattr(request, "user", None)
    return user is None or bool(getattr(user, "is_active", False))


class Validator(OAuth2Validator):
    # Client authentication: the current secret, or the previous one within its grace
    # period after a rotation (identity.Client.previous_secret_matches).

    def _authenticate_basic_auth(self, request: Any) -> bool:
        if "\x00" in "".join(_basic_credentials(request)):
            # Form-decoded (`a%00b`), past the NUL middleware; PostgreSQL refuses it in the
            # client lookup (DataError, a 500 for anyone).
            return False
        try:
            if super()._authenticate_basic_auth(request):
                return True
        except ValueError:
            # DOT catches binascii.Error only; base64 raises a plain ValueError on non-ASCII
            # text ("Basic é..."), which was a 500 for anyone: no client authenticated.
            return False
        client = getattr(request, "client", None)
        client_id, secret = _basic_credentials(request)
        return (
            client is not None
            and client.client_id == client_id
            and client.previous_secret_matches(secret)
        )

    def _authenticate_request_body(self, request: Any) -> bool:
        if super()._authenticate_request_body(request):
            return True
        client = getattr(request, "client", None)
        provided = str(getattr(request, "client_secret", "") or "")
        return (
            client is not None
            and client.client_id == getattr(request, "client_id", None)
            and client.previous_secret_matches(provided)
        )

    def validate_bearer_token(self, token: Any, scopes: Any, request: Any) -> bool:
        """DOT's check (userinfo), and the token's user still active."""
        if not super().validate_bearer_token(token, scopes, request):
            return False
        return _user_active(request)

    def validate_response_type(
        self, client_id: str, response_type: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        """DOT's check, and before it a refusal of request objects (OIDC Core 6.1, 6.2), of a
        response_mode other than the one DOT answers in, and of a max_age that is no number
        of seconds (OIDC Core 3.1.2.1; empty is absent).

        oauthlib asks this once the client and its redirect URI are known, so the error goes
        back to the client. Ignored, an object's own redirect_uri, scope, nonce or max_age
        silently did not apply while the client believed they did."""
        names = [name for name, _ in request.uri_query_params]
        given = set(names)
        repeated = sorted({n for n in names if names.count(n) > 1} - REPEATABLE)
        if repeated:
            # RFC 6749 3.1. oauthlib refuses five parameters; for the others the last won,
            # so a second code_challenge, nonce or prompt silently replaced the first.
            raise InvalidRequestError(
                request=request, description=f"Duplicate {repeated[0][:40]} parameter."
            )
        nonce = getattr(request, "nonce", None)
        if nonce and len(str(nonce)) > MAX_NONCE:
            # DOT keeps it in a 255-character column: PostgreSQL refused the code's row
            # (DataError, a 500).
            raise InvalidRequestError(
                request=request, description=f"nonce is longer than {MAX_NONCE} characters."
            )
        challenge = getattr(request, "code_challenge", None)
        method = getattr(request, "code_challenge_method", None) or "plain"  # RFC 7636 4.3
        if challenge is not None and method != "S256":
            # S256 only (RFC 9700 2.1.1). DOT refuses plain as the code is made, after the
            # consent page: the person chose Allow for a request that could only fail.
            raise InvalidRequestError(
                request=request, description='Unsupported code_challenge_method; use "S256".'
            )
        if challenge is not None and not PKCE_VALUE.fullmatch(str(challenge)):
            # RFC 7636 4.2; such a code could be redeemed by no code_verifier.
            raise InvalidRequestError(
                request=request,
                description="code_challenge must be 43 to 128 characters: A-Z a-z 0-9 - . _ ~",
            )
        if "request" in given:
            raise RequestNotSupported(request=request)
        if "request_uri" in given:
            raise RequestURINotSupported(request=request)
        mode = [value for name, value in request.uri_query_params if name == "response_mode"]
        default = "query" if response_type == "code" else "fragment"
        if mode and mode[0] and mode[0] != default:
            # DOT answers in the response type's default mode whatever is asked: a client
            # that asked for form_post (the code kept out of URLs) got it in the query.
            raise InvalidRequestError(
                request=request,
                description=f"response_mode {mode[0][:40]!r} is not offered; this response "
                f"type is answered in the {default}.",
            )
        max_age = [value for name, value in request.uri_query_params if name == "max_age"]
        if max_age and max_age[0] and not (max_age[0].isascii() and max_age[0].isdigit()):
            # Ignored, the client's "signed in no longer ago than" silently did not apply.
            raise InvalidRequestError(
                request=request, description="max_age must be a number of seconds."
            )
        return bool(
            super().validate_response_type(client_id, response_type, client, request, *a, **k)
        )

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        """Authorization, client credentials, password and implicit requests (case 73).

        An empty scope token is invalid_scope: oauthlib splits `scope=` into [''] (two
        spaces leave one between), which the consent page's descriptions met as a KeyError
        (a 500) and client credentials answered with a token of scope ''."""
        if not scopes or not all(scopes):
            return False
        self._check_grant(client, scopes, explicit_resources(request), request)
        return True

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        """The code exchange: a `resource` outside the authorization's audience is refused,
        and the grant is checked again. A subscription cancelled or an API unpublished
        after the code was made stops the token, as for a refresh."""
        if not super().validate_code(client_id, code, client, request, *a, **k):
            # A code used before was stolen (or the client is broken): what it gave the
            # first time is revoked (RFC 6749 section 4.1.2), and this use is invalid_grant.
            revocation.revoke_code_tokens(code)
            return False
        verifier = getattr(request, "code_verifier", None)
        if verifier is not None and not PKCE_VALUE.fullmatch(str(verifier)):
            # RFC 7636 4.1: 43 to 128 unreserved characters, so it cannot be guessed; 'a'
            # with its own S256 challenge got a token.
            return False  # invalid_grant
        if not _user_active(request):
            return False  # invalid_grant: deactivated since the code was made
        scopes = list(request.scopes or [])
        original = self._original_audiences(scopes, request)
        requested = explicit_resources(request)
        self._check_subset(requested, original, request)
        self._check_grant(client, scopes, requested or code_resources(request), request)
        return True

    def save_bearer_token(self, token: Any, request: Any, *a: Any, **k: Any) -> Any:
        """DOT's, and for a code exchange a note of what the code gave (revoke_code_tokens)."""
        result = super().save_bearer_token(token, request, *a, **k)
        code = getattr(request, "code", None)
        if getattr(request, "grant_type", None) == "authorization_code" and code:
            revocation.remember_code(str(code), str(token.get("access_token") or ""))
        return result

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        """A refresh keeps the original audience and scope or narrows them (case 74).

        oauthlib already refuses scopes beyond the original with `invalid_scope`; the
        audience is checked here, and the grant again (the API may be gone since).
        """
        if not super().validate_refresh_token(refresh_token, client, request, *a, **k):
            return False
        if not _user_active(request):
            return False  # invalid_grant: DOT never asks whether its user may still sign in
        original_scopes = str(self.get_original_scopes(refresh_token, request) or "").split()
        instance = request.refresh_token_instance
        original = _audiences(original_scopes, list(instance.resource or []))
        requested = explicit_resources(request)
        self._check_subset(requested, original, request)
        asked = str(getattr(request, "scope", None) or "").split() or original_scopes
        if set(asked) <= set(original_scopes):
            self._check_grant(client, asked, requested or list(instance.resource or []), request)
        return True

    def _original_audiences(self, scopes: list[str], request: Any) -> list[str]:
        return _audiences(scopes, code_resources(request))

    @staticmethod
    def _check_subset(requested: list[str], original: list[str], request: Any) -> None:
        for resource in requested:
            if resource not in original:
                raise grants.InvalidTargetError(
                    description=f"{resource} is not an audience of the original grant.",
                    request=request,
                )

    def _check_grant(
        self, client: Any, scopes: list[str], resources: list[str], request: Any
    ) -> None:
        grant_type = str(getattr(request, "grant_type", None) or "")
        user = None if grant_type == "client_credentials" else self._token_user(request)
        result = grants.granted(client, scopes, resources, grant_type, user)
        if isinstance(result, grants.Refusal):
            raise result.as_oauth_error(request)

    def _token_user(self, request: Any) -> Any:
        """Whom the token is for: the password or refresh grant's user, else the person
        signed in at the authorization endpoint; None when unknown."""
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user
        user_id = self._signed_in_user_id(request)
        if not user_id:
            return None
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=user_id, is_active=True).first()

    # --- OpenID Connect prompt=none (Core 1.0 section 3.1.2.1) ---------------------------

    def _signed_in_user_id(self, request: Any) -> str:
        headers = getattr(request, "headers", None) or {}
        return str(headers.get(SIGNED_IN_USER, ""))

    def validate_silent_login(self, request: Any) -> bool:
        return bool(self._signed_in_user_id(request))

    def validate_silent_authorization(self, request: Any) -> bool:
        """Only what needs no page: a first-party client, or scopes and audiences the user
        allowed before."""
        client = request.client
        if client is not None and client.skip_authorization:
            return True
        user_id = self._signed_in_user_id(request)
        scopes = list(request.scopes or [])
        return consented(user_id, client, scopes, explicit_resources(request))

    def validate_user_match(
        self, id_token_hint: str | None, scopes: Any, claims: Any, request: Any
    ) -> bool:
        """OIDC Core 3.1.2.1: an `id_token_hint` names the user the client expects. False
        (login_required) when someone else is signed in here; an ID token this provider did
        not issue to this client is invalid_request. DOT answered True to anything, so an
        RP asking "still this user?" got a code for whoever was signed in."""
        if not id_token_hint:
            return True
        subject = hinted_subject(str(id_token_hint), self.get_oidc_issuer_endpoint(request),
                                 str(request.client_id))  # fmt: skip
        if subject is None:
            raise InvalidRequestError(
                request=request,
                description="id_token_hint is not an ID token this provider issued to this client.",
            )
        return subject == self._signed_in_user_id(request)

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return issuer_mod.issuer_for_oauthlib(request)

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        full_name = user.get_full_name() or user.get_username()
        return {
            "name": full_name,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.get_username(),
            "email": user.email,
            "email_verified": bool(user.email),
        }


def consented(user_id: Any, client: Any, scopes: list[str], resources: list[str]) -> bool:
    """Whether a live token of `user_id` for `client` already covers these scopes and the
    audiences they and `resources` name: what the user allowed before, so no consent page
    is needed (prompt=none, REQUEST_APPROVAL_PROMPT auto). DOT compared scopes only, so
    consent given for one API's audience was taken for another's (`openid` with
    resource=api://other)."""
    if not user_id or client is None:
        return False
    wanted = {a for a in _audiences(scopes, resources) if a}
    tokens = get_access_token_model().objects.filter(
        user_id=user_id, application=client, expires__gt=timezone.now()
    )
    for token in tokens:
        if not token.allow_scopes(scopes):
            continue
        held = set(_audiences(str(token.scope or "").split(), list(token.resource or [])))
        if wanted <= held:
            return True
    return False


def hinted_subject(hint: str, issuer: str, client_id: str) -> str | None:
    """The `sub` of an ID token signed by one of this provider's published keys, for this
    issuer and this client; None for anything else. Expiry is not checked: the client holds
    the token it was given, expired or not, and only names a user with it."""
    import jwt

    from identity import keys

    try:
        kid = jwt.get_unverified_header(hint).get("kid")
        key = next((k for k in keys.published_keys() if k.kid == kid), None)
        if key is None:
            return None
        claims = jwt.decode(
            hint,
            keys.private_key_for(key).public_key(),
            algorithms=["RS256"],
            audience=client_id,
            issuer=issuer,
            options={"verify_exp": False, "require": ["sub", "iss", "aud"]},
        )
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None

"""The provider's machine endpoints: token, revocation, introspection and userinfo.

DOT's views with what RFC 6749 section 5.2 asks of errors (always a JSON body with an
`error`, served as application/json, never HTML: a reflected value must not become markup
on the provider's origin), a limit on failed client authentication, and introspection
restricted to the token's own client and to clients allowed to introspect (RFC 7662
section 4).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import IntrospectTokenView, RevokeTokenView, TokenView, UserInfoView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OauthlibRequest

from identity import cors, ratelimit, revocation

JSON = "application/json"
# What discovery advertises and the token endpoint takes. DOT also carries the device-code
# grant, whose endpoint is not mounted here and whose token step read a missing
# `device_code` as a KeyError (500).
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "implicit", "password")
TOKEN_GRANT_TYPES = frozenset(GRANT_TYPES) - {"implicit"}  # implicit has no token request


def _json_error(status: int, error: str, description: str = "", **headers: str) -> JsonResponse:
    body = {"error": error, **({"error_description": description} if description else {})}
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def is_machine_endpoint(request: HttpRequest) -> bool:
    """The token, revocation, introspection and userinfo endpoints: clients read their
    errors as RFC 6749 JSON, also those the portal gives before the view (portal.middleware,
    portal.views.bad_request)."""
    names = ("token", "revoke-token", "introspect", "user-info")
    return request.path_info in {reverse(f"oauth2_provider:{name}") for name in names}


def refused_before_the_view(description: str) -> JsonResponse:
    return _json_error(400, "invalid_request", description)


def as_json_error(response: HttpResponse) -> HttpResponse:
    """An error response whose body is a JSON object with `error`, labelled as JSON."""
    if response.status_code < 400:
        return response
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        fallback = {401: "invalid_client", 403: "access_denied", 405: "invalid_request"}
        body = {"error": fallback.get(response.status_code, "invalid_request")}
        response.content = json.dumps(body).encode()
    response["Content-Type"] = JSON
    response["Cache-Control"] = "no-store"
    return response


def attempted_client_id(request: HttpRequest) -> str:
    """The client id a request authenticates as (Basic, else the body), unverified."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
            return ""
        return unquote_plus(decoded.partition(":")[0])[:200]
    return str(request.POST.get("client_id", ""))[:200]


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
    wait = ratelimit.client_blocked(
        request.META.get("REMOTE_ADDR", ""), attempted_client_id(request)
    )
    if wait is None:
        return None
    return _json_error(
        429,
        "invalid_client",
        "Too many failed client authentications; try again later.",
        Retry_After=str(wait),
    )


def _count_failure(request: HttpRequest, response: HttpResponse) -> None:
    if response.status_code == 401 and b"invalid_client" in response.content:
        ratelimit.record_client_failure(
            request.META.get("REMOTE_ADDR", ""), attempted_client_id(request)
        )


def _nul_refused(request: HttpRequest) -> HttpResponse | None:
    """invalid_request for a NUL in a form field: PostgreSQL refuses it in the client lookup
    (DataError, a 500 for anyone). The portal's middleware sees url-encoded forms only."""
    for key, values in request.POST.lists():
        if any("\x00" in text for text in (key, *values)):
            return _json_error(400, "invalid_request", "A parameter contains a NUL character.")
    return None


def _client_authenticated(
    request: HttpRequest, dispatch: Callable[[], HttpResponse]
) -> HttpResponse:
    """POST only, within the failed-authentication limits; a failure is counted. The token
    and revocation endpoints share this guard around django-oauth-toolkit's views."""
    if request.method != "POST":
        return _json_error(405, "invalid_request", "Use POST.", Allow="POST")
    limited = _nul_refused(request) or _two_methods(request) or _rate_limited(request)
    if limited is not None:
        return limited
    response = dispatch()
    _count_failure(request, response)
    if response.status_code == 401 and _uses_basic(request):
        # RFC 6749 5.2: the challenge of the scheme the client used (DOT says Bearer).
        response["WWW-Authenticate"] = 'Basic realm="OAuth clients"'
    return response


def _uses_basic(request: HttpRequest) -> bool:
    return str(request.META.get("HTTP_AUTHORIZATION", ""))[:6].lower() == "basic "


def _two_methods(request: HttpRequest) -> HttpResponse | None:
    """RFC 6749 2.3: one client authentication method a request. With Basic and a body
    secret both, DOT tried the body's after a wrong Basic secret and issued a token; a body
    client_id other than Basic's was oauthlib's server_error. Also reads the scheme name
    case-insensitively (RFC 9110 11.1), which DOT does not: 'basic' was invalid_client."""
    if not _uses_basic(request):
        return None
    auth = str(request.META["HTTP_AUTHORIZATION"])
    request.META["HTTP_AUTHORIZATION"] = "Basic " + auth[6:]
    if "client_secret" in request.POST:
        return _json_error(
            400,
            "invalid_request",
            "Authenticate the client one way: HTTP Basic or client_secret in the body.",
        )
    body_id = request.POST.get("client_id")
    if body_id is not None and body_id != attempted_client_id(request):
        return _json_error(400, "invalid_request", "client_id differs from the Basic one.")
    return None


class _ReadByClientOrigins(View):
    """An endpoint a single-page app posts to with its client id: the app's pages may read
    every answer, errors too (identity.cors). `_answer` is the endpoint's own work;
    `_library` the django-oauth-toolkit view's."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            return cors.preflight(request, "POST")
        response = self._answer(request, *args, **kwargs)
        cors.for_client_id(request, response, attempted_client_id(request))
        return response

    def _answer(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raise NotImplementedError

    def _library(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The next class of the endpoint's MRO: TokenView's or RevokeTokenView's dispatch.
        return cast(HttpResponse, super().dispatch(request, *args, **kwargs))


@method_decorator(csrf_exempt, name="dispatch")
class Token(_ReadByClientOrigins, TokenView):
    def _answer(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        grant = request.POST.get("grant_type") if request.method == "POST" else None
        if grant and grant not in TOKEN_GRANT_TYPES:
            return _json_error(
                400, "unsupported_grant_type", "This provider does not offer that grant."
            )
        if grant == "password" and (blocked := _sign_ins_blocked(request)) is not None:
            return blocked
        response = _client_authenticated(request, lambda: self._library(request, *args, **kwargs))
        return as_json_error(response)


def _sign_ins_blocked(request: HttpRequest) -> JsonResponse | None:
    """429 for a password grant from an address (or for an account from it) past the failed
    sign-in limits (case 57), as the sign-in page answers. The password backend refuses it
    too, but DOT reads that as a wrong password: 'Invalid credentials given.' for the right
    one, so the client told its user to type it again."""
    username = str(request.POST.get("username", ""))[:150]
    wait = ratelimit.blocked(request.META.get("REMOTE_ADDR", ""), username)
    if wait is None:
        return None
    return _json_error(
        429,
        "invalid_grant",
        f"Too many failed sign-ins from this address; try again in {wait} s.",
        Retry_After=str(wait),
    )


@method_decorator(csrf_exempt, name="dispatch")
class Revoke(_ReadByClientOrigins, RevokeTokenView):
    def _answer(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = _client_authenticated(request, lambda: self._library(request, *args, **kwargs))
        if response.status_code == 200 and request.POST.get("token"):
            revocation.note_jti(str(request.POST["token"]))
        if response.status_code == 200 and not response.content:
            # RFC 7009 2.2: the status says it all. DOT labelled the empty body text/html,
            # an HTML page to anything that sniffs it; no body, no type, and never cached.
            del response["Content-Type"]
            response["Cache-Control"] = "no-store"
        return as_json_error(response)


def _inactive() -> JsonResponse:
    """RFC 7662's answer for a token the caller may not know about; never cached."""
    response = JsonResponse({"active": False})
    response["Cache-Control"] = "no-store"
    return response


@method_decorator(csrf_exempt, name="dispatch")
class Introspect(OAuthLibMixin, View):
    """RFC 7662 by POST only, for an authenticated client.

    A client learns about its own tokens; a client with `may_introspect` (a resource
    server) about any. Anything else is `{"active": false}`, as for an unknown token, so
    the endpoint tells nobody whose a token is.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            # Never from a query string: the token would land in access logs (RFC 7662 2.1).
            return _json_error(405, "invalid_request", "Use POST.", Allow="POST")
        limited = _nul_refused(request) or _two_methods(request) or _rate_limited(request)
        if limited is not None:
            return limited
        client = self._authenticated_client(request)
        if client is None:
            response = _json_error(
                401, "invalid_client", "", WWW_Authenticate='Basic realm="introspection"'
            )
            _count_failure(request, response)
            return response
        token_value = request.POST.get("token")
        if not token_value:
            return _json_error(400, "invalid_request", "The token parameter is missing.")
        checksum = hashlib.sha256(token_value.encode()).hexdigest()
        rows = get_access_token_model().objects.select_related("user")
        token = rows.filter(token_checksum=checksum).first()
        if token is None or not (token.application_id == client.pk or client.may_introspect):
            return _inactive()
        if token.user is not None and not token.user.is_active:
            return _inactive()  # its user was deactivated since
        response = IntrospectTokenView.get_token_response(token_value)
        response["Cache-Control"] = "no-store"
        return response

    def _authenticated_client(self, request: HttpRequest) -> Any:
        core = self.get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, method, body, headers)
        if core.server.request_validator.authenticate_client(oauth_request):
            return oauth_request.client
        return None


@method_decorator(csrf_exempt, name="dispatch")
class UserInfo(UserInfoView):
    """OIDC userinfo; a token with no user behind it (client credentials) is no key to it.

    Any user token carrying `openid` is, whatever its `aud` (an API's, usually): a client
    holds one token for an API and the person's claims, as at Auth0 and Keycloak, and the
    claims answered are only those its scopes allow (DOT's oidc_claim_scope)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            return cors.preflight(request, "GET, POST")
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        token = None
        if auth[:7].lower() == "bearer ":
            checksum = hashlib.sha256(auth[7:].strip().encode()).hexdigest()
            rows = get_access_token_model().objects.select_related("application")
            token = rows.filter(token_checksum=checksum).first()
        if token is not None and token.user_id is None:
            response: HttpResponse = _json_error(
                401,
                "invalid_token",
                "The token was issued to a client, not for a user.",
                WWW_Authenticate='Bearer error="invalid_token", '
                'error_description="The token was issued to a client, not for a user."',
            )
        else:
            response = as_json_error(super().dispatch(request, *args, **kwargs))
        # Read by the pages of the client the token was issued to.
        cors.for_client(request, response, token.application if token is not None else None)
        return response

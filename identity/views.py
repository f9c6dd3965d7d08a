"""Pages and endpoints of the built-in OpenID provider under /idp/.

Authorize, token, userinfo, revocation and end-session are django-oauth-toolkit's views;
discovery and JWKS are ours so they follow IDENTITY_ISSUER and the keys in the database.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods
from oauth2_provider.exceptions import FatalClientError, InvalidOIDCClientError
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, RPInitiatedLogoutView
from oauthlib.oauth2.rfc6749.errors import (
    InvalidClientIdError,
    MismatchingRedirectURIError,
    MissingCodeChallengeError,
    MissingRedirectURIError,
)

from identity import consent, keys, ratelimit
from identity import issuer as issuer_mod
from identity import session as idp_session
from identity.clients import origin_of
from identity.demo_credentials import DEMO_USERS
from identity.endpoints import GRANT_TYPES
from identity.models import Client
from identity.validators import SIGNED_IN_USER, consented


def safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    """`candidate` if it stays on this site (case 54), else `default`."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    base = issuer_mod.issuer(request)
    doc: dict[str, Any] = {
        "issuer": base,
        **issuer_mod.endpoints(base),
        "response_types_supported": ["code", "token", "id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": [
            "sub",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "email_verified",
        ],
        "authorization_response_iss_parameter_supported": True,
        # Refused (identity.validators); the second defaults to true when left out.
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "resource_indicators_supported": True,
    }
    response = JsonResponse(doc)
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(keys.jwks())
    # Short enough that a rotated key reaches verifiers well within their cooldown.
    response["Cache-Control"] = "public, max-age=60"
    response["Access-Control-Allow-Origin"] = "*"
    return response


class Authorize(AuthorizationView):
    """DOT's authorization endpoint with our login page and consent template.

    On top of DOT: `prompt=none` answers `login_required` / `consent_required` (through the
    validator's silent checks), `prompt=login` and an exceeded `max_age` make the user sign
    in again, and `prompt=consent` always shows the consent page (OIDC Core 3.1.2.1).
    """

    template_name = "identity/authorize.html"
    login_url = reverse_lazy("identity:login")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The provider's user, not the portal's (see identity/session.py).
        request.user = idp_session.current_user(request)
        if request.method == "GET" and not request.user.is_authenticated:
            fatal = _fatal_client_error(request)
            if fatal is not None:
                return self.error_response(fatal, None)
        prompt = set(request.GET.get("prompt", "").split())
        if request.method == "GET" and request.user.is_authenticated:
            if "login" in prompt and "none" not in prompt:
                return self._sign_in_again(request)
            if _auth_too_old(request, request.GET.get("max_age")):
                if "none" in prompt:
                    request.user = AnonymousUser()  # -> login_required to the client
                else:
                    return self._sign_in_again(request)
        if request.user.is_authenticated:
            request.META[SIGNED_IN_USER] = str(request.user.pk)
        if request.method == "GET" and (
            "consent" in prompt or ("none" not in prompt and _new_audience(request, request.user))
        ):
            query = request.GET.copy()
            query["approval_prompt"] = "force"  # DOT's switch for "ask again"
            request.GET = query  # type: ignore[assignment]
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200:
            # The consent form's redirect goes to the client: form-action must allow it.
            target = origin_of(str(self.oauth2_data.get("redirect_uri") or ""))
            response._csp_config = csp_form_action(target)  # type: ignore[attr-defined]
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        """DOT's, after two checks of the consent form's hidden fields, each answered with
        the provider's error page (400), never a redirect to the form's redirect_uri:
        - the client exists: DOT looks it up with .get(), so a changed client_id was a 500;
        - a code request keeps its PKCE challenge where PKCE is required: DOT checks that on
          the GET only, so a form posted without it got a code that any verifier redeemed."""
        client_id = str(form.cleaned_data.get("client_id") or "")
        if not Client.objects.filter(client_id=client_id).exists():
            return self.error_response(FatalClientError(error=InvalidClientIdError()), None)
        response_type = str(form.cleaned_data.get("response_type") or "").split()
        if (
            "code" in response_type
            and _pkce_required(client_id)
            and not form.cleaned_data.get("code_challenge")
        ):
            error = MissingCodeChallengeError(description="Code challenge required.")
            return self.error_response(FatalClientError(error=error), None)
        return super().form_valid(form)  # type: ignore[no-any-return]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The consent page names each API and its scopes as the spec describes them.
        resources = str(getattr(self, "oauth2_data", {}).get("resource") or "").split()
        context["permissions"] = consent.permissions(
            context.get("scopes") or [], self.request.user, resources
        )
        application = context.get("application")
        if application is not None:
            context["client_facts"] = consent.client_facts(
                application, self.request.user, str(context.get("redirect_uri") or "")
            )
        return context

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        """Every answer sent back to the client names the issuer (RFC 9207 section 2, 'including
        error responses'). DOT adds iss to a code or token only; its errors (access_denied,
        invalid_scope, prompt=none's login_required) went without, and a client that checks
        (discovery says to) refused them as a possible mix-up."""
        if answers_in_fragment(self._response_type()):
            redirect_to = error_in_fragment(redirect_to)
        return super().redirect(  # type: ignore[no-any-return]
            with_issuer(redirect_to, issuer_mod.issuer(self.request)), application
        )

    def _response_type(self) -> str:
        # The consent form's POST carries the request's parameters as its fields.
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        return str(data.get("response_type") or "")

    def _sign_in_again(self, request: HttpRequest) -> HttpResponse:
        idp_session.sign_out(request)
        query = request.GET.copy()
        query.pop("max_age", None)  # satisfied by the sign-in about to happen
        query.setlist("prompt", [p for p in query.get("prompt", "").split() if p != "login"])
        if not query.get("prompt"):
            query.pop("prompt", None)
        next_url = f"{request.path}?{query.urlencode()}"
        return redirect(f"{reverse('identity:login')}?{urlencode({'next': next_url})}")


# What DOT appends to the redirect URI for an error (oauthlib's OAuth2Error.twotuples, and
# its own prompt=none login_required).
ERROR_ANSWER = frozenset({"error", "error_description", "error_uri", "state"})


def answers_in_fragment(response_type: str) -> bool:
    """Whether answers to this response type go in the fragment: the implicit ones (RFC 6749
    4.2.2, OIDC Core 3.2.2.5) and the hybrid ones (3.3.2.5), as validators' response_mode."""
    return bool({"token", "id_token"} & set(response_type.split()))


def error_in_fragment(uri: str) -> str:
    """`uri` with DOT's error answer moved from the query to the fragment (RFC 6749 4.2.2.1).
    DOT always puts an error in the query, where the page of an implicit client never looks
    (and which reaches its server and logs). The answer is the query's trailing error
    parameters: DOT appends them after the redirect URI's own query, which stays."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if parts.fragment or "error" not in dict(query):
        return uri  # a token answer, already in the fragment; or no error
    start = len(query)
    while start and query[start - 1][0] in ERROR_ANSWER:
        start -= 1
    return parts._replace(
        query=urlencode(query[:start]), fragment=urlencode(query[start:])
    ).geturl()


def with_issuer(uri: str, issuer: str) -> str:
    """`uri` with iss=`issuer` among the response's parameters (the fragment's, for an
    implicit answer), and no other iss: a registered redirect URI may carry its own, which
    a client would read as the issuer."""
    parts = urlsplit(uri)

    def without_iss(component: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in parse_qsl(component, keep_blank_values=True) if k != "iss"]

    query, fragment = without_iss(parts.query), without_iss(parts.fragment)
    (fragment if parts.fragment else query).append(("iss", issuer))
    return parts._replace(query=urlencode(query), fragment=urlencode(fragment)).geturl()


def _fatal_client_error(request: HttpRequest) -> FatalClientError | None:
    """An unknown client or a redirect URI it did not register: the provider's error page,
    before the sign-in page (RFC 6749 4.1.2.1). DOT asks for a sign-in first, so a person
    signed in for a request that could only fail."""
    client_id = request.GET.get("client_id", "")
    client = Client.objects.filter(client_id=client_id).first() if client_id else None
    if client is None:
        return FatalClientError(error=InvalidClientIdError())
    redirect_uri = request.GET.get("redirect_uri")
    if redirect_uri is None:
        if len(client.redirect_uris.split()) != 1:
            return FatalClientError(error=MissingRedirectURIError())
    elif not client.redirect_uri_allowed(redirect_uri):
        return FatalClientError(error=MismatchingRedirectURIError())
    return None


def _new_audience(request: HttpRequest, user: Any) -> bool:
    """Whether this authorization request names a `resource` that no live token of the user
    for this client already holds with these scopes: DOT's automatic approval compares scopes
    only, so it would skip the consent page for an audience the user never allowed (prompt=none
    is the validator's `validate_silent_authorization`)."""
    resources = [r for r in request.GET.getlist("resource") if r.strip()]
    if not resources or not user.is_authenticated:
        return False
    client = Client.objects.filter(client_id=request.GET.get("client_id", "")).first()
    if client is None or client.skip_authorization:
        return False
    scopes = [s for s in request.GET.get("scope", "").split(" ") if s]
    return not consented(user.pk, client, scopes, resources)


def _pkce_required(client_id: str) -> bool:
    required = oauth2_settings.PKCE_REQUIRED
    return bool(required(client_id) if callable(required) else required)


def _auth_too_old(request: HttpRequest, max_age: str | None) -> bool:
    value = (max_age or "").strip()
    # ASCII digits only: "²" passes isdigit() and fails int(). Past 12 digits (30,000 years)
    # no sign-in is too old, and int() would refuse a few thousand digits.
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        return False
    return time.time() - idp_session.auth_time(request) > int(value)


def csp_form_action(*origins: str) -> dict[str, Any]:
    """The portal's CSP with form-action widened to `origins` (where a form's redirect ends)."""
    base: dict[str, Any] = dict(settings.SECURE_CSP)
    allowed = list(base.get("form-action", ["'self'"]))
    allowed += [o for o in origins if o and o != "://" and o not in allowed]
    return {**base, "form-action": allowed}


class EndSession(RPInitiatedLogoutView):
    """RP-initiated logout: ends the provider's session (and the portal's, same browser)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        portal_user = request.user
        provider_user = idp_session.current_user(request)
        if provider_user.is_authenticated:
            request.user = provider_user
        elif portal_user.is_authenticated:
            request.user = portal_user
        return super().dispatch(request, *args, **kwargs)

    def get_request_application(self, id_token: Any, client_id: Any) -> Any:
        """DOT's, with an unknown client_id the provider's 400 page (DOT's .get() was a 500)."""
        if client_id and not Client.objects.filter(client_id=client_id).exists():
            raise InvalidOIDCClientError()
        return super().get_request_application(id_token, client_id)


def _client_origin(next_url: str) -> str:
    """The origin of the registered redirect URI an /idp/authorize/ `next` will end at."""
    parts = urlsplit(next_url)
    if parts.path != reverse("identity:authorize"):
        return ""
    query = parse_qs(parts.query)
    client_id = (query.get("client_id") or [""])[0]
    redirect_uri = (query.get("redirect_uri") or [""])[0]
    client = Client.objects.filter(client_id=client_id).first()
    if client is None or not redirect_uri or not client.redirect_uri_allowed(redirect_uri):
        return ""
    return origin_of(redirect_uri)


def _production_demo_login(username: str, password: str) -> bool:
    return not settings.DEBUG and DEMO_USERS.get(username) == password


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """The provider's own sign-in page (username and password), rate limited."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    context: dict[str, Any] = {"next": next_url}
    # Signing in may end, through /idp/authorize/, at the client's redirect URI, and Chromium
    # checks each redirect after a form post against the posting page's form-action. So every
    # drawing of this page allows it: after a wrong password the form is posted again from the
    # page drawn then.
    form_action = csp_form_action(_client_origin(next_url))

    def page(form: AuthenticationForm, status: int = 200, **extra: Any) -> HttpResponse:
        response = render(
            request, "identity/login.html", {**context, "form": form, **extra}, status=status
        )
        response._csp_config = form_action  # type: ignore[attr-defined]
        return response

    if request.method == "GET":
        return page(AuthenticationForm(request))

    ip = request.META.get("REMOTE_ADDR", "")
    username = str(request.POST.get("username", ""))[:150]
    wait = ratelimit.blocked(ip, username)
    if wait is not None:
        response = page(AuthenticationForm(request), 429, rate_limited=True, wait=wait)
        response["Retry-After"] = str(wait)
        return response

    form = AuthenticationForm(request, data=request.POST)
    if _production_demo_login(username, str(request.POST.get("password", ""))):
        form.is_valid()
        form.add_error(None, "The demo account is disabled in production.")
        return page(form, 403)
    if form.is_valid():  # the backend counts failures (identity.backends)
        idp_session.sign_in(request, form.get_user())
        return redirect(next_url)
    return page(form, 400)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """/idp/ itself: say what this is and where discovery lives."""
    base = issuer_mod.issuer(request)
    return render(
        request,
        "identity/home.html",
        {"issuer": base, "discovery": reverse("identity:discovery"), **issuer_mod.endpoints(base)},
    )

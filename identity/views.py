"""Pages and endpoints of the built-in OpenID provider under /idp/.

Authorize, token, userinfo, revocation and end-session are django-oauth-toolkit's views;
discovery and JWKS are ours so they follow IDENTITY_ISSUER and the keys in the database.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods
from oauth2_provider.views import AuthorizationView, RPInitiatedLogoutView

from identity import issuer as issuer_mod
from identity import keys, ratelimit
from identity import session as idp_session
from identity.demo_credentials import DEMO_PASSWORD, DEMO_USERNAME


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
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "implicit",
            "password",
        ],
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
    """DOT's authorization endpoint with our login page and consent template."""

    template_name = "identity/authorize.html"
    login_url = reverse_lazy("identity:login")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The provider's user, not the portal's (see identity/session.py).
        request.user = idp_session.current_user(request)
        return super().dispatch(request, *args, **kwargs)


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


def _production_demo_login(username: str, password: str) -> bool:
    return not settings.DEBUG and username == DEMO_USERNAME and password == DEMO_PASSWORD


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """The provider's own sign-in page (username and password), rate limited."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    context: dict[str, Any] = {"next": next_url}
    if request.method == "GET":
        form = AuthenticationForm(request)
        return render(request, "identity/login.html", {**context, "form": form})

    ip = request.META.get("REMOTE_ADDR", "")
    username = str(request.POST.get("username", ""))[:150]
    wait = ratelimit.blocked(ip, username)
    if wait is not None:
        response = render(
            request,
            "identity/login.html",
            {**context, "form": AuthenticationForm(request), "rate_limited": True, "wait": wait},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response

    form = AuthenticationForm(request, data=request.POST)
    if _production_demo_login(username, str(request.POST.get("password", ""))):
        form.is_valid()
        form.add_error(None, "The demo account is disabled in production.")
        return render(request, "identity/login.html", {**context, "form": form}, status=403)
    if form.is_valid():  # the backend counts failures (identity.backends)
        idp_session.sign_in(request, form.get_user())
        return redirect(next_url)
    return render(request, "identity/login.html", {**context, "form": form}, status=400)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """/idp/ itself: say what this is and where discovery lives."""
    base = issuer_mod.issuer(request)
    return render(
        request,
        "identity/home.html",
        {"issuer": base, "discovery": reverse("identity:discovery"), **issuer_mod.endpoints(base)},
    )

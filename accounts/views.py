"""Sign-in pages around allauth: the strict OIDC login/callback, sign-out, profile, setup."""

from __future__ import annotations

from typing import Any, TypeGuard
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from requests import RequestException

from accounts.adapters import REASONS, reason_for
from accounts.oidc import LOGOUT_SESSION_KEY, StrictOIDCAdapter, check_response_issuer
from accounts.transport import private_only_for


def signin_error(request: HttpRequest, reason: str, provider_error: str = "") -> HttpResponse:
    """The one page every failed sign-in ends on: what went wrong, no session created."""
    return render(
        request,
        "accounts/signin_error.html",
        {
            "reason": reason,
            "message": REASONS.get(reason, REASONS["unknown"]),
            "provider_error": provider_error,
        },
        status=400 if reason not in ("provider_unreachable",) else 502,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def oidc_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OIDC login (a POST starts it; GET only asks to confirm, case 58)."""
    try:
        adapter = StrictOIDCAdapter(request, provider_id)
        with private_only_for(adapter.get_provider().server_url):
            return OAuth2LoginView.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-in provider.") from None
    except (OAuth2Error, RequestException) as exc:
        return signin_error(request, reason_for(None, exc, request)[0])


@never_cache
@require_GET
def oidc_callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    adapter = StrictOIDCAdapter(request, provider_id)
    try:
        # The provider's discovered endpoints reach a private address only on its own host.
        with private_only_for(adapter.get_provider().server_url):
            if "code" in request.GET:
                check_response_issuer(adapter, request)
            return OAuth2CallbackView.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-in provider.") from None
    except (OAuth2Error, RequestException) as exc:
        return signin_error(request, reason_for(None, exc, request)[0])


def _usable_endpoint(endpoint: Any) -> TypeGuard[str]:
    """The discovery document's end_session_endpoint is a plain http(s) URL to send the
    browser (and the ID token) to: not one urlsplit cannot read (an unclosed [ or a port of
    99999 raised ValueError before the session was flushed: a 500, still signed in), nor one
    with spaces, line breaks, user info or a fragment (the hint would ride in the fragment)."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 2048:
        return False
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in endpoint):
        return False
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and "\\" not in endpoint
        and not parts.fragment
    )


def _end_session_url(request: HttpRequest, info: dict[str, Any]) -> str:
    """RP-initiated logout at the provider, when it offers one."""
    endpoint = info.get("end_session_endpoint")
    if not _usable_endpoint(endpoint) or not info.get("id_token"):
        return ""
    params = {
        "id_token_hint": info["id_token"],
        "post_logout_redirect_uri": request.build_absolute_uri("/"),
        "client_id": info.get("client_id", ""),
    }
    separator = "&" if urlsplit(endpoint).query else "?"
    return f"{endpoint}{separator}{urlencode(params)}"


@never_cache
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """Sign out: flush the server-side session (and every token in it), then the provider's."""
    if request.method == "GET":
        if not request.user.is_authenticated:
            return redirect("/")
        return render(request, "accounts/logout.html")
    info = request.session.get(LOGOUT_SESSION_KEY) or {}
    end_session = _end_session_url(request, info)
    get_account_adapter(request).logout(request)  # django logout(): signal, then session.flush()
    # After the flush: the message goes in the messages cookie, shown on the page this ends on
    # (sign-in says "Successfully signed in as ..."; sign-out said nothing).
    messages.info(request, "You are signed out.")
    return redirect(end_session or "/")


def _identities(user: Any) -> list[dict[str, Any]]:
    rows = []
    for account in SocialAccount.objects.filter(user=user).order_by("date_joined"):
        data = account.extra_data or {}
        claims = data.get("id_token") or {}
        userinfo = data.get("userinfo") or {}
        try:
            provider_name = account.get_provider().name
        except Exception:  # the provider was removed from the configuration
            provider_name = account.provider
        rows.append(
            {
                "provider": provider_name,
                "provider_id": account.provider,
                "subject": account.uid,
                "issuer": claims.get("iss", ""),
                "email": userinfo.get("email") or claims.get("email") or "",
                "linked": account.date_joined,
                "last_login": account.last_login,
            }
        )
    return rows


@never_cache
@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    identities = _identities(user)
    current = (request.session.get(LOGOUT_SESSION_KEY) or {}).get("provider_id", "")
    return render(
        request,
        "accounts/profile.html",
        {"identities": identities, "current_provider": current, "profile_user": user},
    )


def provider_rows(request: HttpRequest) -> list[dict[str, Any]]:
    rows = []
    for app in get_social_adapter(request).list_apps(request, provider="openid_connect"):
        callback = reverse("openid_connect_callback", kwargs={"provider_id": app.provider_id})
        app_settings = app.settings or {}
        rows.append(
            {
                "name": app.name,
                "provider_id": app.provider_id,
                "client_id": app.client_id,
                "builtin": bool(app_settings.get("builtin")),
                "links_by_email": bool(app_settings.get("email_authentication")),
                "server_url": app_settings.get("server_url", ""),
                "scopes": " ".join(app_settings.get("scope") or ["openid", "profile", "email"]),
                "redirect_uri": request.build_absolute_uri(callback),
                "post_logout_redirect_uri": request.build_absolute_uri("/"),
                "login_url": reverse(
                    "openid_connect_login", kwargs={"provider_id": app.provider_id}
                ),
            }
        )
    return rows


@never_cache
@login_required
@require_GET
def setup(request: HttpRequest) -> HttpResponse:
    """For administrators: the exact values to register with each identity provider."""
    if not request.user.is_staff:
        raise Http404
    return render(
        request,
        "accounts/setup.html",
        {
            "providers": provider_rows(request),
            "builtin_on": settings.IDENTITY_BUILTIN,
            "issuer": settings.IDENTITY_ISSUER,
        },
    )

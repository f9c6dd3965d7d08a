"""allauth adapters: sign-in only through OpenID providers, strict OIDC, clear errors."""

from __future__ import annotations

import re
import string
from typing import Any

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.base.constants import AuthError
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from accounts.builtin import builtin_app_config
from accounts.oidc import StrictOIDCAdapter
from accounts.transport import OutboundAdapter

_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

REASONS = {
    "state": "This sign-in link has expired or was already used, or it was started in "
    "another browser. Start again from the Sign in button.",
    "cancelled": "The sign-in was cancelled or refused at the identity provider.",
    "provider_error": "The identity provider answered with an error.",
    "provider_unreachable": "The identity provider could not be reached or did not answer in "
    "time. Try again in a moment.",
    "issuer_mismatch": "The identity provider's answer did not come from the issuer this "
    "portal is configured for.",
    "invalid_id_token": "The identity provider's ID token failed verification (issuer, "
    "audience, signature or expiry).",
    "subject_mismatch": "The identity provider named two different users in one answer.",
    "bad_discovery": "The identity provider's discovery document is incomplete, or names "
    "an endpoint on plain HTTP for an issuer on HTTPS.",
    "bad_subject": "The identity provider named the user with a subject this portal cannot "
    "keep (empty, too long, or with control characters).",
    "bad_userinfo": "The identity provider's user information is not a JSON object.",
    "token_request_failed": "The identity provider refused to exchange the sign-in code.",
    "unknown": "The sign-in could not be completed.",
}


def reason_for(
    error: str | None, exception: BaseException | None, request: HttpRequest
) -> tuple[str, str]:
    """(reason key, provider error code or "") for an allauth authentication error."""
    if error == AuthError.CANCELLED:
        return "cancelled", "access_denied"
    if isinstance(exception, requests.RequestException):
        return "provider_unreachable", ""
    if exception is not None:
        text = str(exception.args[0]) if exception.args else ""
        if text in REASONS:
            return text, ""
        return "token_request_failed", ""
    code = request.GET.get("error", "")
    if code:
        return "provider_error", code if _SAFE_CODE.match(code) else ""
    return "state", ""


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _holders_of(email: str) -> list[Any]:
    """The accounts whose address (the user's own or one of allauth's) is `email` but for
    the case of its ASCII letters."""
    folded = email.translate(_ASCII_LOWER)
    users = {
        u.pk: u
        for u in get_user_model().objects.filter(email__iexact=email)
        if isinstance(u.email, str) and u.email.translate(_ASCII_LOWER) == folded
    }
    for row in EmailAddress.objects.filter(email__iexact=email).select_related("user"):
        if row.email.translate(_ASCII_LOWER) == folded:
            users[row.user.pk] = row.user
    return list(users.values())


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # no local accounts: people arrive through an OpenID provider


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return True

    def list_apps(self, request: HttpRequest | None, provider: Any = None, client_id: Any = None):
        apps = list(super().list_apps(request, provider=provider, client_id=client_id))
        config = builtin_app_config(request)
        if config is not None:
            app = SocialApp(provider="openid_connect", **config)
            if (not provider or provider in (app.provider, app.provider_id)) and (
                not client_id or client_id == app.client_id
            ):
                apps.append(app)
        return apps

    def get_provider(self, request: HttpRequest, provider: Any, client_id: Any = None):
        instance = super().get_provider(request, provider, client_id=client_id)
        if instance.id == "openid_connect":
            instance.oauth2_adapter_class = StrictOIDCAdapter
            instance.app.settings = {**(instance.app.settings or {}), "oauth_pkce_enabled": True}
        return instance

    def get_requests_session(self) -> requests.Session:
        session = super().get_requests_session()
        session.trust_env = False  # no proxies or netrc from the environment
        # Every call through the portal's outbound wrapper (deadline, size cap, addresses).
        transport = OutboundAdapter()
        session.adapters.clear()
        session.mount("https://", transport)
        session.mount("http://", transport)
        session.max_redirects = 3
        session.headers["User-Agent"] = "api-portal-signin"
        return session

    def authenticate_by_email(self, sociallogin: Any) -> tuple[Any, str] | None:
        """allauth's link by a verified address (LINK_BY_VERIFIED_EMAIL), only where the
        address names one person beyond doubt: the one active account that holds it, equal
        but for ASCII case (allauth's lower() made U+212A KELVIN SIGN a 'k'), that is no
        staff or superuser account (a provider's say-so makes no administrator) and has no
        person of this provider yet (the provider gave the address to someone else). allauth
        took the first of several holders and linked deactivated, staff and linked accounts."""
        provider = sociallogin.account.provider
        # The provider's own spelling: allauth's addresses are lower()ed by then.
        sent = sociallogin.account.get_provider().extract_email_addresses(
            sociallogin.account.extra_data or {}
        )
        for address in sent:
            email = address.email
            if not address.verified or not isinstance(email, str) or not email:
                continue
            if not self.can_authenticate_by_email(sociallogin, email):
                continue
            holders = _holders_of(email)
            if len(holders) != 1:
                continue
            (user,) = holders
            if not user.is_active or user.is_staff or user.is_superuser:
                continue
            if SocialAccount.objects.filter(user=user, provider=provider).exists():
                continue
            return user, email.translate(_ASCII_LOWER)
        return None

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        """Someone signing in through the built-in provider *is* that local user."""
        app = sociallogin.account.get_provider().app
        if sociallogin.is_existing or not (app.settings or {}).get("builtin"):
            return
        user = get_user_model().objects.filter(pk=sociallogin.account.uid, is_active=True).first()
        if user is not None:
            sociallogin.connect(request, user)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        from accounts.views import signin_error

        reason, code = reason_for(error, exception, request)
        raise ImmediateHttpResponse(signin_error(request, reason, provider_error=code))

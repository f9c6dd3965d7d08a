"""The clients the portal itself needs from its built-in provider."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import check_password

from identity.models import Client


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def loopback_aliases(origin: str) -> list[str]:
    """The origin plus its localhost/127.0.0.1 twin, so either address signs in on a dev box."""
    parts = urlsplit(origin)
    origins = [origin]
    if parts.hostname in ("127.0.0.1", "localhost"):
        twin = "localhost" if parts.hostname == "127.0.0.1" else "127.0.0.1"
        port = f":{parts.port}" if parts.port else ""
        origins.append(f"{parts.scheme}://{twin}{port}")
    return origins


def portal_callback_path(provider_id: str) -> str:
    return f"/accounts/oidc/{provider_id}/login/callback/"


def ensure_client(
    *,
    client_id: str,
    secret: str,
    name: str,
    grant: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] | None = None,
    skip_authorization: bool = False,
    allow_client_credentials: bool = False,
    allow_implicit: bool = False,
    allow_password: bool = False,
    scopes_from_subscriptions: bool = False,
) -> Client:
    """Create or update a confidential RS256 client; idempotent."""
    client = Client.objects.filter(client_id=client_id).first() or Client(client_id=client_id)
    client.name = name
    client.client_type = Client.CLIENT_CONFIDENTIAL
    client.authorization_grant_type = grant
    client.redirect_uris = " ".join(dict.fromkeys(redirect_uris))
    client.post_logout_redirect_uris = " ".join(dict.fromkeys(post_logout_redirect_uris or []))
    client.algorithm = Client.RS256_ALGORITHM
    client.skip_authorization = skip_authorization
    client.allow_client_credentials = allow_client_credentials
    client.allow_implicit = allow_implicit
    client.allow_password = allow_password
    client.scopes_from_subscriptions = scopes_from_subscriptions
    if not client.pk or not check_password(secret, client.client_secret):
        client.client_secret = secret
        client.hash_client_secret = True
    client.save()
    return client


def scopes_per_developer(client_id: str) -> bool:
    """Whether `client_id` is a client many developers share whose tokens carry only what the
    signed-in developer's subscriptions grant (`Client.scopes_from_subscriptions`), so a
    client-credentials token from it, with no developer behind it, carries no API scope."""
    return Client.objects.filter(client_id=client_id, scopes_from_subscriptions=True).exists()


def ensure_portal_client(issuer: str, secret: str) -> Client:
    """The portal's own sign-in client, redirecting to the portal on the issuer's origin.

    Its allauth id is `oidc` alone and `builtin` beside an external provider (settings.py):
    both callbacks are registered, so adding or removing an external provider leaves the
    built-in sign-in working without running setup_portal_client again. Both are this
    portal's own callbacks, each checking the state its own sign-in started."""
    ids = dict.fromkeys([settings.IDENTITY_PORTAL_PROVIDER_ID, "oidc", "builtin"])
    origins = loopback_aliases(origin_of(issuer))
    return ensure_client(
        client_id=settings.IDENTITY_PORTAL_CLIENT_ID,
        secret=secret,
        name=settings.SITE_NAME,
        grant=Client.GRANT_AUTHORIZATION_CODE,
        redirect_uris=[o + portal_callback_path(i) for o in origins for i in ids],
        post_logout_redirect_uris=[o + "/" for o in origins],
        skip_authorization=True,  # first party: no consent screen for signing in to ourselves
    )

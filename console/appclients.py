"""The console gets tokens as one of the signed-in developer's own applications.

Only machine applications (client credentials) with an active subscription to a published
product that offers the API are offered, so a token carries exactly what that application was
granted: the provider (built-in, or the external server it was registered at) decides, and a
scope or audience outside the grants is refused there (SECURITY.md case 78).

The secret comes from the application's encrypted console copy (kept when the developer asked
for it) or is pasted for the session; either way it stays on the server, like tokens. Each
application is offered as an authorization server the console builds on the fly: slug
`app.<uuid>` (a dot, which no AuthorizationServer slug has), the application's client id and
secret, and the token endpoint of the provider that holds the client.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from applications import flows as app_flows
from applications.models import Application
from console.models import CLIENT_AUTH_BASIC, AuthorizationServer

PREFIX = "app."
SECRETS_SESSION_KEY = "console_app_secrets"
MAX_SECRET = 500


class AppClientError(Exception):
    """The message is for the developer."""


class SecretRefused(AppClientError):
    """The secret is not the application's client secret (checked on the portal, before any
    token request: see builtin_secret_matches)."""


@dataclass(frozen=True)
class AppOption:
    app: Application
    slug: str
    scopes: str
    secret_kept: bool
    secret_pasted: bool


def slug_of(app: Application) -> str:
    return f"{PREFIX}{app.uuid.hex}"


def is_app_slug(slug: str) -> bool:
    return slug.startswith(PREFIX)


def _usable(user: Any, api: Any) -> Any:
    """The user's machine applications subscribed (active) to a published product with `api`."""
    from products.models import Subscription

    return (
        Application.objects.filter(
            owner=user,
            kind=Application.MACHINE,
            subscriptions__state=Subscription.ACTIVE,
            subscriptions__product__published=True,
            subscriptions__product__apis=api,
        )
        .select_related("server")
        .distinct()
        .order_by("name", "created")
    )


def token_slugs(user: Any, api: Any) -> set[str]:
    """The console token servers (`app.<uuid>`) of the user's applications that hold or held a
    subscription to a product with `api`: whose tokens a call to `api` may carry. One whose
    subscription ended still may, so the gateway's refusal of it can be seen."""
    if not getattr(user, "is_authenticated", False):
        return set()
    found = Application.objects.filter(owner=user, subscriptions__product__apis=api)
    return {slug_of(app) for app in found.only("uuid").distinct()}


def _pasted(session: MutableMapping[str, Any]) -> dict[str, str]:
    raw = session.get(SECRETS_SESSION_KEY)
    return raw if isinstance(raw, dict) else {}


def options(
    user: Any,
    api: Any,
    session: MutableMapping[str, Any],
    default_scopes: str,
    state: dict[str, str],
) -> list[AppOption]:
    if not getattr(user, "is_authenticated", False):
        return []
    pasted = _pasted(session)
    found = []
    for app in _usable(user, api):
        slug = slug_of(app)
        typed = state.get(f"scopes.{slug}")
        found.append(
            AppOption(
                app=app,
                slug=slug,
                scopes=default_scopes if typed is None else typed,
                secret_kept=bool(app.console_secret),
                secret_pasted=slug in pasted,
            )
        )
    return found


def application_for(user: Any, api: Any, slug: str) -> Application | None:
    """The user's own usable application named by `slug`, else None (the view's 404)."""
    try:
        uuid = UUID(hex=slug[len(PREFIX) :])
    except ValueError:
        return None
    return _usable(user, api).filter(uuid=uuid).first()


def application_gone(slug: str) -> bool:
    """Whether the application behind a console token's `server` was deleted: its tokens are
    revoked at the provider, and the console stops sending them too."""
    try:
        uuid = UUID(hex=slug[len(PREFIX) :])
    except ValueError:
        return True
    return not Application.objects.filter(uuid=uuid).exists()


def keep_pasted_secret(session: MutableMapping[str, Any], slug: str, secret: str) -> None:
    secret = secret.strip()
    if len(secret) > MAX_SECRET or any(ord(c) < 33 or ord(c) == 127 for c in secret):
        raise AppClientError("That is not a client secret.")
    pasted = dict(_pasted(session))
    pasted[slug] = secret
    session[SECRETS_SESSION_KEY] = pasted


def drop_pasted_secret(session: MutableMapping[str, Any], slug: str) -> bool:
    """Forget the secret pasted for `slug` (the provider refused it); whether there was one."""
    pasted = dict(_pasted(session))
    if pasted.pop(slug, None) is None:
        return False
    session[SECRETS_SESSION_KEY] = pasted
    return True


def secret_for(app: Application, session: MutableMapping[str, Any]) -> str:
    """The pasted secret of this session first (the developer's latest word), else the kept one."""
    return _pasted(session).get(slug_of(app)) or app_flows.console_secret(app)


def builtin_secret_matches(app: Application, secret: str) -> bool:
    """Whether `secret` authenticates the application's client at the built-in provider (its
    current secret, or the previous one within its grace), checked here, as the provider
    would. The console asks the provider from the portal's own address for every developer,
    and the provider limits failed client authentications per address: one developer's
    wrong secrets, sent, would lock every console token request out (the shared console
    client's too). A client this portal no longer holds is left to the provider."""
    from oauth2_provider.oauth2_validators import OAuth2Validator

    client = app.provider_client
    if client is None:
        return True
    if OAuth2Validator()._check_secret(secret, client.client_secret):
        return True
    matches = getattr(client, "previous_secret_matches", None)
    return bool(matches is not None and matches(secret))


def server_for(app: Application, secret: str, builtin_token_url: str) -> AuthorizationServer:
    """An unsaved authorization server: the application's client at its own provider."""
    if not secret:
        raise AppClientError(
            f"Paste {app.name}'s client secret, or keep it for the console on its page."
        )
    server = AuthorizationServer(
        slug=slug_of(app),
        name=f"{app.name} (your application)",
        client_id=app.client_id,
        client_secret=secret,
        client_auth=CLIENT_AUTH_BASIC,
        grant_authorization_code=False,
        grant_client_credentials=True,
    )
    external = app.server
    if external is None:
        if not builtin_secret_matches(app, secret):
            raise SecretRefused(f"That is not the client secret of {app.name} (invalid_client).")
        server.token_url = builtin_token_url
        return server
    for name in ("issuer", "discovery_url", "token_url", "metadata", "metadata_fetched"):
        setattr(server, name, getattr(external, name))
    server.extra_token_params = external.extra_token_params
    return server

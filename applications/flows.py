"""Registering, rotating and deleting developers' applications: plain functions that pages
and the JSON API (/api/v1/) call.

An application at an external authorization server (`server` set) is registered there
through RFC 7591 and updated and deleted through RFC 7592 (applications/registration.py);
its registration access token is kept encrypted (applications/secrets.py). Otherwise each
application maps to a client at the built-in provider (`identity.Client`):
- web: confidential, authorization code (PKCE is required of every client by the settings);
- spa: public, authorization code with PKCE, no secret;
- machine: confidential, client credentials only, no redirect URIs.
A secret is returned in clear once, by `register` or `rotate_secret`; only its hash is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import get_refresh_token_model

from applications import registration, secrets
from applications.models import Application
from applications.redirects import browser_origins, check_redirect_uri
from identity.models import Client
from portal import audit
from portal.lib.creation_limit import count_creation
from portal.lib.names import name_problem

if TYPE_CHECKING:
    from console.models import AuthorizationServer

A = Application


class FlowError(Exception):
    """A change the rules refuse; the message is for the person who asked."""


class ServerError(FlowError):
    """The external authorization server failed (unreachable, an error of its own, an answer
    the portal cannot use): the request was right and may pass later (the API answers 502)."""


def _from_server(exc: registration.RegistrationError, message: str = "") -> FlowError:
    cls = ServerError if exc.upstream else FlowError
    return cls(message or str(exc))


class CreationLimited(FlowError):
    """APPLICATIONS_CREATE_PER_HOUR reached: the same request may pass later (the API
    answers 429)."""


@dataclass(frozen=True)
class Registered:
    application: Application
    secret: str  # empty for a public client


def _count_creation(user: Any) -> None:
    """APPLICATIONS_CREATE_PER_HOUR, counted per user (portal/lib/creation_limit.py)."""
    limit = settings.APPLICATIONS_CREATE_PER_HOUR
    if not count_creation("applications", user, limit):
        raise CreationLimited(
            f"You have created {limit} applications in the last hour, the most allowed. "
            "Try again later."
        )


def _configure_client(client: Client, app: Application) -> None:
    client.name = app.name
    client.user = app.owner
    client.redirect_uris = " ".join(app.redirect_uris)
    client.algorithm = Client.RS256_ALGORITHM
    client.skip_authorization = False  # third party: the user always sees the consent page
    client.allow_implicit = False
    client.allow_password = False
    # A single-page app calls the token endpoint from its pages, across origins: its redirect
    # URIs' origins get CORS there (oauthlib adds Access-Control-Allow-Origin for them), as
    # Entra ID does for SPA redirect URIs. Without it the browser withheld every token.
    client.allowed_origins = (
        " ".join(browser_origins(app.redirect_uris)) if app.kind == A.SPA else ""
    )
    if app.kind == A.MACHINE:
        client.client_type = Client.CLIENT_CONFIDENTIAL
        client.authorization_grant_type = Client.GRANT_CLIENT_CREDENTIALS
        client.allow_client_credentials = False  # it is the primary grant already
    else:
        client.client_type = (
            Client.CLIENT_PUBLIC if app.kind == A.SPA else Client.CLIENT_CONFIDENTIAL
        )
        client.authorization_grant_type = Client.GRANT_AUTHORIZATION_CODE
        client.allow_client_credentials = False


def _check(kind: str, redirect_uris: list[str]) -> None:
    if kind not in (A.WEB, A.SPA, A.MACHINE):
        raise FlowError("Choose a web, single-page or machine application.")
    for uri in redirect_uris:
        check_redirect_uri(uri)  # RedirectUriError is a ValueError with the message
    if kind == A.MACHINE and redirect_uris:
        raise FlowError("A machine client signs in no one: leave the redirect URIs empty.")
    if kind != A.MACHINE and not redirect_uris:
        raise FlowError("Give at least one redirect URI.")


def register(
    user: Any,
    *,
    name: str,
    kind: str,
    description: str = "",
    redirect_uris: list[str],
    server: AuthorizationServer | None = None,
    keep_for_console: bool = False,
) -> Registered:
    """A new application and its client at the built-in provider, or at `server` (RFC 7591).

    `keep_for_console`: the secret is also kept, encrypted, so the console can get tokens as
    this application (without it the developer pastes the secret in the console)."""
    if not user.is_authenticated:
        raise FlowError("Sign in to register an application.")
    if problem := name_problem(name):
        raise FlowError(problem)
    _check(kind, redirect_uris)
    _count_creation(user)
    if server is not None:
        return _register_external(
            user, server, name=name, kind=kind, description=description,
            redirect_uris=redirect_uris, keep_for_console=keep_for_console,
        )  # fmt: skip
    secret = "" if kind == A.SPA else generate_client_secret()
    with transaction.atomic():
        app = Application(
            owner=user,
            name=name,
            description=description,
            kind=kind,
            redirect_uris=redirect_uris,
            client_id=generate_client_id(),
            console_secret=secrets.seal(secret) if keep_for_console else "",
        )
        client = Client(client_id=app.client_id, hash_client_secret=bool(secret))
        _configure_client(client, app)
        # A public client has no secret; DOT would otherwise generate (and hash) one.
        client.client_secret = secret
        client.save()
        app.provider_client = client
        app.save()
    audit.event(
        user, "application.create", app, name=app.name, kind=kind, redirect_uris=redirect_uris
    )
    return Registered(app, secret)


def _register_external(
    user: Any,
    server: AuthorizationServer,
    *,
    name: str,
    kind: str,
    description: str,
    redirect_uris: list[str],
    keep_for_console: bool,
) -> Registered:
    """RFC 7591 at `server`; the answer is checked before anything is stored (case 76)."""
    if not server.developer_registration:
        raise FlowError(f"{server.name} does not take developers' applications.")
    metadata = registration.metadata_for(kind, name, redirect_uris)
    try:
        record = registration.register(server, metadata)
    except registration.RegistrationError as exc:
        raise _from_server(exc) from None
    from console.models import AuthorizationServer as Servers  # console imports this app

    taken = (
        Application.objects.filter(client_id=record.client_id).exists()
        or Servers.objects.filter(client_id=record.client_id).exists()
    )
    if taken:
        # Another application (maybe another developer's), or the console's own client at an
        # authorization server, has this client id: storing it would let this developer
        # subscribe, and get tokens, in that client's name.
        raise FlowError(
            f"{server.name} answered with a client id that another application here already "
            "has; nothing was stored. Tell the portal's administrators."
        )
    app = Application(
        owner=user,
        name=name,
        description=description,
        kind=kind,
        redirect_uris=redirect_uris,
        client_id=record.client_id,
        server=server,
        issuer=registration.issuer_of(server),
        registration_client_uri=record.registration_client_uri,
        registration_token=secrets.seal(record.registration_access_token),
        console_secret=secrets.seal(record.client_secret) if keep_for_console else "",
    )
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:  # the same client id stored by a parallel request
        raise FlowError(
            f"{server.name} answered with a client id that another application here already "
            "has; nothing was stored."
        ) from None
    return Registered(app, record.client_secret)


def console_secret(app: Application) -> str:
    """The secret kept for the console, or "" (none kept, or its key is gone)."""
    try:
        return secrets.unseal(app.console_secret)
    except secrets.SecretUnreadable:
        return ""


def forget_console_secret(app: Application) -> None:
    app.console_secret = ""
    app.save(update_fields=["console_secret", "updated"])


def grace_limit() -> timedelta:
    return timedelta(seconds=max(0, int(settings.APPLICATIONS_SECRET_GRACE_MAX)))


def rotate_secret(app: Application, keep_old_for: timedelta = timedelta(0)) -> str:
    """A new secret for a confidential client. The old one keeps working for `keep_old_for`
    (at most APPLICATIONS_SECRET_GRACE_MAX), so the developer can deploy the new one first;
    with no grace it stops at once. Only the secret just replaced is kept: a second rotation
    ends the first one's grace."""
    if not app.has_secret:
        raise FlowError("A single-page application has no secret to rotate.")
    if app.server is not None:
        raise FlowError(f"Rotate this client's secret at {app.server.name}.")
    if app.provider_client is None:
        raise FlowError("This application has no client at the built-in provider.")
    if keep_old_for < timedelta(0) or keep_old_for > grace_limit():
        hours = grace_limit().total_seconds() / 3600
        raise FlowError(f"The old secret may keep working for at most {hours:g} hours.")
    client = app.provider_client
    secret = generate_client_secret()
    if keep_old_for and client.client_secret and client.hash_client_secret:
        client.previous_secret = client.client_secret  # already a hash
        client.previous_secret_expires = timezone.now() + keep_old_for
    else:
        client.previous_secret, client.previous_secret_expires = "", None
    client.client_secret = secret
    client.hash_client_secret = True
    client.save(
        update_fields=[
            "client_secret",
            "hash_client_secret",
            "previous_secret",
            "previous_secret_expires",
            "updated",
        ]
    )
    if app.console_secret:  # the console keeps working with the new one
        app.console_secret = secrets.seal(secret)
        app.save(update_fields=["console_secret", "updated"])
    audit.event(
        app.owner,
        "application.rotate",
        app,
        old_secret_until=client.previous_secret_expires.isoformat()
        if client.previous_secret_expires
        else "now",
    )
    return secret


def delete(app: Application) -> None:
    """The application and its client; its refresh and access tokens are revoked first
    (SECURITY.md case 79), so a stolen refresh token dies with the application, and its
    live subscriptions are cancelled (their keys stop; the rows stay, as history)."""
    from products import flows as product_flows
    from products.models import Subscription

    if app.server is not None and app.registration_client_uri:
        # First at the server: if that fails the application stays, so it can be retried.
        try:
            registration.delete(app.registration_client_uri, secrets.unseal(app.registration_token))
        except registration.RegistrationError as exc:
            raise _from_server(exc, f"{exc} The application was kept; try again later.") from None
        except secrets.SecretUnreadable:
            raise FlowError(
                "The registration access token can no longer be decrypted; delete the client "
                f"at {app.server.name}, then ask an administrator to remove it here."
            ) from None
    with transaction.atomic():
        for sub in Subscription.objects.filter(application=app, state__in=Subscription.LIVE):
            product_flows.change_state(sub, "cancel", app.owner, "its application was deleted")
        if app.provider_client is not None:
            refresh_tokens = get_refresh_token_model().objects.filter(
                application=app.provider_client, revoked__isnull=True
            )
            for token in refresh_tokens:
                token.revoke()
            app.provider_client.delete()  # cascades to grants, access and ID tokens
        audit.event(app.owner, "application.delete", app, name=app.name, client_id=app.client_id)
        app.delete()


def update(app: Application, *, name: str, description: str, redirect_uris: list[str]) -> list[str]:
    """Name, description and redirect URIs (the kind is fixed); the built-in provider's client
    follows, or the external one through RFC 7592 (one that offers no management keeps its old
    metadata, and we say so). Returns the names of the fields that changed (empty: nothing)."""
    if problem := name_problem(name):
        raise FlowError(problem)
    _check(app.kind, redirect_uris)
    wanted = {"name": name, "description": description, "redirect_uris": redirect_uris}
    changed = [field for field, value in wanted.items() if getattr(app, field) != value]
    if not changed:
        return []
    before = {field: getattr(app, field) for field in changed}
    # The description is the portal's own: RFC 7591 metadata carries none, so an edit of it
    # alone sends nothing to an external server (and needs no RFC 7592 there).
    external = app.server is not None and bool({"name", "redirect_uris"} & set(changed))
    if external:
        _update_external(app, name, redirect_uris)
    with transaction.atomic():
        for field in changed:
            setattr(app, field, wanted[field])
        registration_fields = ["registration_token", "registration_client_uri", "console_secret"]
        app.save(update_fields=[*changed, *(registration_fields if external else []), "updated"])
        if app.provider_client is not None:
            _configure_client(app.provider_client, app)
            app.provider_client.save()
    audit.event(
        app.owner,
        "application.update",
        app,
        **{f"{field}_before": before[field] for field in changed},
        **{field: wanted[field] for field in changed},
    )
    return changed


def _update_external(app: Application, name: str, redirect_uris: list[str]) -> None:
    """RFC 7592 at the application's server; the new registration token is set on `app`."""
    assert app.server is not None
    if not app.registration_client_uri:
        raise FlowError(
            f"{app.server.name} offers no management of registered clients; change it there."
        )
    try:
        token = secrets.unseal(app.registration_token)
    except secrets.SecretUnreadable:
        raise FlowError("The registration access token can no longer be decrypted.") from None
    try:
        record = registration.update(
            app.registration_client_uri,
            token,
            app.client_id,
            registration.metadata_for(app.kind, name, redirect_uris),
        )
    except registration.RegistrationError as exc:
        raise _from_server(exc) from None
    app.registration_token = secrets.seal(record.registration_access_token)
    app.registration_client_uri = record.registration_client_uri
    if record.client_secret and app.console_secret:
        # RFC 7592 section 2.2: the server may answer with a new secret; the console's copy
        # follows (the old one no longer works there).
        app.console_secret = secrets.seal(record.client_secret)

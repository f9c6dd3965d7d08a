"""Demo data for `make run` (called by `manage.py seed_demo`): a user, an administrator and
three clients. The console's is shared by every developer, so it takes API scopes from the
signed-in developer's subscriptions (`Client.scopes_from_subscriptions`).

Idempotent. Refuses to run with DEBUG off: the credentials are well known, and the
`identity.E002` check and the login page refuse them in production anyway.
"""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

from identity import demo_credentials as demo
from identity import keys
from identity.clients import ensure_client, ensure_portal_client, loopback_aliases, origin_of
from identity.issuer import issuer as get_issuer
from identity.models import Client


def demo_credentials_present() -> list[str]:
    """Which well-known demo credentials exist in the database (for identity.E002)."""
    found = []
    for username, password in demo.DEMO_USERS.items():
        user = get_user_model().objects.filter(username=username).first()
        if user is not None and user.check_password(password):
            found.append(f"user {username}")
    for client_id, secret in demo.DEMO_SECRETS.items():
        client = Client.objects.filter(client_id=client_id).first()
        if client is not None and check_password(secret, client.client_secret):
            found.append(f"client {client_id}")
    return found


def seed(stdout: TextIO) -> None:
    if not settings.DEBUG:
        stdout.write("identity: DEBUG is off, the demo user and clients were not created.\n")
        return
    issuer = get_issuer()
    origins = loopback_aliases(origin_of(issuer))
    User = get_user_model()
    user = User.objects.filter(username=demo.DEMO_USERNAME).first() or User(
        username=demo.DEMO_USERNAME
    )
    user.email = "demo@example.com"
    user.first_name = "Demo"
    user.last_name = "Developer"
    user.is_active = True
    user.set_password(demo.DEMO_PASSWORD)
    user.save()
    admin = User.objects.filter(username=demo.DEMO_ADMIN_USERNAME).first() or User(
        username=demo.DEMO_ADMIN_USERNAME
    )
    admin.email = "admin@example.com"
    admin.is_active = admin.is_staff = admin.is_superuser = True
    admin.set_password(demo.DEMO_ADMIN_PASSWORD)
    admin.save()

    ensure_portal_client(issuer, settings.IDENTITY_PORTAL_CLIENT_SECRET)
    console_path = settings.IDENTITY_CONSOLE_REDIRECT_PATH
    ensure_client(
        client_id=demo.CONSOLE_CLIENT_ID,
        secret=demo.CONSOLE_CLIENT_SECRET,
        name="API console (demo)",
        grant=Client.GRANT_AUTHORIZATION_CODE,
        redirect_uris=[o + console_path for o in origins],
        # Every developer shares it: its tokens carry only what the signed-in developer's
        # subscriptions grant, and no client credentials (a token with no developer behind
        # it); the console gets machine tokens as the developer's own application instead.
        allow_implicit=True,
        allow_password=True,
        scopes_from_subscriptions=True,
    )
    ensure_client(
        client_id=demo.SERVICE_CLIENT_ID,
        secret=demo.SERVICE_CLIENT_SECRET,
        name="Demo service (client credentials)",
        grant=Client.GRANT_CLIENT_CREDENTIALS,
        redirect_uris=[],
    )
    key = keys.active_key()
    stdout.write(
        "\n  Built-in OpenID provider\n"
        f"    issuer:          {issuer}\n"
        f"    discovery:       {issuer}/.well-known/openid-configuration\n"
        f"    signing key:     {key.kid}\n"
        f"    demo user:       {demo.DEMO_USERNAME} / {demo.DEMO_PASSWORD}\n"
        f"    administrator:   {demo.DEMO_ADMIN_USERNAME} / {demo.DEMO_ADMIN_PASSWORD}"
        "  (/admin/: import and publish APIs)\n"
        f"    console client:  {demo.CONSOLE_CLIENT_ID} / {demo.CONSOLE_CLIENT_SECRET}"
        "  (authorization code + PKCE, implicit, password;\n"
        "                     API scopes only as the signed-in developer's subscriptions grant)\n"
        f"    service client:  {demo.SERVICE_CLIENT_ID} / {demo.SERVICE_CLIENT_SECRET}"
        "  (client credentials)\n"
        f"    portal sign-in:  {settings.IDENTITY_PORTAL_CLIENT_ID} (first party, no consent)\n"
    )

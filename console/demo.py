"""Demo data for `make run` (called by `manage.py seed_demo`): one authorization server for
the built-in provider, offered on every published API with that API's scopes, with every grant
that acts for the signed-in developer enabled so each can be tried out of the box.

Not client credentials: the demo's console client is shared by every developer and takes API
scopes from the developer's subscriptions (identity/demo.py), so its client-credentials token,
with no developer behind it, would carry none. The console gets machine tokens as the
developer's own application ("Your applications", console/appclients.py).

Idempotent. Needs the identity app's demo client; refuses to run with DEBUG off, as the
identity seed does (the client secret is well known).
"""

from __future__ import annotations

from typing import TextIO

from django.apps import apps
from django.conf import settings
from django.urls import reverse

from apis.models import Api
from console.audit import record_grant_changes
from console.models import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_IMPLICIT,
    GRANT_PASSWORD,
    ApiAuthorizationServer,
    AuthorizationServer,
)
from products.demo import DEMO_APIS

SLUG = "builtin"


def seed(stdout: TextIO) -> None:
    if not settings.DEBUG:
        stdout.write("console: DEBUG is off, the demo authorization server was not created.\n")
        return
    if not apps.is_installed("identity"):
        stdout.write("console: no built-in provider installed; add an authorization server.\n")
        return
    from identity import demo_credentials as demo
    from identity.issuer import endpoints, issuer

    base = issuer()
    urls = endpoints(base)
    server = AuthorizationServer.objects.filter(slug=SLUG).first() or AuthorizationServer(slug=SLUG)
    before = server.grants if server.pk else []
    server.name = "Built-in provider"
    server.issuer = base
    server.discovery_url = ""  # explicit endpoints: no self-call needed at start-up
    server.authorize_url = urls["authorization_endpoint"]
    server.token_url = urls["token_endpoint"]
    server.refresh_url = ""
    server.revoke_url = urls["revocation_endpoint"]
    server.client_id = demo.CONSOLE_CLIENT_ID
    server.client_secret = demo.CONSOLE_CLIENT_SECRET
    server.set_grants([GRANT_AUTHORIZATION_CODE, GRANT_IMPLICIT, GRANT_PASSWORD])
    server.default_scopes = ""
    server.use_in_console = True
    server.show_in_reference = True
    server.save()
    record_grant_changes(server, before, "seed_demo")
    linked = []
    # The demo's own APIs only: a publisher's later imports define their own scopes.
    demo_apis = Api.objects.filter(slug__in=DEMO_APIS, is_published=True).order_by("slug")
    for position, api in enumerate(demo_apis):
        ApiAuthorizationServer.objects.update_or_create(
            api=api,
            server=server,
            defaults={"scopes": f"{api.slug}.read {api.slug}.write", "position": position},
        )
        linked.append(api.slug)
    origin = base.rsplit("/", 1)[0]
    stdout.write(
        "\n  Try-it console\n"
        f"    authorization server: {server.name} ({base}), client {server.client_id}\n"
        "    grants:               authorization code + PKCE, implicit and password\n"
        "                          (legacy, enabled for the demo); client credentials as\n"
        "                          the developer's own machine application\n"
        f"    offered on:           {', '.join(linked) or 'no published API yet'}\n"
        f"    redirect URI:         {origin}{reverse('console:callback')}\n"
    )

"""Which grants the console offers through an authorization server an administrator set up.

Such a server's client is one client every developer shares. At the built-in provider it
should take API scopes from the signed-in developer's subscriptions
(`identity.Client.scopes_from_subscriptions`, ticked by the demo seed): its tokens then carry
only what that developer's subscriptions grant, and a client-credentials token, which has no
developer behind it, carries none. So the console does not offer client credentials there; a
machine-to-machine call goes through one of the developer's own applications ("Your
applications", console/appclients.py), whose token carries exactly that application's grants
(issue 10: "No shared console client can mint other scopes").
"""

from __future__ import annotations

from django.apps import apps

from console.models import GRANT_CLIENT_CREDENTIALS, AuthorizationServer


def scopes_per_developer(server: AuthorizationServer) -> bool:
    """Whether the server's client is a built-in provider client whose API scopes come from
    the signed-in developer's subscriptions."""
    if not server.client_id or not apps.is_installed("identity"):
        return False
    from identity.clients import scopes_per_developer as per_developer

    return per_developer(server.client_id)


def servers_minting_every_scope() -> list[AuthorizationServer]:
    """The console's servers whose client is a built-in provider client without
    `scopes_from_subscriptions`: through them any signed-in developer gets every published
    API's scopes (for the console.W002 check)."""
    if not apps.is_installed("identity"):
        return []
    from identity.models import Client

    servers = list(AuthorizationServer.objects.filter(use_in_console=True).exclude(client_id=""))
    loose = set(
        Client.objects.filter(
            client_id__in=[s.client_id for s in servers], scopes_from_subscriptions=False
        ).values_list("client_id", flat=True)
    )
    return [server for server in servers if server.client_id in loose]


def grants(server: AuthorizationServer) -> list[str]:
    """The server's enabled grants the console offers, safest first."""
    enabled = server.grants
    if GRANT_CLIENT_CREDENTIALS in enabled and scopes_per_developer(server):
        return [grant for grant in enabled if grant != GRANT_CLIENT_CREDENTIALS]
    return enabled

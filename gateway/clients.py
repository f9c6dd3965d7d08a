"""require-subscribed-client: which clients hold which APIs through subscriptions.

A developer's application holds an API while it has an active subscription to a published
product offering it (products/grants.py says the same to the built-in provider). With the
policy option on, validate-jwt refuses a token whose client, `client_id` or else `azp`,
holds no such subscription (403, check `subscribed-client`), and a token carrying one of the
API's scopes that none of those products grants (403, check `product-scope`). A client is
matched by issuer too when its issuer is known.

Each process keeps the map in memory, rebuilt when the subscriptions, products or
applications change (gateway/refreshed.py), so a cancelled or suspended subscription is
refused on every process within seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.jwt import TokenRejected
from gateway.refreshed import Refreshed
from gateway.version import VersionSource


@dataclass
class ClientEntry:
    # The issuers whose tokens may name the client; None: any the route trusts (the built-in
    # provider's when IDENTITY_ISSUER is left to the request's host).
    issuers: frozenset[str] | None
    # API slug -> the spec's scopes that no active subscription of this client grants.
    apis: dict[str, frozenset[str]] = field(default_factory=dict)


ClientMap = dict[str, ClientEntry]


def _issuers_of(app: Any) -> frozenset[str] | None:
    """The issuer(s) whose tokens may name this application's client id. An application of an
    external server whose issuer registration did not learn takes the server's configured or
    discovered one; with none known, or a built-in application whose provider client is gone,
    no issuer: any trusted issuer's token naming that client id would otherwise pass as it."""
    from django.conf import settings

    own = getattr(app, "issuer", "")  # an application registered at an external server
    if own:
        return frozenset({str(own).rstrip("/")})
    if app.server_id is not None:
        server = app.server
        known = server.issuer or (server.metadata or {}).get("issuer")
        return frozenset({known.rstrip("/")}) if isinstance(known, str) and known else frozenset()
    if app.provider_client_id is not None:
        built_in = str(getattr(settings, "IDENTITY_ISSUER", "") or "").rstrip("/")
        return frozenset({built_in}) if built_in else None
    return frozenset()


def load_clients() -> ClientMap:
    from applications.models import Application
    from products import grants as product_grants
    from products.models import Subscription

    subs = (
        Subscription.objects.filter(
            state=Subscription.ACTIVE,
            product__published=True,
            application__isnull=False,
            owner__is_active=True,  # a deactivated developer's applications hold nothing
        )
        .select_related("application__server", "product")
        .prefetch_related("product__apis__default_version")
    )
    granted: dict[int, dict[str, set[str]]] = {}  # application pk -> slug -> scopes granted
    spec_scopes: dict[str, frozenset[str]] = {}
    apps: dict[int, Application] = {}
    for sub in subs:
        app = sub.application
        assert app is not None
        apps[app.pk] = app
        for api in sub.product.apis.all():
            if api.slug not in spec_scopes:
                spec_scopes[api.slug] = frozenset(product_grants.spec_scopes(api))
            allowed = product_grants.scopes_granted(sub.product, api, spec_scopes[api.slug])
            granted.setdefault(app.pk, {}).setdefault(api.slug, set()).update(allowed)
    result: ClientMap = {}
    for pk, by_api in granted.items():
        app = apps[pk]
        result[app.client_id] = ClientEntry(
            _issuers_of(app),
            {slug: spec_scopes[slug] - frozenset(scopes) for slug, scopes in by_api.items()},
        )
    return result


def clients_fingerprint() -> tuple[Any, ...]:
    from django.db.models import Count, Max

    from apis.models import Api
    from applications.models import Application
    from products.models import Product, Subscription

    # Api: a new default version may define other scopes (the denied sets change).
    parts: list[Any] = []
    for model in (Subscription, Product, Application, Api):
        agg = model.objects.aggregate(n=Count("pk"), last=Max("updated"))
        parts += [agg["n"], agg["last"]]
    return tuple(parts)


class SubscribedClients(Refreshed[ClientMap]):
    def __init__(self, version: VersionSource | None = None) -> None:
        super().__init__("subscribed clients", load_clients, clients_fingerprint, {}, version)


_SCOPE_SEPARATORS = re.compile(r"[\s,;]+")
# Claims that carry an API's scopes whatever the route's rules read: RFC 9068's scope,
# Entra's scp (a list in Okta's) and roles (an application's permissions in client
# credentials tokens), Auth0's permissions.
SCOPE_CLAIMS = ("scope", "scp", "roles", "permissions")


def carried_scopes(payload: Mapping[str, Any], claims: Iterable[str] = SCOPE_CLAIMS) -> set[str]:
    """Every scope the token could be read to carry: in each of `claims` (SCOPE_CLAIMS and
    the claims the route's required-claims rules read), a text split on whitespace, commas and
    semicolons as well as the spaces of RFC 9068, or a list of them. A rule may read any claim
    with any separator, so the product-scope check counts a scope however it is spelled."""
    found: set[str] = set()
    for name in claims:
        value = payload.get(name)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str):
                found.add(item)
                found.update(s for s in _SCOPE_SEPARATORS.split(item) if s)
    return found


def refusal(
    clients: ClientMap | None,
    api: str,
    payload: Mapping[str, Any],
    claims: Iterable[str] = SCOPE_CLAIMS,
) -> TokenRejected | None:
    """Why the token's client may not call `api` under require-subscribed-client, or None.
    `claims`: where the token may carry the API's scopes (`carried_scopes`)."""
    client_id = payload.get("client_id") or payload.get("azp")
    entry = clients.get(client_id) if clients is not None and isinstance(client_id, str) else None
    iss = payload.get("iss")
    if (
        entry is not None
        and entry.issuers is not None
        # Kept without a trailing slash (_issuers_of), as some issuers are not.
        and (not isinstance(iss, str) or iss.rstrip("/") not in entry.issuers)
    ):
        entry = None
    denied = entry.apis.get(api) if entry is not None else None
    if denied is None:
        return TokenRejected(
            "subscribed-client",
            "The token's client has no active subscription to a product that includes this API.",
            status=403,
            error="insufficient_scope",
        )
    outside = sorted(carried_scopes(payload, claims) & denied)
    if outside:
        return TokenRejected(
            "product-scope",
            "The token carries scopes the client's subscriptions do not grant: "
            + " ".join(outside)[:200]
            + ".",
            status=403,
            error="insufficient_scope",
        )
    return None

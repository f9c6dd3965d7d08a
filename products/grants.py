"""What a developer's application holds through its subscriptions, for the built-in provider
and the gateway.

identity/grants.py asks this before it puts an API's audience or scope in a token for a
client that a developer registered (applications/); gateway/clients.py builds its
require-subscribed-client map from the same rules. Clients an administrator set up (the
portal's sign-in client, the console's and the demo's clients) are first-party and are not
limited here.

A product grants, for each of its APIs, every scope the API's spec defines, or the subset
named in `Product.api_scopes` (a read-only Starter).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from products.models import Subscription


def spec_scope_descriptions(api: Any) -> dict[str, str]:
    """Scope -> description, as the API's default version declares them in its security
    schemes (the first non-empty description of a scope wins)."""
    version = api.default_version
    overview = version.overview if version is not None else {}
    schemes = overview.get("securitySchemes") if isinstance(overview, dict) else None
    found: dict[str, str] = {}
    for scheme in (schemes or {}).values():
        flows = scheme.get("flows") if isinstance(scheme, dict) else None
        for flow in (flows or {}).values():
            scopes = flow.get("scopes") if isinstance(flow, dict) else None
            if isinstance(scopes, dict):
                for scope, text in scopes.items():
                    if not found.get(str(scope)):
                        found[str(scope)] = str(text or "").strip()
    return found


def spec_scopes(api: Any) -> set[str]:
    """The OAuth scopes the API's default version declares in its security schemes."""
    return set(spec_scope_descriptions(api))


def scopes_granted(product: Any, api: Any, all_scopes: Iterable[str]) -> set[str]:
    """The scopes of `api` that `product` grants, out of `all_scopes` (the spec's)."""
    chosen = (
        (product.api_scopes or {}).get(api.slug) if isinstance(product.api_scopes, dict) else None
    )
    everything = set(all_scopes)
    if not isinstance(chosen, list):
        return everything
    return everything & {str(s) for s in chosen}


def application_of(client: Any) -> Any:
    """The developer application behind a provider client, or None for a first-party one."""
    from applications.models import Application

    pk = getattr(client, "pk", None)
    if pk is None:
        return None
    return Application.objects.filter(provider_client_id=pk).first()


def _active(api: Any, **whose: Any) -> Any:
    # A deactivated developer's subscriptions grant nothing, to them or their applications
    # (client credentials need no signed-in user).
    return Subscription.objects.filter(
        state=Subscription.ACTIVE,
        product__published=True,
        product__apis=api,
        owner__is_active=True,
        **whose,
    ).select_related("product")


def application_may_use(application: Any, api: Any, scope: str | None = None) -> bool:
    """An active subscription of this application to a published product offering `api`
    (and, when `scope` is given, granting that scope of it)."""
    return _subscriptions_grant(_active(api, application=application), api, scope)


def owner_may_use(user: Any, api: Any, scope: str | None = None) -> bool:
    """The same, through any of `user`'s own active subscriptions (for themselves or one of
    their applications): what a client shared by many developers
    (identity.Client.scopes_from_subscriptions) may put in `user`'s token."""
    if user is None or not getattr(user, "pk", None):
        return False
    return _subscriptions_grant(_active(api, owner=user), api, scope)


def _subscriptions_grant(subscriptions: Any, api: Any, scope: str | None) -> bool:
    if scope is None:
        return subscriptions.exists()
    every = spec_scopes(api)
    return any(scope in scopes_granted(sub.product, api, every) for sub in subscriptions)

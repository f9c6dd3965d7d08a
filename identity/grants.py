"""What the built-in provider may put in a token: `granted(client, scopes, resources)`.

Today a token may carry the OpenID scopes and, for each API, the scopes its spec defines,
for the audience `api://<slug>` of a published API (SECURITY.md case 73). Anything else is
refused with `invalid_scope` (RFC 6749) or `invalid_target` (RFC 8707). A developer's own
application gets only the APIs it holds through subscriptions, and of each only the scopes
its products grant (`_client_may`, which asks products/grants.py).

The `portal` scope (the /api/v1/ onboarding API, which can create applications and
subscriptions) goes only to a developer's own application asking with client credentials,
where the token acts for the application's owner, and to first-party clients the operator
lists in IDENTITY_PORTAL_SCOPE_CLIENTS (`_portal_scope_allowed`). A developer's web or
single-page app may not ask another user for it: that would hand one developer's application
the power to manage another's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from oauthlib.oauth2.rfc6749 import errors

from identity.scopes import STATIC_SCOPES
from identity.tokens import API_SCOPE, api_audience

AUDIENCE_PREFIX = "api://"
PORTAL_SCOPE = "portal"


class InvalidTargetError(errors.OAuth2Error):
    """RFC 8707 section 2: the resource is unknown, or not one this client may have."""

    error = "invalid_target"
    status_code = 400


@dataclass(frozen=True)
class Grant:
    scopes: tuple[str, ...]
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    error: str  # "invalid_scope" or "invalid_target"
    description: str

    def as_oauth_error(self, request: Any = None) -> errors.OAuth2Error:
        cls = InvalidTargetError if self.error == "invalid_target" else errors.InvalidScopeError
        return cls(description=self.description, request=request)


def _spec_scopes(api: Any) -> set[str]:
    from products.grants import spec_scopes

    return spec_scopes(api)


def _published_apis(slugs: Iterable[str]) -> dict[str, Any]:
    from apis.models import Api  # the catalog says which audiences exist

    wanted = set(slugs)
    if not wanted:
        return {}
    rows = Api.objects.filter(slug__in=wanted, is_published=True).select_related("default_version")
    return {api.slug: api for api in rows}


def _client_may(client: Any, api: Any, scope: str | None, user: Any) -> bool:
    """Whether `client` may have `scope` (or the audience alone) of `api` for `user` (None
    when no one signed in: client credentials).

    A developer's own application holds an API only through an active subscription to a
    product offering it, and only the scopes that product grants (all the spec defines, or
    the product's subset). A client many developers share (`scopes_from_subscriptions`, the
    console's) holds what the signed-in developer's subscriptions grant, and nothing without
    one; any other first-party client keeps every published API.
    """
    from products import grants as product_grants

    application = product_grants.application_of(client)
    if application is not None:
        return product_grants.application_may_use(application, api, scope)
    if getattr(client, "scopes_from_subscriptions", False):
        return product_grants.owner_may_use(user, api, scope)
    return True


def _portal_scope_allowed(client: Any, grant_type: str) -> bool:
    from products import grants as product_grants

    if product_grants.application_of(client) is not None:
        return grant_type == "client_credentials"
    return str(getattr(client, "client_id", "")) in settings.IDENTITY_PORTAL_SCOPE_CLIENTS


def granted(
    client: Any,
    requested_scopes: Iterable[str],
    resources: Iterable[str],
    grant_type: str = "",
    user: Any = None,
) -> Grant | Refusal:
    """The scopes and audiences a token for `client` may carry, or why not.

    `grant_type` is the token request's (empty for an authorization request); `user` the
    person the token is for (None for client credentials)."""
    scopes = list(dict.fromkeys(s for s in requested_scopes if s))
    if PORTAL_SCOPE in scopes and not _portal_scope_allowed(client, grant_type):
        return Refusal(
            "invalid_scope",
            "This client may not have the portal scope: ask for it with client credentials as "
            "your own machine application (register one at /applications/new/).",
        )
    targets = list(dict.fromkeys(r for r in resources if r))
    target_slugs: list[str] = []
    for resource in targets:
        slug = resource[len(AUDIENCE_PREFIX) :] if resource.startswith(AUDIENCE_PREFIX) else ""
        if not slug:
            return Refusal("invalid_target", "The resource is not the audience of an API here.")
        target_slugs.append(slug)
    scope_slugs: dict[str, str] = {}
    for scope in scopes:
        if scope in STATIC_SCOPES:
            continue
        match = API_SCOPE.match(scope)
        if match is None:
            return Refusal("invalid_scope", f"Unknown scope {scope}.")
        scope_slugs[scope] = match["slug"]
    apis = _published_apis([*target_slugs, *scope_slugs.values()])
    for resource, slug in zip(targets, target_slugs, strict=True):
        api = apis.get(slug)
        if api is None or not _client_may(client, api, None, user):
            return Refusal("invalid_target", f"No API here has the audience {resource}.")
    for scope, slug in scope_slugs.items():
        api = apis.get(slug)
        # One answer for a scope no API defines and one the client holds no grant for: told
        # apart, they named to any developer the APIs hidden from them (issue 9), as the
        # resource check above answers alike for an unknown and an ungranted audience.
        if (
            api is None
            or scope not in _spec_scopes(api)
            or not _client_may(client, api, scope, user)
        ):
            return Refusal("invalid_scope", f"This client may not have the scope {scope}.")
        if target_slugs and slug not in target_slugs:
            return Refusal("invalid_scope", f"The scope {scope} is not for the requested resource.")
    audiences = targets or [api_audience(s) for s in dict.fromkeys(scope_slugs.values())]
    return Grant(tuple(scopes), tuple(audiences))

"""What the consent page lists: the permissions a client asks for, by API.

Each API scope is shown under the API's name with the description its spec gives the scope
(securitySchemes flows); the OpenID scopes keep the provider's own wording. The text comes
from the catalog, so it is escaped by the template like any other spec content. An API the
signed-in user may not see is not named: its scopes are only counted (issue 9).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ObjectDoesNotExist

from identity.scopes import STATIC_SCOPES
from identity.tokens import API_SCOPE


@dataclass
class ApiPermissions:
    name: str
    slug: str
    scopes: list[tuple[str, str]] = field(default_factory=list)  # (scope, description)


@dataclass
class Permissions:
    apis: list[ApiPermissions]
    account: list[str]  # descriptions of the OpenID scopes (sign-in, profile, ...)
    hidden: int = 0  # scopes of APIs this user may not see, counted and not named


def permissions(scopes: Iterable[str], user: Any, resources: Iterable[str] = ()) -> Permissions:
    """`resources` (RFC 8707) name APIs too: a token for an API's audience may call it
    with no API scope at all, so the page names that API even when no scope of it is asked."""
    from products.grants import spec_scope_descriptions
    from products.visibility import visible_apis

    wanted = list(dict.fromkeys(scopes))
    by_slug: dict[str, list[str]] = {}
    for resource in resources:
        if resource.startswith("api://") and resource[len("api://") :]:
            by_slug.setdefault(resource[len("api://") :], [])
    account: list[str] = []
    for scope in wanted:
        if scope in STATIC_SCOPES:
            account.append(STATIC_SCOPES[scope])
            continue
        match = API_SCOPE.match(scope)
        if match is not None:
            by_slug.setdefault(match["slug"], []).append(scope)
    rows = visible_apis(user).filter(slug__in=by_slug, is_published=True)
    apis = {api.slug: api for api in rows.select_related("default_version")}
    result: list[ApiPermissions] = []
    hidden = 0
    for slug, api_scopes in by_slug.items():
        api = apis.get(slug)
        if api is None:
            # Hidden from this user, or no such API (which the grant check refuses first).
            hidden += max(len(api_scopes), 1)
            continue
        described = spec_scope_descriptions(api)
        entry = ApiPermissions(api.name, slug)
        for scope in api_scopes:
            verb = "Read data from" if scope.endswith(".read") else "Change data through"
            entry.scopes.append((scope, described.get(scope) or f"{verb} {api.name}"))
        if not api_scopes:
            entry.scopes.append(("", f"Call {api.name} for you"))
        result.append(entry)
    return Permissions(result, account, hidden)


@dataclass
class ClientFacts:
    """Who registered the client asking for consent, and where the answer goes: a
    developer's application is anyone's to register, so the page says it is not the portal's
    own, whether it is the user's own, and the host the browser returns to. Not which account
    made it: anyone with the client id can open the page, and an account name is often an
    e-mail address's local part."""

    by_developer: bool  # False for a client the portal's administrators made
    yours: bool
    return_host: str


def client_facts(client: Any, user: Any, redirect_uri: str) -> ClientFacts:
    try:
        owner = client.developer_application.owner
    except ObjectDoesNotExist:
        owner = None
    host = urlsplit(redirect_uri).hostname or ""
    if owner is None:
        return ClientFacts(False, False, host)
    return ClientFacts(True, owner.pk == getattr(user, "pk", None), host)

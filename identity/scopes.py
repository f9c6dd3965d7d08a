"""Scopes the built-in provider knows: the OpenID ones plus `<api-slug>.read|write`.

API scopes follow a pattern rather than a list so the provider needs to know nothing of
the catalog (contracts.md); a token for an API that does not exist opens nothing.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import BaseScopes

from identity.tokens import API_SCOPE

STATIC_SCOPES = {
    "openid": "Sign you in (OpenID Connect)",
    "profile": "See your name and username",
    "email": "See your email address",
    "offline_access": "Stay signed in (refresh tokens)",
    # /api/v1/ (onboarding/): acts for the owner of the developer's own application that
    # asks with client credentials, or for the user of a first-party client listed in
    # IDENTITY_PORTAL_SCOPE_CLIENTS; no one else gets it (identity/grants.py).
    "portal": "Manage your applications and subscriptions on this portal",
}


def is_known(scope: str) -> bool:
    return scope in STATIC_SCOPES or API_SCOPE.match(scope) is not None


class _Descriptions(dict[str, str]):
    def __missing__(self, scope: str) -> str:
        match = API_SCOPE.match(scope)
        if match is None:
            raise KeyError(scope)
        verb = "Read data from" if match["action"] == "read" else "Change data through"
        return f"{verb} the {match['slug']} API"


class Scopes(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        return _Descriptions(STATIC_SCOPES)

    def get_available_scopes(self, application: Any = None, request: Any = None, *a: Any, **k: Any):
        return list(STATIC_SCOPES)

    def get_default_scopes(self, application: Any = None, request: Any = None, *a: Any, **k: Any):
        return ["openid"]

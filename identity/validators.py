"""The OAuth2 validator of the built-in provider: API scopes, claims and the issuer."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from identity import issuer as issuer_mod
from identity.scopes import is_known


class Validator(OAuth2Validator):
    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        return bool(scopes) and all(is_known(s) for s in scopes)

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return issuer_mod.issuer_for_oauthlib(request)

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        full_name = user.get_full_name() or user.get_username()
        return {
            "name": full_name,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.get_username(),
            "email": user.email,
            "email_verified": bool(user.email),
        }

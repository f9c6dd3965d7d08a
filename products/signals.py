"""Receivers: group membership follows the provider's claim at each sign-in."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from django.dispatch import receiver

from products.groups import claim_values, sync_claim_groups


@receiver(user_logged_in)
def _groups_from_claim(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None:
        return
    extra = sociallogin.account.extra_data or {}
    claims: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        if isinstance(extra.get(part), dict):
            claims |= extra[part]
    values = claim_values(claims)
    if values is not None:  # no OIDC_GROUPS_CLAIM configured: memberships left alone
        sync_claim_groups(user, values)

"""Group membership taken from the sign-in provider's groups claim (OIDC_GROUPS_CLAIM).

Groups list the claim values that make a member (`groups:` in applyconfig, or the admin).
At each sign-in the user's claim memberships are set to exactly what the claim says now;
memberships added by hand in the portal are left alone.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from products.models import Group, Membership

log = logging.getLogger(__name__)


def claim_values(claims: dict[str, Any]) -> list[str] | None:
    """The configured claim's values (none when absent), or None when no claim is configured."""
    name = getattr(settings, "OIDC_GROUPS_CLAIM", "")
    if not name:
        return None
    pointers = claims.get("_claim_names")
    if name not in claims and isinstance(pointers, dict) and name in pointers:
        # Entra ID's "groups overage": past 200 groups the token carries a pointer to Microsoft
        # Graph instead of the claim. Read as no groups (fails closed), but say why, or the
        # developer silently loses every claim membership at this sign-in.
        log.warning(
            "The sign-in's %s claim is an overage pointer (_claim_names), not values: the "
            "user's claim memberships are removed. Emit fewer groups (groups assigned to the "
            "application, or app roles) so the token carries them.",
            name,
        )
    value = claims.get(name, [])
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int))]
    return []


def sync_claim_groups(user: Any, values: list[str]) -> set[str]:
    """Make the user's claim memberships match `values`; returns the groups' slugs."""
    wanted = {
        group.pk: group.slug
        for group in Group.objects.filter(builtin=False)
        # Only a list: a string stored by hand would be read as its letters.
        if isinstance(group.claim_values, list) and set(map(str, group.claim_values)) & set(values)
    }
    with transaction.atomic():
        current = Membership.objects.filter(user=user)
        current.filter(source=Membership.CLAIM).exclude(group_id__in=wanted).delete()
        have = set(current.values_list("group_id", flat=True))
        Membership.objects.bulk_create(
            [
                Membership(user=user, group_id=pk, source=Membership.CLAIM)
                for pk in wanted
                if pk not in have
            ],
            # A parallel sign-in of the same user may have added it since `have` was read.
            ignore_conflicts=True,
        )
    return set(wanted.values())

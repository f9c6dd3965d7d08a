"""The `groups` section of `manage.py applyconfig`: custom groups and the sign-in claim
values that make someone a member (OIDC_GROUPS_CLAIM names the claim).

    groups:
      - slug: partners
        name: Partner developers
        description: Companies under a partner agreement
        claims: [partner, 5d3c6a2e-0000-4000-8000-000000000001]   # roles or Entra group ids

Groups not named are left alone; the built-in groups (guests, developers, administrators)
cannot be declared. A group's `claims` list is its whole list.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from portal.lib.configfile import Context, Node

SECTION = "groups"
ORDER = 25  # before `products`, which name the groups that may see them

_KEYS = {"slug", "name", "description", "claims"}


@dataclass
class GroupPlan:
    slug: str
    name: str
    description: str
    claims: list[str]


def validate(node: Node, ctx: Context) -> list[GroupPlan]:
    from products.models import BUILTIN_GROUPS

    plans: list[GroupPlan] = []
    seen: set[str] = set()
    for item in node.items(SECTION):
        entry = item.mapping("a group", _KEYS)
        for required in ("slug", "name"):
            if required not in entry:
                raise item.error(f"a group needs {required}")
        slug = entry["slug"].scalar(str, "slug")
        try:
            validate_slug(slug)
        except ValidationError:
            raise entry["slug"].error("slug: letters, digits, '-' and '_' only") from None
        if slug.lower() in BUILTIN_GROUPS:  # `Administrators` would read as the built-in one
            raise entry["slug"].error(f"{slug} is a built-in group; its members are implicit")
        if slug in seen:
            raise item.error(f"the group {slug!r} is declared twice")
        seen.add(slug)
        plans.append(
            GroupPlan(
                slug=slug,
                name=entry["name"].scalar(str, "name"),
                description=(
                    entry["description"].scalar(str, "description")
                    if "description" in entry
                    else ""
                ),
                claims=entry["claims"].strings("claims") if "claims" in entry else [],
            )
        )
    ctx.results["groups"] = seen
    return plans


def apply(plans: list[GroupPlan], ctx: Context) -> list[str]:
    from products.models import Group

    out: list[str] = []
    for plan in plans:
        fields = {"name": plan.name, "description": plan.description, "claim_values": plan.claims}
        group = Group.objects.filter(slug=plan.slug).first()
        if group is None:
            Group.objects.create(slug=plan.slug, **fields)
            out.append(f"group {plan.slug}: added")
            continue
        changed = [name for name, value in fields.items() if getattr(group, name) != value]
        if changed:
            for name in changed:
                setattr(group, name, fields[name])
            group.save()
            out.append(f"group {plan.slug}: updated ({', '.join(changed)})")
    return out

"""The `products` section of `manage.py applyconfig`.

    products:
      - slug: starter
        name: Starter
        description: Keys at once, 60 calls a minute.   # Markdown
        published: true
        subscription-required: true      # default true
        approval-required: false         # default false
        subscriptions-limit: 1           # per developer; leave out for none
        terms: By subscribing you agree ...
        groups: [guests, developers]     # who may see it (built-in or `groups:` slugs)
        apis: [echo, petstore]
        api-scopes: {petstore: [petstore.read]}  # a subset per API; unnamed APIs: all scopes
        rate-limit: {calls: 60, period: 60}      # per subscription, seconds
        quota: {calls: 10000, kilobytes: 102400, period: 86400}   # either or both

Products not named are left alone. `apis` and `groups` are the whole lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from portal.lib.configfile import ConfigError, Context, Node, once_each
from portal.lib.names import name_problem

SECTION = "products"
ORDER = 30  # after `apis` and `groups`, which products name

_KEYS = {
    "slug", "name", "description", "published", "subscription-required", "approval-required",
    "subscriptions-limit", "terms", "groups", "apis", "rate-limit", "quota", "api-scopes",
}  # fmt: skip


@dataclass
class ProductPlan:
    slug: str
    line: int
    fields: dict[str, Any]
    groups: list[tuple[str, int]] = field(default_factory=list)
    apis: list[tuple[str, int]] = field(default_factory=list)
    # API slug -> (scopes, line): the subset of the API's scopes the product grants.
    api_scopes: dict[str, tuple[list[str], int]] = field(default_factory=dict)


def _positive(node: Node, what: str) -> int:
    value = node.scalar(int, what)
    if value < 1:
        raise node.error(f"{what} must be at least 1")
    return int(value)


def _limit(node: Node, what: str) -> tuple[int, int]:
    entry = node.mapping(what, {"calls", "period"})
    if "calls" not in entry:
        raise node.error(f"{what} needs calls")
    period = _positive(entry["period"], f"{what}.period") if "period" in entry else 60
    return _positive(entry["calls"], f"{what}.calls"), period


def _quota(node: Node) -> tuple[int | None, int | None, int]:
    """(calls, kilobytes, period): a quota counts calls, kilobytes, or both (as APIM's)."""
    entry = node.mapping("quota", {"calls", "kilobytes", "period"})
    if "calls" not in entry and "kilobytes" not in entry:
        raise node.error("quota needs calls, kilobytes or both")
    calls, kilobytes = (
        _positive(entry[k], f"quota.{k}") if k in entry else None for k in ("calls", "kilobytes")
    )
    period = _positive(entry["period"], "quota.period") if "period" in entry else 86400
    return calls, kilobytes, period


def _product(item: Node) -> ProductPlan:
    entry = item.mapping("a product", _KEYS)
    for required in ("slug", "name"):
        if required not in entry:
            raise item.error(f"a product needs {required}")
    slug = entry["slug"].scalar(str, "slug")
    try:
        validate_slug(slug)
    except ValidationError:
        raise entry["slug"].error("slug: letters, digits, '-' and '_' only") from None
    text = {k: entry[k].scalar(str, k) if k in entry else "" for k in ("description", "terms")}
    flags = {
        "published": ("published", False),
        "subscription-required": ("subscription_required", True),
        "approval-required": ("approval_required", False),
    }
    fields: dict[str, Any] = {"name": entry["name"].scalar(str, "name"), **text}
    if problem := name_problem(fields["name"]):
        raise entry["name"].error(f"name: {problem}")
    for key, (name, default) in flags.items():
        fields[name] = entry[key].scalar(bool, key) if key in entry else default
    fields["subscriptions_limit"] = (
        _positive(entry["subscriptions-limit"], "subscriptions-limit")
        if "subscriptions-limit" in entry
        else None
    )
    fields["rate_limit_calls"], fields["rate_limit_period"] = (
        _limit(entry["rate-limit"], "rate-limit") if "rate-limit" in entry else (None, 60)
    )
    fields["quota_calls"], fields["quota_kilobytes"], fields["quota_period"] = (
        _quota(entry["quota"]) if "quota" in entry else (None, None, 86400)
    )
    plan = ProductPlan(slug=slug, line=item.line, fields=fields)
    for key, target in (("groups", plan.groups), ("apis", plan.apis)):
        if key in entry:
            target.extend(
                (n.scalar(str, f"each item of {key}"), n.line) for n in entry[key].items(key)
            )
    if "api-scopes" in entry:
        named = {slug for slug, _ in plan.apis}
        for slug, node in entry["api-scopes"].mapping("api-scopes").items():
            if slug not in named:
                raise node.error(f"api-scopes: {slug!r} is not one of the product's apis")
            scopes = [n.scalar(str, f"each scope of {slug}") for n in node.items(slug)]
            plan.api_scopes[slug] = (list(dict.fromkeys(scopes)), node.line)
    return plan


def validate(node: Node, ctx: Context) -> list[ProductPlan]:
    return once_each(node, SECTION, _product, "product")


def apply(plans: list[ProductPlan], ctx: Context) -> list[str]:
    from apis.models import Api
    from products.grants import spec_scopes
    from products.models import Group, Product
    from products.visibility import apis_nobody_sees

    out: list[str] = []
    touched: list[Any] = []
    for plan in plans:
        groups = []
        for slug, line in plan.groups:
            group = Group.objects.filter(slug=slug).first()
            if group is None:
                raise ConfigError(line, f"the group {slug!r} does not exist")
            groups.append(group)
        apis = []
        for slug, line in plan.apis:
            api = Api.objects.filter(slug=slug).first()
            if api is None:
                raise ConfigError(line, f"the API {slug!r} does not exist")
            apis.append(api)
            if slug in plan.api_scopes:
                scopes, scopes_line = plan.api_scopes[slug]
                unknown = [s for s in scopes if s not in spec_scopes(api)]
                if unknown:
                    raise ConfigError(
                        scopes_line,
                        f"api-scopes: the API {slug!r} defines no scope {unknown[0]!r}",
                    )
        plan.fields["api_scopes"] = {slug: s for slug, (s, _) in plan.api_scopes.items()}
        product = Product.objects.filter(slug=plan.slug).first()
        created = product is None
        product = product or Product(slug=plan.slug)
        changed = [n for n, v in plan.fields.items() if getattr(product, n, None) != v]
        for name, value in plan.fields.items():
            setattr(product, name, value)
        if created or changed:
            product.save()
        if {g.pk for g in product.groups.all()} != {g.pk for g in groups}:
            product.groups.set(groups)
            changed.append("groups")
        if {a.pk for a in product.apis.all()} != {a.pk for a in apis}:
            product.apis.set(apis)
            changed.append("apis")
        if created:
            out.append(f"product {plan.slug}: added")
        elif changed:
            out.append(f"product {plan.slug}: updated ({', '.join(changed)})")
        if created or changed:
            touched.append(product)
    # After every product is written: another one in the file may still offer the APIs.
    for product in touched:
        hidden = apis_nobody_sees(product)
        if hidden:
            why = "is not published" if not product.published else "has no group"
            # A published product without groups still takes its existing keys.
            closed = "" if product.published else " and refused at the gateway"
            out.append(
                f"product {product.slug}: warning: it {why}, so "
                f"{', '.join(api.slug for api in hidden)} "
                f"{'is' if len(hidden) == 1 else 'are'} hidden from everyone but drafts' "
                f"viewers{closed}"
            )
    return out

"""The `apis` section of `manage.py applyconfig`: specs and publication; each entry's `gateway`
route is the gateway's (`gateway/applyconfig.py`).

    apis:
      - slug: orders
        spec: specs/orders.yaml          # file, folder or zip, relative to the config file
        published: true
        gateway:                          # omit to remove the API's route
          suffix: orders
          backend: https://orders.internal.example/v1   # or: echo, mock (required)
          validate-jwt:
            openid-config: https://login.example.com/.well-known/openid-configuration
            audiences: [api://orders]
      - slug: legacy                      # no spec: a plain proxy (pass-through, unpublished)
        published: false
        gateway: {backend: https://legacy.internal.example}

Every key, with types and defaults: docs/config-reference.md (generated from the schema,
`apis/config-schema.json` and the gateway's part). APIs not named in the file are left alone.
A spec whose bytes equal the current default version's is not imported again, so applying a
file twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.lib.configfile import ConfigError, Context, Node

SECTION = "apis"
ORDER = 10


@dataclass
class ApiPlan:
    slug: str
    line: int
    spec: Any  # a ParsedSpec, or None: keep the current spec (or none: a plain proxy)
    published: bool
    exists: bool
    route: Any = None  # gateway.applyconfig.RoutePlan, or None: no route


def _operations(slug: str, spec: Any) -> dict[str, str] | None:
    """operationId or slug -> slug of the API's operations; None when it has no spec."""
    from apis.models import Api, Operation

    if spec is not None:
        ops = [(o.operation_id, o.slug) for o in spec.operations if o.kind == "operation"]
    else:
        api = Api.objects.filter(slug=slug).first()
        if api is None or api.default_version_id is None:
            return None
        ops = list(
            Operation.objects.filter(
                version_id=api.default_version_id, kind=Operation.KIND_OPERATION
            ).values_list("operation_id", "slug")
        )
    found: dict[str, str] = {}
    for operation_id, op_slug in ops:
        found[op_slug] = op_slug
        if operation_id:
            found[operation_id] = op_slug
    return found


def validate(node: Node, ctx: Context) -> list[ApiPlan]:
    from apis.models import Api
    from apis.openapi import SpecError, load_path
    from gateway import applyconfig as gateway_config

    plans: list[ApiPlan] = []
    seen: set[str] = set()
    suffixes: set[str] = set()
    for item in node.items("apis"):
        entry = item.mapping("an API entry")
        slug = entry["slug"].scalar(str, "slug")
        if slug in seen:
            raise entry["slug"].error(f"the API {slug!r} is declared twice")
        seen.add(slug)
        spec = None
        if "spec" in entry:
            source = ctx.base_dir / entry["spec"].scalar(str, "spec")
            root = entry["root"].scalar(str, "root") if "root" in entry else None
            try:
                spec = load_path(source, root)
            except SpecError as exc:
                raise entry["spec"].error(f"the spec is refused: {exc}") from None
            except OSError as exc:
                raise entry["spec"].error(f"cannot read {source}: {exc.strerror or exc}") from None
        exists = Api.objects.filter(slug=slug).exists()
        operations = _operations(slug, spec)
        published = entry["published"].scalar(bool, "published") if "published" in entry else True
        if operations is None and published:
            where = entry.get("published", item)
            raise where.error(
                f"the API {slug!r} has no spec, so it cannot be published: give its spec, "
                "or published: false for a plain proxy"
            )
        plan = ApiPlan(slug, item.line, spec, published, exists)
        if "gateway" in entry:
            plan.route = gateway_config.validate_route(entry["gateway"], slug, operations, suffixes)
        elif operations is None and not exists:
            raise item.error(f"the API {slug!r} does not exist yet: give its spec or a gateway")
        plans.append(plan)
    return plans


def warnings(plans: list[ApiPlan], ctx: Context) -> list[ConfigError]:
    """Things that are valid but will not work as the file probably means."""
    from gateway import applyconfig as gateway_config

    found: list[ConfigError] = []
    for plan in plans:
        if plan.route is not None:
            found += gateway_config.route_warnings(plan.route)
    return found


def apply(plans: list[ApiPlan], ctx: Context) -> list[str]:
    from apis.importer import ImportRefused, import_spec
    from apis.models import Api
    from gateway import applyconfig as gateway_config

    out: list[str] = []
    for plan in plans:
        api = Api.objects.filter(slug=plan.slug).select_related("default_version").first()
        if plan.spec is not None:
            current = api.default_version if api else None
            same = (
                current is not None
                and bytes(current.original) == plan.spec.original
                and current.label == plan.spec.label
            )
            if not same:
                try:
                    result = import_spec(plan.spec, slug=plan.slug, publish=plan.published,
                                         replace=True)  # fmt: skip
                except ImportRefused as exc:
                    raise ConfigError(plan.line, str(exc)) from None
                out.append(result.summary_line())
                api = result.api
        if api is None:
            # A plain proxy: an API row for the route to hang on, with no spec and no page.
            api = Api.objects.create(slug=plan.slug, name=plan.slug, is_published=False)
            out.append(f"{plan.slug}: added without a spec (a plain proxy)")
        if api.is_published != plan.published:
            api.is_published = plan.published
            api.save(update_fields=["is_published", "updated"])
            out.append(f"{plan.slug}: {'published' if plan.published else 'unpublished'}")
        out += gateway_config.apply_route(api, plan.route, plan.line)
    return out

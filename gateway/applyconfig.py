"""The `apis` section of `manage.py applyconfig`: specs, publication, routes and policies.

    apis:
      - slug: orders
        spec: specs/orders.yaml          # file, folder or zip, relative to the config file
        published: true
        gateway:                          # omit to remove the API's route
          suffix: orders
          backend: https://orders.internal.example/v1   # or: echo, mock
          timeout: 30
          forward-claims: true
          validate-jwt:                   # APIM attribute names
            openid-config: https://login.example.com/.well-known/openid-configuration
            audiences: [api://orders]
            required-claims:
              - {name: scope, match: any, separator: " ", values: [orders.read], methods: [GET]}
          rate-limit-by-key: {calls: 100, renewal-period: 60, counter-key: subject}
          cors: {allowed-origins: [https://app.example.com]}

APIs not named in the file are left alone. A spec whose bytes equal the current default
version's is not imported again, so applying a file twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from portal.lib.configfile import ConfigError, Context, Node

SECTION = "apis"
ORDER = 10

_API_KEYS = {"slug", "spec", "root", "published", "gateway"}
_GATEWAY_KEYS = {
    "suffix", "backend", "timeout", "forward-claims", "enabled", "validate-jwt",
    "rate-limit-by-key", "cors",
}  # fmt: skip
_JWT_FIELDS: dict[str, tuple[str, Any]] = {
    # yaml key: (model field, type)
    "header-name": ("header_name", str),
    "query-parameter-name": ("query_parameter_name", str),
    "require-scheme": ("require_scheme", str),
    "failed-validation-httpcode": ("failed_validation_httpcode", int),
    "failed-validation-error-message": ("failed_validation_error_message", str),
    "require-expiration-time": ("require_expiration_time", bool),
    "require-signed-tokens": ("require_signed_tokens", bool),
    "clock-skew": ("clock_skew", int),
    "openid-config": ("openid_config", list),
    "issuer-signing-keys": ("issuer_signing_keys", "keys"),
    "audiences": ("audiences", list),
    "issuers": ("issuers", list),
    "algorithms": ("algorithms", list),
    "typ-exempt-issuers": ("typ_exempt_issuers", list),
    "require-rfc9068-claims": ("require_rfc9068_claims", bool),
    "max-lifetime": ("max_lifetime", int),
    "max-token-bytes": ("max_token_bytes", int),
    "strict-audience": ("strict_audience", bool),
}
_CLAIM_KEYS = {"name", "match", "separator", "values", "methods", "operation"}
_RATE_KEYS = {"calls", "renewal-period", "counter-key"}
_CORS_FIELDS = {
    "allowed-origins": "cors_allowed_origins",
    "allowed-methods": "cors_allowed_methods",
    "allowed-headers": "cors_allowed_headers",
    "expose-headers": "cors_expose_headers",
    "allow-credentials": "cors_allow_credentials",
    "max-age": "cors_max_age",
}


@dataclass
class ApiPlan:
    slug: str
    line: int
    spec: Any
    published: bool
    route: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    claims: list[dict[str, Any]] = field(default_factory=list)


def _field_errors(exc: ValidationError, lines: dict[str, int], default: int) -> ConfigError:
    if hasattr(exc, "error_dict"):
        name, errors = next(iter(exc.error_dict.items()))
        return ConfigError(lines.get(name, default), f"{name}: {errors[0].messages[0]}")
    return ConfigError(default, "; ".join(exc.messages))


def validate(node: Node, ctx: Context) -> list[ApiPlan]:
    from apis.openapi import SpecError, load_path

    plans: list[ApiPlan] = []
    seen: set[str] = set()
    suffixes: set[str] = set()
    for item in node.items("apis"):
        entry = item.mapping("an API entry", _API_KEYS)
        if "slug" not in entry:
            raise item.error("an API entry needs a slug")
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
        else:
            from apis.models import Api

            if not Api.objects.filter(slug=slug).exists():
                raise item.error(f"the API {slug!r} does not exist yet: give its spec")
        published = entry["published"].scalar(bool, "published") if "published" in entry else True
        plan = ApiPlan(slug, item.line, spec, published)
        if "gateway" in entry:
            _validate_gateway(entry["gateway"], plan, suffixes)
        plans.append(plan)
    return plans


def _validate_gateway(node: Node, plan: ApiPlan, suffixes: set[str]) -> None:
    from gateway.models import JwtPolicy, RequiredClaim, Route

    gw = node.mapping("gateway", _GATEWAY_KEYS)
    lines: dict[str, int] = {}
    route: dict[str, Any] = {"suffix": plan.slug, "is_enabled": True}
    if "suffix" in gw:
        route["suffix"] = gw["suffix"].scalar(str, "suffix").strip("/")
        lines["suffix"] = gw["suffix"].line
    if route["suffix"] in suffixes:
        raise node.error(f"the suffix {route['suffix']!r} is used twice in this file")
    suffixes.add(route["suffix"])
    backend = gw["backend"].scalar(str, "backend") if "backend" in gw else "mock"
    lines["upstream_url"] = lines["backend"] = gw["backend"].line if "backend" in gw else node.line
    if backend in ("echo", "mock"):
        route["backend"], route["upstream_url"] = backend, ""
    else:
        route["backend"], route["upstream_url"] = Route.BACKEND_UPSTREAM, backend
    for key, name, kind in (
        ("timeout", "timeout", int),
        ("forward-claims", "forward_claims", bool),
        ("enabled", "is_enabled", bool),
    ):
        if key in gw:
            route[name] = gw[key].scalar(kind, key)
            lines[name] = gw[key].line
    route.update(rate_limit_calls=None, rate_limit_period=60, rate_limit_key="address")
    if "rate-limit-by-key" in gw:
        rl = gw["rate-limit-by-key"].mapping("rate-limit-by-key", _RATE_KEYS)
        if "calls" not in rl:
            raise gw["rate-limit-by-key"].error("rate-limit-by-key needs calls")
        route["rate_limit_calls"] = rl["calls"].scalar(int, "calls")
        if route["rate_limit_calls"] < 1:
            raise rl["calls"].error("calls must be at least 1")
        if "renewal-period" in rl:
            route["rate_limit_period"] = rl["renewal-period"].scalar(int, "renewal-period")
            if route["rate_limit_period"] < 1:
                raise rl["renewal-period"].error("renewal-period must be at least 1 second")
        if "counter-key" in rl:
            key = rl["counter-key"].scalar(str, "counter-key")
            if key not in ("subject", "client_id", "address"):
                raise rl["counter-key"].error("counter-key is subject, client_id or address")
            route["rate_limit_key"] = key
    route.update(cors_allowed_origins=[], cors_allow_credentials=False, cors_max_age=600,
                 cors_allowed_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                 cors_allowed_headers=[], cors_expose_headers=[])  # fmt: skip
    if "cors" in gw:
        cors = gw["cors"].mapping("cors", set(_CORS_FIELDS))
        for key, name in _CORS_FIELDS.items():
            if key not in cors:
                continue
            lines[name] = cors[key].line
            if key == "allow-credentials":
                route[name] = cors[key].scalar(bool, key)
            elif key == "max-age":
                route[name] = cors[key].scalar(int, key)
            else:
                route[name] = cors[key].strings(key)
    candidate = Route(**route)
    try:
        candidate.clean_fields(exclude=["api"])
        candidate.clean()
    except ValidationError as exc:
        raise _field_errors(exc, lines, node.line) from None
    plan.route = route

    if "validate-jwt" not in gw:
        return
    jwt_node = gw["validate-jwt"]
    jwt = jwt_node.mapping("validate-jwt", {*_JWT_FIELDS, "required-claims"})
    policy: dict[str, Any] = {}
    plines: dict[str, int] = {}
    for key, (name, kind) in _JWT_FIELDS.items():
        if key not in jwt:
            continue
        plines[name] = jwt[key].line
        if kind is list:
            policy[name] = jwt[key].strings(key)
        elif kind == "keys":
            keys = []
            for k in jwt[key].items(key):
                value = k.plain()
                if not isinstance(value, dict):
                    raise k.error("each signing key is a mapping (kid, pem or n and e)")
                keys.append(value)
            policy[name] = keys
        elif kind is str:
            # Text is stripped as the admin's form fields strip it, so both give one policy.
            policy[name] = jwt[key].scalar(str, key).strip()
        else:
            policy[name] = jwt[key].scalar(kind, key)
    candidate_policy = JwtPolicy(**policy)
    try:
        candidate_policy.clean_fields(exclude=["route"])
        candidate_policy.clean()
    except ValidationError as exc:
        raise _field_errors(exc, plines, jwt_node.line) from None
    plan.policy = policy
    if "required-claims" in jwt:
        for position, cnode in enumerate(jwt["required-claims"].items("required-claims")):
            c = cnode.mapping("a required claim", _CLAIM_KEYS)
            if "name" not in c or "values" not in c:
                raise cnode.error("a required claim needs name and values")
            claim = {
                "name": c["name"].scalar(str, "name").strip(),
                "values": c["values"].strings("values"),
                "match": c["match"].scalar(str, "match") if "match" in c else "all",
                "separator": c["separator"].scalar(str, "separator") if "separator" in c else "",
                "methods": " ".join(m.upper() for m in c["methods"].strings("methods"))
                if "methods" in c
                else "",
                "operation": c["operation"].scalar(str, "operation").strip()
                if "operation" in c
                else "",
                "position": position,
            }
            if claim["match"] not in ("all", "any"):
                raise c["match"].error("match is all or any")
            try:
                RequiredClaim(**claim).clean()
            except ValidationError as exc:
                raise _field_errors(exc, {}, cnode.line) from None
            plan.claims.append(claim)


def _update(obj: Any, values: dict[str, Any]) -> bool:
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in changed:
        setattr(obj, k, values[k])
    return bool(changed)


def apply(plans: list[ApiPlan], ctx: Context) -> list[str]:
    from apis.importer import ImportRefused, import_spec
    from apis.models import Api
    from gateway.models import JwtPolicy, RequiredClaim, Route

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
        assert api is not None
        if api.is_published != plan.published:
            api.is_published = plan.published
            api.save(update_fields=["is_published", "updated"])
            out.append(f"{plan.slug}: {'published' if plan.published else 'unpublished'}")
        existing = Route.objects.filter(api=api).first()
        if plan.route is None:
            if existing is not None:
                existing.delete()
                out.append(f"{plan.slug}: gateway route removed")
            continue
        clash = Route.objects.filter(suffix=plan.route["suffix"]).exclude(api=api).first()
        if clash is not None:
            raise ConfigError(
                plan.line, f"the suffix {plan.route['suffix']!r} belongs to {clash.api.slug}"
            )
        route = existing or Route(api=api)
        if _update(route, plan.route) or existing is None:
            route.save()
            out.append(f"{plan.slug}: gateway route /{route.suffix} → {route.backend}")
        policy = JwtPolicy.objects.filter(route=route).first()
        if plan.policy is None:
            if policy is not None:
                policy.delete()
                out.append(f"{plan.slug}: validate-jwt removed")
            continue
        defaults = {f.name: f.get_default() for f in JwtPolicy._meta.concrete_fields
                    if f.name not in ("id", "route", "updated")}  # fmt: skip
        wanted = {**defaults, **plan.policy}
        created = policy is None
        policy = policy or JwtPolicy(route=route)
        if _update(policy, wanted) or created:
            policy.save()
            out.append(f"{plan.slug}: validate-jwt {'added' if created else 'updated'}")
        current_claims = [
            {k: getattr(c, k) for k in plan.claims[0]} if plan.claims else {}
            for c in policy.claims.all()
        ]
        if current_claims != plan.claims:
            policy.claims.all().delete()
            RequiredClaim.objects.bulk_create(
                [RequiredClaim(policy=policy, **claim) for claim in plan.claims]
            )
            out.append(f"{plan.slug}: {len(plan.claims)} required claims set")
    return out

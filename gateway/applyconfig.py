"""An API entry's `gateway` route in `manage.py applyconfig` (the `apis` section itself is
`apis/applyconfig.py`'s): backend, validate-jwt, rate-limit-by-key and CORS.

    gateway:
      suffix: orders
      backend: https://orders.internal.example/v1   # or: echo, mock; required
      timeout: 30
      pass-through: false           # calls that match no operation of the spec get 404
      validate-jwt:                 # APIM attribute names
        openid-config: https://login.example.com/.well-known/openid-configuration
        audiences: [api://orders]   # or: any (no audience check), never an empty list
        max-lifetime: 3600          # or: none (no cap); never 0
        required-claims:
          - {name: scope, match: any, separator: " ", values: [orders.read], methods: [GET]}
      rate-limit-by-key: {calls: 100, renewal-period: 60, counter-key: subject,
                          on-store-unavailable: allow}
      cors: {allowed-origins: [https://app.example.com]}

The file's shape (keys, types, ranges) is checked first against the schema
(`gateway/config-schema.json`); this module checks what a schema cannot (the model's own
rules, operations that exist) and writes. Error messages name keys as the file writes them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from portal.lib.configfile import ConfigError, Node

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
    "audiences": ("audiences", "audiences"),
    "issuers": ("issuers", list),
    "algorithms": ("algorithms", list),
    "typ-exempt-issuers": ("typ_exempt_issuers", list),
    "require-rfc9068-claims": ("require_rfc9068_claims", bool),
    "max-lifetime": ("max_lifetime", "lifetime"),
    "max-token-bytes": ("max_token_bytes", int),
    "strict-audience": ("strict_audience", bool),
    "require-subscribed-client": ("require_subscribed_client", bool),
}
_ROUTE_FIELDS = {
    "suffix": "suffix",
    "backend": "upstream_url",
    "timeout": "timeout",
    "forward-claims": "forward_claims",
    "enabled": "is_enabled",
    "pass-through": "pass_through",
    "calls": "rate_limit_calls",
    "renewal-period": "rate_limit_period",
    "counter-key": "rate_limit_key",
    "on-store-unavailable": "rate_limit_on_store_unavailable",
}
_CORS_FIELDS = {
    "allowed-origins": "cors_allowed_origins",
    "allowed-methods": "cors_allowed_methods",
    "allowed-headers": "cors_allowed_headers",
    "expose-headers": "cors_expose_headers",
    "allow-credentials": "cors_allow_credentials",
    "max-age": "cors_max_age",
}
# Model field -> the key the file writes, so errors from model validation name the file's key.
_KEY_FOR = {
    **{name: key for key, name in _ROUTE_FIELDS.items()},
    **{name: f"cors.{key}" for key, name in _CORS_FIELDS.items()},
    **{name: f"validate-jwt.{key}" for key, (name, _) in _JWT_FIELDS.items()},
}


@dataclass
class RoutePlan:
    line: int
    route: dict[str, Any]
    policy: dict[str, Any] | None = None
    claims: list[dict[str, Any]] = field(default_factory=list)
    openid_config: list[tuple[str, int]] = field(default_factory=list)  # url, line


def _field_errors(exc: ValidationError, lines: dict[str, int], default: int) -> ConfigError:
    if hasattr(exc, "error_dict"):
        name, errors = next(iter(exc.error_dict.items()))
        key = _KEY_FOR.get(name, name.replace("_", "-"))
        return ConfigError(lines.get(name, default), f"{key}: {errors[0].messages[0]}")
    return ConfigError(default, "; ".join(exc.messages))


def validate_route(
    node: Node, slug: str, operations: dict[str, str] | None, suffixes: set[str]
) -> RoutePlan:
    """A route for the API `slug`; `operations` (operationId or slug -> slug) is None for an
    API without a spec, which makes the route a plain pass-through proxy."""
    from gateway.models import Route

    gw = node.mapping("gateway")
    lines: dict[str, int] = {}
    route: dict[str, Any] = {"suffix": slug, "is_enabled": True}
    if "suffix" in gw:
        route["suffix"] = gw["suffix"].scalar(str, "suffix").strip("/")
        lines["suffix"] = gw["suffix"].line
    if route["suffix"] in suffixes:
        raise node.error(f"the suffix {route['suffix']!r} is used twice in this file")
    suffixes.add(route["suffix"])
    backend = gw["backend"].scalar(str, "backend")
    lines["upstream_url"] = lines["backend"] = gw["backend"].line
    if backend in ("echo", "mock"):
        route["backend"], route["upstream_url"] = backend, ""
    else:
        route["backend"], route["upstream_url"] = Route.BACKEND_UPSTREAM, backend
    if backend == "mock" and operations is None:
        raise gw["backend"].error("backend: mock answers from the spec, and this API has none")
    simple: tuple[tuple[str, str, type], ...] = (
        ("timeout", "timeout", int),
        ("forward-claims", "forward_claims", bool),
        ("enabled", "is_enabled", bool),
        ("pass-through", "pass_through", bool),
    )
    for key, name, kind in simple:
        if key in gw:
            route[name] = gw[key].scalar(kind, key)
            lines[name] = gw[key].line
    if operations is None:
        if route.get("pass_through") is False:
            raise gw["pass-through"].error(
                "pass-through: false needs a spec to match operations; this API has none"
            )
        route["pass_through"] = True
    route.setdefault("pass_through", False)
    route.update(rate_limit_calls=None, rate_limit_period=60, rate_limit_key="address",
                 rate_limit_on_store_unavailable="allow")  # fmt: skip
    if "rate-limit-by-key" in gw:
        rl = gw["rate-limit-by-key"].mapping("rate-limit-by-key")
        rate_keys: tuple[tuple[str, type], ...] = (
            ("calls", int),
            ("renewal-period", int),
            ("counter-key", str),
            ("on-store-unavailable", str),
        )
        for key, kind in rate_keys:
            if key in rl:
                route[_ROUTE_FIELDS[key]] = rl[key].scalar(kind, key)
                lines[_ROUTE_FIELDS[key]] = rl[key].line
    route.update(cors_allowed_origins=[], cors_allow_credentials=False, cors_max_age=600,
                 cors_allowed_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                 cors_allowed_headers=[], cors_expose_headers=[])  # fmt: skip
    if "cors" in gw:
        cors = gw["cors"].mapping("cors")
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
    plan = RoutePlan(node.line, route)
    if "validate-jwt" in gw:
        _validate_jwt(gw["validate-jwt"], plan, operations)
    return plan


def _validate_jwt(jwt_node: Node, plan: RoutePlan, operations: dict[str, str] | None) -> None:
    from gateway.models import JwtPolicy, RequiredClaim

    jwt = jwt_node.mapping("validate-jwt")
    policy: dict[str, Any] = {}
    plines: dict[str, int] = {}
    for key, (name, kind) in _JWT_FIELDS.items():
        if key not in jwt:
            continue
        plines[name] = jwt[key].line
        if kind is list:
            policy[name] = jwt[key].strings(key)
        elif kind == "audiences":
            # `any` is kept as the string "any": the policy skips the audience check.
            value = jwt[key].plain()
            policy[name] = "any" if value == "any" else jwt[key].strings(key)
        elif kind == "lifetime":
            value = jwt[key].plain()
            policy[name] = None if value == "none" else jwt[key].scalar(int, key)
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
    plan.openid_config = [
        (url, jwt["openid-config"].line) for url in policy.get("openid_config", [])
    ]
    candidate_policy = JwtPolicy(**policy)
    try:
        candidate_policy.clean_fields(exclude=["route"])
        candidate_policy.clean()
    except ValidationError as exc:
        raise _field_errors(exc, plines, jwt_node.line) from None
    plan.policy = policy
    if "required-claims" not in jwt:
        return
    for position, cnode in enumerate(jwt["required-claims"].items("required-claims")):
        c = cnode.mapping("a required claim")
        claim = {
            "name": c["name"].scalar(str, "name").strip(),
            "values": c["values"].strings("values"),
            "match": c["match"].scalar(str, "match") if "match" in c else "all",
            "separator": c["separator"].scalar(str, "separator") if "separator" in c else "",
            "methods": " ".join(m.upper() for m in c["methods"].strings("methods"))
            if "methods" in c
            else "",
            "operation": "",
            "position": position,
        }
        if "operation" in c:
            wanted = c["operation"].scalar(str, "operation").strip()
            if operations is None:
                raise c["operation"].error(
                    "operation: an operation-bound rule needs a spec; this API has none"
                )
            if wanted not in operations:
                raise c["operation"].error(
                    f"operation: the API has no operation {wanted!r} (give its operationId)"
                )
            claim["operation"] = operations[wanted]
        if claim["match"] not in ("all", "any"):
            raise c["match"].error("match is all or any")
        try:
            RequiredClaim(**claim).clean()
        except ValidationError as exc:
            raise _field_errors(exc, {}, cnode.line) from None
        plan.claims.append(claim)


def route_warnings(plan: RoutePlan) -> list[ConfigError]:
    """openid-config hosts the gateway will refuse to fetch keys from (private and not
    allowed): without a warning they show only as 503 at call time."""
    from gateway.keys import address_problem, private_allowance
    from gateway.upstream import parse_origin
    from portal.lib import addresses

    found: list[ConfigError] = []
    allowance = private_allowance()
    for url, line in plan.openid_config:
        try:
            origin, _ = parse_origin(url)
        except ValueError:
            continue
        problem = addresses.name_problem(origin.host)
        if problem is None:
            try:
                ip = ipaddress.ip_address(origin.host.strip("[]"))
                resolved = [str(ip)]
            except ValueError:
                try:
                    infos = socket.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
                except (OSError, UnicodeError):
                    found.append(ConfigError(line, f"openid-config: cannot resolve {origin.host}"))
                    continue
                resolved = [str(info[4][0]) for info in infos]
            for address in resolved:
                problem = address_problem(address, origin.host, origin.port, allowance) or None
                if problem:
                    break
        if problem:
            found.append(
                ConfigError(
                    line,
                    f"openid-config {url}: {problem}; the gateway will not fetch its keys and "
                    "will answer 503 (allow "
                    f"{origin.host}:{origin.port} in GATEWAY_KEY_FETCH_PRIVATE_HOSTS if it is "
                    "yours)",
                )
            )
    return found


def _update(obj: Any, values: dict[str, Any]) -> bool:
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in changed:
        setattr(obj, k, values[k])
    return bool(changed)


def apply_route(api: Any, plan: RoutePlan | None, line: int) -> list[str]:
    from gateway import version
    from gateway.models import JwtPolicy, RequiredClaim, Route

    out: list[str] = []
    existing = Route.objects.filter(api=api).first()
    if plan is None:
        if existing is not None:
            existing.delete()
            out.append(f"{api.slug}: gateway route removed")
        return out
    clash = Route.objects.filter(suffix=plan.route["suffix"]).exclude(api=api).first()
    if clash is not None:
        raise ConfigError(line, f"the suffix {plan.route['suffix']!r} belongs to {clash.api.slug}")
    route = existing or Route(api=api)
    if _update(route, plan.route) or existing is None:
        route.save()
        out.append(f"{api.slug}: gateway route /{route.suffix} → {route.backend}")
    policy = JwtPolicy.objects.filter(route=route).first()
    if plan.policy is None:
        if policy is not None:
            policy.delete()
            out.append(f"{api.slug}: validate-jwt removed")
        return out
    defaults = {f.name: f.get_default() for f in JwtPolicy._meta.concrete_fields
                if f.name not in ("id", "route", "updated")}  # fmt: skip
    wanted = {**defaults, **plan.policy}
    created = policy is None
    policy = policy or JwtPolicy(route=route)
    if _update(policy, wanted) or created:
        policy.save()
        out.append(f"{api.slug}: validate-jwt {'added' if created else 'updated'}")
    current_claims = [
        {k: getattr(c, k) for k in plan.claims[0]} if plan.claims else {}
        for c in policy.claims.all()
    ]
    if current_claims != plan.claims:
        policy.claims.all().delete()
        RequiredClaim.objects.bulk_create(
            [RequiredClaim(policy=policy, **claim) for claim in plan.claims]
        )
        version.bump()  # bulk_create sends no post_save
        out.append(f"{api.slug}: {len(plan.claims)} required claims set")
    return out

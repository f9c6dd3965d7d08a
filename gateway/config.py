"""Gateway configuration in memory: routes and policies as frozen objects.

`load_routes()` reads the tables once (synchronous, run in a thread by the gateway) and
`config_fingerprint()` is a cheap query the gateway polls to know when to reload.
`policy_errors()` is the one validator for a validate-jwt policy, used by the admin's
`clean()` and by `applyconfig` before anything is written.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from django.db.models import Count, Max, Q

from accounts.issuers import is_template, multi_tenant_authority
from apis.openapi.query_keys import fixed_query
from gateway.jwt import SUPPORTED_ALGORITHMS, ClaimRule, Policy, PublicKey, key_from_config
from gateway.matching import TemplateTree, template_pattern
from gateway.upstream import Origin, parse_origin
from portal.lib.headers import iis_unescape, param_key

log = logging.getLogger("gateway")

if TYPE_CHECKING:
    from gateway.models import JwtPolicy, Route


@dataclass(frozen=True)
class Cors:
    origins: frozenset[str]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    credentials: bool
    max_age: int

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins


@dataclass(frozen=True)
class RateLimit:
    calls: int
    period: int
    key: str
    # When the shared counter store is down: "allow" (fail open) or "deny" (503).
    on_store_unavailable: str = "allow"


_NO_PAIRS: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class OperationMatch:
    method: str
    template: str  # the spec's path template: `/pets/{id}`
    slug: str
    data: dict[str, Any]
    # Pairs the call's query must hold: an `x-ms-paths` key's (apis/openapi/query_keys.py).
    query: tuple[tuple[str, str], ...] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False)
    literal_length: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pattern, literal = template_pattern(self.template)
        object.__setattr__(self, "pattern", pattern)
        object.__setattr__(self, "literal_length", literal)


@dataclass
class RouteConfig:
    api_slug: str
    suffix: str
    backend: str
    timeout: float
    forward_claims: bool
    origin: Origin | None = None
    base_path: str = ""
    policy: Policy | None = None
    rate_limit: RateLimit | None = None
    cors: Cors | None = None
    operations: list[OperationMatch] = field(default_factory=list)
    version_id: int | None = None
    # Calls that match no operation of the spec go to the backend anyway (else 404).
    pass_through: bool = False
    mock_cache: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    api_id: int | None = None  # for usage events (usage/recorder.py)
    # Names an `x-ms-paths` key fixes (Azure): a call's query is read only when there are.
    query_names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # What is derived from the operations (the exact and loose template trees, each
        # operation's rivals), with the operation count it was built for: state, not
        # configuration (no field, so route comparisons leave it out). See _derived.
        self._built: dict[object, tuple[int, Any]] = {}

    @functools.cached_property
    def prefix_bytes(self) -> bytes:
        return ("/" + self.suffix).encode()

    @property
    def has_spec(self) -> bool:
        """Calls are matched against the API's operations (404 when none matches)."""
        return self.version_id is not None or bool(self.operations)

    def match_operation(self, method: str, path: str, query: bytes = b"") -> OperationMatch | None:
        """The operation whose path template matches exactly (most literal characters win,
        then the most query pairs an `x-ms-paths` key fixes, all of which `query` must hold).

        Case-sensitive, a `{param}` never spans `/`, a trailing slash only where the template
        has one. HEAD matches a GET operation when the spec has no HEAD of its own."""
        method = method.lower()
        pairs = _NO_PAIRS
        if self.query_names:
            listed = self._query_pairs(query)
            if listed is None:
                return None
            pairs = frozenset(listed)
        best = self._match(method, path, pairs)
        if best is None and method == "head":
            best = self._match("get", path, pairs)
        # Only a template with a `{param}` can take a sibling's path (most bench and demo
        # routes have none, and the check is a call).
        if best is not None and "{" in best.template and self._takes_a_sibling(best, path):
            return None
        return best

    def _takes_a_sibling(self, op: OperationMatch, path: str) -> bool:
        """Whether `path`, which `op` matched through a `{param}`, is a more specific operation
        of the same method in another spelling: `/pets/MINE` or `/pets/mine.json` matched
        `/pets/{id}` beside `/pets/mine`, which ASP.NET Core (any case), Rails and older Spring
        (a format suffix) and Windows (a trailing dot) run as `/pets/mine`, past its rules."""
        found: dict[int, tuple[re.Pattern[str], ...]] = self._derived("rivals", self._find_rivals)
        rivals = found.get(id(op))
        if not rivals:
            return False  # the usual case: one dict lookup
        stems = _stems(path)
        return any(rival.fullmatch(stem) for rival in rivals for stem in stems)

    def _find_rivals(self) -> dict[int, tuple[re.Pattern[str], ...]]:
        """Per operation with a `{param}`: the loosened path patterns of the operations of its
        method with more literal characters whose paths its own pattern takes."""
        found: dict[int, list[re.Pattern[str]]] = {}
        tree = self._trees(exact=True)
        for other in self.operations:
            # The templates that take this one's path (its `{param}`s as written: the tree
            # reads `{x}` as a segment like any other), through the tree, not n * n regexes.
            for position in tree.matches(other.template):
                op = self.operations[position]
                if (
                    op.method == other.method
                    and op.literal_length < other.literal_length
                    and "{" in op.template
                ):
                    loose = template_pattern(_loosen(other.template))[0]
                    found.setdefault(id(op), []).append(loose)
        return {key: tuple(patterns) for key, patterns in found.items()}

    def _query_pairs(self, query: bytes) -> list[tuple[str, str]] | None:
        """The query's pairs, or None when backends may read a name an `x-ms-paths` key fixes
        differently: given twice (`?comp=properties&comp=list`: a backend may read either
        value), in another case (`COMP=list`: ASP.NET Core reads names without case), or only
        once `;` separates pairs (`x=1;comp=list`: Rack, behind Rails, splits there too). The
        gateway then cannot know which operation's policy applies."""
        text = query.decode("latin-1")
        listed = parse_qsl(text, keep_blank_values=True)
        # Each name as backends read it (param_key: any case, IIS's %uXXXX, a list's `[]`,
        # cut at a NUL, PHP's leading spaces), so `%u0063omp=list` or `comp[]=list` is a
        # spelling of `comp` that must be written as the key writes it.
        lowered = {param_key(name) for name in self.query_names}

        def fixed(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
            return [(param_key(n), value) for n, value in pairs if param_key(n) in lowered]

        if ";" in text:
            split = parse_qsl(text.replace(";", "&"), keep_blank_values=True)
            if fixed(split) != fixed(listed):
                return None
        named = [(name, value) for name, value in listed if param_key(name) in lowered]
        if len({n.lower() for n, _ in named}) != len(named) or any(
            # A value with an IIS escape left (`comp=%u006Cist`: comp=list to System.Web,
            # not to others) names another operation to some backends.
            name not in self.query_names or iis_unescape(value) != value
            for name, value in named
        ):
            return None
        return listed

    def loosely_matches(self, method: str, path: str, query: bytes = b"") -> bool:
        """Whether `path` is an operation's path in another spelling: other letter case, a
        trailing slash added or left out, a format suffix (`.json`, `.foo`: anything after a
        dot in the last segment) or a trailing dot added or left out. Many backends (Express,
        ASP.NET Core, Rails, Spring before 5.3) read it as that operation, so a pass-through
        route must not forward it past the operation's rules; nor a query that names an
        `x-ms-paths` key's fixed name ambiguously. Asked only of calls that matched no
        operation exactly."""
        if self.query_names and self._query_pairs(query) is None:
            return True
        method = method.lower()
        methods = (method, "get") if method == "head" else (method,)
        tree = self._trees(exact=False)
        positions = {p for stem in _stems(path) for p in tree.matches(stem)}
        for position in positions:
            op = self.operations[position]
            # An `x-ms-paths` key at this very path that the query does not hold: no match,
            # as a call to a path with no operation.
            if op.method in methods and not (op.query and op.pattern.fullmatch(path)):
                return True
        return False

    def index_operations(self) -> None:
        """Builds the template trees now, in load_routes' thread, rather than on the event
        loop in the route's first call (Kubernetes' take 4 ms)."""
        self._trees(exact=True)
        if self.pass_through:
            self._trees(exact=False)
        self._derived("rivals", self._find_rivals)

    def _trees(self, exact: bool) -> TemplateTree:
        def build() -> TemplateTree:
            templates = [op.template for op in self.operations]
            return TemplateTree(
                templates if exact else [(_loosen(t), _unsuffixed(t)) for t in templates]
            )

        tree: TemplateTree = self._derived(exact, build)
        return tree

    def _derived(self, key: object, build: Callable[[], Any]) -> Any:
        """What `build` derives from the operations, built again only when operations were
        added (a route being set up, a test)."""
        count = len(self.operations)
        built = self._built.get(key)
        if built is None or built[0] != count:
            built = self._built[key] = (count, build())
        return built[1]

    def _match(
        self, method: str, path: str, pairs: frozenset[tuple[str, str]]
    ) -> OperationMatch | None:
        best: OperationMatch | None = None
        rank = (0, 0)
        tied = False
        built = self._built.get(True)  # self._trees(True), without its call on the hot path
        tree = built[1] if built and built[0] == len(self.operations) else self._trees(True)
        for position in tree.matches(path):
            op = self.operations[position]
            if op.method == method and (not op.query or pairs.issuperset(op.query)):
                mine = (op.literal_length, len(op.query))
                if best is None or mine > rank:
                    best, rank, tied = op, mine, False
                elif mine == rank and op.query:
                    tied = True  # `?comp=list&restype=container` holds two keys of one pair
        return None if tied else best


def _loosen(path: str) -> str:
    """A path as backends that ignore letter case and a trailing slash read it."""
    if not path.isascii():
        path = "".join(map(_fold, unicodedata.normalize("NFKC", path)))
    return path.lower().removesuffix("/") or "/"


def _fold(char: str) -> str:
    """One character as case-insensitive matches compare it: Java's equalsIgnoreCase (Spring)
    and .NET's OrdinalIgnoreCase (ASP.NET Core) compare upper or lower case forms, so `ſ`
    (long s, upper case `S`) is `s` to them, `ı` (dotless i) is `i` and `İ` is `i`."""
    upper = char.upper()
    lower = (upper if len(upper) == 1 else char).lower()
    return lower[0] if lower else char


# A format suffix on a template's last segment (`.json`, `.xml`), or a bare trailing dot. Only
# the usual formats here: a call's path is also cut at every dot (`_stems`).
_SUFFIX = re.compile(r"(?<=[^/])\.(?:json|xml|ya?ml|csv|txt|html?|js|atom|rss)?$")


def _unsuffixed(path: str) -> str:
    """The same without a format suffix: Rails routes `/stores.json` to `/stores`, as Spring
    did by default before 5.3, and Windows drops a trailing dot."""
    return _SUFFIX.sub("", _loosen(path)) or "/"


# Dots in a call's last segment that `_stems` cuts at: a template's last segment has fewer.
_MAX_STEMS = 16


def _stems(path: str) -> set[str]:
    """The loosened path, and the same with its last segment cut at each dot: Rails'
    `(.:format)` routes `/pets.anything` to `/pets`, and Spring's suffix pattern (the default
    before 5.3) `/pets.a.b` to `/pets` and `/admin.apps.list` to `/admin.apps`."""
    loose = _loosen(path)
    stems = {loose, _SUFFIX.sub("", loose) or "/"}  # _unsuffixed, without loosening twice
    head, _, last = loose.rpartition("/")
    dot = last.find(".", 1)
    while dot > 0 and len(stems) < _MAX_STEMS + 2:
        stems.add(f"{head}/{last[:dot]}")
        dot = last.find(".", dot + 1)
    return stems


def _string_list(value: Any, name: str, errors: dict[str, list[str]]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.setdefault(name, []).append("A list of non-empty strings.")
        return []
    return list(value)


def policy_errors(policy: JwtPolicy) -> dict[str, list[str]]:
    """Field -> messages for a validate-jwt policy that cannot work as configured."""
    errors: dict[str, list[str]] = {}
    urls = _string_list(policy.openid_config, "openid_config", errors)
    for url in urls:
        try:
            parse_origin(url)
        except ValueError as exc:
            errors.setdefault("openid_config", []).append(f"{url}: {exc}")
    issuers = _string_list(policy.issuers, "issuers", errors)
    templates = [i for i in issuers if is_template(i)]
    if templates:
        errors.setdefault("issuers", []).append(
            f"{templates[0]}: a template stands for every tenant; name each tenant's issuer "
            "(https://login.microsoftonline.com/<tenant id>/v2.0)."
        )
    multi = [u for u in urls if multi_tenant_authority(u)]
    if multi and not issuers:
        # Its discovery names the issuer {tenantid}: every tenant's tokens would pass the
        # issuer check (Entra signs them all with the same keys), as APIM needs them listed.
        errors.setdefault("issuers", []).append(
            f"{multi[0]} serves every Entra tenant: list the tenants' issuers this API "
            "trusts (https://login.microsoftonline.com/<tenant id>/v2.0)."
        )
    # An empty list used to mean "no audience check" without saying so: now that is the
    # visible choice "any", and an empty list is a mistake.
    if (
        policy.audiences != "any"
        and _string_list(policy.audiences, "audiences", errors) == []
        and isinstance(policy.audiences, list)
    ):
        errors.setdefault("audiences", []).append(
            'At least one audience, or "any" to skip the audience check.'
        )
    _string_list(policy.typ_exempt_issuers, "typ_exempt_issuers", errors)
    algs = _string_list(policy.algorithms, "algorithms", errors)
    bad = [a for a in algs if a not in SUPPORTED_ALGORITHMS]
    if bad:
        errors.setdefault("algorithms", []).append(
            f"Not allowed: {', '.join(bad)}. Choose from {', '.join(SUPPORTED_ALGORITHMS)}."
        )
    if isinstance(policy.algorithms, list) and not policy.algorithms:
        errors.setdefault("algorithms", []).append("At least one algorithm.")
    keys = policy.issuer_signing_keys
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        errors.setdefault("issuer_signing_keys", []).append("A list of objects.")
    else:
        for i, item in enumerate(keys):
            try:
                key_from_config(item)
            except ValueError as exc:
                errors.setdefault("issuer_signing_keys", []).append(f"key {i + 1}: {exc}")
        if keys and not issuers:
            errors.setdefault("issuers", []).append(
                "Static issuer-signing-keys need the issuers they belong to."
            )
    if not urls and not (isinstance(keys, list) and keys):
        errors.setdefault("openid_config", []).append(
            "Give an openid-config URL or issuer-signing-keys."
        )
    if not policy.require_signed_tokens:
        errors.setdefault("require_signed_tokens", []).append(
            "Unsigned tokens are never accepted by this gateway."
        )
    if not 400 <= policy.failed_validation_httpcode <= 499:
        errors.setdefault("failed_validation_httpcode", []).append("A 4xx status code.")
    if not policy.header_name and not policy.query_parameter_name:
        errors.setdefault("header_name", []).append("A header name or a query parameter name.")
    if policy.max_lifetime is not None and policy.max_lifetime < 1:
        # 0 would refuse every token: the cap is switched off with none (empty), never 0.
        errors.setdefault("max_lifetime", []).append(
            "A positive number of seconds, or none (empty) for no cap."
        )
    if not 0 <= policy.clock_skew <= 3600:
        # As the file's clock-skew: more leeway keeps an expired token good that much longer.
        errors.setdefault("clock_skew", []).append("Between 0 and 3600 seconds.")
    if not 256 <= policy.max_token_bytes <= 65536:
        errors.setdefault("max_token_bytes", []).append("Between 256 and 65536.")
    return errors


def operation_names(version_id: int | None) -> dict[str, str]:
    """operationId or slug -> slug, for the operations of an API version. A required claim
    is matched against the slug of the call's operation, so a rule must hold the slug."""
    from apis.models import Operation

    if version_id is None:
        return {}
    names: dict[str, str] = {}
    ops = Operation.objects.filter(version_id=version_id, kind=Operation.KIND_OPERATION)
    for operation_id, slug in ops.values_list("operation_id", "slug"):
        names[slug] = slug
        if operation_id:
            names.setdefault(operation_id, slug)
    return names


def _static_keys(items: list[dict[str, Any]]) -> list[PublicKey]:
    """The stored issuer-signing-keys that may verify a token. One saved before a rule it
    fails existed (an RSA key under 2048 bits) is left out with a warning, not a failed load
    of every route: its tokens are refused for their signature."""
    keys = []
    for i, item in enumerate(items):
        try:
            keys.append(key_from_config(item))
        except ValueError as exc:
            log.warning("issuer-signing-keys: key %d left out: %s", i + 1, exc)
    return keys


def build_policy(model: JwtPolicy) -> Policy:
    claims = tuple(
        ClaimRule(
            name=c.name,
            values=tuple(str(v) for v in c.values),
            match=c.match,
            separator=c.separator,
            methods=frozenset(m.upper() for m in c.methods.split()),
            operation=c.operation,
        )
        for c in model.claims.all()
    )
    static: tuple[PublicKey, ...] = tuple(_static_keys(model.issuer_signing_keys))
    return Policy(
        header_name=model.header_name,
        query_parameter_name=model.query_parameter_name,
        require_scheme=model.require_scheme,
        failed_status=model.failed_validation_httpcode,
        failed_message=model.failed_validation_error_message,
        require_expiration_time=model.require_expiration_time,
        require_signed_tokens=True,
        clock_skew=model.clock_skew,
        openid_config=tuple(model.openid_config),
        issuers=tuple(model.issuers),
        audiences=() if model.audiences == "any" else tuple(model.audiences),
        any_audience=model.audiences == "any",
        required_claims=claims,
        algorithms=frozenset(model.algorithms),
        typ_exempt_issuers=frozenset(model.typ_exempt_issuers),
        require_rfc9068_claims=model.require_rfc9068_claims,
        max_lifetime=model.max_lifetime,
        max_token_bytes=model.max_token_bytes,
        strict_audience=model.strict_audience,
        require_subscribed_client=model.require_subscribed_client,
        static_keys=static,
    )


def build_route(route: Route) -> RouteConfig:
    from apis.models import Operation

    config = RouteConfig(
        api_slug=route.api.slug,
        api_id=route.api_id,
        suffix=route.suffix,
        backend=route.backend,
        timeout=float(route.timeout),
        forward_claims=route.forward_claims,
        # A route whose API has no spec has no operations to match: a plain proxy.
        pass_through=route.pass_through or route.api.default_version_id is None,
    )
    if route.backend == route.BACKEND_UPSTREAM:
        config.origin, config.base_path = parse_origin(route.upstream_url)
    policy = getattr(route, "jwt_policy", None)
    if policy is not None:
        config.policy = build_policy(policy)
    if route.rate_limit_calls:
        config.rate_limit = RateLimit(
            route.rate_limit_calls,
            max(1, route.rate_limit_period),
            route.rate_limit_key,
            route.rate_limit_on_store_unavailable,
        )
    if route.cors_allowed_origins:
        config.cors = Cors(
            origins=frozenset(route.cors_allowed_origins),
            methods=tuple(m.upper() for m in route.cors_allowed_methods),
            headers=tuple(route.cors_allowed_headers),
            expose=tuple(route.cors_expose_headers),
            credentials=route.cors_allow_credentials,
            max_age=route.cors_max_age,
        )
    version_id = route.api.default_version_id
    config.version_id = version_id
    if version_id is not None:
        ops = Operation.objects.filter(version_id=version_id, kind=Operation.KIND_OPERATION)
        for op in ops.only("method", "path", "slug", "data"):
            path, fixed = fixed_query(op.path)
            config.operations.append(
                OperationMatch(op.method.lower(), path, op.slug, op.data, tuple(fixed))
            )
            config.query_names |= {name for name, _ in fixed}
    if config.policy is not None:
        config.policy = _rules_fail_closed(config.policy, {op.slug for op in config.operations})
    config.index_operations()
    return config


def _rules_fail_closed(policy: Policy, slugs: set[str]) -> Policy:
    """The policy with each rule bound to an operation the API no longer has (a re-import
    renamed or dropped it) applied to every call instead: left bound to nothing it would
    guard nothing, and the call it guarded would pass with any token."""
    orphans = [r for r in policy.required_claims if r.operation and r.operation not in slugs]
    if not orphans:
        return policy
    for rule in orphans:
        log.warning(
            "required claim %r names the operation %r, which the API no longer has: "
            "applied to every call until the rule is fixed",
            rule.name,
            rule.operation,
        )
    rules = tuple(
        dataclasses.replace(r, operation="") if r in orphans else r for r in policy.required_claims
    )
    return dataclasses.replace(policy, required_claims=rules)


def load_routes() -> dict[str, RouteConfig]:
    """Suffix -> RouteConfig for every enabled route. Broken rows are skipped, not fatal."""
    import logging

    from gateway.models import Route

    routes: dict[str, RouteConfig] = {}
    # A disabled route, an unpublished API or a deleted one (its route goes with it) stops at
    # the next check. A plain proxy's API has no spec, so nothing of it is ever published in
    # the catalog: its route serves while it is enabled.
    queryset = Route.objects.filter(
        Q(api__is_published=True) | Q(api__default_version__isnull=True), is_enabled=True
    ).select_related("api", "jwt_policy")
    for route in queryset.prefetch_related("jwt_policy__claims"):
        try:
            routes[route.suffix] = build_route(route)
        except (ValueError, TypeError) as exc:
            logging.getLogger("gateway").error("route /%s skipped: %s", route.suffix, exc)
    return routes


def config_fingerprint() -> tuple[Any, ...]:
    """Changes whenever a route, policy, claim or an API's default version changes."""
    from apis.models import Api
    from gateway.models import JwtPolicy, RequiredClaim, Route

    parts: list[Any] = []
    for model in (Route, JwtPolicy, RequiredClaim):
        agg = model.objects.aggregate(n=Count("pk"), last=Max("updated"))
        parts += [agg["n"], agg["last"]]
    parts.append(
        tuple(
            Api.objects.filter(gateway_route__isnull=False)
            .order_by("pk")
            .values_list("pk", "default_version_id", "is_published")
        )
    )
    return tuple(parts)

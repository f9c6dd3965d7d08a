"""`manage.py applyconfig FILE`: APIs, routes and policies from YAML, idempotent, all or
nothing, errors with line numbers."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apis.models import Api
from gateway.models import JwtPolicy, RequiredClaim, Route
from tests.conftest import DEMO_SPECS

pytestmark = pytest.mark.django_db

CONFIG = """\
apis:
  - slug: echo
    spec: echo.yaml
    published: true
    gateway:
      suffix: echo
      backend: echo
      forward-claims: true
      validate-jwt:
        openid-config: http://127.0.0.1:8000/idp/.well-known/openid-configuration
        audiences: [api://echo]
        clock-skew: 30
        required-claims:
          - {name: scope, match: any, separator: " ", values: [echo.read], methods: [GET]}
          - {name: scope, match: any, separator: " ", values: [echo.write], methods: [POST]}
      rate-limit-by-key: {calls: 100, renewal-period: 60, counter-key: subject}
      cors: {allowed-origins: [https://app.example.com], allow-credentials: true}
  - slug: pets
    spec: petstore.yaml
    published: false
    gateway:
      backend: https://pets.example.com/v1
"""


def apply(path: Path) -> str:
    out = io.StringIO()
    call_command("applyconfig", str(path), stdout=out)
    return out.getvalue()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copy(DEMO_SPECS / "echo.yaml", tmp_path / "echo.yaml")
    shutil.copy(DEMO_SPECS / "petstore.yaml", tmp_path / "petstore.yaml")
    return tmp_path


def test_applies_apis_routes_and_policies(config_dir: Path) -> None:
    path = config_dir / "portal.yaml"
    path.write_text(CONFIG)
    output = apply(path)
    assert "echo" in output and "pets" in output
    echo = Route.objects.get(suffix="echo")
    assert echo.api.is_published and echo.backend == "echo" and echo.forward_claims
    assert echo.rate_limit_calls == 100 and echo.rate_limit_key == "subject"
    assert echo.cors_allowed_origins == ["https://app.example.com"]
    policy = JwtPolicy.objects.get(route=echo)
    assert policy.audiences == ["api://echo"] and policy.clock_skew == 30
    assert [(c.values, c.methods) for c in policy.claims.all()] == [
        (["echo.read"], "GET"),
        (["echo.write"], "POST"),
    ]
    pets = Route.objects.get(suffix="pets")
    assert pets.upstream_url == "https://pets.example.com/v1"
    assert not pets.api.is_published


def test_second_apply_changes_nothing(config_dir: Path) -> None:
    path = config_dir / "portal.yaml"
    path.write_text(CONFIG)
    apply(path)
    versions = {a.slug: a.default_version_id for a in Api.objects.all()}
    assert apply(path).strip() == "Nothing to change."
    assert {a.slug: a.default_version_id for a in Api.objects.all()} == versions


def test_removing_the_policy_and_route(config_dir: Path) -> None:
    path = config_dir / "portal.yaml"
    path.write_text(CONFIG)
    apply(path)
    path.write_text(CONFIG.replace(
        "      validate-jwt:", "      x-old:").split("      x-old:")[0]
        + "  - slug: pets\n    published: false\n")  # fmt: skip
    output = apply(path)
    assert "validate-jwt removed" in output and "gateway route removed" in output
    assert not JwtPolicy.objects.exists()
    assert not Route.objects.filter(suffix="pets").exists()


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (
            ("backend: echo", "backend: ftp://x"),
            7,
            "backend must be one of echo, mock or an http(s) URL",
        ),
        (("audiences: [api://echo]", "audiences: api://echo\n        bogus: 1"), 12, "unknown key"),
        (("clock-skew: 30", "clock-skew: soon"), 12, "whole number"),
        (("calls: 100", "calls: 0"), 16, "at least 1"),
        # Past the database's integer column: a traceback (OverflowError, DataError) before.
        (("calls: 100", "calls: 99999999999999999999"), 16, "2147483647"),
        (("renewal-period: 60", "renewal-period: 2147483648"), 16, "2147483647"),
        (
            ("allow-credentials: true", "allow-credentials: true, max-age: 2147483648"),
            17,
            "2147483647",
        ),
        (("clock-skew: 30", "clock-skew: 30\n        max-lifetime: 2147483648"), 13, "2147483647"),
        (("spec: petstore.yaml", "spec: missing.yaml"), 19, "cannot read"),
        (
            (
                "openid-config: http://127.0.0.1:8000/idp/.well-known/openid-configuration",
                "algorithms: [HS256]",
            ),
            10,
            "HS256",
        ),
        (("match: any, separator", "match: some, separator"), 14, "all or any"),
        (("slug: pets", "slug: echo"), 18, "declared twice"),
        (
            ("allow-credentials: true", "allow-credentials: true, allowed-origins: ['*']"),
            17,
            "given twice",
        ),
    ],
)
def test_invalid_files_are_refused_with_line_and_nothing_applied(
    config_dir: Path, change: tuple[str, str], line: int, reason: str
) -> None:
    path = config_dir / "portal.yaml"
    text = CONFIG.replace(*change)
    assert text != CONFIG
    path.write_text(text)
    with pytest.raises(CommandError) as err:
        apply(path)
    assert f"portal.yaml:{line}:" in str(err.value)
    assert reason in str(err.value)
    assert not Api.objects.exists() and not Route.objects.exists()


def test_yaml_syntax_error_names_the_line(config_dir: Path) -> None:
    path = config_dir / "portal.yaml"
    path.write_text("apis:\n  - slug: [unclosed\n")
    with pytest.raises(CommandError, match=r"portal.yaml:3: not valid YAML"):
        apply(path)


def test_unknown_section_is_refused(config_dir: Path) -> None:
    path = config_dir / "portal.yaml"
    path.write_text("apiz: []\n")
    with pytest.raises(CommandError, match=r"portal.yaml:1: unknown key 'apiz'"):
        apply(path)


def test_claim_rows_per_operation(config_dir: Path) -> None:
    """An operation-bound rule names the operationId as the spec writes it; the row holds
    the operation's slug, which is what the gateway matches calls against (the old code
    stored "echoGet", which no call's operation ever equals, so the rule never ran)."""
    from apis.models import Operation

    path = config_dir / "portal.yaml"
    path.write_text(CONFIG.replace("methods: [GET]}", "operation: echoGet}"))
    apply(path)
    slug = Operation.objects.get(operation_id="echoGet", version__api__slug="echo").slug
    assert RequiredClaim.objects.get(operation=slug).methods == ""
    path.write_text(CONFIG.replace("methods: [GET]}", "operation: nosuchOperation}"))
    with pytest.raises(CommandError, match=r"portal.yaml:14: operation: the API has no operation"):
        apply(path)


def test_failure_while_applying_rolls_everything_back(config_dir: Path) -> None:
    # The suffix is taken by another API already in the database: found only when applying,
    # after the echo spec was imported; the import must be rolled back with the rest.
    call_command("importspec", str(DEMO_SPECS / "petstore.yaml"), slug="other",
                 stdout=io.StringIO())  # fmt: skip
    Route.objects.create(api=Api.objects.get(slug="other"), suffix="echo", backend="mock")
    path = config_dir / "portal.yaml"
    path.write_text(CONFIG)
    with pytest.raises(CommandError, match="belongs to other; nothing was changed"):
        apply(path)
    assert set(Api.objects.values_list("slug", flat=True)) == {"other"}
    assert Route.objects.get().api.slug == "other"


def test_alias_bomb_is_refused_quickly(config_dir: Path) -> None:
    import time

    # Each anchor is a mapping of nine references to the previous one: 9**8 values expanded.
    lines = [
        "apis:", "  - slug: bomb", "    spec: echo.yaml", "    gateway:", "      validate-jwt:",
        "        issuer-signing-keys:", "          - &a0 {k: [x, x, x, x, x, x, x, x, x]}",
    ]  # fmt: skip
    for i in range(1, 9):
        refs = ", ".join(f"k{j}: *a{i - 1}" for j in range(9))
        lines.append(f"          - &a{i} {{{refs}}}")
    path = config_dir / "portal.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(CommandError, match="too many values"):
        apply(path)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("depth", [600, 5_000])
def test_a_deeply_nested_value_is_refused_not_a_traceback(config_dir: Path, depth: int) -> None:
    """600 levels passed the parser and then ran the schema walk out of stack; 5,000 ran the
    parser itself out: both ended `applyconfig` in a RecursionError traceback."""
    nested = "[" * depth + "]" * depth
    text = f"apis:\n  - slug: deep\n    spec: echo.yaml\n    published: {nested}\n"
    assert "portal.yaml:" in _refused(config_dir, text)
    assert "nested too deeply" in _refused(config_dir, text)


def test_merge_keys_share_a_policy_between_routes(config_dir: Path) -> None:
    """`<<: *anchor` (YAML's merge key): the second route takes the first's validate-jwt and
    writes its own audiences. It was refused ("could not determine a constructor for the
    tag 'tag:yaml.org,2002:merge'")."""
    path = config_dir / "portal.yaml"
    path.write_text(
        "apis:\n"
        "  - slug: echo\n    spec: echo.yaml\n    gateway:\n      backend: echo\n"
        "      validate-jwt: &jwt\n"
        "        openid-config: http://127.0.0.1:8000/idp/.well-known/openid-configuration\n"
        "        audiences: [api://echo]\n        clock-skew: 30\n"
        "  - slug: pets\n    spec: petstore.yaml\n    gateway:\n      backend: echo\n"
        "      validate-jwt:\n        <<: *jwt\n        audiences: [api://pets]\n"
    )
    apply(path)
    pets = JwtPolicy.objects.get(route__suffix="pets")
    assert pets.audiences == ["api://pets"] and pets.clock_skew == 30
    assert JwtPolicy.objects.get(route__suffix="echo").audiences == ["api://echo"]
    with pytest.raises(CommandError, match=r"portal\.yaml:10: unknown key 'bogus'"):
        path.write_text(
            path.read_text().replace("clock-skew: 30", "clock-skew: 30\n        bogus: 1")
        )
        apply(path)


def _refused(config_dir: Path, text: str) -> str:
    path = config_dir / "portal.yaml"
    path.write_text(text)
    with pytest.raises(CommandError) as err:
        apply(path)
    assert not Api.objects.exists() and not Route.objects.exists()
    return str(err.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # 0 used to be accepted and then refused every token.
        (
            ("clock-skew: 30", "clock-skew: 30\n        max-lifetime: 0"),
            ":13: max-lifetime must be",
        ),
        # An empty list used to switch the audience check off without saying so.
        (
            ("audiences: [api://echo]", "audiences: []"),
            ":11: audiences must be a non-empty list of audiences",
        ),
        (("        audiences: [api://echo]\n", ""), "validate-jwt needs audiences"),
        # Entra's multi-tenant discovery names the issuer {tenantid}: without issuers listed,
        # every token was refused as from an untrusted issuer (and trusting the template
        # whole would let every tenant in).
        (
            (
                "http://127.0.0.1:8000/idp/.well-known/openid-configuration",
                "https://login.microsoftonline.com/organizations/v2.0"
                "/.well-known/openid-configuration",
            ),
            ":10: validate-jwt.issuers: https://login.microsoftonline.com/organizations/v2.0/",
        ),
        (
            (
                "clock-skew: 30",
                "clock-skew: 30\n        issuers: ['https://login.microsoftonline.com/{tenantid}/v2.0']",
            ),
            "a template stands for every tenant",
        ),
        # A route without backend used to become a mock silently.
        (("      backend: echo\n", ""), ":6: gateway needs backend"),
        # Keys as the file writes them, never the model's field names.
        (("clock-skew: 30", "clock-skew: -1"), ":12: clock-skew must be at least 0"),
        (
            ("cors: {allowed-origins: [https://app.example.com]", "cors: {allowed-origins: ['*']"),
            ":17: cors.allow-credentials: Credentials cannot be allowed for every origin",
        ),
        # A misspelt method would make a rule that applies to no call.
        (
            (
                "values: [echo.write], methods: [POST]",
                "values: [echo.write], methods: [POST, DELET]",
            ),
            ":15: methods: Unknown method DELET",
        ),
        # A token's claim never holds " echo.write" so (scope is split at its spaces): the
        # rule would refuse every call, with no word of why.
        (
            (
                "values: [echo.write], methods: [POST]",
                "values: ['echo.read', ' echo.write'], methods: [POST]",
            ),
            ":15: values: The value ' echo.write' of scope starts or ends with a space",
        ),
        # TRACE gets 405 from the gateway before any rule: a rule bound to it holds no call,
        # whatever the operator meant it to guard.
        (
            (
                "values: [echo.write], methods: [POST]",
                "values: [echo.write], methods: [TRACE]",
            ),
            ":15: methods: The gateway never serves TRACE (it answers 405)",
        ),
        (
            ("counter-key: subject}", "counter-key: subject, on-store-unavailable: maybe}"),
            ":16: on-store-unavailable must be allow or deny, not 'maybe'",
        ),
        # The query the backend gets is the call's own: one in the backend URL was dropped
        # without a word (an Azure Functions ?code= key, say, and every call got 401).
        (
            ("backend: https://pets.example.com/v1", "backend: https://pets.example.com/v1?code=k"),
            ":22: backend must be one of echo, mock or an http(s) URL",
        ),
        # A browser's Origin has no path and a lower-case scheme and host: such an entry
        # would never match, and CORS would be silently off for that application.
        (
            (
                "allowed-origins: [https://app.example.com]",
                "allowed-origins: [https://app.example.com/]",
            ),
            ":17: allowed-origins[] must be an origin (scheme://host[:port]) or *, not "
            "'https://app.example.com/'",
        ),
        (
            (
                "allowed-origins: [https://app.example.com]",
                "allowed-origins: [HTTPS://App.example.com]",
            ),
            ":17: allowed-origins[] must be an origin (scheme://host[:port]) or *, not "
            "'HTTPS://App.example.com'",
        ),
    ],
)
def test_configuration_mistakes_are_refused_by_their_key(
    config_dir: Path, change: tuple[str, str], expected: str
) -> None:
    text = CONFIG.replace(*change)
    assert text != CONFIG
    message = _refused(config_dir, text)
    assert expected in message
    assert "_" not in message.split(": ", 1)[1].split(" (in ")[0].replace("api://", "")


def test_max_lifetime_none_and_audiences_any_are_visible_choices(config_dir: Path) -> None:
    from gateway.config import build_policy
    from gateway.jwt import ParsedToken, TokenRejected, check_claims

    path = config_dir / "portal.yaml"
    path.write_text(
        CONFIG.replace("audiences: [api://echo]", "audiences: any\n        max-lifetime: none")
    )
    apply(path)
    model = JwtPolicy.objects.get(route__suffix="echo")
    assert (model.audiences, model.max_lifetime) == ("any", None)
    policy = build_policy(model)
    now = 1_800_000_000.0
    payload = {
        "iss": "x", "sub": "u", "client_id": "c", "jti": "j", "iat": now - 60,
        "exp": now + 30 * 86400, "aud": "api://whatever", "scope": "echo.read",
    }  # fmt: skip
    token = ParsedToken({"alg": "RS256"}, payload, b"", b"")
    check_claims(token, policy, now)  # a 30-day token for any audience: accepted
    path.write_text(CONFIG.replace("clock-skew: 30", "clock-skew: 30\n        max-lifetime: 3600"))
    apply(path)
    policy = build_policy(JwtPolicy.objects.get(route__suffix="echo"))
    with pytest.raises(TokenRejected) as err:
        check_claims(token, policy, now)
    assert err.value.check == "lifetime"
    payload.update(exp=now + 600)
    with pytest.raises(TokenRejected) as err:
        check_claims(token, policy, now)
    assert err.value.check == "aud"


def test_pass_through_and_store_unavailable_reach_the_gateway(config_dir: Path) -> None:
    from gateway.config import load_routes

    path = config_dir / "portal.yaml"
    path.write_text(
        CONFIG.replace("forward-claims: true", "forward-claims: true\n      pass-through: true")
        .replace("counter-key: subject}", "counter-key: subject, on-store-unavailable: deny}")
        .replace("published: false", "published: true")  # an unpublished API has no route
    )
    apply(path)
    routes = load_routes()
    assert routes["echo"].pass_through is True
    assert routes["echo"].rate_limit is not None
    assert routes["echo"].rate_limit.on_store_unavailable == "deny"
    assert routes["pets"].pass_through is False  # a spec, no pass-through: unmatched is 404


PROXY = """\
apis:
  - slug: legacy
    published: false
    gateway:
      backend: https://legacy.example.com/base
      rate-limit-by-key: {calls: 5}
"""


def test_a_route_without_a_spec_is_a_plain_pass_through_proxy(config_dir: Path) -> None:
    from gateway.config import load_routes

    path = config_dir / "portal.yaml"
    path.write_text(PROXY)
    assert "without a spec" in apply(path)
    api = Api.objects.get(slug="legacy")
    assert not api.is_published and api.default_version_id is None
    route = load_routes()["legacy"]
    assert route.pass_through and route.operations == []
    assert route.rate_limit is not None and route.rate_limit.on_store_unavailable == "allow"
    assert apply(path).strip() == "Nothing to change."


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("published: false", "published: true"), ":3: the API 'legacy' has no spec"),
        (("rate-limit-by-key: {calls: 5}", "pass-through: false"), ":6: pass-through: false"),
        (("backend: https://legacy.example.com/base", "backend: mock"), ":5: backend: mock"),
        (
            (
                "rate-limit-by-key: {calls: 5}",
                "validate-jwt:\n        openid-config: https://idp.example.com/.well-known/x\n"
                "        audiences: any\n        required-claims:\n"
                "          - {name: roles, values: [admin], operation: deleteAll}",
            ),
            ":10: operation: an operation-bound rule needs a spec",
        ),
    ],
)
def test_a_plain_proxy_refuses_what_needs_a_spec(
    config_dir: Path, change: tuple[str, str], expected: str
) -> None:
    text = PROXY.replace(*change)
    assert text != PROXY
    assert expected in _refused(config_dir, text)


def test_check_warns_about_a_private_openid_config_host(config_dir: Path, settings: Any) -> None:
    """The file names the built-in IdP on 127.0.0.1:8000; unless the gateway may fetch keys
    there, it would answer 503 at call time: --check says so, with the line."""
    settings.IDENTITY_ISSUER = ""
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = ["127.0.0.1:9000"]
    path = config_dir / "portal.yaml"
    path.write_text(CONFIG)
    out, err = io.StringIO(), io.StringIO()
    call_command("applyconfig", str(path), "--check", stdout=out, stderr=err)
    assert "valid" in out.getvalue() and not Api.objects.exists()
    assert "portal.yaml:10: warning: openid-config" in err.getvalue()
    assert "GATEWAY_KEY_FETCH_PRIVATE_HOSTS" in err.getvalue()
    settings.GATEWAY_KEY_FETCH_PRIVATE_HOSTS = ["127.0.0.1:8000"]
    err = io.StringIO()
    call_command("applyconfig", str(path), "--check", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


def test_applied_routes_pass_through_or_404_at_the_gateway(config_dir: Path, backend: Any) -> None:
    """The keys reach the running gateway: a spec-less API is proxied whatever the path; on
    a route with a spec an unmatched call gets 404 and the backend sees nothing, unless the
    file says pass-through: true."""
    from gateway.app import Gateway
    from gateway.config import load_routes
    from tests.gateway.test_config_and_backends import run

    text = f"""\
apis:
  - slug: legacy
    published: false
    gateway: {{backend: "{backend.url}/base"}}
  - slug: pets
    spec: petstore.yaml
    gateway: {{backend: "{backend.url}/v1"}}
"""
    path = config_dir / "portal.yaml"
    path.write_text(text)
    apply(path)
    app = Gateway(load_routes())
    status, _, _ = run(app, "GET", "/legacy/any/thing")
    assert status == 200 and backend.recorder.requests[-1]["path"] == "/base/any/thing"
    before = backend.recorder.count()
    status, _, _ = run(app, "GET", "/pets/no/such/operation")
    assert status == 404 and backend.recorder.count() == before
    path.write_text(text.replace('/v1"}', '/v1", pass-through: true}'))
    apply(path)
    status, _, _ = run(Gateway(load_routes()), "GET", "/pets/no/such/operation")
    assert status == 200 and backend.recorder.requests[-1]["path"] == "/v1/no/such/operation"


def test_require_subscribed_client_is_off_by_default_and_reaches_the_policy(
    config_dir: Path,
) -> None:
    from gateway.config import build_policy

    path = config_dir / "portal.yaml"
    path.write_text(CONFIG)
    apply(path)
    assert not build_policy(JwtPolicy.objects.get(route__suffix="echo")).require_subscribed_client
    path.write_text(
        CONFIG.replace("clock-skew: 30", "clock-skew: 30\n        require-subscribed-client: true")
    )
    assert "echo" in apply(path)
    assert build_policy(JwtPolicy.objects.get(route__suffix="echo")).require_subscribed_client


def test_a_suffix_deeper_than_the_gateway_looks_is_refused(config_dir: Path) -> None:
    # The gateway looks up a route by at most 8 leading segments: a 9-segment suffix was
    # stored, listed, and answered 404 on every call.
    path = config_dir / "portal.yaml"
    path.write_text(CONFIG.replace("suffix: echo", "suffix: a/b/c/d/e/f/g/h/i"))
    with pytest.raises(CommandError, match=r"portal.yaml:6: suffix: At most 8 segments"):
        apply(path)
    assert not Route.objects.exists()
    path.write_text(CONFIG.replace("suffix: echo", "suffix: a/b/c/d/e/f/g/h"))
    apply(path)
    assert Route.objects.filter(suffix="a/b/c/d/e/f/g/h").exists()

"""`manage.py applyconfig FILE`: APIs, routes and policies from YAML, idempotent, all or
nothing, errors with line numbers."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

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
        (("backend: echo", "backend: ftp://x"), 7, "upstream_url"),
        (("audiences: [api://echo]", "audiences: api://echo\n        bogus: 1"), 12, "unknown key"),
        (("clock-skew: 30", "clock-skew: soon"), 12, "whole number"),
        (("calls: 100", "calls: 0"), 16, "at least 1"),
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
    path = config_dir / "portal.yaml"
    path.write_text(CONFIG.replace("methods: [GET]}", "operation: echoGet}"))
    apply(path)
    assert RequiredClaim.objects.get(operation="echoGet").methods == ""


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

"""`seed_demo` (run by every `make run`) sets up the demo APIs only."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from apis.models import Api
from gateway import demo
from gateway.models import JwtPolicy, Route
from tests.conftest import DEMO_SPECS

pytestmark = pytest.mark.django_db

MINE = """\
openapi: 3.0.3
info: {title: Mine, version: '1'}
paths:
  /x:
    get: {responses: {'200': {description: ok}}}
"""


def test_an_api_a_publisher_imported_gets_no_mock_route(tmp_path: Path) -> None:
    spec = tmp_path / "mine.yaml"
    spec.write_text(MINE)
    out = io.StringIO()
    for path, slug in ((DEMO_SPECS / "echo.yaml", "echo"), (spec, "mine")):
        call_command("importspec", str(path), slug=slug, publish=True, stdout=out)
    demo.seed(out)
    demo.seed(out)  # the second `make run`
    assert Route.objects.filter(api__slug="echo").exists()
    assert not Route.objects.filter(api=Api.objects.get(slug="mine")).exists()
    assert "/gateway/mine/" not in out.getvalue()


def test_make_run_prints_the_demo_summary_without_audit_log_lines(
    caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    from console.models import AuditEntry
    from products.models import SubscriptionEvent

    settings.DEBUG = True  # as `make run`: the demo user, clients and grants
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"

    with caplog.at_level(logging.INFO):
        call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    assert [r for r in caplog.records if r.name.endswith(".audit")] == []
    # The demo's changes are still in the audit trails.
    assert AuditEntry.objects.filter(actor="seed_demo", action="enabled implicit").exists()
    assert SubscriptionEvent.objects.exists()


def test_a_make_run_on_another_port_moves_the_demo_policies_to_its_issuer(settings: Any) -> None:
    # `make run` then `PORT=8080 make run`: the demo routes kept checking tokens against
    # the first run's issuer, so every console call answered 503 ('has not been able to
    # fetch the issuer's signing keys'), then 401 for the issuer.
    out = io.StringIO()
    call_command("importspec", str(DEMO_SPECS / "echo.yaml"), slug="echo", stdout=out)
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"
    demo.seed(out)
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8080/idp"
    out = io.StringIO()
    demo.seed(out)
    policy = JwtPolicy.objects.get(route__api__slug="echo")
    assert policy.issuers == ["http://127.0.0.1:8080/idp"]
    assert policy.openid_config == ["http://127.0.0.1:8080/idp/.well-known/openid-configuration"]
    assert "[unchanged]" not in out.getvalue()


def test_a_demo_policy_an_administrator_pointed_elsewhere_is_left_alone(settings: Any) -> None:
    out = io.StringIO()
    call_command("importspec", str(DEMO_SPECS / "echo.yaml"), slug="echo", stdout=out)
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"
    demo.seed(out)
    entra = "https://login.microsoftonline.com/tenant/v2.0"
    JwtPolicy.objects.filter(route__api__slug="echo").update(
        issuers=[entra], openid_config=[entra + "/.well-known/openid-configuration"]
    )
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8080/idp"
    demo.seed(out)
    assert JwtPolicy.objects.get(route__api__slug="echo").issuers == [entra]

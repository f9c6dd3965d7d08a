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
from gateway.models import Route
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

"""The onboarding API's document is in the demo catalog, with its reference pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from apis.models import Api
from onboarding import demo

pytestmark = pytest.mark.django_db


def test_seed_lists_the_onboarding_api_in_the_catalog(client: Client, settings: Any) -> None:
    out = io.StringIO()
    demo.seed(out)
    # `make run` says where a terminal gets a token for /api/v1/ (it named only the scope).
    assert "/applications/new/" in out.getvalue() and "scope=portal" in out.getvalue()
    demo.seed(io.StringIO())  # the second `make run` replaces it
    api = Api.objects.get(slug="portal-api")
    assert api.is_published
    catalog = client.get("/apis/").content.decode()
    assert "Portal onboarding API" in catalog
    page = client.get("/apis/portal-api/operations/createApplication/")
    assert page.status_code == 200
    assert "Register an application" in page.content.decode()

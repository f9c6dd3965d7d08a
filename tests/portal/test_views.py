from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_lists_published_apis(client: Client, import_spec) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import DEMO_SPECS

    import_spec(DEMO_SPECS / "petstore.yaml", "petstore")
    html = client.get("/").content.decode()
    assert "Petstore" in html and 'href="/apis/petstore/"' in html


def test_empty_home_says_how_to_import(client: Client) -> None:
    """An administrator is told where to import; a developer was told to run manage.py too,
    which is nothing they can do: they read that nothing is published yet."""
    from django.contrib.auth.models import User

    html = client.get("/").content.decode()
    assert "No API is published yet" in html
    assert "importspec" not in html and "/admin/" not in html
    staff = User.objects.create(username="boss", is_staff=True, is_superuser=True)
    client.force_login(staff)
    html = client.get("/").content.decode()
    assert 'href="/admin/apis/api/import/"' in html and "importspec" in html


def test_portal_name_and_logo_are_configurable(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_NAME = "Contoso Developers"
    settings.SITE_LOGO_URL = "/static/favicon.svg"
    html = client.get("/apis/").content.decode()
    assert "<title>APIs · Contoso Developers</title>" in html
    assert '<img src="/static/favicon.svg" alt="" class="brand-logo">' in html


def test_health_is_readiness(client: Client) -> None:
    response = client.get("/health/")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert client.post("/health/").status_code == 405


def test_pages_send_a_csp_with_a_nonce(client: Client) -> None:
    response = client.get("/apis/")
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'nonce-" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_the_admin_carries_the_portals_name(client: Client, django_user_model: Any) -> None:
    # An administrator following "Administration" from the portal landed on "Django
    # administration", "Django site admin" in the tab.
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-12345"))
    html = client.get("/admin/").content.decode()
    assert "API Portal administration" in html and "| API Portal admin</title>" in html
    assert "Django administration" not in html and "Django site admin" not in html

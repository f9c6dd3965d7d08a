"""The demo seed `make run` calls."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from identity.demo import demo_credentials_present, seed
from identity.models import Client

pytestmark = pytest.mark.django_db


def test_seed_creates_user_and_clients_and_prints_them(settings: Any) -> None:
    settings.DEBUG = True
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"
    settings.IDENTITY_PORTAL_CLIENT_SECRET = "portal-signin-demo-secret"
    out = io.StringIO()
    seed(out)
    seed(out)  # idempotent
    text = out.getvalue()
    assert "demo / demo-password" in text and "portal-console / portal-console-demo-secret" in text
    assert "administrator:   admin / admin-demo-password  (/admin/" in text
    assert get_user_model().objects.filter(username="demo").count() == 1
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    console = Client.objects.get(client_id="portal-console")
    # Shared by every developer: API scopes from the developer's subscriptions, and no client
    # credentials (a token with no developer behind it; issue 10).
    assert console.scopes_from_subscriptions
    assert console.granted_types() == {
        Client.GRANT_AUTHORIZATION_CODE,
        Client.GRANT_IMPLICIT,
        Client.GRANT_PASSWORD,
    }
    portal = Client.objects.get(client_id="portal-signin")
    assert (
        "http://127.0.0.1:8000/accounts/oidc/oidc/login/callback/" in portal.redirect_uris.split()
    )
    assert (
        "http://localhost:8000/accounts/oidc/oidc/login/callback/" in portal.redirect_uris.split()
    )
    assert portal.skip_authorization
    assert Client.objects.get(client_id="demo-service").granted_types() == {
        Client.GRANT_CLIENT_CREDENTIALS
    }
    assert len(demo_credentials_present()) == 5


def test_seed_refuses_production(settings: Any) -> None:
    settings.DEBUG = False
    out = io.StringIO()
    seed(out)
    assert "not created" in out.getvalue()
    assert not get_user_model().objects.filter(username="demo").exists()


def test_setup_portal_client_for_production(settings: Any) -> None:
    from django.core.management import CommandError, call_command

    settings.IDENTITY_ISSUER = "https://portal.example.com/idp"
    settings.IDENTITY_PORTAL_CLIENT_SECRET = ""
    with pytest.raises(CommandError):
        call_command("setup_portal_client", stdout=io.StringIO())
    settings.IDENTITY_PORTAL_CLIENT_SECRET = "a-long-random-secret"
    out = io.StringIO()
    call_command("setup_portal_client", stdout=out)
    client = Client.objects.get(client_id="portal-signin")
    assert client.redirect_uris.split() == [
        "https://portal.example.com/accounts/oidc/oidc/login/callback/",
        "https://portal.example.com/accounts/oidc/builtin/login/callback/",
    ]
    assert client.post_logout_redirect_uris == "https://portal.example.com/"
    assert "https://portal.example.com/accounts/oidc/oidc/login/callback/" in out.getvalue()


@pytest.mark.usefixtures("published_apis")  # tokens only for published APIs' scopes
def test_demo_clients_are_refused_outside_the_dev_run(settings: Any, client: Any) -> None:
    import base64

    settings.DEBUG = True
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"
    settings.IDENTITY_PORTAL_CLIENT_SECRET = "portal-signin-demo-secret"
    seed(io.StringIO())
    auth = "Basic " + base64.b64encode(b"demo-service:demo-service-demo-secret").decode()
    form = {"grant_type": "client_credentials", "scope": "echo.read"}
    assert client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth).status_code == 200
    settings.DEBUG = False
    refused = client.post("/idp/token/", form, HTTP_AUTHORIZATION=auth)
    assert refused.status_code == 401 and "access_token" not in refused.json()


def test_demo_admin_reaches_the_admin_in_the_dev_run_only(settings: Any, client: Any) -> None:
    settings.DEBUG = True
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"
    settings.IDENTITY_PORTAL_CLIENT_SECRET = "portal-signin-demo-secret"
    seed(io.StringIO())
    form = {"username": "admin", "password": "admin-demo-password", "next": "/admin/"}
    signed_in = client.post("/admin/login/", form)
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert client.get("/admin/apis/api/import/").status_code == 200
    client.logout()
    settings.DEBUG = False
    refused = client.post("/admin/login/", form)
    assert refused.status_code == 200  # the login form again, not the admin
    assert client.get("/admin/").status_code == 302
    assert "user admin" in demo_credentials_present()  # and identity.E002 names it

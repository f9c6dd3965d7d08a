"""The authorization server admin: the secrets are write-only, the redirect URI is shown,
and enabling a legacy grant leaves an audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from console.models import AuditEntry, AuthorizationServer


def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(
        get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-1234")
    )
    return client


def form(**fields: Any) -> dict[str, Any]:
    data = {
        "name": "Example IdP", "slug": "idp", "use_in_console": "on", "show_in_reference": "on",
        "discovery_url": "", "issuer": "https://idp.example", "authorize_url": "https://idp.example/a",
        "token_url": "https://idp.example/t", "refresh_url": "", "revoke_url": "",
        "client_id": "console", "client_secret": "", "client_auth": "basic",
        "grant_authorization_code": "on", "default_scopes": "echo.read",
        "extra_authorize_params": "{}", "extra_token_params": '{"resource": "api://echo"}',
        "links-TOTAL_FORMS": "0", "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0", "links-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("field", ["client_secret", "initial_access_token"])
def test_secrets_are_write_only_and_kept_when_left_blank(db: None, field: str) -> None:
    client = admin_client(db)
    added = client.post("/admin/console/authorizationserver/add/", form(**{field: "top-secret-1"}))
    assert added.status_code == 302, added.content.decode()[:2000]
    server = AuthorizationServer.objects.get()
    assert getattr(server, field) == "top-secret-1"
    assert server.extra_token_params == {"resource": "api://echo"}

    page = client.get(f"/admin/console/authorizationserver/{server.pk}/change/").content.decode()
    assert "top-secret-1" not in page
    assert (
        "Register this redirect URI with the authorization server: http://testserver/console/callback/"
        in page
    )

    client.post(f"/admin/console/authorizationserver/{server.pk}/change/", form())
    server.refresh_from_db()
    assert getattr(server, field) == "top-secret-1"
    client.post(
        f"/admin/console/authorizationserver/{server.pk}/change/", form(**{f"clear_{field}": "on"})
    )
    server.refresh_from_db()
    assert getattr(server, field) == ""


def test_enabling_a_legacy_grant_writes_an_audit_entry(db: None) -> None:
    client = admin_client(db)
    client.post("/admin/console/authorizationserver/add/", form())
    server = AuthorizationServer.objects.get()
    assert AuditEntry.objects.count() == 0
    client.post(
        f"/admin/console/authorizationserver/{server.pk}/change/", form(grant_password="on")
    )
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action) == ("root", "enabled password")


def test_endpoints_or_discovery_are_required(db: None) -> None:
    client = admin_client(db)
    page = client.post(
        "/admin/console/authorizationserver/add/", form(authorize_url="", token_url="")
    )
    assert page.status_code == 200
    assert "Give a discovery URL, or the endpoints explicitly." in page.content.decode()
    bad = client.post("/admin/console/authorizationserver/add/", form(extra_token_params="[1]"))
    assert "An object of names to values" in bad.content.decode()


def test_the_admin_refuses_an_endpoint_url_the_config_file_refuses(db: None) -> None:
    # The config file takes only http(s) URLs without user info (console/applyconfig.py);
    # Django's URLField also takes ftp:// and user:password@.
    client = admin_client(db)
    for field, url in [
        ("token_url", "https://user:pw@idp.example/t"),
        ("authorize_url", "https://evil.example@idp.example/a"),
        ("discovery_url", "ftp://idp.example/.well-known/openid-configuration"),
        ("registration_url", "ftps://idp.example/register"),
        ("refresh_url", "ftp://idp.example/r"),
    ]:
        page = client.post("/admin/console/authorizationserver/add/", form(**{field: url}))
        assert page.status_code == 200, (field, url)
        assert "An http(s) URL without user info." in page.content.decode(), (field, url)
    assert not AuthorizationServer.objects.exists()


def test_the_admin_refuses_an_endpoint_port_the_config_file_refuses(db: None) -> None:
    """URLField takes any five digits as a port: 99999 was kept, and every token request
    to it failed afterwards."""
    client = admin_client(db)
    page = client.post(
        "/admin/console/authorizationserver/add/",
        form(token_url="https://idp.example:99999/t"),
    )
    assert page.status_code == 200
    assert "not a valid URL (its host or port)" in page.content.decode()
    assert not AuthorizationServer.objects.exists()

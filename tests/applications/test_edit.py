"""Editing an application: name, description and redirect URIs; the provider's client follows;
the owner only (SECURITY.md case 68), the redirect rules hold (case 75), an audit line."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from applications import flows
from applications.models import Application
from identity.models import Client as OAuthClient

Register = Callable[..., flows.Registered]


def test_the_owner_edits_name_and_redirect_uris_and_the_provider_follows(
    ada_client: Client, ada: Any, register: Register, caplog: pytest.LogCaptureFixture
) -> None:
    app = register(ada, "web").application
    page = ada_client.get(f"/applications/{app.uuid}/edit/")
    assert page.status_code == 200 and "https://app.example/callback" in page.content.decode()
    assert 'name="kind"' not in page.content.decode()  # the type cannot change
    with caplog.at_level(logging.INFO, logger="portal.audit"):
        response = ada_client.post(
            f"/applications/{app.uuid}/edit/",
            {"name": "Renamed", "description": "", "redirect_uris": "https://new.example/cb"},
        )
    assert response.status_code == 302 and response["Location"] == app.get_absolute_url()
    app.refresh_from_db()
    assert app.name == "Renamed" and app.redirect_uris == ["https://new.example/cb"]
    provider = OAuthClient.objects.get(pk=app.provider_client_id)
    assert provider.redirect_uris == "https://new.example/cb" and provider.name == "Renamed"
    assert provider.redirect_uri_allowed("https://new.example/cb")
    assert not provider.redirect_uri_allowed("https://app.example/callback")
    assert any("ada application.update" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("uris", "message"),
    [
        ("https://*.example/cb", "wildcards are not allowed"),
        ("https://new.example/cb#frag", "may not have a fragment"),
        ("http://new.example/cb", "plain http is only allowed on loopback"),
        ("", "Give at least one redirect URI."),
    ],
)
def test_case_75_an_edit_keeps_the_redirect_rules(
    ada_client: Client, ada: Any, register: Register, uris: str, message: str
) -> None:
    app = register(ada, "web").application
    response = ada_client.post(
        f"/applications/{app.uuid}/edit/", {"name": "X", "description": "", "redirect_uris": uris}
    )
    assert response.status_code == 400 and message in response.content.decode()
    app.refresh_from_db()
    assert app.name != "X" and app.redirect_uris == ["https://app.example/callback"]


def test_a_machine_client_gets_no_redirect_uris(
    ada_client: Client, ada: Any, register: Register
) -> None:
    app = register(ada, "machine").application
    response = ada_client.post(
        f"/applications/{app.uuid}/edit/",
        {"name": "M", "description": "", "redirect_uris": "https://m.example/cb"},
    )
    assert response.status_code == 400 and "leave this empty" in response.content.decode()


def test_case_68_another_developers_application_is_404_and_unchanged(
    client: Client, bob: Any, ada: Any, register: Register
) -> None:
    app = register(ada, "web").application
    client.force_login(bob)
    assert client.get(f"/applications/{app.uuid}/edit/").status_code == 404
    posted = client.post(
        f"/applications/{app.uuid}/edit/",
        {"name": "Mine now", "description": "", "redirect_uris": "https://evil.example/cb"},
    )
    assert posted.status_code == 404
    assert Application.objects.get(pk=app.pk).name != "Mine now"
    assert client.get(f"/applications/{uuid.uuid4()}/edit/").status_code == 404


def test_edit_needs_sign_in_and_refuses_other_methods(
    ada_client: Client, ada: Any, register: Register
) -> None:
    app = register(ada, "web").application
    anonymous = Client().get(f"/applications/{app.uuid}/edit/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert ada_client.put(f"/applications/{app.uuid}/edit/").status_code == 405


def test_the_edit_form_offers_only_what_an_edit_changes(
    ada_client: Client, ada: Any, register: Register
) -> None:
    # "Keep the secret for the console" showed on the edit form and was ignored on Save
    # ("Nothing changed."): the portal no longer holds the secret to keep.
    app = register(ada, "machine").application
    html = ada_client.get(f"/applications/{app.uuid}/edit/").content.decode()
    assert 'name="name"' in html and 'name="redirect_uris"' in html
    assert 'name="keep_for_console"' not in html and 'name="server"' not in html

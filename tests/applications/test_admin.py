"""The admin shows an application's provider details, never its stored secrets, and changes it
only through applications/flows.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from applications import flows
from applications.models import Application
from identity.models import Client as IdentityClient
from products import flows as product_flows
from tests.applications.conftest import basic
from tests.conftest import DEMO_SPECS


def test_change_page_hides_the_encrypted_secrets(
    client: Client, ada: Any, register: Callable[..., flows.Registered]
) -> None:
    registered = register(ada, "machine", keep_for_console=True)
    app = registered.application
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    client.force_login(root)
    page = client.get(f"/admin/applications/application/{app.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert app.client_id in html
    assert app.console_secret not in html and registered.secret not in html
    assert 'name="console_secret"' not in html and 'name="registration_token"' not in html


def _admin(client: Client) -> None:
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    client.force_login(root)


def _client_credentials(client_id: str, secret: str, **params: str) -> Any:
    return Client().post(
        "/idp/token/",
        {"grant_type": "client_credentials", **params},
        HTTP_AUTHORIZATION=basic(client_id, secret),
    )


@pytest.mark.parametrize("how", ["delete page", "bulk action"])
def test_deleting_an_application_in_the_admin_deletes_its_client_and_cancels_its_keys(
    client: Client,
    ada: Any,
    register: Callable[..., flows.Registered],
    import_spec: Any,
    make_product: Callable[..., Any],
    how: str,
) -> None:
    """Deleted in the admin, an application left its client at the built-in provider behind:
    the same id and secret still got tokens, and with no application behind it the provider
    took it for a first-party client, so it got every published API's scopes; its
    subscriptions' keys kept working as the developer's own."""
    import_spec(DEMO_SPECS / "echo.yaml", "echo")
    petstore = import_spec(DEMO_SPECS / "petstore.yaml", "petstore")
    registered = register(ada, "machine")
    app = registered.application
    sub = product_flows.subscribe(ada, make_product("pets", petstore), application=app)
    before = _client_credentials(app.client_id, registered.secret, scope="echo.write")
    assert before.status_code == 400 and before.json()["error"] == "invalid_scope"

    _admin(client)
    if how == "delete page":
        answer = client.post(f"/admin/applications/application/{app.pk}/delete/", {"post": "yes"})
    else:
        answer = client.post(
            "/admin/applications/application/",
            {"action": "delete_selected", "_selected_action": [app.pk], "post": "yes"},
        )
    assert answer.status_code == 302
    assert not Application.objects.filter(pk=app.pk).exists()

    after = _client_credentials(app.client_id, registered.secret, scope="echo.write")
    assert after.status_code == 401 and after.json()["error"] == "invalid_client"
    assert not IdentityClient.objects.filter(client_id=app.client_id).exists()
    sub.refresh_from_db()
    assert sub.state == sub.CANCELLED


def _change(client: Client, app: Any, **fields: Any) -> Any:
    data = {
        "name": app.name,
        "description": app.description,
        "kind": app.kind,
        "owner": app.owner_id,
        "redirect_uris": json.dumps(app.redirect_uris),
        "_save": "Save",
        **fields,
    }
    return client.post(f"/admin/applications/application/{app.pk}/change/", data)


def test_the_admin_cannot_move_an_application_to_another_developer_or_change_its_kind(
    client: Client, ada: Any, bob: Any, register: Callable[..., flows.Registered]
) -> None:
    """Moved in the admin, the application went to bob while its client (and its
    subscriptions, with their keys) stayed ada's; made a machine client there, the provider's
    client still took authorization-code requests at its redirect URIs."""
    app = register(ada, "web").application
    _admin(client)
    _change(client, app, owner=bob.pk, kind="machine")
    app.refresh_from_db()
    assert app.owner == ada and app.kind == "web"


@pytest.mark.parametrize(
    "uris",
    [["javascript:alert(1)"], ["http://evil.example/cb"], ["https://app.example/cb#x"], "nope"],
)
def test_redirect_uris_changed_in_the_admin_pass_the_rules_or_change_nothing(
    client: Client, ada: Any, register: Callable[..., flows.Registered], uris: Any
) -> None:
    app = register(ada, "web").application
    _admin(client)
    answer = _change(client, app, redirect_uris=json.dumps(uris))
    assert answer.status_code == 200  # the form again, with the error
    app.refresh_from_db()
    assert app.redirect_uris == ["https://app.example/callback"]
    assert app.provider_client is not None
    assert app.provider_client.redirect_uris == "https://app.example/callback"


def test_a_change_in_the_admin_reaches_the_providers_client(
    client: Client, ada: Any, register: Callable[..., flows.Registered]
) -> None:
    """The admin saved the row alone: the provider kept redirecting to the old URIs."""
    app = register(ada, "web").application
    _admin(client)
    answer = _change(
        client, app, name="Renamed", redirect_uris=json.dumps(["https://new.example/cb"])
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    app.refresh_from_db()
    assert app.name == "Renamed" and app.redirect_uris == ["https://new.example/cb"]
    assert app.provider_client is not None
    assert app.provider_client.redirect_uris == "https://new.example/cb"
    assert app.provider_client.name == "Renamed"

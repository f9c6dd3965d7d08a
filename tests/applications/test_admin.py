"""The admin shows an application's provider details, never its stored secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from applications import flows


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

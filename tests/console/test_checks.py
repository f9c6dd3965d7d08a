"""The console's system checks."""

from __future__ import annotations

from typing import Any

import pytest

from console.checks import check_console_settings, check_shared_clients
from identity.clients import ensure_client
from identity.models import Client


def ids(settings: Any) -> list[str | None]:
    return [m.id for m in check_console_settings(None)]


def test_good_settings_pass(settings: Any) -> None:
    settings.CONSOLE_GATEWAY_URL = "https://gw.example.com/gateway"
    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com", "http://10.1.2.3:8080"]
    assert ids(settings) == []


def test_bad_settings_are_named(settings: Any) -> None:
    settings.CONSOLE_ALLOWED_ORIGINS = ["api.example.com", "https://u@h.example", "https://h/x"]
    settings.CONSOLE_GATEWAY_URL = "ftp://gw"
    assert ids(settings) == ["console.E001"] * 3 + ["console.E002"]
    settings.CONSOLE_ALLOWED_ORIGINS = []
    settings.CONSOLE_GATEWAY_URL = ""
    assert ids(settings) == ["console.W001"]


@pytest.mark.django_db
def test_a_shared_builtin_client_minting_every_scope_is_named(auth_server: Any) -> None:
    server = auth_server(client_id="shared-console")
    client = ensure_client(
        client_id="shared-console", secret="s" * 32, name="Console",
        grant=Client.GRANT_AUTHORIZATION_CODE, redirect_uris=["https://portal.example/cb"],
    )  # fmt: skip
    assert check_shared_clients(None) == []  # only where the database is checked
    [warning] = check_shared_clients(None, databases=["default"])
    assert warning.id == "console.W002" and "'shared-console'" in warning.msg
    client.scopes_from_subscriptions = True
    client.save()
    assert check_shared_clients(None, databases=["default"]) == []
    # A client id the built-in provider does not hold (another provider's) is left alone.
    server.client_id = "corp-console"
    server.save()
    client.scopes_from_subscriptions = False
    client.save()
    assert check_shared_clients(None, databases=["default"]) == []

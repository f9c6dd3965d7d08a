"""Applications' stored secrets: encrypted at rest, and re-encrypted when the key ring turns."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet
from django.core.management import call_command

from applications import flows, secrets
from applications.models import Application


def test_console_secret_is_encrypted_and_survives_key_rotation(
    settings: Any, ada: Any, register: Callable[..., flows.Registered]
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [old]
    registered = register(ada, "machine", keep_for_console=True)
    app = registered.application
    assert registered.secret not in app.console_secret
    Application.objects.filter(pk=app.pk).update(registration_token=secrets.seal("rat-1"))

    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_application_secrets", stdout=out)
    assert "1 application(s) re-encrypted; 0 unreadable" in out.getvalue()
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [new]  # the old key dropped
    app.refresh_from_db()
    assert flows.console_secret(app) == registered.secret
    assert secrets.unseal(app.registration_token) == "rat-1"


def test_rotating_the_client_secret_updates_the_console_copy(
    ada: Any, register: Callable[..., flows.Registered]
) -> None:
    app = register(ada, "machine", keep_for_console=True).application
    new = flows.rotate_secret(app)
    app.refresh_from_db()
    assert flows.console_secret(app) == new
    flows.forget_console_secret(app)
    app.refresh_from_db()
    assert app.console_secret == "" and flows.console_secret(app) == ""


def test_forget_console_secret_page(
    client: Any, ada: Any, bob: Any, register: Callable[..., flows.Registered]
) -> None:
    app = register(ada, "machine", keep_for_console=True).application
    url = f"/applications/{app.uuid}/console-secret/forget/"
    client.force_login(bob)
    assert client.post(url).status_code == 404  # another developer's application
    client.force_login(ada)
    assert 'data-console-secret="kept"' in client.get(app.get_absolute_url()).content.decode()
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    app.refresh_from_db()
    assert app.console_secret == ""
    assert 'data-console-secret="none"' in client.get(app.get_absolute_url()).content.decode()

"""Two real gateway processes (`python -m gateway`) reading one database: a token revoked at the built-in
provider, and a cancelled subscription under require-subscribed-client, are refused by both
within 5 s (issue 10: "Revocation reaches every gateway process within 5 s, as for keys").

Without Redis the processes notice through the revocation table's newest row; on the
PostgreSQL + Redis pass (REDIS_URL set) through the version the provider bumps in Redis.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from applications import flows as app_flows
from products import flows
from tests.gateway.conftest import Provider, claims, echo_in_starter, mint
from tests.gateway.processes import free_port, spawn_app, wait_until_serving
from tests.products.realdb import in_thread, on_a_database_file, url_for_processes
from tests.services import stop_process

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _start(
    port: int, database_url: str, log: Path, routes: list[dict[str, Any]]
) -> subprocess.Popen[bytes]:
    proc, _ = spawn_app(
        "tests.gateway.gw_tokens_entry:application",
        routes,
        log,
        port,
        DATABASE_URL=database_url,
        GATEWAY_CONFIG_REFRESH="1",
        GATEWAY_KEY_FETCH_PRIVATE_HOSTS="127.0.0.1",
    )
    return proc


def _status(port: int, path: str, token: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        check = json.loads(body).get("check", "") if response.status >= 400 else ""
        return response.status, check
    finally:
        conn.close()


def _everywhere_within(
    ports: list[int], path: str, token: str, expected: tuple[int, str], seconds: float
) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(_status(port, path, token) == expected for port in ports):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def two_gateways(tmp_path: Path, provider: Provider, settings: Any) -> Iterator[dict[str, Any]]:
    settings.PASSWORD_HASHERS = ["identity.hashers.ClientSecretHasher"]
    product, ada = echo_in_starter("subs")
    app = app_flows.register(ada, name="Job", kind="machine", redirect_uris=[]).application
    sub = flows.subscribe(ada, product, application=app)
    routes: list[dict[str, Any]] = [
        {"suffix": "orders", "backend": "echo", "discovery": provider.discovery_url,
         "audience": "api://orders"},
        {"suffix": "subs", "backend": "echo", "discovery": provider.discovery_url,
         "audience": "api://orders", "subscribed_client": True},
    ]  # fmt: skip
    with on_a_database_file(tmp_path) as db:
        # SQLite: a copy as a file; PostgreSQL (with Redis on that pass): the test database.
        url = url_for_processes(db)
        ports = [free_port(), free_port()]
        logs = [tmp_path / f"gw{i}.log" for i in range(2)]
        procs = [_start(p, url, log, routes) for p, log in zip(ports, logs, strict=True)]
        try:
            for port, proc, log in zip(ports, procs, logs, strict=True):
                wait_until_serving(port, proc, log, 60)
            yield {"ports": ports, "app": app, "sub": sub, "ada": ada}
        finally:
            for proc in procs:
                stop_process(proc)


def _revoke(token: str) -> Callable[[], None]:
    """The provider's revocation: the access token row goes (identity/revocation.py records
    it), as on /idp/revoke/, refresh-token reuse or a deleted application."""

    def work() -> None:
        from identity.models import Client

        client = Client.objects.create(
            client_id="cc-1", client_type="confidential",
            authorization_grant_type="client-credentials",
        )  # fmt: skip
        get_access_token_model().objects.create(
            application=client, token=token, expires=timezone.now() + timedelta(minutes=10)
        ).delete()

    return work


def test_a_revoked_token_is_refused_by_both_processes_within_5_s(
    two_gateways: dict[str, Any], provider: Provider
) -> None:
    token = mint(provider.keys[0], claims(provider))
    ports = two_gateways["ports"]
    assert [_status(p, "/orders/x", token) for p in ports] == [(200, ""), (200, "")]
    in_thread(_revoke(token))
    assert _everywhere_within(ports, "/orders/x", token, (401, "revoked"), 5)


def test_a_cancelled_subscription_is_refused_by_both_processes_within_5_s(
    two_gateways: dict[str, Any], provider: Provider
) -> None:
    """require-subscribed-client: the gateway also refuses tokens whose grant was revoked."""
    token = mint(provider.keys[0], claims(provider, client_id=two_gateways["app"].client_id))
    stranger = mint(provider.keys[0], claims(provider, client_id="console"))
    ports = two_gateways["ports"]
    assert [_status(p, "/subs/x", token) for p in ports] == [(200, ""), (200, "")]
    assert _status(ports[0], "/subs/x", stranger) == (403, "subscribed-client")
    sub, ada = two_gateways["sub"], two_gateways["ada"]
    in_thread(lambda: flows.change_state(sub, "cancel", ada))
    assert _everywhere_within(ports, "/subs/x", token, (403, "subscribed-client"), 5)

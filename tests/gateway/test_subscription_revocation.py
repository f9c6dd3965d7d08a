"""SECURITY.md case 69 across processes: two real gateway processes (`python -m gateway`) load keys from
the same database; suspending the subscription, or regenerating a key, reaches both within
5 s."""

from __future__ import annotations

import http.client
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from products import flows
from products.models import Subscription
from tests.gateway.conftest import echo_in_starter
from tests.gateway.processes import free_port, spawn_app, wait_until_serving
from tests.products.realdb import in_thread, on_a_database_file, url_for_processes
from tests.services import stop_process

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _start(port: int, database_url: str, log: Path) -> subprocess.Popen[bytes]:
    routes = [{"suffix": "echo", "backend": "echo"}]
    app = "tests.gateway.gw_keys_entry:application"
    proc, _ = spawn_app(
        app, routes, log, port, DATABASE_URL=database_url, GATEWAY_CONFIG_REFRESH="1"
    )
    return proc


def _status(port: int, key: str, *, in_query: bool = False) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if in_query:
            conn.request("GET", f"/echo/anything?subscription-key={key}")
        else:
            conn.request("GET", "/echo/anything", headers={"Ocp-Apim-Subscription-Key": key})
        return conn.getresponse().status
    finally:
        conn.close()


def _refused_everywhere_within(ports: list[int], key: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(_status(port, key) == 401 for port in ports):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def two_gateways(tmp_path: Path) -> Iterator[dict[str, Any]]:
    product, ada = echo_in_starter("echo")
    sub = flows.subscribe(ada, product)
    with on_a_database_file(tmp_path) as db:
        # SQLite: a copy as a file; PostgreSQL: the test database (committed: transaction=True).
        url = url_for_processes(db)
        ports = [free_port(), free_port()]
        procs = [_start(p, url, tmp_path / f"gw{i}.log") for i, p in enumerate(ports)]

        def stop() -> None:
            for proc in procs:
                stop_process(proc)

        try:
            for i, (port, proc) in enumerate(zip(ports, procs, strict=True)):
                wait_until_serving(port, proc, tmp_path / f"gw{i}.log", 60)
            logs = list(tmp_path.glob("gw*.log"))
            yield {"ports": ports, "sub": sub, "ada": ada, "logs": logs, "stop": stop}
        finally:
            stop()


@pytest.mark.parametrize("action", ["suspend", "cancel"])
def test_case69_a_suspended_or_cancelled_key_is_refused_by_both_processes_within_5_s(
    two_gateways: dict[str, Any], action: str
) -> None:
    sub: Subscription = two_gateways["sub"]
    key = flows.shown_key(sub, "primary")
    assert [_status(p, key) for p in two_gateways["ports"]] == [200, 200]
    assert [_status(p, key, in_query=True) for p in two_gateways["ports"]] == [200, 200]
    in_thread(lambda: flows.change_state(sub, action, None))
    assert _refused_everywhere_within(two_gateways["ports"], key, 5)
    two_gateways["stop"]()  # the access log is flushed at exit
    logs = "".join(path.read_text() for path in two_gateways["logs"])
    assert "status=200" in logs and "status=401" in logs  # the access log is on
    assert key not in logs  # SECURITY.md case 70, header and query string alike


def test_a_regenerated_secondary_key_is_refused_on_both_within_5_s(
    two_gateways: dict[str, Any],
) -> None:
    sub: Subscription = two_gateways["sub"]
    old = flows.shown_key(sub, "secondary")
    assert [_status(p, old) for p in two_gateways["ports"]] == [200, 200]
    new = in_thread(lambda: flows.shown_key(flows.regenerate(sub, "secondary", None), "secondary"))
    assert _refused_everywhere_within(two_gateways["ports"], old, 5)
    assert [_status(p, new) for p in two_gateways["ports"]] == [200, 200]


def test_unpublishing_the_product_closes_its_api_on_both_within_5_s(
    two_gateways: dict[str, Any],
) -> None:
    """Unpublishing Starter (echo's only product) opened echo to calls without a key on every
    process; now its keys and calls without one are both refused everywhere."""
    from products.models import Product

    sub: Subscription = two_gateways["sub"]
    key = flows.shown_key(sub, "primary")
    assert [_status(p, key) for p in two_gateways["ports"]] == [200, 200]

    def unpublish() -> None:
        product = Product.objects.get(pk=sub.product_id)
        product.published = False
        product.save()

    in_thread(unpublish)
    assert _refused_everywhere_within(two_gateways["ports"], key, 5)
    assert [_status(p, "") for p in two_gateways["ports"]] == [401, 401]  # an empty key: none

"""With Redis, a change reaches every gateway process through one version key
(`gateway:config:version`, gateway/version.py) instead of a database fingerprint query per
second per worker; the change still applies to the next call after GATEWAY_CONFIG_REFRESH."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from apis.models import Api
from gateway.app import Gateway
from gateway.models import Route
from tests.conftest import DEMO_SPECS
from tests.gateway.conftest import AUDIENCE, LoopbackServer, Provider, claims, ec_key, mint
from tests.gateway.processes import Operator, RedisServer, bearer, call, echo_config
from tests.gateway.test_config_and_backends import run

User = get_user_model()


@pytest.fixture
def petstore(db: Any) -> Api:
    call_command("importspec", str(DEMO_SPECS / "petstore.yaml"), slug="petstore",
                 publish=True, stdout=io.StringIO())  # fmt: skip
    return Api.objects.get(slug="petstore")


def _checks(body: str, source: str) -> float:
    found = re.search(rf'^gateway_config_checks_total{{source="{source}"}} (\S+)$', body, re.M)
    return float(found.group(1)) if found else 0.0


@pytest.mark.django_db(transaction=True)  # the bump is sent when the change commits
def test_a_saved_route_reaches_the_gateway_through_the_key_without_a_fingerprint_query(
    redis_server: RedisServer, settings: Any
) -> None:
    redis_server.start()
    settings.REDIS_URL = redis_server.url
    settings.GATEWAY_CONFIG_REFRESH = 0
    api = Api.objects.create(slug="plain", name="Plain")  # no spec: a plain proxy
    route = Route.objects.create(api=api, suffix="plain", backend="echo")
    fingerprints = 0

    def counted_fingerprint() -> Any:
        nonlocal fingerprints
        fingerprints += 1
        from gateway.config import config_fingerprint

        return config_fingerprint()

    app = Gateway(fingerprint=counted_fingerprint)
    assert run(app, "GET", "/plain/x")[0] == 200
    after_start = fingerprints
    for _ in range(3):
        assert run(app, "GET", "/plain/x")[0] == 200
    assert fingerprints == after_start  # nothing changed: every check was the key
    route.is_enabled = False
    route.save()  # as the admin saves it
    status, _, body = run(app, "GET", "/plain/x")
    assert status == 404 and b'"check":"route"' in body
    route.is_enabled = True
    route.save()
    assert run(app, "GET", "/plain/x")[0] == 200
    # One fingerprint query per change it was told of, none per check.
    assert fingerprints == after_start + 2
    assert app.version.checks["redis"] >= 6


@pytest.mark.django_db(transaction=True)
def test_the_admins_unpublish_action_stops_the_route_through_the_key(
    redis_server: RedisServer, settings: Any, petstore: Api
) -> None:
    """The admin's publish actions write with queryset.update(), which sends no post_save:
    without their own bump the route kept serving until the full check (30 s)."""
    redis_server.start()
    settings.REDIS_URL = redis_server.url
    settings.GATEWAY_CONFIG_REFRESH = 0
    settings.GATEWAY_CONFIG_FULL_CHECK = 3600  # only the key can tell
    Route.objects.create(api=petstore, suffix="pets", backend="mock")
    app = Gateway()
    assert run(app, "GET", "/pets/pets")[0] == 200
    boss = User.objects.create(username="boss", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(boss)
    changed = admin.post(
        "/admin/apis/api/", {"action": "unpublish", "_selected_action": [petstore.pk]}
    )
    assert changed.status_code == 302
    status, _, body = run(app, "GET", "/pets/pets")
    assert status == 404 and b'"check":"route"' in body
    admin.post("/admin/apis/api/", {"action": "publish", "_selected_action": [petstore.pk]})
    assert run(app, "GET", "/pets/pets")[0] == 200


def test_the_old_backstop_setting_still_sets_the_one_safety_net() -> None:
    """GATEWAY_REVOCATIONS_BACKSTOP was renamed GATEWAY_CONFIG_FULL_CHECK (one safety net for
    routes, keys, revoked tokens and subscribed clients); an install that set it keeps it."""
    script = "from django.conf import settings; print(settings.GATEWAY_CONFIG_FULL_CHECK)"
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_CONFIG_FULL_CHECK"}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", GATEWAY_REVOCATIONS_BACKSTOP="45")
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + script],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "45"
    env["GATEWAY_CONFIG_FULL_CHECK"] = "12"
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + script],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "12"


def test_a_policy_change_reaches_two_processes_with_no_fingerprint_query(
    operator: Operator,
    redis_server: RedisServer,
    provider: Provider,
    backend: LoopbackServer,
    http_server: Callable[[], LoopbackServer],
) -> None:
    redis_server.start()
    other = Provider(http_server(), [ec_key("other")])
    other.install()
    operator.env.update(
        REDIS_URL=redis_server.url, GATEWAY_METRICS_TOKEN="m", GATEWAY_CONFIG_FULL_CHECK="600"
    )
    operator.apply(echo_config(backend.url, provider.discovery_url, AUDIENCE))
    ports = [operator.start(workers=2), operator.start(workers=2)]
    token = mint(provider.keys[0], claims(provider))
    # Every worker of both processes loads the policy and serves the token.
    assert {call(ports[i % 2], "GET", "/echo/anything", bearer(token))[0] for i in range(40)} == {
        200
    }
    time.sleep(6)  # every worker publishes its counts every 5 s
    status, _, body = call(ports[0], "GET", "/-/metrics", {"Authorization": "Bearer m"})
    assert status == 200
    at_start = _checks(body.decode(), "database")
    seen = backend.recorder.count()
    # Trust withdrawn from the issuer through the portal's applyconfig.
    operator.apply(echo_config(backend.url, other.discovery_url, AUDIENCE))
    time.sleep(2.5)
    statuses = [call(ports[i % 2], "GET", "/echo/anything", bearer(token))[0] for i in range(40)]
    assert statuses == [401] * 40
    assert backend.recorder.count() == seen
    time.sleep(6)
    status, _, body = call(ports[1], "GET", "/-/metrics", {"Authorization": "Bearer m"})
    text = body.decode()
    # The fingerprints ran once per bump seen, per value and worker (four workers, at most
    # four values, applyconfig's bumps seen at most twice): not once a second each (> 100).
    assert _checks(text, "database") - at_start <= 32
    assert _checks(text, "redis") > 0

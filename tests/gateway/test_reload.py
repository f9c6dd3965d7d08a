"""A policy change applies to the next call (SECURITY.md case 63), and unpublishing or
deleting an API stops its route: in one process, and in a real `python -m gateway` with two
workers, routes written by `applyconfig`, calls on new connections.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from apis.models import Api
from gateway.app import Gateway
from gateway.models import Route
from tests.conftest import DEMO_SPECS
from tests.gateway.conftest import AUDIENCE, LoopbackServer, Provider, claims, ec_key, mint
from tests.gateway.processes import Operator, bearer, call, echo_config
from tests.gateway.test_config_and_backends import run


@pytest.fixture
def pets(db: Any) -> Api:
    call_command("importspec", str(DEMO_SPECS / "petstore.yaml"), slug="petstore",
                 publish=True, stdout=io.StringIO())  # fmt: skip
    return Api.objects.get(slug="petstore")


@pytest.mark.django_db(transaction=True)  # the gateway reads the tables from its own thread
def test_disabling_unpublishing_and_deleting_stop_the_route_on_the_next_call(
    pets: Api, settings: Any
) -> None:
    settings.GATEWAY_CONFIG_REFRESH = 1
    route = Route.objects.create(api=pets, suffix="pets", backend="mock")
    app = Gateway()
    assert run(app, "GET", "/pets/pets/12")[0] == 200
    route.is_enabled = False
    route.save()  # as the admin saves it
    time.sleep(1.2)
    # The first call after the refresh interval is already served under the new state.
    status, _, body = run(app, "GET", "/pets/pets/12")
    assert status == 404 and b'"check":"route"' in body
    route.is_enabled = True
    route.save()
    time.sleep(1.2)
    assert run(app, "GET", "/pets/pets/12")[0] == 200
    pets.is_published = False
    pets.save()  # unpublished in the admin: gone from the catalog and from the gateway
    time.sleep(1.2)
    status, _, body = run(app, "GET", "/pets/pets/12")
    assert status == 404 and b'"check":"route"' in body
    pets.is_published = True
    pets.save()
    time.sleep(1.2)
    assert run(app, "GET", "/pets/pets/12")[0] == 200
    pets.delete()
    time.sleep(1.2)
    assert run(app, "GET", "/pets/pets/12")[0] == 404


def test_case63_withdrawn_issuer_refused_on_every_worker(
    operator: Operator,
    provider: Provider,
    backend: LoopbackServer,
    http_server: Callable[[], LoopbackServer],
) -> None:
    other = Provider(http_server(), [ec_key("other")])
    other.install()
    operator.apply(echo_config(backend.url, provider.discovery_url, AUDIENCE))
    port = operator.start(workers=2)
    token = mint(provider.keys[0], claims(provider))
    # Warm every worker: each holds the old policy and the issuer's keys.
    assert {call(port, "GET", "/echo/anything", bearer(token))[0] for _ in range(30)} == {200}
    seen = backend.recorder.count()
    # Trust withdrawn from the issuer: the policy now names another provider.
    operator.apply(echo_config(backend.url, other.discovery_url, AUDIENCE))
    time.sleep(3)
    statuses = [call(port, "GET", "/echo/anything", bearer(token))[0] for _ in range(30)]
    assert statuses == [401] * 30
    assert backend.recorder.count() == seen

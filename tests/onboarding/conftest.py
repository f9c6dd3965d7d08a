"""Developers, their applications and `portal`-scoped tokens from the built-in provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from applications import flows
from tests.applications.conftest import (  # noqa: F401  (fixtures, shared)
    _fast_hashing,
    _fresh_cache,
    ada,
    basic,
    bob,
    make_user,
    register,
)
from tests.conftest import DEMO_SPECS
from tests.console.conftest import fake_outbound  # noqa: F401  (a fixture, shared)
from tests.products.conftest import make_product  # noqa: F401  (a fixture, shared)


@pytest.fixture
def echo(import_spec: Any) -> Any:
    return import_spec(DEMO_SPECS / "echo.yaml", "echo")


def token_for(client: Client, registered: flows.Registered, scope: str = "portal") -> str:
    """A client-credentials token of the developer's own machine application."""
    answer = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic(registered.application.client_id, registered.secret),
    )
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


@pytest.fixture
def portal_token(client: Client) -> Callable[..., str]:
    def make(owner: Any, scope: str = "portal") -> str:
        cli = flows.register(owner, name="CLI", kind="machine", redirect_uris=[])
        return token_for(client, cli, scope)

    return make

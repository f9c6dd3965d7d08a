"""Factories for developers and their applications."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from applications import flows
from tests.console.conftest import fake_outbound  # noqa: F401  (a fixture, shared)
from tests.identity.conftest import _fast_hashing, provider_options  # noqa: F401  (autouse, shared)
from tests.products.conftest import (  # noqa: F401  (fixtures, shared)
    ada,
    ada_client,
    bob,
    make_group,
    make_product,
    make_user,
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()  # the creation counter lives there


@pytest.fixture
def loopback_http(settings: Any) -> None:
    """Plain-http loopback redirect URIs on, as on a dev box (IDENTITY_LOOPBACK_HTTP)."""
    provider_options(
        settings, ALLOWED_REDIRECT_URI_SCHEMES=["https", "http"], ALLOWED_SCHEMES=["https", "http"]
    )


@pytest.fixture
def register() -> Callable[..., flows.Registered]:
    def make(owner: Any, kind: str = "web", **fields: Any) -> flows.Registered:
        fields.setdefault("name", f"{owner.username}'s {kind} app")
        fields.setdefault(
            "redirect_uris", [] if kind == "machine" else ["https://app.example/callback"]
        )
        return flows.register(owner, kind=kind, **fields)

    return make


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def client_credentials(client: Client, client_id: str, secret: str) -> Any:
    """A client-credentials request at the built-in provider's token endpoint."""
    return client.post(
        "/idp/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(client_id, secret),
    )

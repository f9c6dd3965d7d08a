"""Sign-in with Redis down: the password forms still work and are still rate limited
(the limits fall back to local memory, portal/lib/cache.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from identity.session import SESSION_KEY
from tests.identity.conftest import PASSWORD
from tests.portal.services import redis_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings: Any, tmp_path: Path) -> Iterator[None]:
    """The cache configured on a Redis that has just gone away."""
    with redis_server(tmp_path) as server:
        settings.CACHES = {
            "default": {
                "BACKEND": "portal.lib.cache.TolerantRedisCache",
                "LOCATION": server.url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        server.stop()
        yield


def test_provider_sign_in_works(client: Client, user_factory: Any, redis_down: None) -> None:
    user_factory("grace")
    response = client.post("/idp/login/", {"username": "grace", "password": PASSWORD})
    assert response.status_code == 302 and client.session[SESSION_KEY]["id"]


def test_admin_sign_in_works(client: Client, user_factory: Any, redis_down: None) -> None:
    user_factory("boss", is_staff=True, is_superuser=True)
    response = client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"]


def test_failed_sign_ins_are_still_limited(
    client: Client, user_factory: Any, redis_down: None
) -> None:
    user_factory("grace")
    for _ in range(5):
        wrong = client.post("/idp/login/", {"username": "grace", "password": "wrong"})
        assert wrong.status_code == 400
    refused = client.post("/idp/login/", {"username": "grace", "password": PASSWORD})
    assert refused.status_code == 429

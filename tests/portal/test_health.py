"""/health/live and /health/ready: what a load balancer's probe sees."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from identity import keys
from identity.models import SigningKey
from tests.portal.services import redis_server

pytestmark = pytest.mark.django_db

PROBE_HOST = "10.1.2.3:8000"


@pytest.fixture
def production_like(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.IDENTITY_BUILTIN = True


def redis_cache(settings: Any, url: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.lib.cache.TolerantRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/health/"])
def test_a_plain_http_probe_by_ip_address_gets_an_answer(
    client: Client, production_like: None, path: str
) -> None:
    response = client.get(path, HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_a_head_probe_gets_the_status_without_a_body(
    client: Client, production_like: None, path: str
) -> None:
    # HAProxy's `option httpchk HEAD /health/ready` and other balancers probe with HEAD,
    # which HTTP requires a server to answer as GET: it was 405, so the process never served.
    response = client.head(path, HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("path", ["/health/live/", "/health/ready/"])
def test_a_probe_written_with_a_trailing_slash_gets_an_answer(
    client: Client, production_like: None, path: str
) -> None:
    # A probe path as Django's own URLs are spelled: it was a 400 (host check) by IP address.
    response = client.get(path, HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


def test_other_pages_keep_the_host_check_and_the_redirect(
    client: Client, production_like: None
) -> None:
    assert client.get("/apis/", HTTP_HOST=PROBE_HOST).status_code == 400
    assert client.get("/apis/", HTTP_HOST="portal.example.com").status_code == 301


def test_ready_lists_what_it_checked(client: Client, settings: Any) -> None:
    settings.IDENTITY_BUILTIN = True
    body = client.get("/health/ready").json()
    checks = {"database": "ok", "migrations": "ok", "signing_key": "ok"}
    if isinstance(caches["default"], RedisCache):  # the PostgreSQL + Redis pass
        checks["redis"] = "ok"
    assert body == {"status": "ok", "checks": checks, "failing": []}


def test_live_checks_no_dependency(client: Client, settings: Any) -> None:
    settings.IDENTITY_BUILTIN = True
    keys.active_key()
    SigningKey.objects.update(private_pem="not a key")
    assert client.get("/health/live").status_code == 200


def test_ready_names_an_unusable_signing_key(client: Client, settings: Any) -> None:
    settings.IDENTITY_BUILTIN = True
    keys.active_key()
    SigningKey.objects.update(private_pem="-----BEGIN PRIVATE KEY-----\nbroken\n")
    response = client.get("/health/ready", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["failing"] == ["signing_key"]
    assert "broken" not in response.content.decode()


def test_ready_names_redis_when_it_is_down(client: Client, settings: Any, tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis:
        redis_cache(settings, redis.url)
        ready = client.get("/health/ready").json()
        assert ready["checks"]["redis"] == "ok" and ready["status"] == "ok"
        redis.stop()
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["failing"] == ["redis"]
        assert response.json()["checks"]["database"] == "ok"
        redis.start()
        assert client.get("/health/ready").status_code == 200


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A server that accepts connections and never answers: a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_ready_answers_503_when_redis_hangs(
    client: Client, settings: Any, silent_redis: str
) -> None:
    redis_cache(settings, silent_redis)
    response = client.get("/health/ready")
    assert response.status_code == 503 and response.json()["failing"] == ["redis"]


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_health_is_read_only(client: Client, path: str) -> None:
    assert client.post(path).status_code == 405


def test_ready_names_migrations_the_database_lacks(client: Client, settings: Any) -> None:
    # A process of a new release started before its release step's migrate (or against a
    # database restored from an older dump) said ready, and the balancer sent it requests
    # that failed on missing tables and columns: 500s until someone ran migrate.
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from portal import health

    settings.IDENTITY_BUILTIN = True
    health.migrations_applied.cache_clear()
    latest = MigrationRecorder(connection).migration_qs.filter(app="usage").latest("id")
    MigrationRecorder(connection).record_unapplied(latest.app, latest.name)
    try:
        response = client.get("/health/ready", HTTP_HOST=PROBE_HOST)
        assert response.status_code == 503
        assert response.json()["failing"] == ["migrations"]
        assert latest.name not in response.content.decode()
    finally:
        MigrationRecorder(connection).record_applied(latest.app, latest.name)
    health.migrations_applied.cache_clear()
    assert client.get("/health/ready", HTTP_HOST=PROBE_HOST).status_code == 200

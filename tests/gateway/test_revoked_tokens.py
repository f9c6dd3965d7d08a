"""validate-jwt refuses an access token the built-in provider revoked (issue 10: "a token
revoked at the provider keeps passing the gateway until it expires"), in one process here;
tests/gateway/test_token_processes.py does it across two gateway processes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from gateway.revocations import Revocations, checksum
from identity.models import Client, RevokedToken
from tests.gateway.conftest import Harness, LoopbackServer, Provider, claims, make_route, mint
from tests.gateway.processes import RedisServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gateway(
    harness_for: Callable[..., Harness], provider: Provider, backend: LoopbackServer, settings: Any
) -> Harness:
    settings.GATEWAY_CONFIG_REFRESH = 0  # every call looks at the revocations
    harness = harness_for(make_route(provider, backend.url))
    harness.app.validator.revocations = Revocations()
    return harness


def revoke_at_the_provider(token: str) -> None:
    """What the provider does on /idp/revoke/, refresh-token reuse or a deleted application:
    the access token's row goes, and identity/revocation.py records its checksum."""
    client = Client.objects.create(
        client_id="app-1", client_type="confidential", authorization_grant_type="client-credentials"
    )
    row = get_access_token_model().objects.create(
        application=client, token=token, expires=timezone.now() + timedelta(minutes=10)
    )
    row.delete()


def test_a_token_revoked_after_it_passed_is_refused_with_check_revoked(
    gateway: Harness, provider: Provider, backend: LoopbackServer
) -> None:
    token = mint(provider.keys[0], claims(provider))
    other = mint(provider.keys[0], claims(provider))
    assert gateway.request("GET", "/orders/items", token=token).status == 200  # now cached
    revoke_at_the_provider(token)
    assert RevokedToken.objects.count() == 1
    response = gateway.request("GET", "/orders/items", token=token)
    assert response.status == 401
    assert response.json()["check"] == "revoked"
    assert response.header("content-type") == "application/problem+json"
    assert 'error="invalid_token"' in (response.header("www-authenticate") or "")
    assert len(backend.recorder.requests) == 1  # the backend never saw the refused call
    # Only that exact token: another token of the same client still passes.
    assert gateway.request("GET", "/orders/items", token=other).status == 200


def test_a_revoked_token_never_seen_before_is_refused(gateway: Harness, provider: Provider) -> None:
    token = mint(provider.keys[0], claims(provider))
    revoke_at_the_provider(token)
    response = gateway.request("GET", "/orders/items", token=token)
    assert response.status == 401 and response.json()["check"] == "revoked"


def test_with_redis_the_version_key_tells_and_the_one_full_check_backs_it_up(
    harness_for: Callable[..., Harness],
    provider: Provider,
    backend: LoopbackServer,
    redis_server: RedisServer,
    settings: Any,
) -> None:
    redis_server.start()
    settings.REDIS_URL = redis_server.url
    settings.GATEWAY_CONFIG_REFRESH = 0
    settings.GATEWAY_CONFIG_FULL_CHECK = 3600
    gateway = harness_for(make_route(provider, backend.url))
    gateway.app.validator.revocations = Revocations()
    first, second = (mint(provider.keys[0], claims(provider)) for _ in range(2))
    assert gateway.request("GET", "/orders/items", token=first).status == 200
    revoke_at_the_provider(first)  # the row, which bumps the gateway's version key
    assert gateway.request("GET", "/orders/items", token=first).status == 401
    # A revocation whose bump was lost (written with no signal, or Redis flushed meanwhile):
    # the key does not tell; the table does at the next full check, the same safety net
    # (GATEWAY_CONFIG_FULL_CHECK) as for routes and keys.
    assert gateway.request("GET", "/orders/items", token=second).status == 200
    RevokedToken.objects.bulk_create(
        [
            RevokedToken(
                token_checksum=checksum(second), expires=timezone.now() + timedelta(minutes=10)
            )
        ]
    )
    assert gateway.request("GET", "/orders/items", token=second).status == 200
    settings.GATEWAY_CONFIG_FULL_CHECK = 0
    response = gateway.request("GET", "/orders/items", token=second)
    assert response.status == 401 and response.json()["check"] == "revoked"


def test_until_the_revoked_set_has_loaded_tokens_get_503_not_a_pass(
    gateway: Harness, provider: Provider, backend: LoopbackServer
) -> None:
    """Started while the database cannot answer, the gateway does not know which tokens were
    revoked: it fails closed (503, Retry-After) instead of passing them, and recovers on its
    own at the next refresh once the table answers."""
    from django.db import connection

    token, other = (mint(provider.keys[0], claims(provider)) for _ in range(2))
    RevokedToken.objects.create(
        token_checksum=checksum(token), expires=timezone.now() + timedelta(minutes=10)
    )
    table = RevokedToken._meta.db_table
    with connection.schema_editor() as editor:  # the table cannot be read: a database error
        editor.alter_db_table(RevokedToken, table, table + "_away")
    try:
        response = gateway.request("GET", "/orders/items", token=token)
    finally:
        with connection.schema_editor() as editor:
            editor.alter_db_table(RevokedToken, table + "_away", table)
    assert response.status == 503
    assert response.json()["check"] == "revocations"
    assert response.header("retry-after") == "5"
    assert backend.recorder.requests == []
    refused = gateway.request("GET", "/orders/items", token=token)
    assert refused.status == 401 and refused.json()["check"] == "revoked"
    assert gateway.request("GET", "/orders/items", token=other).status == 200


def _respelled(token: str) -> list[str]:
    """The same token in other base64url spellings: the last character of a segment carries
    bits no decoder reads (a 256-byte RS256 signature leaves 4 of them), so changing them
    gives a new string with the same bytes."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    head, body, sig = token.split(".")
    last = alphabet.index(sig[-1])
    spellings = [alphabet[(last & ~0b1111) | low] for low in range(16)]
    return [f"{head}.{body}.{sig[:-1]}{c}" for c in spellings if c != sig[-1]]


def test_a_revoked_token_respelled_is_still_refused(gateway: Harness, provider: Provider) -> None:
    # The revocation list holds the checksum of the exact string: a respelled signature
    # (same bytes) passed again, revoked or not.
    token = mint(provider.keys[0], claims(provider))
    revoke_at_the_provider(token)
    for respelled in _respelled(token)[:3]:
        response = gateway.request("GET", "/orders/items", token=respelled)
        assert response.status == 401, respelled
        assert response.json()["check"] in ("format", "revoked")

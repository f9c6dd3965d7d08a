"""validate-jwt refuses an access token the built-in provider revoked (issue 10: "a token
revoked at the provider keeps passing the gateway until it expires"), in one process here;
tests/gateway/test_token_processes.py does it across two gateway processes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from gateway.jwt import Policy, PublicKey, ecdsa_twin, parse, verify_signature
from gateway.revocations import Revocations, checksum
from identity.models import Client, RevokedToken
from tests.gateway.conftest import (
    Harness,
    LoopbackServer,
    Provider,
    SigningKey,
    claims,
    make_route,
    mint,
    sign_raw,
)
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


def _other_spelling(token: str, curve_order: int) -> str:
    """The token with its ECDSA signature's s replaced by n - s (the 'high-S' twin)."""
    head, body, sig = token.split(".")
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    half = len(raw) // 2
    s = int.from_bytes(raw[half:], "big")
    twin = raw[:half] + (curve_order - s).to_bytes(half, "big")
    return f"{head}.{body}.{base64.urlsafe_b64encode(twin).rstrip(b'=').decode()}"


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.mark.parametrize("revoked", ["as issued", "its twin"])
def test_the_other_spelling_of_a_revoked_es256_token_is_refused_too(
    gateway: Harness, provider: Provider, backend: LoopbackServer, revoked: str
) -> None:
    # (r, n - s) verifies as (r, s) does, and most signers do not normalise s, so both are
    # accepted; a revocation kept as the token's checksum missed the other one.
    token = mint(provider.keys[1], claims(provider))
    twin = _other_spelling(token, P256_ORDER)
    fresh = mint(provider.keys[1], claims(provider))
    assert (
        gateway.request("GET", "/orders/items", token=_other_spelling(fresh, P256_ORDER)).status
        == 200
    )
    revoke_at_the_provider(token if revoked == "as issued" else twin)
    for spelling in (token, twin):
        response = gateway.request("GET", "/orders/items", token=spelling)
        assert response.status == 401 and response.json()["check"] == "revoked"
    assert gateway.request("GET", "/orders/items", token=fresh).status == 200


@pytest.mark.parametrize(
    ("alg", "curve"),
    [("ES256", ec.SECP256R1()), ("ES384", ec.SECP384R1()), ("ES512", ec.SECP521R1())],
)
def test_the_twin_of_each_curve_verifies(alg: str, curve: ec.EllipticCurve) -> None:
    # ecdsa_twin's curve orders are right: its twin is a signature the key verifies.
    key = ec.generate_private_key(curve)
    token = sign_raw(SigningKey("k", key, alg), b'{"alg":"%b"}' % alg.encode(), b"{}", alg)
    parsed = parse(token, Policy(algorithms=frozenset({alg})))
    twin = ecdsa_twin(parsed)
    assert (
        twin is not None
        and twin != token
        and ecdsa_twin(parse(twin, Policy(algorithms=frozenset({alg})))) == token
    )
    public = PublicKey(
        "EC", key.public_key(), crv={"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
    )
    assert verify_signature(parse(twin, Policy(algorithms=frozenset({alg}))), [public]) is public

"""Signing keys of the built-in provider: create on first use, rotate, publish, prune.

The private keys live in the database so every web process signs with the same key; the
parsed keys are memoised per process by kid (a kid never changes its key).
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from jwcrypto import jwk

from identity.models import SigningKey

KEY_BITS = 2048
# PostgreSQL advisory lock taken while the set of active keys changes: any fixed 64-bit
# number, the same in every process.
KEYS_LOCK = 0x1DE7_5167_0001


def _one_writer_at_a_time() -> None:
    """Inside a transaction: wait for any other process changing the active keys.

    `select_for_update` locks only rows that exist, so two processes starting on an empty
    table (a fresh install's first sign-ins, two portal processes behind a balancer) both
    created a first key, and two rotations at once both left theirs active. SQLite needs
    nothing: its transactions begin IMMEDIATE (portal/settings.py), one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [KEYS_LOCK])


def _new_pem() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@lru_cache(maxsize=16)
def _jwk_from_pem(pem: str) -> jwk.JWK:
    return jwk.JWK.from_pem(pem.encode())


def jwk_for(key: SigningKey) -> jwk.JWK:
    return _jwk_from_pem(key.private_pem)


@lru_cache(maxsize=16)
def _private_from_pem(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def private_key_for(key: SigningKey) -> Any:
    """The `cryptography` private key object, for signing with PyJWT (parsed once per key)."""
    return _private_from_pem(key.private_pem)


def _create() -> SigningKey:
    pem = _new_pem()
    kid = _jwk_from_pem(pem).thumbprint()
    return SigningKey.objects.create(kid=kid, private_pem=pem)


def active_key() -> SigningKey:
    """The key new tokens are signed with; generated on first use and kept."""
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is not None:
        return key
    with transaction.atomic():
        _one_writer_at_a_time()
        key = SigningKey.objects.filter(retired_at__isnull=True).first()
        return key or _create()


def retention() -> timedelta:
    """How long a retired key stays published: the longest token lifetime it may have signed."""
    conf: dict[str, Any] = settings.OAUTH2_PROVIDER
    longest = max(
        int(conf.get("ACCESS_TOKEN_EXPIRE_SECONDS", 3600)),
        int(conf.get("ID_TOKEN_EXPIRE_SECONDS", 36000)),
    )
    return timedelta(seconds=longest + int(getattr(settings, "IDENTITY_KEY_GRACE_SECONDS", 300)))


def rotate() -> SigningKey:
    """Start signing with a new key; the previous ones stay in the JWKS for `retention()`."""
    with transaction.atomic():
        _one_writer_at_a_time()
        now = timezone.now()
        SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=now)
        return _create()


def prune() -> int:
    """Delete retired keys whose tokens have all expired; returns how many went."""
    cutoff = timezone.now() - retention()
    deleted, _ = SigningKey.objects.filter(retired_at__lt=cutoff).delete()
    return deleted


def published_keys() -> list[SigningKey]:
    active_key()
    cutoff = timezone.now() - retention()
    return [k for k in SigningKey.objects.all() if k.retired_at is None or k.retired_at >= cutoff]


def jwks() -> dict[str, Any]:
    """The public JWK set: the signing key and the retired keys still in their grace period."""
    keys = []
    for key in published_keys():
        public = json.loads(jwk_for(key).export_public())
        public.update({"kid": key.kid, "use": "sig", "alg": "RS256"})
        keys.append(public)
    return {"keys": keys}

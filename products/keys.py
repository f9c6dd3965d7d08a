"""Subscription keys: made, hashed for lookup, encrypted for display, compared safely.

A key is 32 random bytes, URL-safe base64 (256 bits). The gateway finds a subscription by the
key's SHA-256 (a fast hash is right here: the key is random, not a password). The copy shown
on "My subscriptions" is encrypted with MultiFernet so PRODUCTS_KEY_ENCRYPTION_KEYS can be
rotated: the first key encrypts, every listed key decrypts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def new_key() -> str:
    return secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def same_key(given: str, expected: str) -> bool:
    """Constant-time comparison (SECURITY.md case 70)."""
    return hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode("utf-8", "replace")
    )


def derived_dev_key() -> str:
    """The fallback Fernet key, derived from SECRET_KEY; the products.W001 deploy check asks
    for a real one."""
    digest = hashlib.sha256(b"products.keys:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _fernet() -> MultiFernet:
    configured = list(getattr(settings, "PRODUCTS_KEY_ENCRYPTION_KEYS", []) or [])
    return MultiFernet([Fernet(k) for k in (configured or [derived_dev_key()])])


def encrypt(key: str) -> str:
    return _fernet().encrypt(key.encode()).decode()


class KeyUnreadable(Exception):
    """The stored copy was encrypted with a key no longer configured."""


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyUnreadable from None


def reencrypt(token: str) -> str:
    """The same key under the newest encryption key (for rotation)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise KeyUnreadable from None


def mask(key: str) -> str:
    return "•" * 8 + key[-4:]

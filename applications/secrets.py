"""Secrets an application keeps at rest: the RFC 7592 registration access token and, when
the developer asks, the client secret for the console.

Encrypted with the same MultiFernet key ring as subscription keys (products/keys.py,
PRODUCTS_KEY_ENCRYPTION_KEYS): the first key encrypts, every listed key decrypts, so the ring
rotates without losing them.
"""

from __future__ import annotations

from products import keys

SecretUnreadable = keys.KeyUnreadable


def seal(value: str) -> str:
    """The encrypted form to store; an empty value stays empty."""
    return keys.encrypt(value) if value else ""


def unseal(stored: str) -> str:
    """The clear value; SecretUnreadable when the key that sealed it is gone."""
    return keys.decrypt(stored) if stored else ""

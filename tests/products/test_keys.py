"""Key making, hashing, encryption at rest with rotation, and the configuration checks."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet

from products import keys
from products.checks import check_key_encryption, check_key_encryption_deploy


def test_keys_are_long_random_and_url_safe() -> None:
    made = {keys.new_key() for _ in range(50)}
    assert len(made) == 50
    assert all(len(k) >= 43 and all(c.isalnum() or c in "-_" for c in k) for k in made)


def test_encryption_rotates_with_the_newest_key_first(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [old]
    stored = keys.encrypt("the-key")
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [new, old]
    assert keys.decrypt(stored) == "the-key"  # old copies still read
    rotated = keys.reencrypt(stored)
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [new]
    assert keys.decrypt(rotated) == "the-key"
    with pytest.raises(keys.KeyUnreadable):
        keys.decrypt(stored)


def test_compare_is_exact() -> None:
    assert keys.same_key("abc", "abc") and not keys.same_key("abc", "abd")
    assert not keys.same_key("abc", "abcd")


def test_checks(settings: Any) -> None:
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = ["not-a-key"]
    assert [m.id for m in check_key_encryption(None)] == ["products.E001"]
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = []
    assert [m.id for m in check_key_encryption_deploy(None)] == ["products.W001"]
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert check_key_encryption(None) == [] and check_key_encryption_deploy(None) == []


@pytest.mark.django_db
def test_rotate_command_reencrypts_with_the_newest_key(
    settings: Any, make_user: Any, echo: Any, make_product: Any
) -> None:
    import io

    from django.core.management import call_command

    from products import flows

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [old]
    sub = flows.subscribe(make_user("ada"), make_product("starter", echo))
    primary = flows.shown_key(sub, "primary")
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_subscription_keys", stdout=out)
    assert "1 subscription(s) re-encrypted" in out.getvalue()
    settings.PRODUCTS_KEY_ENCRYPTION_KEYS = [new]  # the old key dropped
    sub.refresh_from_db()
    assert flows.shown_key(sub, "primary") == primary

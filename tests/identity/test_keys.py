"""Signing keys: created once and kept, rotated with the old key still published."""

from __future__ import annotations

import io
from datetime import timedelta

import jwt
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from identity import keys
from identity.models import SigningKey
from identity.tokens import sign

pytestmark = pytest.mark.django_db


def test_first_use_creates_one_key_and_keeps_it() -> None:
    assert SigningKey.objects.count() == 0
    first = keys.active_key()
    assert keys.active_key().kid == first.kid
    assert SigningKey.objects.count() == 1


def test_rotation_keeps_old_tokens_verifiable(client: Client) -> None:
    old_token = sign({"sub": "x", "aud": "api://echo"})
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    out = io.StringIO()
    call_command("rotate_signing_key", stdout=out)

    new_kid = keys.active_key().kid
    assert new_kid != old_kid and new_kid in out.getvalue()
    published = {k["kid"]: k for k in client.get("/idp/jwks/").json()["keys"]}
    assert set(published) == {old_kid, new_kid}
    assert jwt.get_unverified_header(sign({"sub": "y"}))["kid"] == new_kid
    public = jwt.PyJWK.from_dict(published[old_kid]).key
    assert jwt.decode(old_token, public, algorithms=["RS256"], audience="api://echo")["sub"] == "x"
    assert "d" not in published[old_kid] and "p" not in published[new_kid]  # public parts only


def test_retired_keys_leave_after_their_tokens_expire(client: Client) -> None:
    old = keys.active_key()
    keys.rotate()
    SigningKey.objects.filter(pk=old.pk).update(
        retired_at=timezone.now() - keys.retention() - timedelta(seconds=1)
    )
    kids = {k["kid"] for k in client.get("/idp/jwks/").json()["keys"]}
    assert old.kid not in kids
    out = io.StringIO()
    call_command("rotate_signing_key", "--prune", stdout=out)
    assert "Deleted 1" in out.getvalue()
    assert not SigningKey.objects.filter(pk=old.pk).exists()

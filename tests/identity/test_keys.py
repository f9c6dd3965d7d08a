"""Signing keys: created once and kept, rotated with the old key still published."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from identity import keys
from identity.models import SigningKey
from identity.tokens import sign
from tests.products.realdb import in_thread, on_a_database_file

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["first use", "rotation"])
def test_two_processes_changing_keys_at_once_leave_one_active_key(
    change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two portal processes on a fresh install both created a first key (PostgreSQL locks
    # no row of an empty table); two rotations both left their new key active.
    if change == "rotation":
        keys.active_key()
    work = keys.active_key if change == "first use" else keys.rotate
    create = keys._create

    def slow_create() -> SigningKey:
        time.sleep(0.3)  # the other process is past its check by now
        return create()

    monkeypatch.setattr(keys, "_create", slow_create)
    barrier = threading.Barrier(2)

    def attempt() -> None:
        try:
            barrier.wait()
            work()
        finally:
            connection.close()

    with on_a_database_file(tmp_path):
        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        active = in_thread(lambda: SigningKey.objects.filter(retired_at__isnull=True).count())
    assert active == 1

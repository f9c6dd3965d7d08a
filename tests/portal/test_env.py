"""portal/lib/env.py: secrets from NAME or from the file NAME_FILE names; bounded ints."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.lib.env import env_int, env_secret


def test_a_secret_is_read_from_the_variable() -> None:
    assert env_secret("DB_PASSWORD", environ={"DB_PASSWORD": "s3cret"}) == "s3cret"


def test_a_secret_is_read_from_the_file_named_by_name_file(tmp_path: Path) -> None:
    path = tmp_path / "db_password"
    path.write_text("s3cret from a file\n")  # editors and `echo` add the newline
    assert env_secret("DB_PASSWORD", environ={"DB_PASSWORD_FILE": str(path)}) == (
        "s3cret from a file"
    )


def test_unset_gives_the_default() -> None:
    assert env_secret("DB_PASSWORD", "fallback", environ={}) == "fallback"


def test_both_forms_at_once_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("one")
    with pytest.raises(ImproperlyConfigured, match="DB_PASSWORD or DB_PASSWORD_FILE"):
        env_secret("DB_PASSWORD", environ={"DB_PASSWORD": "two", "DB_PASSWORD_FILE": str(path)})


def test_an_unreadable_file_names_the_variable(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ImproperlyConfigured, match="DB_PASSWORD_FILE=.*nope"):
        env_secret("DB_PASSWORD", environ={"DB_PASSWORD_FILE": str(missing)})


def test_an_int_below_its_minimum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBSCRIPTIONS_CREATE_PER_HOUR", "0")
    with pytest.raises(ImproperlyConfigured, match="SUBSCRIPTIONS_CREATE_PER_HOUR='0'.*at least 1"):
        env_int("SUBSCRIPTIONS_CREATE_PER_HOUR", 10, minimum=1)
    monkeypatch.setenv("SUBSCRIPTIONS_CREATE_PER_HOUR", "1")
    assert env_int("SUBSCRIPTIONS_CREATE_PER_HOUR", 10, minimum=1) == 1
    monkeypatch.delenv("SUBSCRIPTIONS_CREATE_PER_HOUR")
    assert env_int("SUBSCRIPTIONS_CREATE_PER_HOUR", 10, minimum=1) == 10

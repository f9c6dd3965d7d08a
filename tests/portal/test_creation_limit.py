"""portal/lib/creation_limit.py: the hourly window on what a developer creates."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from portal.lib.creation_limit import count_creation


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def test_the_creation_past_the_limit_is_refused() -> None:
    ada = SimpleNamespace(pk=1)
    assert [count_creation("subscriptions", ada, 2) for _ in range(3)] == [True, True, False]


def test_each_user_and_each_kind_has_its_own_count() -> None:
    ada, bob = SimpleNamespace(pk=1), SimpleNamespace(pk=2)
    assert count_creation("subscriptions", ada, 1)
    assert not count_creation("subscriptions", ada, 1)
    assert count_creation("subscriptions", bob, 1)  # another developer
    assert count_creation("applications", ada, 1)  # another kind of object


def test_the_applications_counter_keeps_its_key() -> None:
    """A deployment's running windows survive the upgrade that moved the code here."""
    cache.set("applications:created:7", 5, timeout=3600)
    assert not count_creation("applications", SimpleNamespace(pk=7), 5)


def test_a_window_that_expired_between_add_and_incr_starts_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)  # as if it was there
    assert count_creation("subscriptions", SimpleNamespace(pk=1), 1)
    assert cache.get("subscriptions:created:1") == 1

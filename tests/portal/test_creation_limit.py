"""portal/lib/creation_limit.py: the sliding hour on what a developer creates."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

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


def test_a_slot_another_process_took_meanwhile_is_not_counted_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two processes creating at once both read slot 0 as free; only one add can take it.
    add = cache.add

    def racing_add(key: str, value: float, timeout: int) -> bool:
        if key == "subscriptions:created:1:0":
            add(key, 0.0, timeout=3600)  # the other process, between our read and our add
        return add(key, value, timeout=timeout)

    monkeypatch.setattr(cache, "add", racing_add)
    ada = SimpleNamespace(pk=1)
    assert count_creation("subscriptions", ada, 2)  # ours took slot 1
    assert not count_creation("subscriptions", ada, 2)  # both slots held: the limit of two


def test_a_burst_across_the_edge_of_the_hour_is_refused(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # A fixed hour opened by the first creation let `limit` through at its end and `limit`
    # more a second later, in a new hour: twice the limit within a few seconds.
    # Local memory, whose expiries follow this clock (Redis, in the PostgreSQL pass, has its own).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "creation-limit-clock"}}  # fmt: skip
    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])  # the cache's clock (expiries)
    ada = SimpleNamespace(pk=1)
    assert count_creation("subscriptions", ada, 3)  # opens the hour
    clock[0] += 3590
    assert [count_creation("subscriptions", ada, 3) for _ in range(2)] == [True, True]
    clock[0] += 11  # the first creation is now over an hour old; the two others are not
    assert [count_creation("subscriptions", ada, 3) for _ in range(3)] == [True, False, False]
    clock[0] += 3600  # an hour after the burst, the whole limit again
    assert [count_creation("subscriptions", ada, 3) for _ in range(4)] == [True] * 3 + [False]

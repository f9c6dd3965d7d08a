from __future__ import annotations

from portal.lib.lru import LRU


def test_least_recently_used_entry_is_evicted() -> None:
    cache: LRU[str] = LRU(2)
    cache.set("a", "A")
    cache.set("b", "B")
    assert cache.get("a") == "A"  # "a" is now the most recent
    cache.set("c", "C")
    assert cache.get("b") is None
    assert cache.get("a") == "A" and cache.get("c") == "C"
    assert len(cache) == 2


def test_get_or_compute_computes_once() -> None:
    cache: LRU[int] = LRU(4)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 42

    assert cache.get_or_compute("k", compute) == 42
    assert cache.get_or_compute("k", compute) == 42
    assert len(calls) == 1
    cache.clear()
    assert cache.get("k") is None

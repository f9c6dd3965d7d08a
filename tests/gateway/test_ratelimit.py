"""The in-process counters (gateway/ratelimit.py MemoryCounters), which a gateway without Redis
uses for rate limits, quotas and the unknown-key count (the Redis store: test_shared_store)."""

from __future__ import annotations

import asyncio

from gateway.ratelimit import MemoryCounters


def test_a_flood_of_new_keys_does_not_reset_a_busy_keys_limit() -> None:
    """A client with many addresses (a /48 holds 65,536 /64s) fills the store with keys of
    its own: the store made room by forgetting every key, so a subscription at its limit
    was let through again."""

    async def run() -> None:
        counters = MemoryCounters(max_keys=10)
        for _ in range(3):
            assert (await counters.hit("sub|busy|rate-limit", 3, 60))[0]
        for n in range(25):
            await counters.hit(f"badkey|2001:db8:{n:x}::", 20, 60)
        allowed, count, retry = await counters.hit("sub|busy|rate-limit", 3, 60)
        assert (allowed, count) == (False, 4)
        assert 0 < retry <= 60

    asyncio.run(run())


def test_a_key_whose_long_window_still_holds_calls_is_kept_when_room_is_made() -> None:
    """Room is made from keys whose own window has emptied: a minute-long key's call must
    not decide for an hour-long one (the store judged every key by the new key's period)."""

    async def run() -> None:
        counters = MemoryCounters(max_keys=3)
        assert (await counters.hit("route|hourly", 1, 3600))[0]
        for n in range(2):
            await counters.hit(f"badkey|10.0.0.{n}", 20, 60)
        for log in counters._log.values():
            log[0] -= 120  # every call two minutes ago: inside the hour, past the minute
        await counters.hit("badkey|10.0.0.9", 20, 60)  # a new key: the store is full
        assert not (await counters.hit("route|hourly", 1, 3600))[0]

    asyncio.run(run())


def test_a_full_quota_store_keeps_the_totals_of_other_periods() -> None:
    """A subscription's call quota (a fixed window: `add`) made room for a new key by keeping
    only totals of the new key's window number, read in its own period: a daily quota's
    total, in window 20,000-odd of a day, was forgotten for a minute-long key's window, and
    the used-up quota started again from 0."""

    async def run() -> None:
        counters = MemoryCounters(max_keys=2)
        assert (await counters.add("sub|a|quota", 10, 86400))[0] == 10
        await counters.add("sub|b|kb", 1, 60)
        await counters.add("sub|c|kb", 1, 60)  # a new key: the store is full
        assert (await counters.add("sub|a|quota", 0, 86400))[0] == 10

    asyncio.run(run())

"""Rankings' totals of closed days, kept between requests.

A 30-day ranking by subscription sums about 150,000 day rows (5,000 subscriptions by 30
days): hundreds of milliseconds on a loaded SQLite, more on PostgreSQL. Rows of a day
before today change only when ClosedDaysVersion's token does (usage/aggregate.py's
write_rows changes it in the transaction that writes into such a day, whether the aggregator
or, without Redis, a gateway's flush runs it; usage/anonymise.py and usage/retention.py when
they change or delete such rows). So the per-key sums of the closed part of a range are
computed once per filter and range and kept under the token: in Django's cache, and in the
table KeptTotal that the aggregator's pre-fill writes (usage/prefill.py), which every portal
process reads; a request sums only today's rows and adds them in (usage/reports.py). A new
token empties KeptTotal in the writer's transaction; cache entries of an old token are never
read again and expire.

A portal process also keeps the last answers it read in its own memory (_LOCAL), under the
same token: a page then reads the token once (one_token) and no shared cache, where fetching
and unpickling a 5,000-key ranking costs several milliseconds a page.
"""

from __future__ import annotations

import hashlib
import pickle
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from portal.lib.lru import LRU
from usage.models import ClosedDaysVersion, KeptTotal
from usage.spans import Span

Sums = dict[tuple[Any, ...], list[float]]  # a ranked key -> [calls, errors, total_ms_sum]

# Yesterday stays open (read afresh) this long after midnight: events still on their way
# to the rollups, and clocks of the gateway and portal hosts that differ by a little.
GRACE_SECONDS = 600
TIMEOUT_SECONDS = 2 * 86400
STORED_SECONDS = 26 * 3600
BRIEF_SECONDS = 120  # kept_briefly()

# Answers this process read, by digest (token and question). A page asks four (its summary,
# series, ranking and the winners' details); the largest, a ranking of 4,000 subscriptions,
# takes about 1.1 MB, so 48 bound the memory a portal process gives them to some tens of MB.
LOCAL_ANSWERS = 48

_storing: ContextVar[bool] = ContextVar("usage_closed_storing", default=False)
# The token one page reads once (one_token): [] until read, then [token].
_pinned: ContextVar[list[str | None] | None] = ContextVar("usage_closed_token", default=None)
_LOCAL: LRU[Any] = LRU(LOCAL_ANSWERS)


def closed_before(now: float | None = None) -> int:
    """The epoch before which days are closed: the last UTC midnight at least GRACE ago."""
    moment = int(now if now is not None else time.time()) - GRACE_SECONDS
    return moment - moment % 86400


def touches_closed_days(oldest_start: float, now: float | None = None) -> bool:
    """Whether a write of rows starting at `oldest_start` or later changes a closed day (by
    the writer's clock, which counts every day before today, grace or not)."""
    today = int(now if now is not None else time.time())
    return oldest_start < today - today % 86400


def bump() -> None:
    """A new token, in the caller's transaction: every kept total is obsolete. Those stored
    in the database go at once: an anonymised or deleted developer's totals, under their
    id, must not outlive the change."""
    table = ClosedDaysVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("id", "token") VALUES (1, %s) '
            'ON CONFLICT ("id") DO UPDATE SET "token" = excluded."token"',
            [uuid.uuid4().hex],
        )
        cursor.execute(f'DELETE FROM "{KeptTotal._meta.db_table}"')


def split(spans: list[Span], boundary: int) -> tuple[list[Span], list[Span]]:
    """The spans before `boundary` (a UTC midnight) and those from it on; a span across it
    is cut there (every level's buckets start at midnight)."""
    closed, open_ = [], []
    for level, a, b in spans:
        if b <= boundary:
            closed.append((level, a, b))
        elif a >= boundary:
            open_.append((level, a, b))
        else:
            closed.append((level, a, boundary))
            open_.append((level, boundary, b))
    return closed, open_


def _token() -> str | None:
    pinned = _pinned.get()
    if pinned:
        return pinned[0]
    token = ClosedDaysVersion.objects.filter(pk=1).values_list("token", flat=True).first()
    if pinned is not None:
        pinned.append(token)
    return token


@contextmanager
def one_token() -> Iterator[None]:
    """Within it, kept() reads the version token once (on its first question): the questions
    of one page are answered under one token, with one query."""
    reset = _pinned.set([])
    try:
        yield
    finally:
        _pinned.reset(reset)


def kept_briefly[T](question: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """kept() for an answer asked for about a minute: the first, partial hour of a range that
    ends now (usage/reports.py), whose start moves every minute. This process's memory and
    the cache for BRIEF_SECONDS; never the stored totals, and not kept by the pre-fill."""
    if _storing.get():
        return compute()
    token = _token()
    digest = hashlib.sha256(repr((token, "briefly", question)).encode()).hexdigest()
    local = token is not None
    found: T | None = _LOCAL.get(digest) if local else None
    if found is not None:
        return found
    key = f"usage:closed:{digest}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, BRIEF_SECONDS)
    if local:
        _LOCAL.set(digest, found)
    return found  # type: ignore[return-value]


def kept[T](question: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """What `compute` gives for `question` (everything that decides it but the version),
    from this process's memory or the cache when it was computed under the current token,
    else from what the aggregator's pre-fill stored (usage/prefill.py), else computed now.
    Only a pre-fill writes the table: a request never waits on the database's write lock.
    The answer is shared between requests: callers copy before they change it."""
    token = _token()
    digest = hashlib.sha256(repr((token, question)).encode()).hexdigest()
    key = f"usage:closed:{digest}"
    storing = _storing.get()
    # No token yet (no closed day ever written, or a test's rolled-back one): nothing ties
    # the answer to the rows, so only the shared cache, which tests empty, keeps it.
    local = token is not None and not storing
    found: T | None = _LOCAL.get(digest) if local else None
    if found is not None:
        return found
    found = None if storing else cache.get(key)
    if found is not None:
        return _LOCAL.set(digest, found) if local else found
    stored = KeptTotal.objects.filter(key=digest).values_list("value", flat=True).first()
    if stored is not None:
        found = pickle.loads(stored)
    else:
        found = compute()
        if storing:  # another aggregator may store the same at once: the first one stays
            row = KeptTotal(key=digest, value=pickle.dumps(found), created=timezone.now())
            KeptTotal.objects.bulk_create([row], ignore_conflicts=True)
    cache.set(key, found, TIMEOUT_SECONDS)
    if local:
        _LOCAL.set(digest, found)
    return found  # type: ignore[return-value]


def forget_local() -> None:
    """Empty this process's answers (a bench's stand-in for a new portal process)."""
    _LOCAL.clear()


@contextmanager
def storing() -> Iterator[None]:
    """Within it, what kept() computes is also stored in the database for every process
    (the aggregator's pre-fill)."""
    reset = _storing.set(True)
    try:
        yield
    finally:
        _storing.reset(reset)


def forget_stale(now: float | None = None) -> int:
    """Delete stored totals no request asks for any more; how many. A range's past days
    change every hour (24 hours, 7 days) or day (30 days): a day and two hours covers both."""
    oldest = datetime.fromtimestamp((now if now is not None else time.time()) - STORED_SECONDS, UTC)
    deleted, _ = KeptTotal.objects.filter(created__lt=oldest).delete()
    return deleted

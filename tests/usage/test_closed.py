"""What a portal process keeps of closed days (usage/closed.py): one page reads the version
token once, and a process answers again from its own memory, never under an old token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.usage.conftest import event
from usage import closed, pages, windows
from usage.aggregate import aggregate_events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    cache.clear()
    closed.forget_local()
    yield
    closed.forget_local()


def _past(n: int, **fields: Any) -> None:
    ts = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    aggregate_events([event(ts=ts, **fields)] * n)  # a closed day: a new token


def _week_page(now: Any = None) -> pages.UsagePage:
    window = windows.preset_window("7d", now or timezone.now(), UTC)
    return pages.build(window, pages.usage_filter(window), by="subscription")


def _reads(work: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        answer = work()
    return answer, [q["sql"] for q in queries]


def test_a_page_reads_the_version_token_once() -> None:
    _past(2, subscription_id=7)
    _, sql = _reads(_week_page)
    assert sum("usage_closeddaysversion" in s for s in sql) == 1


def test_a_process_answers_again_from_its_memory_until_the_token_changes() -> None:
    _past(2, subscription_id=7)
    now = timezone.now()
    first = _week_page(now)
    cache.clear()  # the shared cache lost it: this process still has it
    again, sql = _reads(lambda: _week_page(now))
    assert again.total_calls == first.total_calls == 2
    assert [r.cells[0] for r in again.ranked] == ["2"]
    rollup_reads = [s for s in sql if "rollup" in s]
    # Today only: the summary, the chart, the sums, the winners (the week's first, partial
    # hour is kept through its minute too).
    assert len(rollup_reads) == 4
    # A minute later the week starts a minute later: its first hour's minutes are read again
    # (and, past the hour, the past days' sums of the new hour's week).
    _, sql = _reads(lambda: _week_page(now + timedelta(minutes=1)))
    assert sum("rollup" in s for s in sql) >= 8
    _past(3, subscription_id=8)  # a late event in a closed day
    later = _week_page()
    assert later.total_calls == 5
    assert [(r.key, r.cells[0]) for r in later.ranked] == [(8, "3"), (7, "2")]


def test_a_new_process_reads_what_the_shared_cache_keeps() -> None:
    _past(2, subscription_id=7)
    now = timezone.now()
    _week_page(now)
    closed.forget_local()  # a new portal process: the shared cache still has the answers
    page, sql = _reads(lambda: _week_page(now))
    assert page.total_calls == 2
    assert sum("rollup" in s for s in sql) == 4


def test_without_a_token_nothing_is_kept_in_the_process() -> None:
    """Rows of closed days written with no token (none ever set) tie no answer to them: only
    the shared cache keeps it."""
    window = windows.preset_window("7d", timezone.now(), UTC)
    f = pages.usage_filter(window)
    assert closed.kept(("q", f), lambda: 1) == 1
    cache.clear()
    assert closed.kept(("q", f), lambda: 2) == 2

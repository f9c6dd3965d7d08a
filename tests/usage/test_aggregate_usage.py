from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from usage.models import DAY, ApiRollup, UsageEvent

pytestmark = pytest.mark.django_db


def test_once_aggregates_what_waits_and_applies_retention(settings: Any) -> None:
    settings.REDIS_URL = settings.GATEWAY_REDIS_URL = ""
    now = datetime.now(UTC)
    UsageEvent.objects.bulk_create(
        [UsageEvent(ts=now, api_id=3, status=200, outcome="success", total_ms=2.0)] * 3
        + [UsageEvent(ts=now - timedelta(days=3), api_id=3, status=500, outcome="failed",
                      total_ms=2.0)]
    )  # fmt: skip
    out = io.StringIO()
    call_command("aggregate_usage", "--once", stdout=out)
    assert "4 events aggregated" in out.getvalue()
    assert UsageEvent.objects.count() == 3  # the 3-day-old raw event is past retention
    assert ApiRollup.objects.filter(level=DAY, api_id=3).count() == 2


def test_once_reads_the_stream_when_redis_is_configured(
    redis_client: Any, redis_url: str, settings: Any
) -> None:
    import json

    from tests.usage.conftest import event
    from usage import stream

    settings.GATEWAY_REDIS_URL = redis_url
    redis_client.xadd(stream.STREAM, {"e": json.dumps([event()] * 5)})
    out = io.StringIO()
    call_command("aggregate_usage", "--once", stdout=out)
    assert "5 events aggregated" in out.getvalue()


def test_once_says_plainly_that_redis_is_unreachable(settings: Any) -> None:
    """A cron's `aggregate_usage --once` with its Redis down ended in a traceback."""
    import socket

    from django.core.management.base import CommandError

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REDIS_URL = ""
    settings.GATEWAY_REDIS_URL = f"redis://:secret@127.0.0.1:{port}/0"
    with pytest.raises(CommandError) as caught:
        call_command("aggregate_usage", "--once", stdout=io.StringIO())
    message = str(caught.value)
    assert "Redis" in message and f"127.0.0.1:{port}" in message
    assert "secret" not in message

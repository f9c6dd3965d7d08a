"""Run the usage aggregator: events (Redis stream or the raw table) -> rollups, and
retention. In production it runs as its own process, one or more (docs/deploy.md); `make
run` starts one beside the portal."""

from __future__ import annotations

import signal
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from usage import aggregate, events, retention
from usage.stream import StreamAggregator


def _redis_errors() -> type[Exception]:
    import redis

    return redis.RedisError


class Command(BaseCommand):
    help = "Aggregate usage events into rollups until stopped (SIGTERM / Ctrl-C)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="aggregate what is waiting, apply retention, and exit (for cron or a test)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = events.redis_url()
        stream = None
        if url:
            import redis

            stream = StreamAggregator(
                redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=2)
            )
        if options["once"]:
            total = 0
            try:
                while n := aggregate.aggregate_pending() + (stream.run_once() if stream else 0):
                    total += n
            except Exception as exc:
                if stream is None or not isinstance(exc, _redis_errors()):
                    raise
                # A cron's run: one line, not a traceback (and never the URL's password).
                where = urlsplit(url)
                at = f"{where.hostname}:{where.port or 6379}" if where.hostname else where.path
                raise CommandError(
                    f"The Redis that carries usage events ({at}) did not answer: "
                    f"{str(exc).rstrip('.')}. {total} events were aggregated before."
                ) from None
            deleted = retention.apply()
            self.stdout.write(f"{total} events aggregated; deleted past retention: {deleted}")
            return
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"Aggregating usage from {'the Redis stream and ' if stream else ''}the raw table."
        )
        aggregate.run(lambda: stopping, stream)

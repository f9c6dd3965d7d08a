"""Readiness of this process's dependencies, for load balancers and orchestrators.

Each check answers within a few seconds even when its dependency hangs: the database
through the pool with a short wait (or the driver's connect timeout), Redis with its
socket timeouts (REDIS_TIMEOUT). Failures are logged with their cause; the answer names only
the dependency, since the health endpoints are public.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections

logger = logging.getLogger(__name__)

# Longest wait for a pooled database connection during a readiness check, in seconds.
POOL_WAIT = 2.0


def check_database() -> None:
    connection = connections["default"]
    pool = getattr(connection, "pool", None)  # PostgreSQL with DATABASE_POOL only
    if pool is not None:
        pool.open()
        with pool.connection(timeout=POOL_WAIT) as raw:
            raw.execute("SELECT 1")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@functools.lru_cache(maxsize=1)
def migrations_applied() -> bool:
    """Raises while the database lacks a migration of this code (a new release started before
    its migrate step, a restore from an older dump): the process would fail on missing tables
    and columns. Remembered once true (applied migrations stay applied); loading the
    migration graph costs a few hundred milliseconds, paid by the probes until then."""
    from django.db.migrations.executor import MigrationExecutor

    connection = connections["default"]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} migration(s) not applied: run manage.py migrate")
    return True


def check_migrations() -> None:
    migrations_applied()


def check_redis() -> None:
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    # Straight to Redis: the cache itself would answer from local memory while Redis is down.
    cache._cache.get_client(write=True).ping()


def check_signing_key() -> None:
    from identity import keys

    keys.private_key_for(keys.active_key())


def _checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {
        "database": check_database,
        "migrations": check_migrations,
    }
    if isinstance(caches["default"], RedisCache):
        checks["redis"] = check_redis
    if settings.IDENTITY_BUILTIN:
        checks["signing_key"] = check_signing_key
    return checks


def readiness() -> dict[str, object]:
    """{"status": "ok" | "unavailable", "checks": {name: "ok" | "failing"}, "failing": [...]}."""
    results: dict[str, str] = {}
    for name, check in _checks().items():
        if name in ("migrations", "signing_key") and results.get("database") != "ok":
            results[name] = "skipped"  # both are read from the database
            continue
        try:
            check()
        except Exception as exc:
            # One line per failing probe: a load balancer probes every few seconds.
            logger.warning("readiness check %r failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = "failing"
        else:
            results[name] = "ok"
    failing = [name for name, result in results.items() if result == "failing"]
    return {"status": "unavailable" if failing else "ok", "checks": results, "failing": failing}

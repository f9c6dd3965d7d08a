"""Django's PostgreSQL DatabaseWrapper, pooling with FailFastPool instead of ConnectionPool."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base

from portal.lib.postgresql.pool import FailFastPool


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> FailFastPool | None:
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        # Class-level in Django, shared by every wrapper (django-stubs lacks these private names).
        pools: dict[str, FailFastPool] = self._connection_pools  # type: ignore[attr-defined]
        if self.alias not in pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            # As Django's own property (django/db/backends/postgresql/base.py), another class.
            options: dict[str, Any] = {} if pool_options is True else {**pool_options}
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets the real mode per connection
            options.setdefault(
                "check",
                FailFastPool.check_connection if self.settings_dict["CONN_HEALTH_CHECKS"] else None,
            )
            pool = FailFastPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,  # type: ignore[attr-defined]
                **options,
            )
            # Threads racing at start-up: the first pool stored wins.
            pools.setdefault(self.alias, pool)
        return pools[self.alias]

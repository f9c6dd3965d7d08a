"""A psycopg pool that answers at once while PostgreSQL is unreachable.

psycopg_pool's ConnectionPool treats a failed connection attempt as something to retry in the
background: a request that finds no healthy connection waits in the queue for the whole pool
timeout (DATABASE_POOL_TIMEOUT, 10 s), even though every attempt is refused within
milliseconds. Behind a load balancer that reads for 10 s, a stopped database made every page a
gateway timeout instead of an error page, and a readiness probe could not say "database" in
time (SECURITY.md case 83).

Here a request that would wait while the last attempt failed (or that drew a connection which
failed its check) connects once itself, with the driver's connect timeout: refused, it fails
now; accepted, the connection joins the pool and the request carries on, so the portal is back
as soon as PostgreSQL is, whatever the background backoff. Waiting for a busy pool under load
is unchanged.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool


class FailFastPool(ConnectionPool[Connection[Any]]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Whether the most recent connection attempt (background or ours) failed.
        self.unreachable = False
        super().__init__(*args, **kwargs)

    def _connect(self, timeout: float | None = None) -> Connection[Any]:
        try:
            conn = super()._connect(timeout)
        except Exception:
            self.unreachable = True
            raise
        self.unreachable = False
        return conn

    def _connect_now(self) -> None:
        """One connection attempt in the caller's thread: raises while the server is down."""
        conn = self._connect()  # the driver's connect_timeout bounds it (DATABASE_CONNECT_TIMEOUT)
        with self._lock:
            room = self._nconns < self.max_size
            if room:
                self._nconns += 1
        if room:
            self._add_to_pool(conn)
        else:
            self._close_connection(conn)

    def _getconn_with_check_loop(self, deadline: float) -> Connection[Any]:
        # psycopg_pool's loop, except that it finds out whether the server answers instead of
        # sleeping through a backoff and waiting for the background worker.
        while True:
            if self.unreachable and not self._pool:
                self._connect_now()
            conn = self._getconn_unchecked(deadline - monotonic())
            try:
                self._check_connection(conn)
            except Exception:
                self._putconn(conn, from_getconn=True)
            except BaseException:
                # Cancellation, KeyboardInterrupt: keep the connection, do not try again.
                self._putconn(conn, from_getconn=True)
                raise
            else:
                return conn
            # The connection drawn was broken: the server restarted, or it is gone.
            self._connect_now()

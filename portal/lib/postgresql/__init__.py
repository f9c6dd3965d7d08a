"""Django's PostgreSQL backend with a connection pool that fails fast while the server is down
(ENGINE "portal.lib.postgresql", set by portal.settings when DATABASE_POOL is on)."""

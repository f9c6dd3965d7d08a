"""Django's `migrate`, one process at a time per PostgreSQL database.

The release step should run once (docs/deploy.md), but a migrate per replica is common (an
init container, a pre-deploy hook on each machine). Two at once both created the same
tables: one failed with IntegrityError (duplicate key in pg_type) and exit code 1. Here each
takes a PostgreSQL advisory lock first: the others wait, then find nothing left to apply.
The lock belongs to the database session, so it goes with the process however it ends.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

# The advisory lock's key: any fixed 64-bit number, the same in every process.
LOCK_KEY = 0x61706970_6D696772  # "apip" "migr"


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            super().handle(*args, **options)
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            (locked,) = cursor.fetchone()
            if not locked:
                self.stdout.write("Another migrate runs on this database: waiting for it.")
                cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _ensure_search_index(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Re-create the operation search index where a migration dropped it: SQLite rebuilds a
    table to alter it, and its triggers go with the old table."""
    from apis.search_index import ensure_index

    connection = connections[using]
    if "apis_operation" in connection.introspection.table_names():
        ensure_index(connection)


class ApisConfig(AppConfig):
    name = "apis"
    verbose_name = "APIs"

    def ready(self) -> None:
        post_migrate.connect(_ensure_search_index, sender=self)

from typing import Any

from django.db import migrations

# Ids looked up by their start (apis/search.py, _by_whole_id) are compared byte by byte. On
# SQLite the index on lower(operation_id) (0007) already is; PostgreSQL's default collation
# orders linguistically, and a range over it neither holds exactly the ids with that start
# nor uses that index, so it gets one in "C" order.
INDEX = "apis_operation_id_lower_c"


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON apis_operation ((lower(operation_id) COLLATE "C"))'
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("apis", "0007_operation_id_lower"),
    ]

    operations = [migrations.RunPython(create, drop)]

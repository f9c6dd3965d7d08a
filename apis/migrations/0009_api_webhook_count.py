from typing import Any

from django.db import migrations, models


def count(apps: Any, schema_editor: Any) -> None:
    """Each API's webhooks, counted from its default version (the card showed "0 operations"
    for an API of webhooks only)."""
    db = schema_editor.connection.alias
    Api = apps.get_model("apis", "Api")
    Operation = apps.get_model("apis", "Operation")
    counts = dict(
        Operation.objects.using(db)
        .filter(kind="webhook")
        .values_list("version_id")
        .annotate(n=models.Count("id"))
    )
    apis = [
        api for api in Api.objects.using(db).exclude(default_version=None)
        if counts.get(api.default_version_id)
    ]
    for api in apis:
        api.webhook_count = counts[api.default_version_id]
    Api.objects.using(db).bulk_update(apis, ["webhook_count"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("apis", "0008_operation_id_prefix"),
    ]

    operations = [
        migrations.AddField(
            model_name="api",
            name="webhook_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(count, migrations.RunPython.noop),
    ]

from typing import Any

import orjson
from django.db import migrations


def fill_tag_groups(apps: Any, schema_editor: Any) -> None:
    """Versions imported before the reference read Redoc's `x-tagGroups` get them in their
    overview from the stored normalised document, as an import now keeps them (no re-import
    needed). Only documents that mention them are parsed."""
    from apis.openapi.normalise import redoc_tag_groups

    db = schema_editor.connection.alias if schema_editor else "default"
    ApiVersion = apps.get_model("apis", "ApiVersion")
    versions = ApiVersion.objects.using(db)
    for pk in versions.values_list("pk", flat=True).iterator():
        raw = versions.values_list("normalised", flat=True).get(pk=pk)
        if not raw or b'"x-tagGroups"' not in bytes(raw):
            continue
        document = orjson.loads(bytes(raw))
        groups = redoc_tag_groups(document.get("x-tagGroups") if isinstance(document, dict) else None)
        if groups:
            version = versions.only("pk", "overview").get(pk=pk)
            version.overview = {**(version.overview or {}), "tagGroups": groups}
            version.save(update_fields=["overview"])


class Migration(migrations.Migration):
    dependencies = [
        ("apis", "0010_info_summary"),
    ]

    operations = [migrations.RunPython(fill_tag_groups, migrations.RunPython.noop)]

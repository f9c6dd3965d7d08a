from typing import Any

from django.db import migrations


def refill(apps: Any, schema_editor: Any) -> None:
    """Cards and catalog words of APIs whose default version has an `info.summary` (OpenAPI
    3.1), which the card now shows and search now finds; before, both ignored it."""
    from apis.importer import card_summary, catalog_words

    db = schema_editor.connection.alias
    Api = apps.get_model("apis", "Api")
    apis = [
        api
        for api in Api.objects.using(db).exclude(default_version=None).select_related(
            "default_version"
        )
        if isinstance((api.default_version.overview or {}).get("info", {}).get("summary"), str)
    ]
    for api in apis:
        api.summary = card_summary(api.default_version.overview["info"])
        api.search_text, _ = catalog_words(api.name, api.default_version)
    Api.objects.using(db).bulk_update(apis, ["summary", "search_text"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("apis", "0009_api_webhook_count"),
    ]

    operations = [migrations.RunPython(refill, migrations.RunPython.noop)]

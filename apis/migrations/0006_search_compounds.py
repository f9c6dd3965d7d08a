from typing import Any

from django.db import migrations


def refill(apps: Any, schema_editor: Any) -> None:
    """APIs' catalog words again, now with their camel-case names whole (`github`)."""
    from apis.importer import catalog_words
    from apis.search_index import api_text, compounds

    Api = apps.get_model("apis", "Api")
    apis = list(Api.objects.using(schema_editor.connection.alias).select_related("default_version"))
    for api in apis:
        if api.default_version is None:
            api.search_text = api_text([api.name, compounds(api.name)])
        else:
            api.search_text, _ = catalog_words(api.name, api.default_version)
    Api.objects.using(schema_editor.connection.alias).bulk_update(
        apis, ["search_text"], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        ("apis", "0005_search_words"),
    ]

    operations = [migrations.RunPython(refill, migrations.RunPython.noop)]

"""The built-in groups products are shown to: guests, developers and administrators."""

from __future__ import annotations

from typing import Any

from django.db import migrations

BUILTIN = {
    "guests": "Guests (anyone not signed in)",
    "developers": "Developers (anyone signed in)",
    "administrators": "Administrators (superusers)",
}


def create(apps: Any, schema_editor: Any) -> None:
    group = apps.get_model("products", "Group")
    for slug, name in BUILTIN.items():
        group.objects.update_or_create(slug=slug, defaults={"name": name, "builtin": True})


class Migration(migrations.Migration):
    dependencies = [("products", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

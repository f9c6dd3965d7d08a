"""Component schemas stored one row each, read lazily (apis/documents.py, migration 0002)."""

from __future__ import annotations

import importlib

from django.apps import apps

from apis.documents import schema_document
from apis.models import Api, Schema


def test_schema_rows_are_written_at_import_and_read_on_demand(petstore: Api) -> None:
    version = petstore.default_version
    assert version is not None
    assert set(Schema.objects.filter(version=version).values_list("name", flat=True)) >= {
        "Pet",
        "NewPet",
        "Owner",
    }
    doc = schema_document(version.pk)
    schemas = doc["components"]["schemas"]
    assert schemas.get("Owner")["properties"]["pets"]["type"] == "array"
    assert "NewPet" in schemas and "Nope" not in schemas
    assert schemas.get("Nope") is None


def test_migration_fills_rows_for_versions_imported_before_it(petstore: Api) -> None:
    Schema.objects.all().delete()
    migration = importlib.import_module("apis.migrations.0002_schema_rows")
    migration.split_schemas(apps, None)
    assert Schema.objects.filter(version=petstore.default_version, name="Pet").exists()

"""Writing parsed specs into the catalog: versions, defaults, replace, atomicity."""

from __future__ import annotations

import pytest

from apis.importer import (
    ImportRefused,
    VersionExists,
    api_slug,
    delete_version,
    import_spec,
    refresh_from_default,
    set_default_version,
)
from apis.models import Api, ApiVersion, Operation, Tag
from apis.openapi import ParsedSpec, load_bytes
from tests.apis.conftest import found_by

pytestmark = pytest.mark.django_db


def spec(version: str = "1.0", title: str = "Pet Store", paths: str = "") -> ParsedSpec:
    text = f"""\
openapi: 3.0.3
info:
  title: {title}
  version: '{version}'
  description: |
    Sell **pets** online.

    More text.
tags: [{{name: pets}}]
paths:
  /pets:
    get: {{operationId: listPets, summary: List all pets, tags: [pets], responses: {{'200': {{description: ok}}}}}}
{paths}"""
    return load_bytes(text.encode(), "pets.yaml")


def test_first_import_creates_the_api_and_its_default_version() -> None:
    result = import_spec(spec(), publish=True)
    api = Api.objects.get(slug="pet-store")
    assert result.created_api and api == result.api
    assert api.name == "Pet Store"
    assert api.is_published
    assert api.default_version == result.version
    assert api.summary == "Sell pets online."
    assert api.operation_count == 1
    assert found_by(api, "list all pets") and found_by(api, "/pets") and found_by(api, "pet")
    assert list(api.tags.values_list("name", flat=True)) == ["pets"]
    op = Operation.objects.get(version=result.version)
    assert (op.slug, op.method, op.path, op.tag) == ("listPets", "get", "/pets", "pets")
    assert result.summary_line() == "Imported 'Pet Store' version 1.0 as pet-store: 1 operation"


def test_new_version_becomes_default_and_old_is_kept() -> None:
    first = import_spec(spec("1.0"))
    second = import_spec(
        spec(
            "2.0",
            paths="  /toys:\n    get: {summary: Toys, responses: {'200': {description: ok}}}\n",
        )
    )
    api = Api.objects.get(slug="pet-store")
    assert set(api.versions.values_list("label", flat=True)) == {"1.0", "2.0"}
    assert api.default_version == second.version
    assert api.operation_count == 2
    assert not first.api.is_published  # not asked to publish

    set_default_version(first.version)
    api.refresh_from_db()
    assert api.default_version == first.version
    assert api.operation_count == 1
    assert not found_by(api, "toys")


def test_same_label_is_refused_without_replace_and_nothing_changes() -> None:
    first = import_spec(spec("1.0"))
    with pytest.raises(VersionExists, match="already has a version '1.0'") as info:
        import_spec(spec("1.0"))
    # The importer names no flag or button: each caller says how to replace in its terms.
    assert "replace" not in str(info.value)
    assert isinstance(info.value, ImportRefused)
    assert ApiVersion.objects.get() == first.version


def test_replace_swaps_the_version_with_the_same_label_only() -> None:
    import_spec(spec("1.0"))
    import_spec(spec("2.0"))
    replaced = import_spec(
        spec("1.0", paths="  /new:\n    get: {responses: {'200': {description: ok}}}\n"),
        replace=True,
    )
    assert replaced.replaced
    api = Api.objects.get(slug="pet-store")
    assert sorted(api.versions.values_list("label", flat=True)) == ["1.0", "2.0"]
    assert api.default_version == replaced.version
    assert replaced.version.operations.count() == 2


def test_explicit_slug_and_bad_slug() -> None:
    import_spec(spec(), slug="shop")
    assert Api.objects.filter(slug="shop").exists()
    with pytest.raises(ImportRefused, match="not a valid slug"):
        import_spec(spec("2"), slug="no spaces/here")
    # `$` matched before a last line break: the API was stored as "shop2\n", which no page's
    # URL reaches (importspec --slug passes it as given).
    with pytest.raises(ImportRefused, match="not a valid slug"):
        import_spec(spec("3"), slug="shop2\n")
    assert not Api.objects.filter(slug__startswith="shop2").exists()


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        # Temporal's protoc-generated title: the words ran together into one.
        (
            "temporal/api/workflowservice/v1/request_response.proto",
            "temporal-api-workflowservice-v1-request_response-proto",
        ),
        ("Swagger Petstore - OpenAPI 3.0", "swagger-petstore-openapi-3-0"),  # not "30"
        ("Bob's API", "bobs-api"),
        ("Pet Store", "pet-store"),
        ("", "api"),
        ("///", "api"),
    ],
)
def test_a_slug_from_the_title_keeps_its_words_apart(title: str, slug: str) -> None:
    assert api_slug(title) == slug


def test_failure_inside_the_transaction_stores_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Operation.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        import_spec(spec())
    assert not Api.objects.exists()
    assert not ApiVersion.objects.exists()
    assert not Tag.objects.exists()


def test_deleting_the_default_promotes_the_newest_remaining() -> None:
    first = import_spec(spec("1.0"))
    second = import_spec(spec("2.0"))
    delete_version(second.version)
    api = Api.objects.get()
    assert api.default_version == first.version
    delete_version(first.version)
    api.refresh_from_db()
    assert api.default_version is None
    assert api.operation_count == 0 and api.summary == ""
    assert not api.tags.exists()


def test_refresh_without_default_keeps_the_name_searchable() -> None:
    api = Api.objects.create(slug="empty", name="Empty API")
    refresh_from_default(api)
    assert found_by(api, "empty api") and not found_by(api, "pets")

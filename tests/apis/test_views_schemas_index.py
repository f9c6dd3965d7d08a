"""The schemas index (`/apis/<slug>/schemas/`): every named schema of a version, each a link
to its page, reached from the API page, as Swagger UI's "Schemas" section and Redoc's models."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.test import Client

from tests.conftest import DEMO_SPECS, ImportSpec

pytestmark = pytest.mark.django_db

DEFINITIONS_ONLY = """swagger: '2.0'
info: {title: Events, version: '1'}
paths: {}
definitions:
  Sensor: {type: object, properties: {id: {type: string}}}
  a/b: {type: string, description: slash in the name}
  'C#': {type: integer}
  ..: {type: boolean}
"""


def test_a_spec_of_definitions_only_leads_to_its_schemas(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """Argo Events publishes schemas and no operations: its API page said "declares no
    operations" and no page linked to any schema."""
    import_spec(write_spec("events.yaml", DEFINITIONS_ONLY), "events")
    page = client.get("/apis/events/").content.decode()
    assert 'href="/apis/events/schemas/"' in page and "4 schemas" in page
    index = client.get("/apis/events/schemas/")
    assert index.status_code == 200
    html = index.content.decode()
    links = {
        htmllib.unescape(text): htmllib.unescape(href)
        for href, text in re.findall(
            r'<a href="(/apis/events/schemas/[^"]+)"><code>([^<]+)</code>', html
        )
    }
    assert sorted(links) == ["..", "C#", "Sensor", "a/b"]
    for name, href in links.items():
        shown = client.get(href)
        assert shown.status_code == 200, name
        assert f"<code>{htmllib.escape(name)}</code>" in shown.content.decode()


def test_the_index_follows_the_version_and_hides_with_the_api(
    client: Client, admin_client: Client, import_spec: ImportSpec
) -> None:
    import_spec(DEMO_SPECS / "petstore.yaml", "hidden", publish=False)
    assert client.get("/apis/hidden/schemas/").status_code == 404
    assert admin_client.get("/apis/hidden/schemas/").status_code == 200
    assert client.get("/apis/nope/schemas/").status_code == 404


NOT_SCHEMAS = """openapi: 3.2.0
info: {title: Odd, version: '1'}
components:
  schemas:
    as_null: null
    as_number: 0
    as_list: []
    as_text: words
    anything: true
    Thing: {type: string}
"""


def test_the_index_links_only_values_that_are_schemas(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """The OpenAPI 3.2 test suite's invalid_schema_types: `null`, `0` and `[]` under
    `components/schemas` imported and the index linked each to a page that answered 404."""
    import_spec(write_spec("odd.yaml", NOT_SCHEMAS), "odd")
    html = client.get("/apis/odd/schemas/").content.decode()
    hrefs = re.findall(r'<a href="(/apis/odd/schemas/[^"]+)">', html)
    assert sorted(hrefs) == ["/apis/odd/schemas/Thing/", "/apis/odd/schemas/anything/"]
    for href in hrefs:
        assert client.get(href).status_code == 200, href
    assert "2 schemas" in client.get("/apis/odd/").content.decode()

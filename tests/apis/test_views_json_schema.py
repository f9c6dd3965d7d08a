"""Schemas as OpenAPI 3.1 and 3.2 write them (JSON Schema 2020-12), seen on the pages:
boolean schemas, and keywords beside a `$ref`."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import ImportSpec

pytestmark = pytest.mark.django_db

BOOLEANS = """openapi: 3.1.0
info: {title: Booleans, version: '1'}
components:
  schemas:
    Anything: true
    Nothing: false
    Thing:
      type: object
      properties:
        meta: {$ref: '#/components/schemas/Anything'}
        never: {$ref: '#/components/schemas/Nothing'}
        extra: true
        tags: {type: array, items: true}
paths:
  /things:
    post:
      operationId: createThing
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses:
        '200':
          description: anything
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Anything'}
"""


def _row(html: str, name: str) -> str:
    """The text of property `name`'s row, tags stripped."""
    match = re.search(
        rf'<li class="prop"><div class="prop-head"><code class="prop-name">{name}<.*?</li>', html
    )
    assert match, f"no row for {name}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def test_boolean_schemas_read_as_any_value_and_no_value(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # `Anything: true` (any instance is valid) and `Nothing: false` (none is) are schemas in
    # 3.1 and 3.2, named or inline; the OAI's own 3.2 test documents use them.
    import_spec(write_spec("booleans.yaml", BOOLEANS), "booleans")
    html = client.get("/apis/booleans/operations/createThing/").content.decode()
    assert "Unresolved reference" not in html
    assert _row(html, "meta") == "meta Anything any value"
    assert _row(html, "never") == "never Nothing no value allowed"
    assert _row(html, "extra") == "extra any value"
    assert _row(html, "tags") == "tags array of any value"
    response = html[html.index('id="response-200"') :]
    assert "any value" in response.split("JSON Schema")[0]

    page = client.get("/apis/booleans/schemas/Anything/")
    assert page.status_code == 200
    assert "any value" in page.content.decode()
    assert "no value allowed" in client.get("/apis/booleans/schemas/Nothing/").content.decode()
    assert client.get("/apis/booleans/schemas/Missing/").status_code == 404

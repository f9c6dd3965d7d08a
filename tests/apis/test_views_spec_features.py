"""Features of real public documents outside the shared corpus, each trimmed to a few lines:
an OpenAPI 3.2 example's `dataValue` (Adyen-style streams), Azure's `x-ms-paths`, and a 3.1
schema resource (`$id`) whose `#/$defs/...` references resolve inside it."""

from __future__ import annotations

from django.test import Client

from tests.conftest import ImportSpec


def test_a_32_example_data_value_is_the_response_sample(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    spec = """openapi: 3.2.0
info: {title: Streams, version: '2'}
paths:
  /records/{id}:
    get:
      operationId: getRecord
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {id: {type: string}}}
              examples:
                one: {summary: One record, dataValue: {id: rec-7f3a}, serializedValue: '{"id":"rec-7f3a"}'}
"""
    import_spec(write_spec("streams.yaml", spec), "streams")
    html = client.get("/apis/streams/operations/getRecord/").content.decode()
    assert "rec-7f3a" in html
    assert "Generated from the schema" not in html

"""Swagger 2.0 documents come out in the OpenAPI 3.x shape."""

from __future__ import annotations

from apis.openapi import load_bytes

SWAGGER = b"""\
swagger: '2.0'
info: {title: Old, version: '1.0'}
host: api.example.com
basePath: /v1
schemes: [https, http]
consumes: [application/json]
produces: [application/json, application/xml]
securityDefinitions:
  basic: {type: basic}
  key: {type: apiKey, name: X-Key, in: header}
  code:
    type: oauth2
    flow: accessCode
    authorizationUrl: https://auth.example.com/authorize
    tokenUrl: https://auth.example.com/token
    scopes: {read: Read}
  app: {type: oauth2, flow: application, tokenUrl: https://auth.example.com/token, scopes: {}}
security: [{key: []}]
parameters:
  Limit: {name: limit, in: query, type: integer, default: 10}
paths:
  /pets:
    parameters:
      - {name: trace, in: header, type: string}
    get:
      operationId: listPets
      parameters:
        - $ref: '#/parameters/Limit'
        - {name: tags, in: query, type: array, items: {type: string}, collectionFormat: multi}
        - {name: ids, in: query, type: array, items: {type: integer}, collectionFormat: csv}
      responses:
        '200':
          description: ok
          schema: {type: array, items: {$ref: '#/definitions/Pet'}}
          headers:
            X-Rate: {type: integer, description: Remaining}
          examples:
            application/json: [{id: 1}]
    post:
      operationId: addPet
      parameters:
        - {name: pet, in: body, required: true, schema: {$ref: '#/definitions/Pet'}}
      responses:
        '201': {description: created}
  /pets/{id}/photo:
    post:
      operationId: upload
      consumes: [multipart/form-data]
      parameters:
        - {name: id, in: path, required: true, type: string}
        - {name: file, in: formData, type: file, required: true}
        - {name: note, in: formData, type: string, description: A note}
      responses:
        '200': {description: ok}
definitions:
  Pet:
    type: object
    discriminator: kind
    properties:
      kind: {type: string}
      name: {type: string, x-nullable: true}
      photo: {type: file}
"""


def test_swagger_2_is_converted() -> None:
    spec = load_bytes(SWAGGER, "old.yaml")
    doc = spec.normalised
    assert spec.spec_version == "2.0"
    assert doc["openapi"].startswith("3.0")
    assert "swagger" not in doc and "definitions" not in doc
    assert doc["servers"] == [
        {"url": "https://api.example.com/v1"},
        {"url": "http://api.example.com/v1"},
    ]

    pet = doc["components"]["schemas"]["Pet"]
    assert pet["discriminator"] == {"propertyName": "kind"}
    assert pet["properties"]["name"]["nullable"] is True
    assert pet["properties"]["photo"] == {"type": "string", "format": "binary"}

    schemes = doc["components"]["securitySchemes"]
    assert schemes["basic"] == {"type": "http", "scheme": "basic"}
    assert schemes["key"] == {"type": "apiKey", "name": "X-Key", "in": "header"}
    assert schemes["code"]["flows"]["authorizationCode"] == {
        "authorizationUrl": "https://auth.example.com/authorize",
        "tokenUrl": "https://auth.example.com/token",
        "scopes": {"read": "Read"},
    }
    assert "clientCredentials" in schemes["app"]["flows"]

    get = doc["paths"]["/pets"]["get"]
    limit, tags, ids = get["parameters"]
    assert limit == {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 10}}
    assert (tags["style"], tags["explode"]) == ("form", True)
    assert (ids["style"], ids["explode"]) == ("form", False)
    ok = get["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "application/xml"}
    assert ok["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Pet"
    }
    assert ok["content"]["application/json"]["example"] == [{"id": 1}]
    assert ok["headers"]["X-Rate"] == {"description": "Remaining", "schema": {"type": "integer"}}
    assert doc["paths"]["/pets"]["parameters"][0]["schema"] == {"type": "string"}

    body = doc["paths"]["/pets"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}

    upload = doc["paths"]["/pets/{id}/photo"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert form["properties"]["note"]["description"] == "A note"
    assert form["required"] == ["file"]
    assert [p["name"] for p in upload["parameters"]] == ["id"]


def test_converted_operations_carry_merged_parameters() -> None:
    spec = load_bytes(SWAGGER, "old.yaml")
    ops = {op.slug: op for op in spec.operations}
    names = [p["name"] for p in ops["listPets"].data["parameters"]]
    assert names == ["trace", "limit", "tags", "ids"]
    assert ops["listPets"].data["security"] == [{"key": []}]
    assert ops["listPets"].data["servers"][0]["url"] == "https://api.example.com/v1"
    assert spec.warnings == []


def test_every_part_of_a_parameterized_host_is_a_variable_with_a_usable_default() -> None:
    # AutoRest's x-ms-parameterized-host, written loosely: a `{name}` that no listed parameter
    # defines, and a parameter whose default is an explicit null beside its enum. Left as
    # they were, the server URL kept a literal `{region}` (a sample nobody can run) and the
    # enum's values were shadowed by the placeholder "zone".
    doc = load_bytes(
        b"""{
  "swagger": "2.0",
  "info": {"title": "Loose", "version": "1"},
  "x-ms-parameterized-host": {
    "hostTemplate": "{account}.{region}.{zone}.example.net",
    "parameters": [
      {"name": "account", "in": "path", "type": "string", "default": "demo"},
      {"name": "zone", "in": "path", "type": "string", "default": null, "enum": ["eu", "us"]}
    ]
  },
  "paths": {}
}""",
        "loose.json",
    ).normalised
    [server] = doc["servers"]
    assert server["url"] == "https://{account}.{region}.{zone}.example.net"
    assert server["variables"]["account"]["default"] == "demo"
    assert server["variables"]["zone"] == {"default": "eu", "enum": ["eu", "us"]}
    assert server["variables"]["region"]["default"] == "region"


COLLECTIONS = b"""\
swagger: '2.0'
info: {title: Collections, version: '1.0'}
paths:
  /items/{ids}:
    post:
      operationId: collections
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {name: ids, in: path, required: true, type: array, items: {type: string}}
        - {name: X-Tags, in: header, type: array, items: {type: string}, collectionFormat: pipes}
        - {name: plain, in: query, type: array, items: {type: string}}
        - {name: spaced, in: query, type: array, items: {type: string}, collectionFormat: ssv}
        - {name: tabbed, in: query, type: array, items: {type: string}, collectionFormat: tsv}
        - {name: multi, in: formData, type: array, items: {type: string}, collectionFormat: multi}
        - {name: csv, in: formData, type: array, items: {type: string}}
        - {name: piped, in: formData, type: array, items: {type: string}, collectionFormat: pipes}
        - {name: tabs, in: formData, type: array, items: {type: string}, collectionFormat: tsv}
        - {name: note, in: formData, type: string}
      responses: {'200': {description: ok}}
"""


def test_collection_formats_become_styles_in_every_location() -> None:
    """Swagger 2.0's collectionFormat defaults to csv (`a,b`), where 3.x's query default
    is one field per item; formData collection formats become the body's encoding, which
    the conversion dropped (a pipes field went out as `piped=a&piped=b`). tsv has no 3.x
    style: it stays form/simple, unexploded, with `x-collectionFormat: tsv` to say tabs."""
    doc = load_bytes(COLLECTIONS, "c.yaml").normalised
    op = doc["paths"]["/items/{ids}"]["post"]
    styles = {
        p["name"]: (p.get("style"), p.get("explode"), p.get("x-collectionFormat"))
        for p in op["parameters"]
    }
    assert styles == {
        "ids": ("simple", False, None),
        "X-Tags": ("simple", False, "pipes"),
        "plain": ("form", False, None),
        "spaced": ("spaceDelimited", False, None),
        "tabbed": ("form", False, "tsv"),
    }
    encoding = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["encoding"]
    assert encoding == {
        "multi": {"style": "form", "explode": True},
        "csv": {"style": "form", "explode": False},
        "piped": {"style": "pipeDelimited", "explode": False},
        "tabs": {"style": "form", "explode": False, "x-collectionFormat": "tsv"},
    }


def test_a_parameters_x_example_is_its_example() -> None:
    """Swagger 2.0 has no example for a non-body parameter; `x-example` is how 2.0 documents
    write one (Swagger UI reads it, swagger2openapi converts it). The page and the console
    showed none: `limit` with `x-example: 5` was pre-filled with nothing."""
    text = b"""\
swagger: '2.0'
info: {title: X, version: '1'}
paths:
  /a:
    post:
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {name: limit, in: query, type: integer, x-example: 5}
        - {name: id, in: query, type: string, example: own, x-example: other}
        - {name: note, in: formData, type: string, x-example: hello}
      responses: {'200': {description: ok}}
"""
    op = load_bytes(text, "x.yaml").normalised["paths"]["/a"]["post"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["limit"]["example"] == 5
    assert params["id"]["example"] == "own"  # one written as 3.x writes it wins
    form = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["note"]["example"] == "hello"

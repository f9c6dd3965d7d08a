"""The typed operation model: shapes checked once, odd specs never raise."""

from __future__ import annotations

from typing import Any

import pytest

from apis.openapi.model import NO_VALUE, operation_model


def test_typed_fields_and_pointers() -> None:
    op = operation_model(
        {
            "operationId": "createPet",
            "parameters": [
                {"name": "id", "in": "path", "schema": {"type": "string"}, "example": "p1"},
                {"name": "filter", "in": "query", "content": {"application/json": {"schema": {"type": "object"}}}},
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"},
                                                 "examples": {"dog": {"summary": "A dog", "value": {"name": "Rex"}}}}},
            },
            "responses": {
                "201": {"description": "ok", "headers": {"X-Rate": {"schema": {"type": "integer"}}},
                        "links": {"self": {"operationId": "getPet", "parameters": {"id": "$response.body#/id"}}}},
            },
            "security": [{"oauth": ["pets.write"]}, {}],
            "callbacks": {"done": {"{$request.body#/url}": {"post": {"requestBody": {"content": {}}}}}},
        }
    )  # fmt: skip
    path, query = op.parameters
    assert (
        path.required and path.examples[0].value == "p1" and path.pointer == "/parameters/0/schema"
    )
    assert query.schema == {"type": "object"}
    assert query.pointer == "/parameters/1/content/application~1json/schema"
    assert op.request_body is not None and op.request_body.required
    media = op.request_body.content[0]
    assert media.pointer == "/requestBody/content/application~1json/schema"
    assert media.example == {"name": "Rex"} and media.examples[0].summary == "A dog"
    (created,) = op.responses
    assert created.headers[0].name == "X-Rate" and created.headers[0].location == "header"
    assert created.headers[0].pointer == "/responses/201/headers/X-Rate/schema"
    assert created.links[0].operation_id == "getPet"
    assert op.security == ((("oauth", ("pets.write",)),), ())
    assert op.callbacks[0].method == "post"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"parameters": "x", "responses": [], "requestBody": 3, "security": {}, "callbacks": []},
        {"parameters": [1, None, {"in": "query"}], "responses": {"200": None}},
        {"requestBody": {"content": {"a/b": None}}, "responses": {"200": {"content": "x"}}},
        {"callbacks": {"c": {"e": {"get": 1, "nope": {}}}}, "tags": "x", "servers": [1]},
    ],
)
def test_odd_shapes_never_raise(data: dict[str, Any]) -> None:
    op = operation_model(data)
    assert all(m.example is NO_VALUE for r in op.responses for m in r.content)


def test_a_json_body_example_written_as_json_text_is_read_as_that_json() -> None:
    # Elasticsearch's spec writes every body example as a string holding the JSON text
    # (`value: "{\n  \"query\": ...}"`): the page showed one quoted line of `\n`s, and the
    # console pre-filled, checked and sent a JSON string instead of the object.
    text = '{\n  "query": {"term": {"user.id": "kimchy"}}\n}'
    content = {
        "application/json": {"schema": {"type": "object"}, "examples": {"one": {"value": text}}},
        "application/problem+json": {"example": " [1, 2]"},
        # Text a string body holds, or that is no JSON, stays as written.
        "application/vnd.a+json": {"schema": {"type": "string"}, "example": "{}"},
        "application/vnd.b+json": {"example": "{not json"},
        "application/vnd.c+json": {"example": "42"},
        "text/plain": {"example": "{}"},
    }
    op = operation_model({"requestBody": {"content": content}, "responses": {}})
    assert op.request_body is not None
    values = [media.example for media in op.request_body.content]
    assert values == [
        {"query": {"term": {"user.id": "kimchy"}}},
        [1, 2],
        "{}",
        "{not json",
        "42",
        "{}",
    ]


def test_examples_written_as_a_list_are_each_an_example() -> None:
    # `examples: [...]`, JSON Schema's shape, where OpenAPI wants a map of Example objects
    # (Mermade's fail/api-with-examples, and specs that copy a schema's examples up): the
    # values were dropped without a word, and the page showed no example at all.
    op = operation_model(
        {
            "parameters": [{"name": "q", "in": "query", "examples": ["cats", "dogs"]}],
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"application/json": {"examples": [{"a": 1}, {"a": 2}]}},
                }
            },
        }
    )
    (param,) = op.parameters
    assert [(e.name, e.value) for e in param.examples] == [
        ("example 1", "cats"),
        ("example 2", "dogs"),
    ]
    media = op.responses[0].content[0]
    assert media.example == {"a": 1}
    assert [e.value for e in media.examples] == [{"a": 1}, {"a": 2}]

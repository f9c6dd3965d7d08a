"""console.panel: the form's fields as the typed operation model gives them."""

from __future__ import annotations

import time
from typing import Any

from apis.models import Operation
from console.panel import body_editors, param_fields, token_view
from console.tokens import Token, format_timestamp
from tests.console.conftest import access_token

DOC: dict[str, Any] = {"openapi": "3.2.0", "components": {"schemas": {}}}


def test_a_path_parameter_is_filled_even_when_the_spec_omits_required() -> None:
    """A path parameter is always required (the typed model says so), so its field starts
    with a sample: before, a spec that left out `required: true` got an empty field and a
    refused first call."""
    operation = Operation(path="/pets/{id}", data={"parameters": [
        {"name": "id", "in": "path", "schema": {"type": "integer", "minimum": 7}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "example": 20}},
    ]})  # fmt: skip
    path, query = param_fields(operation, DOC, {})
    assert (path.required, path.value, path.placeholder) == (True, "7", "")
    assert (query.required, query.value, query.placeholder) == (False, "", "20")


def test_a_streamed_item_schema_gives_no_whole_body_sample() -> None:
    """An OpenAPI 3.2 `itemSchema` describes each item of a stream: the editor starts with
    the spec's example, never with one item's sample presented as the whole body."""
    item = {"type": "object", "properties": {"id": {"type": "integer"}}}
    operation = Operation(data={"requestBody": {"content": {
        "application/json": {"itemSchema": item},
        "application/jsonl": {"itemSchema": item, "example": '{"id": 1}\n{"id": 2}\n'},
    }}})  # fmt: skip
    json_editor, lines_editor = body_editors(operation, DOC, {}, has_state=False)
    assert json_editor.text == ""
    assert lines_editor.text == '{"id": 1}\n{"id": 2}\n'


def test_a_json_lines_body_without_example_starts_with_a_few_lines_of_items() -> None:
    """A stream the portal knows the framing of starts with items written in it, as the
    reference's request sample sends them: the editor started empty."""
    item = {"type": "object", "properties": {"id": {"type": "integer", "example": 7}}}
    operation = Operation(data={"requestBody": {"content": {
        "application/x-ndjson": {"itemSchema": item},
    }}})  # fmt: skip
    (editor,) = body_editors(operation, DOC, {}, has_state=False)
    assert editor.text == '{"id":7}\n{"id":7}\n'


def test_an_xml_body_starts_with_an_xml_sample() -> None:
    """The reference's curl sends an XML sample for an `application/xml` body; the console's
    editor for it started empty, so the first call sent nothing."""
    schema = {
        "type": "object",
        "xml": {"name": "pet"},
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string", "example": "a<b"},
        },
    }
    operation = Operation(
        data={"requestBody": {"content": {"application/xml": {"schema": schema}}}}
    )
    (editor,) = body_editors(operation, DOC, {}, has_state=False)
    assert editor.text == "<pet>\n  <name>a&lt;b</name>\n</pet>"


def test_an_xml_multipart_part_starts_with_an_xml_sample() -> None:
    """A multipart part whose encoding says application/xml is filled with XML, named by the
    property (or its `xml.name`): the field held the part's JSON, sent as application/xml."""
    schema = {
        "type": "object",
        "required": ["doc", "meta"],
        "properties": {
            "doc": {"type": "object", "properties": {"b": {"type": "integer", "example": 3}}},
            "meta": {"type": "object", "properties": {"a": {"type": "string", "example": "x"}}},
        },
    }
    encoding = {"doc": {"contentType": "application/xml"}, "meta": {"contentType": "text/json"}}
    operation = Operation(data={"requestBody": {"content": {
        "multipart/form-data": {"schema": schema, "encoding": encoding},
    }}})  # fmt: skip
    (editor,) = body_editors(operation, DOC, {}, has_state=False)
    doc, meta = editor.fields
    assert doc.value == "<doc>\n  <b>3</b>\n</doc>"
    assert meta.value == '{"a":"x"}'


def test_an_enum_behind_all_of_or_a_nullable_any_of_gives_a_choice() -> None:
    """FastAPI writes a described enum parameter as `allOf: [{$ref: Enum}]` and an optional
    one as `anyOf: [{$ref: Enum}, {type: null}]`: the field was free text, the allowed values
    nowhere, where a plain `$ref` to the enum gave a choice."""
    doc = {"components": {"schemas": {"Sort": {"type": "string", "enum": ["asc", "desc"]}}}}
    ref = {"$ref": "#/components/schemas/Sort"}
    operation = Operation(data={"parameters": [
        {"name": "a", "in": "query", "schema": ref},
        {"name": "b", "in": "query", "schema": {"allOf": [ref], "description": "Order"}},
        {"name": "c", "in": "query", "schema": {"anyOf": [ref, {"type": "null"}]}},
        {"name": "d", "in": "query", "schema": {"oneOf": [{"type": "null"}, ref]}},
        {"name": "e", "in": "query", "schema": {"anyOf": [ref, {"type": "integer"}]}},
    ]})  # fmt: skip
    fields = {field.name: field for field in param_fields(operation, doc, {})}
    for name in "abcd":
        assert (fields[name].enum, fields[name].type) == (["asc", "desc"], "string"), name
    assert fields["e"].enum == []  # a real choice of types: free text


def test_a_parameter_whose_type_is_null_itself_has_no_type_shown() -> None:
    """`schema: {type: null}` (YAML's null unquoted, or a generator's JSON null for no type):
    the field read `query · None`, Python's word, where the reference page reads any."""
    operation = Operation(data={"parameters": [
        {"name": "q", "in": "query", "schema": {"type": None}},
    ]})  # fmt: skip
    (field,) = param_fields(operation, DOC, {})
    assert field.type == ""


def test_an_example_that_does_not_fit_its_schema_is_said_beside_the_field() -> None:
    """An author's `example: abc` for an integer, or a value outside the enum, was filled in
    (or shown as the placeholder) with no word: the first send was refused, or reached the
    API as the wrong type. The field says why; a fitting example, a generated sample or a
    value the person typed says nothing."""
    operation = Operation(path="/pets/{id}", data={"parameters": [
        {"name": "id", "in": "path", "schema": {"type": "integer"}, "example": "abc"},
        {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["on", "off"],
                                                      "example": "pending"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 10,
                                                     "example": 50}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "example": 2}},
        {"name": "n", "in": "header", "required": True, "schema": {"type": "integer"}},
    ]})  # fmt: skip
    fields = {f.name: f for f in param_fields(operation, DOC, {})}
    assert fields["id"].value == "abc"  # still filled in: not blocked
    assert fields["id"].example_problem == (
        "The documented example does not fit the schema: 'abc' is not an integer"
    )
    assert "'pending' is not one of ['on', 'off']" in fields["status"].example_problem
    assert "50 is greater than the maximum of 10" in fields["limit"].example_problem
    assert fields["page"].example_problem == "" and fields["n"].example_problem == ""
    typed = param_fields(operation, DOC, {"param.path.id": "7"})
    assert typed[0].example_problem == ""  # the person's own value, not the example


def test_an_optional_array_in_fastapis_spelling_says_it_is_comma_separated() -> None:
    """FastAPI's `list[str] | None` query parameter is `anyOf: [array, null]`: its field read
    "query · array" with no word on how to type several items, where a plain array's says
    "comma-separated" (console/serialise.typed splits it there)."""
    array = {"type": "array", "items": {"type": "string"}}
    operation = Operation(data={"parameters": [
        {"name": "a", "in": "query", "schema": array},
        {"name": "b", "in": "query", "schema": {"anyOf": [array, {"type": "null"}]}},
    ]})  # fmt: skip
    fields = {field.name: field for field in param_fields(operation, {}, {})}
    assert fields["b"].hint == fields["a"].hint == "comma-separated"


def test_fastapis_optional_file_parts_take_a_file() -> None:
    """FastAPI's `UploadFile | None` part is `anyOf: [binary, null]` and `list[UploadFile] |
    None` is `anyOf: [array of binary, null]`: the console offered a text field for each, so
    no file could be sent."""
    binary = {"type": "string", "format": "binary"}
    schema = {"type": "object", "properties": {
        "thumbnail": {"anyOf": [binary, {"type": "null"}]},
        "extra": {"anyOf": [{"type": "array", "items": binary}, {"type": "null"}]},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    }}  # fmt: skip
    operation = Operation(
        data={"requestBody": {"content": {"multipart/form-data": {"schema": schema}}}}
    )
    (editor,) = body_editors(operation, {}, {}, has_state=False)
    files = {field.name: field.is_file for field in editor.fields}
    assert files == {"thumbnail": True, "extra": True, "note": False}


def test_a_form_body_made_of_all_of_parts_gives_each_parts_fields() -> None:
    """Onfido's document upload is `{required: [...], allOf: [$ref shared, $ref request]}`,
    the file and the other fields declared in the parts: the console's multipart form had
    no field at all (it read only the body's own `properties`), so no document could be
    sent; the request sample, which reads the parts, sent them all."""
    doc = {"components": {"schemas": {
        "Shared": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["passport", "driving_licence"]},
            "applicant_id": {"type": "string", "format": "uuid"},
        }},
        "Request": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"},
            "location": {"type": "object", "properties": {"ip_address": {"type": "string"}}},
        }},
    }}}  # fmt: skip
    schema = {
        "required": ["applicant_id", "file", "type"],
        "allOf": [
            {"$ref": "#/components/schemas/Shared"},
            {"$ref": "#/components/schemas/Request"},
        ],
    }
    operation = Operation(
        data={"requestBody": {"content": {"multipart/form-data": {"schema": schema}}}}
    )
    (editor,) = body_editors(operation, doc, {}, has_state=False)
    fields = {field.name: field for field in editor.fields}
    assert list(fields) == ["type", "applicant_id", "file", "location"]
    assert fields["type"].enum == ["passport", "driving_licence"]
    assert (fields["type"].required, fields["type"].value) == (True, "passport")
    assert (fields["file"].is_file, fields["file"].required) == (True, True)
    assert (fields["location"].required, fields["location"].hint) == (False, "JSON object")


def test_a_form_body_that_is_one_of_several_methods_gives_their_fields() -> None:
    """Ory Kratos's login, registration, settings, recovery and verification forms
    (application/x-www-form-urlencoded) are `oneOf` the methods, told apart by the
    discriminator `method`: the console's form had no field at all, so no login could be
    sent as a form. Each method's fields are offered, required where every method requires
    them, and the discriminator's field chooses among the mapping's methods, the first
    variant's first, as the JSON body's sample has it (Kratos's mapping is sorted)."""
    doc = {"components": {"schemas": {
        "Password": {"type": "object", "required": ["method", "password", "identifier"],
                     "properties": {
                         "method": {"type": "string"}, "identifier": {"type": "string"},
                         "password": {"type": "string"}, "csrf_token": {"type": "string"},
                     }},
        "Code": {"type": "object", "required": ["method", "csrf_token"],
                 "properties": {
                     "method": {"type": "string"}, "csrf_token": {"type": "string"},
                     "code": {"type": "string"},
                 }},
        "Body": {
            "discriminator": {"propertyName": "method", "mapping": {
                "code": "#/components/schemas/Code",
                "password": "#/components/schemas/Password",
            }},
            "oneOf": [
                {"$ref": "#/components/schemas/Password"},
                {"$ref": "#/components/schemas/Code"},
            ],
        },
    }}}  # fmt: skip
    ref = {"$ref": "#/components/schemas/Body"}
    operation = Operation(data={"requestBody": {"content": {
        "application/x-www-form-urlencoded": {"schema": ref},
    }}})  # fmt: skip
    (editor,) = body_editors(operation, doc, {}, has_state=False)
    fields = {field.name: field for field in editor.fields}
    assert list(fields) == ["method", "identifier", "password", "csrf_token", "code"]
    assert fields["method"].enum == ["password", "code"]
    assert (fields["method"].required, fields["method"].value) == (True, "password")
    assert [name for name, field in fields.items() if field.required] == ["method"]


def test_a_token_shows_the_expiry_its_countdown_runs_to() -> None:
    """A server whose expires_in ends before its JWT's exp: the token stops being used then
    (Token.expiry), so that is the time shown beside the countdown; the panel showed the
    exp an hour later, beside a countdown of one minute, then 'expired'."""
    now = time.time()
    token = Token(server="idp", server_name="Example IdP", grant="client_credentials",
                  scopes="echo.read", access_token=access_token(exp=int(now) + 3600),
                  expires_at=int(now) + 60)  # fmt: skip
    view = token_view(token)
    assert view.expires == format_timestamp(int(now) + 60)
    assert 0 < (view.expires_in or 0) <= 60

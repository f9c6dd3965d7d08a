"""Features of real public documents outside the shared corpus, each trimmed to a few lines:
an OpenAPI 3.2 example's `dataValue` (Adyen-style streams), Azure's `x-ms-paths`, and a 3.1
schema resource (`$id`) whose `#/$defs/...` references resolve inside it."""

from __future__ import annotations

import re

from django.test import Client

from apis.models import ApiVersion
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


AZURE_QUEUE = """{
  "swagger": "2.0",
  "info": {"title": "Azure Queue Storage", "version": "2026-02-06"},
  "x-ms-parameterized-host": {"hostTemplate": "{url}", "useSchemePrefix": false,
    "parameters": [{"$ref": "#/parameters/Url"}]},
  "host": "myaccount.queue.core.windows.net",
  "schemes": ["https"],
  "produces": ["application/xml"],
  "paths": {},
  "x-ms-paths": {
    "/?comp=list": {
      "get": {"operationId": "Service_ListQueuesSegment",
        "parameters": [{"$ref": "#/parameters/Timeout"}],
        "responses": {"200": {"description": "Success.",
          "schema": {"type": "object", "properties": {"ServiceEndpoint": {"type": "string"}}}}}},
      "parameters": [{"name": "comp", "in": "query", "required": true, "type": "string", "enum": ["list"]}]
    },
    "/{queueName}/messages/{messageid}?popreceipt={popReceipt}": {
      "delete": {"operationId": "MessageId_Delete", "responses": {"204": {"description": "No Content"}},
        "parameters": [
          {"name": "queueName", "in": "path", "required": true, "type": "string"},
          {"name": "messageid", "in": "path", "required": true, "type": "string"},
          {"name": "popreceipt", "in": "query", "required": true, "type": "string"}]}
    },
    "/?restype=service&comp=properties": {
      "get": {"operationId": "Service_GetProperties", "responses": {"200": {"description": "Success."}}},
      "parameters": [
        {"name": "restype", "in": "query", "required": true, "type": "string", "enum": ["service"]},
        {"name": "comp", "in": "query", "required": true, "type": "string", "enum": ["properties"]}]
    }
  },
  "parameters": {
    "Url": {"name": "url", "in": "path", "required": true, "type": "string", "x-ms-skip-url-encoding": true},
    "Timeout": {"name": "timeout", "in": "query", "type": "integer", "minimum": 0}
  }
}"""


def test_azure_x_ms_paths_are_operations(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Azure's data-plane specs keep operations that differ only by query in `x-ms-paths`
    # (AutoRest's extension); Blob and Queue Storage keep nearly all of theirs there.
    api = import_spec(write_spec("queue.json", AZURE_QUEUE), "queue")
    overview = client.get("/apis/queue/").content.decode()
    assert 'href="./operations/Service_ListQueuesSegment/"' in overview
    assert 'href="./operations/Service_GetProperties/"' in overview
    html = client.get("/apis/queue/operations/Service_ListQueuesSegment/").content.decode()
    assert '<code class="prop-name">ServiceEndpoint</code>' in html
    # The key's query is the fixed part of the call: in the sample once, not twice.
    assert "curl -X GET &#x27;https://myaccount.queue.core.windows.net/?comp=list&#x27;" in html
    # A `{placeholder}` in the key's query is a parameter the operation declares, not text.
    html = client.get("/apis/queue/operations/MessageId_Delete/").content.decode()
    assert "windows.net/string/messages/string?popreceipt=string&#x27;" in html
    warnings = ApiVersion.objects.get(api=api).warnings
    assert not [w for w in warnings if "popReceipt" in str(w)], warnings


def test_a_31_schema_resource_resolves_its_own_defs(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # JSON Schema 2020-12: inside a schema with `$id`, `#/$defs/Inner` means that schema's
    # own $defs, not the document's (which has none); the document is valid OpenAPI 3.1.
    spec = """openapi: 3.1.1
info: {title: Resources, version: '1'}
paths:
  /shapes:
    get:
      operationId: listShapes
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Shape'}
components:
  schemas:
    Shape:
      $id: https://example.com/schemas/shape
      type: object
      $defs:
        Corner: {type: object, properties: {angleDegrees: {type: number}}}
      properties:
        corners: {type: array, items: {$ref: '#/$defs/Corner'}}
"""
    import_spec(write_spec("resources.yaml", spec), "resources")
    html = client.get("/apis/resources/operations/listShapes/").content.decode()
    assert '<code class="prop-name">angleDegrees</code>' in html


def test_a_webhook_page_offers_no_call_to_send(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Adyen's notification specs are webhooks only, with no servers: a curl to
    # https://api.example.com/<webhook name> would be a call nobody can make.
    spec = """openapi: 3.1.0
info: {title: Transfer webhooks, version: '4'}
webhooks:
  balancePlatform.transfer.created:
    post:
      operationId: post-balancePlatform.transfer.created
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {transferId: {type: string}}}
      responses: {'200': {description: accepted}}
"""
    import_spec(write_spec("hooks.yaml", spec), "hooks")
    html = client.get("/apis/hooks/operations/post-balancePlatform.transfer.created/")
    text = html.content.decode()
    assert html.status_code == 200 and '<code class="prop-name">transferId</code>' in text
    assert "curl -X POST" not in text and "Request sample" not in text


COGNITIVE = """{
  "swagger": "2.0",
  "info": {"title": "Text Analytics", "version": "v3.0"},
  "x-ms-parameterized-host": {"hostTemplate": "{Endpoint}/text/analytics/v3.0",
    "useSchemePrefix": false, "parameters": [{"$ref": "#/parameters/Endpoint"}]},
  "schemes": ["https"],
  "paths": {"/languages": {"post": {"operationId": "Languages", "responses": {"200": {"description": "ok"}}}}},
  "parameters": {"Endpoint": {"name": "Endpoint", "in": "path", "required": true, "type": "string",
    "description": "Supported Cognitive Services endpoints (protocol and hostname).",
    "x-ms-skip-url-encoding": true, "x-ms-parameter-location": "client"}}
}"""

LAKE = """{
  "swagger": "2.0",
  "info": {"title": "Data Lake Analytics Job", "version": "2017-09-01-preview"},
  "x-ms-parameterized-host": {"hostTemplate": "{accountName}.{adlaJobDnsSuffix}", "parameters": [
    {"name": "accountName", "in": "path", "required": true, "type": "string", "x-ms-skip-url-encoding": true},
    {"name": "adlaJobDnsSuffix", "in": "path", "required": true, "type": "string",
     "default": "azuredatalakeanalytics.net", "x-ms-skip-url-encoding": true}]},
  "schemes": ["https"],
  "basePath": "/",
  "paths": {"/jobs": {"get": {"operationId": "Job_List", "responses": {"200": {"description": "ok"}}}}}
}"""


def test_azure_parameterized_hosts_are_servers_with_variables(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Azure's data-plane specs name no `host`: AutoRest's `x-ms-parameterized-host` says the
    # caller's account or endpoint goes there. Samples and the console use it, not a made-up
    # api.example.com, and the overview says what each part of the host is.
    import_spec(write_spec("text.json", COGNITIVE), "text")
    overview = client.get("/apis/text/").content.decode()
    assert "<code>{Endpoint}/text/analytics/v3.0</code>" in overview
    assert "Supported Cognitive Services endpoints" in overview
    html = client.get("/apis/text/operations/Languages/").content.decode()
    assert "https://endpoint.example.com/text/analytics/v3.0/languages" in html
    assert "api.example.com" not in html

    import_spec(write_spec("lake.json", LAKE), "lake")
    overview = client.get("/apis/lake/").content.decode()
    assert "<code>https://{accountName}.{adlaJobDnsSuffix}</code>" in overview
    assert "default <code>azuredatalakeanalytics.net</code>" in overview
    html = client.get("/apis/lake/operations/Job_List/").content.decode()
    assert "https://accountName.azuredatalakeanalytics.net/jobs" in html

    # With a `host` too, the whole-host variable defaults to it (Queue Storage above).
    import_spec(write_spec("queue.json", AZURE_QUEUE), "queue")
    assert "<code>{url}</code>" in client.get("/apis/queue/").content.decode()


def test_a_32_item_schema_is_drawn_as_a_stream_of_items(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # OpenAPI 3.2's `itemSchema` (JSON Lines, NDJSON, server-sent events) describes each item
    # of a stream. It was drawn as the whole body, with no word of a stream, and called the
    # "same schema" as a body that is one Pet.
    spec = """openapi: 3.2.0
info: {title: Streams, version: 1.0.0}
components:
  schemas:
    Pet: {type: object, properties: {name: {type: string}}}
  mediaTypes:
    StreamingPets:
      description: Streaming sequence of JSON pet representations.
      itemSchema: {$ref: '#/components/schemas/Pet'}
paths:
  /pets:
    put:
      operationId: putPets
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
          application/x-ndjson:
            $ref: '#/components/mediaTypes/StreamingPets'
      responses: {'204': {description: ok}}
"""
    import_spec(write_spec("pets.yaml", spec), "pets")
    html = client.get("/apis/pets/operations/putPets/").content.decode()
    ndjson = html[html.index('id="request-application-x-ndjson"') :]
    ndjson = ndjson[
        : ndjson.index('<div class="media-type"') if '<div class="media-type"' in ndjson else None
    ]
    assert "Same schema" not in ndjson
    assert "A stream of items, each:" in ndjson and "Pet" in ndjson
    assert "Streaming sequence of JSON pet representations." in ndjson
    json_part = html[
        html.index('id="request-application-json"') : html.index(
            'id="request-application-x-ndjson"'
        )
    ]
    assert "A stream of" not in json_part


OPENAPI_32_TAGS_AND_SCHEMES = """openapi: 3.2.0
info: {title: Shelter, version: '1'}
tags:
  - {name: pets, summary: Pets}
  - {name: beta, kind: badge, summary: Beta}
  - {name: adoption, summary: Adoption, parent: pets}
  - {name: staff, summary: Staff}
  - {name: loop-a, parent: loop-b}
  - {name: loop-b, parent: loop-a}
paths:
  /staff:
    get: {operationId: listStaff, tags: [staff], responses: {'200': {description: ok}}}
  /pets:
    get:
      operationId: listPets
      tags: [beta, pets]
      responses:
        '200': {summary: The pets on one page, description: 'A long description of the page of pets.'}
  /adoptions:
    post: {operationId: adopt, tags: [adoption], responses: {'201': {description: made}}}
  /a:
    get: {operationId: a, tags: [loop-a], responses: {'200': {description: ok}}}
  /b:
    get: {operationId: b, tags: [loop-b], responses: {'200': {description: ok}}}
components:
  securitySchemes:
    tv:
      type: oauth2
      deprecated: true
      oauth2MetadataUrl: https://login.example/.well-known/oauth-authorization-server
      flows:
        deviceAuthorization:
          deviceAuthorizationUrl: https://login.example/device
          tokenUrl: https://login.example/token
          scopes: {pets.read: read pets}
"""


def test_32_tags_summaries_parents_and_kinds(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """OpenAPI 3.2 tags: `summary` is the name readers see, `parent` nests a tag under
    another (listed after it, titled "Pets › Adoption"), and a tag of another `kind` (a badge)
    does not take an operation out of its navigation group. A parent loop is not followed."""
    import_spec(write_spec("shelter.yaml", OPENAPI_32_TAGS_AND_SCHEMES), "shelter")
    html = client.get("/apis/shelter/").content.decode()
    headings = re.findall(r'<section class="tag-group" id="[^"]+"><h3><a[^>]*>([^<]+)</a>', html)
    assert headings[:3] == ["Pets", "Pets › Adoption", "Staff"]
    assert "Beta" not in headings  # listPets is listed under its navigation tag
    assert set(headings[3:]) == {"loop-b › loop-a", "loop-a › loop-b"}
    nav = re.findall(r'<a class="nav-toc" [^>]*>([^<]+) <span', html)
    assert nav[:3] == ["Pets", "Pets › Adoption", "Staff"]


def test_32_security_scheme_fields_and_response_summaries(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    import_spec(write_spec("shelter.yaml", OPENAPI_32_TAGS_AND_SCHEMES), "shelter")
    html = client.get("/apis/shelter/").content.decode()
    scheme = html[html.index('id="scheme-tv"') :]
    scheme = scheme[: scheme.index("</section>")]
    assert "deprecated" in scheme
    assert "https://login.example/.well-known/oauth-authorization-server" in scheme
    assert "<dt>Device authorization</dt><dd><code>https://login.example/device</code>" in scheme
    page = client.get("/apis/shelter/operations/listPets/").content.decode()
    head = re.search(r'<span class="response-desc[^>]*>([^<]*)</span>', page)
    assert head is not None and head.group(1) == "The pets on one page"
    assert "A long description of the page of pets." in page  # still shown, in full, below


def test_31_boolean_body_schemas_read_as_any_or_no_value(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """JSON Schema 2020-12 lets a media type's schema be `true` (any value) or `false`
    (none); both read "No schema.", as if the spec had said nothing."""
    spec = """openapi: 3.1.0
info: {title: Bools, version: '1'}
paths:
  /blobs:
    post:
      operationId: putBlob
      requestBody: {content: {application/json: {schema: true}}}
      responses:
        '204': {description: none, content: {application/json: {schema: false}}}
"""
    import_spec(write_spec("bools.yaml", spec), "bools")
    page = client.get("/apis/bools/operations/putBlob/").content.decode()
    assert "No schema." not in page
    assert '<span class="type">any</span>' in page
    assert '<span class="type">no value allowed</span>' in page


def test_a_property_naming_a_primitive_schema_shows_its_type(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """Plaid names its scalar fields (`client_id: {$ref: APIClientID}`, a string): the row
    shows the name and what it is, as an object's head does, not the name alone."""
    spec = """openapi: 3.0.0
info: {title: Items, version: '1'}
paths:
  /item/get:
    post:
      operationId: itemGet
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                client_id: {$ref: '#/components/schemas/APIClientID'}
                count: {$ref: '#/components/schemas/Count'}
      responses: {'200': {description: ok}}
components:
  schemas:
    APIClientID: {title: ClientID, type: string, description: Your client_id.}
    Count: {type: integer, format: int32, nullable: true}
"""
    import_spec(write_spec("items.yaml", spec), "items")
    page = client.get("/apis/items/operations/itemGet/").content.decode()
    row = re.search(r'<code class="prop-name">client_id</code>(.*?)</div>', page)
    assert row is not None
    assert '<span class="type">APIClientID</span> <span class="type-of">string</span>' in row[1]
    row = re.search(r'<code class="prop-name">count</code>(.*?)</div>', page)
    assert row is not None and "integer | null &lt;int32&gt;" in row[1]


CALLBACKS = """{
  "openapi": "3.0.0",
  "info": {"title": "Streams", "version": "1.0.0"},
  "paths": {"/streams": {"post": {
    "operationId": "subscribe",
    "parameters": [{"name": "callbackUrl", "in": "query", "required": true,
      "schema": {"type": "string", "format": "uri"}}],
    "responses": {"201": {"description": "subscription created"}},
    "callbacks": {"onData": {"{$request.query.callbackUrl}/data": {"post": {
      "requestBody": {"description": "subscription payload",
        "content": {"application/json": {"schema": {"type": "object",
          "properties": {"userData": {"type": "string"}}}}}},
      "responses": {
        "202": {"description": "Your server returns this code if the data was received"},
        "204": {"description": "Your server returns this code if no longer interested"}}
    }}}}
  }}}
}"""


def test_a_callback_shows_the_answers_the_api_expects(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """ReadMe's callback example (the OAI one): a 204 from your server ends the subscription,
    which a reader learns only from the callback's responses and its body's description."""
    import_spec(write_spec("streams.json", CALLBACKS), "streams")
    page = client.get("/apis/streams/operations/subscribe/").content.decode()
    callbacks = page[page.index('id="callbacks"') :]
    callbacks = callbacks[: callbacks.index("</section>")]
    assert "subscription payload" in callbacks
    assert re.search(r">\s*204\s*<.*no longer interested", callbacks, re.S)
    assert re.search(r">\s*202\s*<.*the data was received", callbacks, re.S)


SIGNED_CALLBACK = """{
  "openapi": "3.1.0",
  "info": {"title": "Hooks", "version": "1.0.0"},
  "paths": {"/hooks": {"post": {
    "operationId": "createHook",
    "responses": {"201": {"description": "created"}},
    "callbacks": {"onEvent": {"{$request.body#/url}": {
      "parameters": [{"name": "X-Hook-Signature", "in": "header", "required": true,
        "description": "HMAC of the body with your hook secret", "schema": {"type": "string"}}],
      "post": {
        "description": "Sent once per **event**; retried for a day until you answer.",
        "parameters": [{"name": "attempt", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object",
          "properties": {"event": {"type": "string"}}}}}},
        "responses": {"200": {"description": "Acknowledged",
          "content": {"application/json": {"schema": {"type": "object", "required": ["ackId"],
            "properties": {"ackId": {"type": "string", "description": "echoed in the next delivery"}}}}}}}
      }
    }}}
  }}}
}"""


def test_a_callback_shows_its_parameters_and_the_answer_it_expects(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """The receiving server's author needs the headers to verify (path-item level too), the
    query the API adds, and the body it must answer with, not just the status codes."""
    import_spec(write_spec("hooks.json", SIGNED_CALLBACK), "hooks")
    page = client.get("/apis/hooks/operations/createHook/").content.decode()
    callbacks = page[page.index('id="callbacks"') :]
    callbacks = callbacks[: callbacks.index("</section>")]
    assert "<strong>event</strong>" in callbacks  # the whole description, as Markdown
    signature = re.search(
        r'<code class="prop-name">X-Hook-Signature</code>(.*?)</tr>', callbacks, re.S
    )
    assert signature and "required" in signature[1] and "HMAC of the body" in signature[1]
    attempt = re.search(r'<code class="prop-name">attempt</code>(.*?)</tr>', callbacks, re.S)
    assert attempt and "integer" in attempt[1]
    answer = callbacks[callbacks.index("Acknowledged") :]
    assert re.search(r"ackId.*required.*echoed in the next delivery", answer, re.S)
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # the callback's rows do not reuse the operation's ids


def test_hubspot_null_examples_are_no_examples(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    """HubSpot's specs (swagger-core output) write `example: null` on every schema,
    parameter and media type: the response sample read `null`, each parameter row
    "Example null", though none of those schemas allows null."""
    spec = """{"openapi": "3.0.1", "info": {"title": "Logs", "version": "2026-09"},
 "paths": {"/logs": {"get": {"operationId": "getLogs",
   "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "example": null}}],
   "responses": {"200": {"description": "ok", "content": {"application/json": {
     "schema": {"$ref": "#/components/schemas/Page"}, "example": null}}}}}}},
 "components": {"schemas": {
   "Page": {"type": "object", "required": ["results"], "example": null, "properties": {
     "results": {"type": "array", "example": null, "items": {"$ref": "#/components/schemas/Log"}}}},
   "Log": {"type": "object", "example": null, "properties": {
     "id": {"type": "string", "example": null},
     "gone": {"type": "string", "nullable": true, "example": null}}}}}}
"""
    import_spec(write_spec("logs.json", spec), "logs")
    page = client.get("/apis/logs/operations/getLogs/").content.decode()
    row = page[page.index('id="param-query-limit"') :].split("</tr>")[0]
    assert "Example" not in row
    samples = page[page.index('id="response-samples"') :]
    assert "<code>null</code>" not in samples
    assert "&quot;results&quot;" in samples and "&quot;id&quot;: &quot;string&quot;" in samples
    assert "&quot;gone&quot;: null" in samples  # a nullable field's null example stands

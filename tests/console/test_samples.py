"""Request and response samples on the operation page, for anyone (console/samples.py)."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import orjson
from django.core.management import call_command
from django.test import Client

from apis.models import Api
from tests.conftest import DEMO_SPECS
from tests.console.conftest import GATEWAY


def _import(path: Path, slug: str) -> Api:
    call_command("importspec", str(path), slug=slug, publish=True, stdout=io.StringIO())
    return Api.objects.get(slug=slug)


def _publish(tmp_path: Path, slug: str, spec: dict[str, Any] | str) -> Api:
    """`spec` (a document, or its YAML text) imported and published as `slug`."""
    path = tmp_path / f"{slug}.spec"
    path.write_bytes(spec.encode() if isinstance(spec, str) else orjson.dumps(spec))
    return _import(path, slug)


def _page(client: Client, slug: str, operation_id: str) -> str:
    return client.get(f"/apis/{slug}/operations/{operation_id}/").content.decode()


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return html.unescape(page[start : page.index("</section>", start)])


def test_anonymous_reader_sees_request_and_response_samples(client: Client, db: None) -> None:
    _import(DEMO_SPECS / "petstore.yaml", "petstore")
    page = _page(client, "petstore", "createPet")
    request = _section(page, "request-sample")
    # curl and the console's other snippet languages, from the spec's first example.
    for label in ("curl", "Python requests", "JavaScript fetch", "HTTPie"):
        assert f"<summary>{label}</summary>" in request
    assert "curl -X POST http://127.0.0.1:8000/gateway/petstore/pets" in request
    assert '"name": "Rex"' in request
    assert "Authorization: Bearer $ACCESS_TOKEN" in request
    assert "Replace $ACCESS_TOKEN" in request
    responses = _section(page, "response-samples")
    assert '"status": "available"' in responses  # the 201 example
    # The samples sit in the right-hand column, after the description's column.
    assert (
        page.index('class="op-main"')
        < page.index('class="op-aside"')
        < page.index('id="request-sample"')
    )


def test_path_parameters_are_filled_and_responses_generated(client: Client, db: None) -> None:
    _import(DEMO_SPECS / "petstore.yaml", "petstore")
    page = _page(client, "petstore", "showPetById")
    request = _section(page, "request-sample")
    assert "{petId}" not in request
    assert "curl -X GET" in request


def test_api_key_and_generated_samples(client: Client, db: None, tmp_path: Path) -> None:
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Keys", "version": "1"},
        "servers": [{"url": "https://api.keys.example/v1"}],
        "security": [{"key": []}],
        "paths": {
            "/things/{id}": {
                "get": {
                    "operationId": "getThing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "example": "th_1"},
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                        {"name": "region", "in": "query", "required": True,
                         "schema": {"type": "string", "enum": ["eu", "us"]}},
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "string", "example": "th_1"},
                                            "count": {"type": "integer", "minimum": 3},
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}
        },
    }  # fmt: skip
    _publish(tmp_path, "keys", spec)
    page = _page(client, "keys", "getThing")
    request = _section(page, "request-sample")
    assert "curl -X GET 'https://api.keys.example/v1/things/th_1?region=eu'" in request
    assert "limit" not in request  # optional parameters stay out
    assert "X-Api-Key: $API_KEY" in request
    assert "Authorization" not in request
    responses = _section(page, "response-samples")
    assert "Generated from the schema" in responses
    assert '"id": "th_1"' in responses and '"count": 3' in responses


def test_signed_in_user_gets_the_server_the_console_calls(
    client: Client, signed_in: Client, echo: Api
) -> None:
    """Anonymous readers get the spec's server; a signed-in user the gateway route's."""
    from gateway.models import Route

    Route.objects.update_or_create(api=echo, defaults={"suffix": "echo-v2", "backend": "echo"})
    page = signed_in.get("/apis/echo/operations/echoGet/").content.decode()
    assert f"{GATEWAY}/echo-v2/" in _section(page, "request-sample")
    signed_in.logout()
    anonymous = _page(client, "echo", "echoGet")
    request = _section(anonymous, "request-sample")
    assert f"{GATEWAY}/echo-v2/" not in request
    assert "http://127.0.0.1:8000/gateway/echo/" in request


def test_basic_scheme_sample_asks_for_a_user_and_password(
    client: Client, db: None, tmp_path: Path
) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Basic", "version": "1"},
        "servers": [{"url": "https://api.basic.example"}],
        "paths": {"/me": {"get": {"operationId": "me", "security": [{"basicAuth": []}],
                                  "responses": {"200": {"description": "ok"}}}}},
        "components": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
    }  # fmt: skip
    _publish(tmp_path, "basic", spec)
    page = _page(client, "basic", "me")
    request = _section(page, "request-sample")
    assert 'curl -X GET https://api.basic.example/me \\\n  -u "$API_USER:$API_PASSWORD"' in request
    assert "Replace $API_USER and $API_PASSWORD" in request
    assert "BASIC_CREDENTIALS" not in request and "Authorization:Basic" not in request


def test_the_publishers_own_code_samples_come_first(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Redoc's x-codeSamples (and the older x-code-samples): samples the publisher wrote and
    # tested. They are shown first, as written (escaped, never run), then the portal's own.
    source = 'var r = await http.GetAsync("/pets");\n// <script>alert(1)</script>\n'
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Samples", "version": "1"},
        "servers": [{"url": "https://api.samples.example"}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "x-codeSamples": [
                        {"lang": "C#", "label": "C# (.NET 8)", "source": source},
                        {"lang": "Go", "source": {"not": "text"}},
                        {"lang": "PHP", "source": "<?php echo 1;"},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/old": {
                "get": {
                    "operationId": "old",
                    "x-code-samples": [{"lang": "Shell", "source": "curl https://old.example"}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    _publish(tmp_path, "samples", spec)
    page = _page(client, "samples", "listPets")
    assert "<script>alert(1)" not in page
    request = _section(page, "request-sample")
    assert request.index("C# (.NET 8)") < request.index("PHP") < request.index("curl -X GET")
    assert source in request
    assert "Go" not in request  # a source that is not text is left out
    assert '<details class="sample" data-language="published-0" open>' in request
    old = _section(_page(client, "samples", "old"), "request-sample")
    assert "curl https://old.example" in old


def test_file_uploads_and_binary_bodies_are_sent_as_files(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Multipart samples put binary fields in as text (`files=[""]`), Python's `files={}`
    # made requests send a urlencoded body, and a binary body was curl's `--data-raw ''`.
    binary = {"type": "string", "format": "binary"}
    form = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "example": "Rex"},
            "cover": binary,
            "photos": {"type": "array", "items": binary},
        },
    }

    def op(op_id: str, media: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "operationId": op_id,
            "requestBody": {"content": {media: {"schema": schema}}},
            "responses": {"200": {"description": "ok"}},
        }

    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Files", "version": "1"},
        "servers": [{"url": "https://files.example"}],
        "paths": {
            "/pets": {"post": op("upload", "multipart/form-data", {"$ref": "#/components/schemas/Form"})},
            "/notes": {"post": op("note", "multipart/form-data",
                                  {"properties": {"text": {"type": "string", "example": "hi"}}})},
            "/archive": {"put": op("archive", "application/x-tar", binary)},
        },
        "components": {"schemas": {"Form": form}},
    }  # fmt: skip
    _publish(tmp_path, "files", spec)

    def sample(op_id: str) -> str:
        page = _page(client, "files", op_id)
        return _section(page, "request-sample")

    upload = sample("upload")
    assert "--form-string name=Rex" in upload and "-F cover=@cover.bin" in upload
    assert "-F photos=@photos.bin" in upload and "photos=[" not in upload
    assert "('photos', ('photos.bin', open('photos.bin', 'rb')" in upload
    assert "('name', (None, 'Rex'))" in upload
    assert 'body.append("cover", fileInput.files[0]);' in upload
    note = sample("note")
    assert "files=[('text', (None, 'hi'))]" in note  # multipart, though no file
    assert "files={}" not in note
    archive = sample("archive")
    assert "--data-binary @file.bin" in archive and "--data-raw" not in archive
    assert "data=open('file.bin', 'rb')" in archive


def test_fastapis_optional_file_parts_are_sampled_as_files(
    client: Client, db: None, tmp_path: Path
) -> None:
    """FastAPI writes `UploadFile | None = File(None)` as `anyOf: [binary, null]` and
    `list[UploadFile] | None` as `anyOf: [array of binary, null]`: the sample sent them as
    empty text parts (`--form-string thumbnail=`), which FastAPI answers 422."""
    binary = {"type": "string", "format": "binary"}
    form = {
        "type": "object",
        "properties": {
            "thumbnail": {"anyOf": [binary, {"type": "null"}], "title": "Thumbnail"},
            "extra": {"anyOf": [{"type": "array", "items": binary}, {"type": "null"}]},
        },
    }
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Uploads", "version": "1"},
        "servers": [{"url": "https://files.example"}],
        "paths": {"/files": {"post": {
            "operationId": "upload",
            "requestBody": {"content": {"multipart/form-data": {"schema": form}}},
            "responses": {"200": {"description": "ok"}},
        }}},
    }  # fmt: skip
    _publish(tmp_path, "uploads", spec)
    page = _page(client, "uploads", "upload")
    upload = _section(page, "request-sample")
    assert "-F thumbnail=@thumbnail.bin" in upload and "-F extra=@extra.bin" in upload
    assert "--form-string" not in upload


def test_a_sample_through_the_gateway_sends_the_subscription_key_it_needs(
    client: Client, signed_in: Client, echo: Api
) -> None:
    # The sample named only the token; copied into a terminal it got the gateway's
    # "401 Access denied due to missing subscription key".
    from products.models import ApiKeyNames, Group, Product

    product = Product.objects.create(slug="starter", name="Starter", published=True)
    product.apis.add(echo)
    product.groups.set(Group.objects.filter(slug__in=["guests", "developers"]))
    for reader in (signed_in, client):
        request = _section(reader.get("/apis/echo/operations/echoGet/").content.decode(),
                           "request-sample")  # fmt: skip
        assert '-H "Ocp-Apim-Subscription-Key: $SUBSCRIPTION_KEY"' in request
        assert "$SUBSCRIPTION_KEY: your subscription's key" in request
        signed_in.logout()
    ApiKeyNames.objects.create(api=echo, header="X-Echo-Key", query="echo-key")
    request = _section(_page(client, "echo", "echoGet"), "request-sample")
    assert "X-Echo-Key: $SUBSCRIPTION_KEY" in request
    product.subscription_required = False
    product.save()
    request = _section(_page(client, "echo", "echoGet"), "request-sample")
    assert "SUBSCRIPTION_KEY" not in request


def test_an_api_with_no_server_says_the_samples_server_is_a_stand_in(
    client: Client, db: None, tmp_path: Path
) -> None:
    # An imported API with no `servers` and no route showed https://api.example.com as if
    # it were its address.
    _publish(
        tmp_path, "tiny",
        "openapi: 3.0.3\ninfo: {title: Tiny, version: '1'}\npaths:\n  /now:\n"
        "    get: {operationId: now, responses: {'200': {description: ok}}}\n"
    )  # fmt: skip
    request = _section(_page(client, "tiny", "now"), "request-sample")
    assert "The spec names no server and no gateway route serves this API" in request


def test_a_server_whose_host_variable_is_empty_is_not_called_as_written(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Shlink's docs/swagger/swagger.json: `{scheme}://{host}` with host's default "" (each
    # installation has its own). The samples called `https:/rest/v3/short-urls/string` and
    # said "Server https:"; no address to copy, and the reader was not told to give one.
    path = tmp_path / "shortener.json"
    path.write_text(
        '{"openapi": "3.1.0", "info": {"title": "Shortener", "version": "3.0"},'
        ' "servers": [{"url": "{scheme}://{host}", "variables": {'
        '"scheme": {"default": "https", "enum": ["https", "http"]}, "host": {"default": ""}}}],'
        ' "paths": {"/rest/v3/short-urls": {"get": {"operationId": "listShortUrls",'
        ' "responses": {"200": {"description": "ok"}}}}}}'
    )
    _import(path, "shortener")
    page = client.get("/apis/shortener/operations/listShortUrls/").content.decode()
    request = html.unescape(_section(page, "request-sample"))
    assert "https:/rest" not in request and "<code>https:</code>" not in request
    assert "curl -X GET https://api.example.com/rest/v3/short-urls" in request
    assert "replace <code>https://api.example.com</code> with its address" in request
    assert "{scheme}://{host}" in request  # the reader sees what the spec leaves to fill


def test_the_consoles_server_without_a_host_says_which_template_left_it_out(
    signed_in: Client, tmp_path: Path
) -> None:
    # The same server in the console's choice read "https: — not an absolute http(s) URL":
    # nothing said that the spec leaves the host to each installation.
    path = tmp_path / "shortener.json"
    path.write_text(
        '{"openapi": "3.1.0", "info": {"title": "Shortener", "version": "3.0"},'
        ' "servers": [{"url": "{scheme}://{host}", "variables": {'
        '"scheme": {"default": "https"}, "host": {"default": ""}}}],'
        ' "paths": {"/tags": {"get": {"operationId": "listTags",'
        ' "responses": {"200": {"description": "ok"}}}}}}'
    )
    _import(path, "shortener")
    page = signed_in.get("/apis/shortener/operations/listTags/").content.decode()
    console = _section(page, "console")
    assert "https: — no host in {scheme}://{host} as the spec fills it" in console


def test_samples_ask_for_what_the_operation_returns(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Every sample sent `Accept: application/json`, also to GitHub's /octocat (a text
    # stream) and /markdown/raw (HTML): a server that honours Accept answers 406.
    def op(op_id: str, *media: str) -> dict[str, Any]:
        content = {m: {"schema": {"type": "string"}} for m in media}
        return {
            "operationId": op_id,
            "responses": {
                "200": {"description": "ok", "content": content},
                "404": {"description": "no", "content": {"application/json": {}}},
            },
        }

    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Octo", "version": "1"},
        "servers": [{"url": "https://octo.example"}],
        "paths": {
            "/octocat": {"get": op("octocat", "application/octocat-stream")},
            "/raw": {"post": op("raw", "text/html", "application/json")},
            "/plain": {"get": op("plain")},
        },
    }  # fmt: skip
    _publish(tmp_path, "octo", spec)

    def sample(op_id: str) -> str:
        page = _page(client, "octo", op_id)
        return _section(page, "request-sample")

    octocat = sample("octocat")
    assert "Accept: application/octocat-stream" in octocat
    assert "application/json" not in octocat
    assert "Accept: text/html" in sample("raw")  # the first documented one
    assert "Accept: application/json" in sample("plain")  # nothing documented: as before


def test_a_media_type_that_is_not_one_never_reaches_a_header(
    client: Client, db: None, tmp_path: Path
) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Odd", "version": "1"},
        "servers": [{"url": "https://odd.example"}],
        "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": {
            "description": "ok", "content": {"text/html\r\nX-Evil: 1": {}}}}}}},
    }  # fmt: skip
    _publish(tmp_path, "odd", spec)
    page = _page(client, "odd", "x")
    sample = _section(page, "request-sample")
    assert "X-Evil" not in sample and "Accept: application/json" in sample


def test_a_querystring_parameter_is_the_samples_query(
    client: Client, db: None, tmp_path: Path
) -> None:
    # OpenAPI 3.2's `in: querystring` describes the whole query string as one value. A
    # required one was documented on the page but left out: `curl .../search`, no query.
    _publish(
        tmp_path, "qs",
        """openapi: 3.2.0
info: {title: Querystring, version: 1.0.0}
servers: [{url: 'https://search.example.org'}]
paths:
  /search:
    get:
      operationId: search
      parameters:
        - in: querystring
          name: q
          required: true
          content:
            application/x-www-form-urlencoded:
              schema:
                type: object
                required: [term]
                properties: {term: {type: string}, limit: {type: integer}, tags: {type: array}}
              example: {term: cats & dogs, limit: 10, tags: [a, b]}
      responses: {'200': {description: results}}
  /jsonpath:
    get:
      operationId: jsonpath
      parameters:
        - in: querystring
          name: selector
          required: true
          content: {application/jsonpath: {schema: {type: string}, example: '$.a.b[1]'}}
      responses: {'200': {description: results}}
"""
    )  # fmt: skip
    page = _page(client, "qs", "search")
    request = _section(page, "request-sample")
    url = "https://search.example.org/search?term=cats+%26+dogs&limit=10&tags=a&tags=b"
    assert f"curl -X GET '{url}'" in request
    page = _page(client, "qs", "jsonpath")
    assert "https://search.example.org/jsonpath?%24.a.b%5B1%5D" in _section(page, "request-sample")


def test_a_deep_object_parameter_is_sampled_as_the_api_reads_it(
    client: Client, db: None, tmp_path: Path
) -> None:
    """Stripe's GET /v1/apps/secrets needs `scope` as `scope[type]=…`; a sample with
    `scope={"type": …}` fails when copied."""
    from tests.console.test_calls import STYLED_QUERY

    spec = tmp_path / "styles.yaml"
    spec.write_text(STYLED_QUERY)
    _import(spec, "styles")
    page = _page(client, "styles", "GetAppsSecrets")
    request = _section(page, "request-sample")
    assert (
        "https://api.example.com/v1/apps/secrets?scope%5Btype%5D=string&scope%5Buser%5D=string"
        in request
    )


def test_fastapis_optional_list_is_sampled_item_by_item_with_its_own_example(
    client: Client, db: None, tmp_path: Path
) -> None:
    """FastAPI's `list[str] | None` query parameter is `anyOf: [array, null]`, its example
    beside the `anyOf` (`Query(examples=...)`): the sample sends the items as the console does,
    `status=open&status=held`, from the parameter's own example, not a generated one."""
    spec = tmp_path / "orders.json"
    spec.write_text(
        '{"openapi": "3.1.0", "info": {"title": "Orders", "version": "1"},'
        ' "servers": [{"url": "https://api.example.com"}], "paths": {"/orders": {"get": {'
        '"operationId": "list_orders", "parameters": [{"name": "status", "in": "query",'
        ' "required": true, "schema": {"anyOf": [{"type": "array", "items": {"type": "string"}},'
        ' {"type": "null"}], "examples": [["open", "held"]], "title": "Status"}}],'
        ' "responses": {"200": {"description": "OK"}}}}}}'
    )
    _import(spec, "orders")
    page = _page(client, "orders", "list_orders")
    request = _section(page, "request-sample")
    assert "https://api.example.com/orders?status=open&status=held" in request


FORM_BODY = """openapi: 3.0.0
info: {title: Customers, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /v1/customers:
    post:
      operationId: PostCustomers
      requestBody:
        content:
          application/x-www-form-urlencoded:
            encoding:
              address: {explode: true, style: deepObject}
              expand: {explode: true, style: deepObject}
            schema:
              type: object
              properties:
                address:
                  type: object
                  properties: {city: {type: string, example: Paris}, line1: {type: string, example: 1 rue}}
                expand: {type: array, items: {type: string, example: sources}}
                preferred_locales: {type: array, items: {type: string, example: fr}}
                name: {type: string, example: Ada}
      responses: {'200': {description: ok}}
"""


def test_form_body_fields_are_sampled_as_their_encoding_says(
    client: Client, db: None, tmp_path: Path
) -> None:
    """Stripe's bodies are form-encoded with `deepObject` fields: Stripe reads
    `address[city]=Paris`, and refuses `address={"city": "Paris"}`. An array without an
    encoding is `form`, exploded: one field per item."""
    spec = tmp_path / "customers.yaml"
    spec.write_text(FORM_BODY)
    _import(spec, "customers")
    page = _page(client, "customers", "PostCustomers")
    request = _section(page, "request-sample")
    curl = request[
        request.index("curl -X POST") : request.index("</code>", request.index("curl -X POST"))
    ]
    assert "--data-urlencode 'address[city]=Paris'" in curl
    assert "--data-urlencode 'address[line1]=1 rue'" in curl
    assert "--data-urlencode 'expand[0]=sources'" in curl
    assert "--data-urlencode preferred_locales=fr" in curl
    assert "--data-urlencode name=Ada" in curl
    assert "{" not in curl


def test_path_parameters_are_sampled_in_their_style(
    client: Client, db: None, tmp_path: Path
) -> None:
    """The sample writes a path as the console sends it: `;matrix=string`, `.string`."""
    from tests.console.test_calls import STYLED_PATH

    spec = tmp_path / "paths.yaml"
    spec.write_text(STYLED_PATH)
    _import(spec, "paths")
    page = _page(client, "paths", "paths")
    request = _section(page, "request-sample")
    assert "https://httpbin.org/anything/path/string/;matrix=string/.string/string" in request


SWAGGER_FORM = """swagger: '2.0'
info: {title: Swagger form, version: '1'}
host: api.example.com
schemes: [https]
paths:
  /tags:
    post:
      operationId: tag
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {name: piped, in: formData, required: true, type: array, items: {type: string},
           collectionFormat: pipes, default: [a, b]}
        - {name: multi, in: formData, required: true, type: array, items: {type: string},
           collectionFormat: multi, default: [c, d]}
      responses: {'200': {description: ok}}
"""


def test_swagger_form_fields_are_sampled_in_their_collection_format(
    client: Client, db: None, tmp_path: Path
) -> None:
    """A 2.0 formData array with `collectionFormat: pipes` is one field `a|b`; the
    conversion dropped the format, so the sample sent `piped=a` and `piped=b`."""
    spec = tmp_path / "form.yaml"
    spec.write_text(SWAGGER_FORM)
    _import(spec, "swagger-form")
    page = _page(client, "swagger-form", "tag")
    request = _section(page, "request-sample")
    curl = request[request.index("curl -X POST") :]
    assert "--data-urlencode 'piped=a|b'" in curl
    assert "--data-urlencode multi=c \\\n  --data-urlencode multi=d" in curl


STYLED_HEADERS = """openapi: 3.1.0
info: {title: Header styles, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /paint/{color}:
    get:
      operationId: paint
      parameters:
        - name: color
          in: path
          required: true
          style: matrix
          explode: true
          schema: {type: object, properties: {R: {type: integer, example: 100}, G: {type: integer, example: 200}}}
        - name: X-Color
          in: header
          required: true
          schema: {type: object, properties: {R: {type: integer, example: 100}, G: {type: integer, example: 200}}}
        - {name: ids, in: cookie, required: true, explode: false,
           schema: {type: array, items: {type: string}, example: [a, b]}}
      responses: {'200': {description: ok}}
"""


def test_header_and_cookie_parameters_are_sampled_in_their_style(
    client: Client, db: None, tmp_path: Path
) -> None:
    """A `simple` object header reads `R,100,G,200`, not its JSON, and a required cookie
    is part of the call (the sample left it out), as the console sends both."""
    spec = tmp_path / "headers.yaml"
    spec.write_text(STYLED_HEADERS)
    _import(spec, "headers")
    page = _page(client, "headers", "paint")
    curl = _section(page, "request-sample")
    curl = curl[curl.index("curl -X GET") :]
    assert "https://api.example.com/paint/;R=100;G=200" in curl
    assert "-H 'X-Color: R,100,G,200'" in curl
    assert "-H 'Cookie: ids=a,b'" in curl


def test_accept_and_content_type_header_parameters_are_not_sampled(
    client: Client, db: None, tmp_path: Path
) -> None:
    """Header parameters OpenAPI says to ignore stay out of the sample, as out of the
    console: a required `content-type` one went out beside the body's own Content-Type."""
    from tests.console.test_calls import OWNED_HEADERS

    spec = tmp_path / "owned.yaml"
    spec.write_text(OWNED_HEADERS)
    _import(spec, "owned")
    page = _page(client, "owned", "makeThing")
    curl = _section(page, "request-sample")
    curl = curl[curl.index("curl -X POST") :].split("\n\n")[0]
    assert curl.lower().count("content-type") == 1
    assert "Content-Type: application/json" in curl
    assert curl.count("Accept") == 1 and "-H 'X-Trace: " in curl


def test_a_multipart_samples_typed_parts_are_typed_as_the_console_sends_them(
    client: Client, db: None, tmp_path: Path
) -> None:
    """The sample's multipart parts carry the types the console sends: the encoding's
    contentType, or `application/json` for an object."""
    from tests.console.test_calls import TYPED_PARTS

    spec = tmp_path / "parts.yaml"
    spec.write_text(TYPED_PARTS)
    _import(spec, "parts")
    page = _page(client, "parts", "upload")
    request = _section(page, "request-sample")
    assert "('meta', (None, '{}', 'application/json'))" in request
    assert "('report', (None, 'string', 'text/csv'))" in request
    assert "('note', (None, 'string'))" in request


def test_a_file_part_is_sampled_with_its_encodings_content_type(
    client: Client, db: None, tmp_path: Path
) -> None:
    """TypeSpec's multipart sample: `photos` (files) has the encoding `image/jpeg`; curl
    sent it untyped (curl reads `.bin` as application/octet-stream) and Python as
    application/octet-stream, which a server holding parts to their types refuses. A
    wildcard (`*/*`) says no one type: the part stays untyped."""
    spec = tmp_path / "files.yaml"
    spec.write_text("""openapi: 3.0.0
info: {title: Files, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /albums:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            encoding:
              photos: {contentType: 'image/jpeg, image/png'}
              any: {contentType: '*/*'}
            schema:
              type: object
              properties:
                photos: {type: array, items: {type: string, format: binary}}
                any: {type: string, format: binary}
      responses: {'200': {description: ok}}
""")
    _import(spec, "files")
    page = _page(client, "files", "upload")
    request = _section(page, "request-sample")
    assert "-F 'photos=@photos.bin;type=image/jpeg'" in request
    assert "-F any=@any.bin" in request and "any.bin;type" not in request
    assert "open('photos.bin', 'rb'), 'image/jpeg')" in request
    assert "open('any.bin', 'rb'), 'application/octet-stream')" in request
    assert "'photos@photos.bin;type=image/jpeg'" in request


def test_an_xml_part_is_sampled_as_xml(client: Client, db: None, tmp_path: Path) -> None:
    """A multipart part whose encoding says application/xml: curl sent the part's JSON
    (`doc="{\"b\":0}";type=application/xml`); the sample writes it as XML, its root named
    by the property, else the xml.name or component it gives."""
    spec = tmp_path / "xmlpart.yaml"
    spec.write_text("""openapi: 3.1.0
info: {title: XML parts, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /up:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            encoding:
              doc: {contentType: application/xml}
              item: {contentType: 'text/xml, application/json'}
              meta: {contentType: application/json}
            schema:
              type: object
              properties:
                doc: {type: object, properties: {b: {type: integer, example: 3}}}
                item: {$ref: '#/components/schemas/Item'}
                meta: {type: object, properties: {a: {type: string, example: x}}}
      responses: {'200': {description: ok}}
components:
  schemas:
    Item: {type: object, properties: {id: {type: integer, example: 7}}}
""")
    _import(spec, "xmlpart")
    page = _page(client, "xmlpart", "upload")
    request = _section(page, "request-sample")
    assert "('doc', (None, '<doc>\\n  <b>3</b>\\n</doc>', 'application/xml'))" in request
    assert "('item', (None, '<Item>\\n  <id>7</id>\\n</Item>', 'text/xml'))" in request
    assert "('meta', (None, '{\"a\":\"x\"}', 'application/json'))" in request


def test_an_allow_reserved_query_value_is_sampled_as_the_console_sends_it(
    client: Client, db: None, tmp_path: Path
) -> None:
    """The sample writes an allowReserved value with its `/` and `:` as they are."""
    spec = tmp_path / "reserved.yaml"
    spec.write_text("""openapi: 3.1.0
info: {title: Reserved, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /go:
    get:
      operationId: go
      parameters:
        - {name: next, in: query, required: true, allowReserved: true,
           schema: {type: string}, example: 'https://x.example/a'}
      responses: {'200': {description: ok}}
""")
    _import(spec, "reserved")
    page = _page(client, "reserved", "go")
    assert "https://api.example.com/go?next=https://x.example/a" in _section(page, "request-sample")


def test_a_colon_path_parameter_is_sampled_filled_as_the_console_sends_it(
    client: Client, db: None, tmp_path: Path
) -> None:
    """`/users/:id` with `id` declared: the sample read `.../users/:id`, not the call made."""
    spec = tmp_path / "colon.yaml"
    spec.write_text("""openapi: 3.0.3
info: {title: Colon, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /users/:id:
    get:
      operationId: user
      parameters: [{name: id, in: path, required: true, schema: {type: string}, example: u1}]
      responses: {'200': {description: ok}}
""")
    _import(spec, "colon")
    page = _page(client, "colon", "user")
    assert "https://api.example.com/users/u1" in _section(page, "request-sample")


def test_a_protocol_relative_server_takes_the_portals_scheme(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Rebilly (Redoc's big demo) serves from `//api.rebilly.com/v2.1`: the samples read
    # `curl -X DELETE //api.rebilly.com/v2.1/...`, a command curl cannot run. Like a relative
    # server, it is relative to where the portal serves the document.
    _publish(
        tmp_path, "billing",
        "openapi: 3.0.0\ninfo: {title: Billing, version: '1'}\n"
        "servers: [{url: '//api.billing.example/v2.1'}, {url: '//sandbox.billing.example/v2.1'}]\n"
        "paths:\n  /products:\n    get: {operationId: listProducts,"
        " responses: {'200': {description: ok}}}\n"
    )  # fmt: skip
    page = _page(client, "billing", "listProducts")
    request = _section(page, "request-sample")
    assert "curl -X GET http://api.billing.example/v2.1/products" in request
    assert " //api.billing.example" not in request


def test_a_server_at_the_root_is_the_portals_origin(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Ory Kratos says `servers: [{url: /}]`: a relative server like Docker's `/v1.56`, which
    # reads as the portal's origin. Cut to nothing, it was dropped, and the samples called
    # the stand-in https://api.example.com and said the spec names no server.
    _publish(
        tmp_path, "identities",
        "openapi: 3.0.3\ninfo: {title: Identities, version: '1'}\nservers: [{url: /}]\n"
        "paths:\n  /sessions/whoami:\n    get: {operationId: toSession,"
        " responses: {'200': {description: ok}}}\n"
    )  # fmt: skip
    page = _page(client, "identities", "toSession")
    request = _section(page, "request-sample")
    assert "curl -X GET http://127.0.0.1:8000/sessions/whoami" in request
    assert "api.example.com" not in request and "names no server" not in request


def test_a_required_cookie_parameter_is_in_the_sample(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Redoc's demo requires a `cookieParam` cookie on POST /pet: the samples sent required
    # path, query and header parameters but no cookie, so the call they showed was refused.
    _publish(
        tmp_path, "jar",
        "openapi: 3.0.3\ninfo: {title: Jar, version: '1'}\n"
        "servers: [{url: 'https://httpbin.org/anything'}]\npaths:\n  /pet:\n    post:\n"
        "      operationId: addPet\n      parameters:\n"
        "        - {name: cookieParam, in: cookie, required: true, schema: {type: integer}, example: 42}\n"
        "        - {name: theme, in: cookie, schema: {type: string}}\n"
        "        - {name: session_id, in: cookie, required: true, schema: {type: string}, example: 'a b'}\n"
        "      responses: {'200': {description: ok}}\n"
    )  # fmt: skip
    request = _section(_page(client, "jar", "addPet"), "request-sample")
    assert "Cookie: cookieParam=42; session_id=a%20b" in request
    assert "theme" not in request  # optional ones stay out, as other parameters do


def test_a_request_sample_sends_write_only_fields_and_not_read_only_ones(
    client: Client, db: None, tmp_path: Path
) -> None:
    # The body sample was made as a response is: without `writeOnly` fields (a required
    # password, Redocly Cafe's required `menuItemId`) and with `readOnly` ones the server
    # sets (Asana's `gid`), so a copied command was refused. Responses stay the other way.
    _publish(
        tmp_path, "users",
        "openapi: 3.0.3\ninfo: {title: Users, version: '1'}\n"
        "servers: [{url: 'https://httpbin.org/anything'}]\npaths:\n  /users:\n    post:\n"
        "      operationId: createUser\n"
        "      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}\n"
        "      responses: {'201': {description: ok, content: {application/json: {schema:"
        " {$ref: '#/components/schemas/User'}}}}}\n"
        "components:\n  schemas:\n    User:\n      type: object\n      required: [name, password]\n"
        "      properties:\n        gid: {type: string, readOnly: true, example: '12345'}\n"
        "        name: {type: string, example: Ann}\n"
        "        password: {type: string, writeOnly: true, example: s3cret}\n"
    )  # fmt: skip
    page = _page(client, "users", "createUser")
    request = _section(page, "request-sample")
    assert '"password": "s3cret"' in request and '"name": "Ann"' in request
    assert "12345" not in request
    responses = page[page.index('id="response-samples"') :]
    assert "12345" in responses and "s3cret" not in responses


def test_read_and_write_only_flags_count_through_refs(
    client: Client, db: None, tmp_path: Path
) -> None:
    # GitHub-style specs put the flag on a shared schema (`id: $ref Id`, Id readOnly) or
    # beside an `allOf: [$ref]`: only inline flags were seen, so the server's id was sent
    # in the request sample and the write-only secret was left out of it (and the other
    # way round in the response sample).
    _publish(
        tmp_path, "refs",
        "openapi: 3.1.0\ninfo: {title: Refs, version: '1'}\n"
        "servers: [{url: 'https://httpbin.org/anything'}]\npaths:\n  /things:\n    post:\n"
        "      operationId: createThing\n"
        "      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}\n"
        "      responses: {'201': {description: ok, content: {application/json: {schema:"
        " {$ref: '#/components/schemas/Thing'}}}}}\n"
        "components:\n  schemas:\n"
        "    Id: {type: string, readOnly: true, example: srv-id-77}\n"
        "    Secret: {type: string, writeOnly: true, example: hunter2}\n"
        "    Stamp: {type: string, example: when-9}\n"
        "    Thing:\n      type: object\n      properties:\n"
        "        id: {$ref: '#/components/schemas/Id'}\n"
        "        created: {allOf: [{$ref: '#/components/schemas/Stamp'}], readOnly: true}\n"
        "        secret: {$ref: '#/components/schemas/Secret'}\n"
        "        label: {type: string, example: Lamp}\n"
    )  # fmt: skip
    page = _page(client, "refs", "createThing")
    request = _section(page, "request-sample")
    assert '"label": "Lamp"' in request and '"secret": "hunter2"' in request
    assert "srv-id-77" not in request and "when-9" not in request
    responses = page[page.index('id="response-samples"') :]
    assert "srv-id-77" in responses and "when-9" in responses
    assert "hunter2" not in responses


def test_xml_bodies_get_an_xml_sample_made_as_the_xml_object_says(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Only JSON media types got a generated sample: an XML-only API (Petstore 2's XML
    # operations, SOAP-ish gateways) showed no response sample, and curl sent the request
    # body as JSON under `Content-Type: application/xml`.
    _publish(
        tmp_path, "xmlpets",
        "openapi: 3.0.3\ninfo: {title: Xml, version: '1'}\n"
        "servers: [{url: 'https://httpbin.org/anything'}]\npaths:\n  /pets:\n    post:\n"
        "      operationId: addPet\n"
        "      requestBody: {content: {application/xml: {schema: {$ref: '#/components/schemas/Pet'}}}}\n"
        "      responses: {'200': {description: ok, content: {text/xml: {schema:"
        " {$ref: '#/components/schemas/Pet'}}}}}\n"
        "components:\n  schemas:\n    Pet:\n      type: object\n"
        "      xml: {name: pet, prefix: z, namespace: 'urn:zoo'}\n"
        "      properties:\n"
        "        id: {type: integer, example: 7, readOnly: true, xml: {attribute: true}}\n"
        "        name: {type: string, example: 'Tom & <Jerry>'}\n"
        "        tags:\n          type: array\n          xml: {name: tagList, wrapped: true}\n"
        "          items: {type: string, example: cute, xml: {name: tag}}\n"
    )  # fmt: skip
    page = _page(client, "xmlpets", "addPet")
    assert "<z:pet" not in page  # shown as text, never as markup
    request = _section(page, "request-sample")
    assert "Content-Type: application/xml" in request
    assert (
        '<z:pet xmlns:z="urn:zoo">\n  <name>Tom &amp; &lt;Jerry&gt;</name>\n'
        "  <tagList>\n    <tag>cute</tag>\n  </tagList>\n</z:pet>"
    ) in request
    assert '"name"' not in request
    responses = _section(page, "response-samples")
    assert '<z:pet xmlns:z="urn:zoo" id="7">' in responses
    assert "<name>Tom &amp; &lt;Jerry&gt;</name>" in responses


def test_an_operation_server_takes_a_variable_the_documents_servers_define(
    client: Client, db: None, tmp_path: Path
) -> None:
    # Sentry's listSeerModels repeats the top-level `https://{region}.sentry.io` as its own
    # server without `variables`: the samples called the literal host `{region}.sentry.io`.
    _publish(
        tmp_path, "regions",
        "openapi: 3.0.3\ninfo: {title: Regions, version: '1'}\n"
        "servers:\n  - url: 'https://{region}.errors.example'\n"
        "    variables: {region: {default: us, enum: [us, de]}}\n"
        "paths:\n  /models/:\n    get:\n      operationId: listModels\n"
        "      servers: [{url: 'https://{region}.errors.example'}]\n"
        "      responses: {'200': {description: ok}}\n"
    )  # fmt: skip
    page = _page(client, "regions", "listModels")
    request = _section(page, "request-sample")
    assert "curl -X GET https://us.errors.example/models/" in request
    assert "{region}" not in request


def test_a_spec_whose_server_is_api_example_com_names_a_server(
    client: Client, db: None, tmp_path: Path
) -> None:
    # A spec that names `https://api.example.com` as its server (common in specs still being
    # written) was told "The spec names no server": the stand-in has the same address.
    _publish(
        tmp_path, "named",
        "openapi: 3.1.0\ninfo: {title: Named, version: '1'}\n"
        "servers: [{url: 'https://api.example.com'}]\npaths:\n  /now:\n"
        "    get: {operationId: now, responses: {'200': {description: ok}}}\n"
    )  # fmt: skip
    request = _section(_page(client, "named", "now"), "request-sample")
    assert "curl -X GET https://api.example.com/now" in request
    assert "names no server" not in request
    assert "Server <code>https://api.example.com</code>" in request


STREAMS_32 = """openapi: 3.2.0
info: {title: Streams, version: '1'}
servers: [{url: 'https://api.streams.example'}]
components:
  schemas:
    Delta:
      type: object
      properties: {text: {type: string, example: Hel}, index: {type: integer, example: 3}}
paths:
  /chat:
    post:
      operationId: chat
      requestBody:
        content:
          application/jsonl:
            itemSchema:
              type: object
              properties: {role: {type: string, example: user}, content: {type: string, example: Hi}}
      responses:
        '200':
          description: the answer as it is written, as server-sent events
          content:
            text/event-stream:
              itemSchema:
                type: object
                required: [data]
                properties:
                  event: {type: string, example: delta}
                  id: {type: string, example: e1}
                  data: {$ref: '#/components/schemas/Delta'}
        '201':
          description: events whose data is the item
          content:
            text/event-stream: {itemSchema: {$ref: '#/components/schemas/Delta'}}
        '202':
          description: lines
          content:
            application/x-ndjson: {itemSchema: {$ref: '#/components/schemas/Delta'}}
            application/json-seq: {itemSchema: {$ref: '#/components/schemas/Delta'}}
"""


def test_a_32_item_schema_gets_a_sample_of_a_few_items_in_the_streams_framing(
    client: Client, db: None, tmp_path: Path
) -> None:
    # OpenAPI 3.2's `itemSchema` (server-sent events, JSON Lines, NDJSON, JSON text
    # sequences) describes each item of a stream: the page showed no response sample for
    # it, and the request sample sent one item as if it were the whole body.
    path = tmp_path / "streams.yaml"
    path.write_text(STREAMS_32)
    _import(path, "streams")
    page = _page(client, "streams", "chat")
    delta = '{"text":"Hel","index":3}'
    responses = _section(page, "response-samples")
    # An item with the fields of an event (3.2's reading of text/event-stream) is written as
    # those fields; any other item is the data of its event.
    assert f"event: delta\nid: e1\ndata: {delta}\n\nevent: delta\nid: e1\ndata: {delta}\n\n" in (
        responses
    )
    assert f"data: {delta}\n\ndata: {delta}\n\n" in responses
    assert f"{delta}\n{delta}\n" in responses  # NDJSON: one JSON text a line
    assert f"\x1e{delta}\n\x1e{delta}\n" in responses  # RFC 7464: each after a record separator
    assert "Generated from the item schema: 2 items of the stream</p>" in responses
    assert "2 items of the stream, each after a record separator (U+001E, not shown)" in responses
    request = _section(page, "request-sample")
    assert "Content-Type: application/jsonl" in request
    line = '{"role":"user","content":"Hi"}'
    assert f"--data-raw '{line}\n{line}\n'" in request


def test_a_wildcard_body_type_is_sampled_with_the_type_the_console_sends(
    client: Client, db: None, tmp_path: Path
) -> None:
    """ASP.NET Core's specs (DocuSign Rooms) list `application/*+json` for each body; a
    sample wrote `Content-Type: application/*+json`, which names no one type."""
    spec = tmp_path / "wild.yaml"
    spec.write_text("""openapi: 3.0.0
info: {title: Wild, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /rooms:
    post:
      operationId: addRoom
      requestBody:
        content:
          application/*+json:
            schema: {type: object, properties: {name: {type: string}}}
      responses: {'200': {description: ok}}
""")
    _import(spec, "wild")
    page = _page(client, "wild", "addRoom")
    request = html.unescape(_section(page, "request-sample"))
    assert "Content-Type: application/json'" in request
    assert "*+json'" not in request and "'Content-Type': 'application/json'" in request


def test_a_request_bodys_generated_sample_is_made_once_per_operation(
    admin_client: Client, db: None, tmp_path: Path, monkeypatch: Any
) -> None:
    """The request sample and the console's body editor each sampled the body schema on
    every view (DocuSign's template recipient tabs, a 586 KB page: about 14 ms each). Made
    once, each view gets its own copy."""
    from console import samples

    made: list[Any] = []
    real = samples.sample

    def counted(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(kwargs.get("request"))
        return real(schema, document, *args, **kwargs)

    monkeypatch.setattr(samples, "sample", counted)
    spec = tmp_path / "tabs.yaml"
    spec.write_text("""openapi: 3.0.0
info: {title: Tabs, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /tabs:
    put:
      operationId: putTabs
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {signHere: {type: array, items: {type: object, properties: {x: {type: integer}}}}}
      responses: {'200': {description: ok}}
""")
    _import(spec, "tabs")
    pages = [admin_client.get("/apis/tabs/operations/putTabs/").content.decode() for _ in range(3)]
    assert made.count(True) == 2  # the page's depth and the console's, once each
    assert all("&quot;signHere&quot;: [" in page and "console-form" in page for page in pages)

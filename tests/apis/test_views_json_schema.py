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
    """The text of property `name`'s row up to its first nested row, tags stripped."""
    match = re.search(
        rf'<li class="prop"><div class="prop-head"><code class="prop-name">{name}<.*?</li>',
        html,
        re.DOTALL,
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


REF_SIBLINGS = """openapi: 3.1.0
info: {title: Siblings, version: '1'}
components:
  schemas:
    Role:
      type: object
      description: Represents a custom user role that grants permissions.
      properties:
        id: {type: string}
    Handler:
      type: integer
      enum: [1, 2]
      example: 1
    Account:
      type: object
      description: An account (component description).
      properties:
        role:
          $ref: '#/components/schemas/Role'
          description: The complete role assigned to the currently authorized user.
        handler:
          $ref: '#/components/schemas/Handler'
          description: Determines whether the interaction is handled by the app or by Discord.
          example: 2
          readOnly: true
        plain: {$ref: '#/components/schemas/Role'}
paths:
  /account:
    get:
      operationId: getAccount
      parameters:
        - name: handler
          in: query
          schema: {$ref: '#/components/schemas/Handler', description: Which handler to ask for.}
      responses:
        '200':
          description: the account
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Account'
                description: The account of the signed-in user.
"""


def test_keywords_beside_a_ref_win_over_the_targets(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # JSON Schema 2020-12 (OpenAPI 3.1) applies a `$ref`'s siblings: Mastodon's and Discord's
    # specs describe each use of a shared schema beside its `$ref`.
    import_spec(write_spec("siblings.yaml", REF_SIBLINGS), "siblings")
    html = client.get("/apis/siblings/operations/getAccount/").content.decode()
    role = _row(html, "role")
    assert "The complete role assigned to the currently authorized user." in role
    assert "Represents a custom user role" not in role
    handler = _row(html, "handler")
    assert "Determines whether the interaction is handled" in handler
    assert "read-only" in handler and "Example 2" in handler and "Example 1" not in handler
    # Without a sibling, the target's own description is the one shown.
    assert "Represents a custom user role" in _row(html, "plain")
    # A body's schema and a parameter's schema too.
    assert "<p>The account of the signed-in user.</p>" in html
    assert "<p>An account (component description).</p>" not in html
    params = html[html.index('id="param-query-handler"') :]
    assert "Which handler to ask for." in params[: params.index("</tr>")]

    # On the schema page, where no `$ref` stands beside it, Account has its own description.
    page = client.get("/apis/siblings/schemas/Account/").content.decode()
    assert "<p>An account (component description).</p>" in page

"""A spec's members keep the author's order once stored, on SQLite and on PostgreSQL (whose
jsonb sorts object keys): the first example, responses by status, properties as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from apis.models import ApiVersion, Operation
from tests.conftest import ImportSpec

pytestmark = pytest.mark.django_db

SPEC = """\
openapi: 3.0.3
info: {title: Ordered, version: '1'}
tags: [{name: zebra}, {name: ant}]
paths:
  /things:
    post:
      operationId: makeThing
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {zeta: {type: string}, id: {type: integer}, alpha: {type: string}}
            examples:
              dog: {value: {zeta: Rex}}
              cat: {value: {zeta: Tom}}
      responses:
        default: {description: anything else}
        '201': {description: made}
"""


def test_members_keep_the_documents_order(import_spec: ImportSpec, tmp_path: Path) -> None:
    path = tmp_path / "ordered.yaml"
    path.write_text(SPEC)
    import_spec(path, "ordered")
    op = Operation.objects.get(operation_id="makeThing")  # read back from the database
    media = op.data["requestBody"]["content"]["application/json"]
    assert list(media["examples"]) == ["dog", "cat"]
    assert list(media["schema"]["properties"]) == ["zeta", "id", "alpha"]
    assert list(op.data["responses"]) == ["default", "201"]
    version = ApiVersion.objects.get(api__slug="ordered")
    assert [tag["name"] for tag in version.overview["tags"]] == ["zebra", "ant"]

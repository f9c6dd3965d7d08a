"""Every root document of the shared corpus imports, with MANIFEST.md's operation counts,
and every `$ref` left in the normalised document resolves inside it."""

from __future__ import annotations

import orjson
import pytest

from apis.documents import refs_in
from apis.importer import import_spec
from apis.models import Operation
from tests.apis.corpus import CorpusDoc, manifest_documents, parsed
from tests.conftest import SHARED_SPECS

pytestmark = pytest.mark.corpus

DOCS = manifest_documents(SHARED_SPECS) if SHARED_SPECS.is_dir() else []
SCHEMA_PREFIX = "#/components/schemas/"


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def test_manifest_lists_the_corpus() -> None:
    if not DOCS:
        pytest.skip("the shared corpus is not beside the repository")
    assert len(DOCS) >= 45
    assert any(d.rel.endswith("kubernetes.swagger.json") and d.operations == 1123 for d in DOCS)
    assert all("fragment" not in d.rel and "/common/" not in d.rel for d in DOCS)


@pytest.mark.parametrize("doc", DOCS, ids=[d.id for d in DOCS])
def test_document_imports_with_manifest_counts(doc: CorpusDoc, db: None) -> None:
    spec = parsed(doc.rel, doc.bundle)
    assert spec.operation_count == doc.operations
    result = import_spec(spec, slug="corpus")
    stored = result.version.operations.filter(kind=Operation.KIND_OPERATION).count()
    assert stored == doc.operations
    assert result.api.operation_count == doc.operations
    assert result.api.default_version == result.version

    # Stored normalised bytes are the document, and every reference in it resolves.
    document = orjson.loads(bytes(result.version.normalised))
    assert str(document["openapi"]).startswith("3.")
    schemas = document.get("components", {}).get("schemas", {})
    for ref in refs_in(document):
        assert ref.startswith(SCHEMA_PREFIX), ref
        assert unescape(ref[len(SCHEMA_PREFIX) :]) in schemas, ref
    for data in result.version.operations.values_list("data", flat=True):
        for ref in refs_in(data):
            assert unescape(ref[len(SCHEMA_PREFIX) :]) in schemas, ref

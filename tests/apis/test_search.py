"""Operation search (apis/search.py) on whichever engine the suite runs on: SQLite's FTS5
table or PostgreSQL's GIN index, both kept in step by the database itself."""

from __future__ import annotations

import pytest

from apis.importer import delete_version
from apis.models import Api, ApiVersion
from apis.search import search_operations, search_terms, words
from tests.conftest import ImportSpec

pytestmark = pytest.mark.django_db

BILLING = """
openapi: 3.0.0
info: {title: Billing, version: '1'}
paths:
  /v1/invoices:
    post: {operationId: createInvoices, summary: Issue invoices in bulk, tags: [invoicing], responses: {'200': {description: ok}}}
    get: {operationId: listInvoices, summary: List invoices, tags: [invoicing], responses: {'200': {description: ok}}}
  /v1/invoices/{id}/pay:
    post: {operationId: payInvoice, summary: Settle one invoice, tags: [invoicing], responses: {'200': {description: ok}}}
  /v1/customers:
    post: {operationId: createCustomer, summary: Register a customer, tags: [crm], responses: {'200': {description: ok}}}
  /v1/refunds:
    post: {operationId: refund, summary: Give money back, tags: [payments], responses: {'200': {description: ok}}}
"""


@pytest.fixture
def billing(import_spec: ImportSpec, write_spec) -> Api:  # type: ignore[no-untyped-def]
    return import_spec(write_spec("billing.yaml", BILLING), "billing")


def _found(query: str) -> list[str]:
    return [hit.slug for hit in search_operations(Api.objects.all(), query)]


def test_words_split_identifiers_and_paths() -> None:
    assert words("createInvoices") == ["create", "invoices"]
    assert words("getHTTPResponse_v2") == ["get", "http", "response", "v2"]
    assert words("/v1/invoices/{id}/pay") == ["v1", "invoices", "id", "pay"]
    assert search_terms("createInvoices", "/v1/invoices") == "create invoices v1 invoices"


@pytest.mark.parametrize(
    ("query", "first", "also"),
    [
        ("createInvoices", "createInvoices", []),  # the whole operationId
        ("CreateInvoices", "createInvoices", []),  # in any case
        ("createInv", "createInvoices", []),  # typed so far
        ("invoices", None, ["createInvoices", "listInvoices", "payInvoice"]),  # a part
        ("create invoice", "createInvoices", []),  # parts, and a singular finds the plural
        ("/v1/invoices", None, ["createInvoices", "listInvoices", "payInvoice"]),  # path
        ("invoices/{id}/pay", "payInvoice", []),
        ("money back", "refund", []),  # summary words
        ("crm", "createCustomer", []),  # tag
        ("PAYMENTS", "refund", []),
    ],
)
def test_finds_operations_by_id_path_summary_and_tag(
    billing: Api, query: str, first: str | None, also: list[str]
) -> None:
    found = _found(query)
    if first:
        assert found[0] == first
    assert set(also) <= set(found)
    assert "createCustomer" not in found or query == "crm"


def test_ranks_an_id_match_over_a_summary_match(import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = (
        "openapi: 3.0.0\ninfo: {title: R, version: '1'}\npaths:\n"
        "  /a:\n    get: {operationId: listThings, summary: Shows what the archive holds, responses: {'200': {description: ok}}}\n"
        "  /b:\n    get: {operationId: archive, summary: Archive it, responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("r.yaml", spec), "ranked")
    assert _found("archive") == ["archive", "listThings"]


def test_nothing_to_search_and_hostile_queries(billing: Api) -> None:
    assert _found("") == [] and _found("  ") == [] and _found("zebra") == []
    # FTS and tsquery syntax is never passed through: these are plain words or nothing.
    for query in ['"', "*", "NEAR(a b)", "a OR b", "-invoices", "invoices:*", "!&|", "'; drop"]:
        search_operations(Api.objects.all(), query)  # no database error
    assert "createInvoices" in _found('-"invoices"*')


def test_only_apis_the_caller_may_see(billing: Api, import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    import_spec(write_spec("hidden.yaml", BILLING), "hidden", publish=False)
    visible = search_operations(Api.objects.filter(is_published=True), "createInvoices")
    assert [hit.api_slug for hit in visible] == ["billing"]
    everyone = search_operations(Api.objects.all(), "createInvoices")
    assert sorted(hit.api_slug for hit in everyone) == ["billing", "hidden"]


def test_index_follows_imports_defaults_and_deletes(
    billing: Api, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    v2 = BILLING.replace("version: '1'", "version: '2'").replace("createInvoices", "issueInvoices")
    import_spec(write_spec("v2.yaml", v2), "billing")
    # Only the default (newest) version is searched.
    assert "issueInvoices" in _found("issue") and "createInvoices" not in _found("createInvoices")
    # Deleting it makes version 1 the default again, and its operations come back.
    delete_version(ApiVersion.objects.get(api=billing, label="2"))
    assert _found("createInvoices") == ["createInvoices"] and "issueInvoices" not in _found(
        "issueInvoices"
    )
    # Replacing a version re-indexes it; deleting the API drops its operations from search.
    import_spec(
        write_spec("v1b.yaml", BILLING.replace("refund", "reimburse")), "billing", replace=True
    )
    assert _found("reimburse") == ["reimburse"] and _found("refund") == []
    Api.objects.filter(slug="billing").delete()
    assert _found("invoices") == []

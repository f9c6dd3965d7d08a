"""What the search index holds (apis/search_index.py): an identifier's or a path's words, and
each plural-looking word's likely singulars."""

from __future__ import annotations

import pytest

from apis.search_index import search_terms, singulars, words


def test_words_split_identifiers_and_paths() -> None:
    assert words("createInvoices") == ["create", "invoices"]
    assert words("getHTTPResponse_v2") == ["get", "http", "response", "v2"]
    assert words("/v1/invoices/{id}/pay") == ["v1", "invoices", "id", "pay"]
    assert words("list_all-pets") == ["list", "all", "pets"]  # snake and kebab case
    assert words("x-rate-limit") == ["x", "rate", "limit"]
    assert words("Übersicht holen") == ["übersicht", "holen"]  # letters beyond ASCII stay
    # Plurals are followed by their singulars, so either number finds them.
    assert search_terms("createInvoices", "/v1/invoices", "billing") == (
        "create invoices invoice v1 invoices invoice billing"
    )


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("invoices", ["invoice"]),
        ("policies", ["policy", "policie"]),
        ("statuses", ["status", "statuse"]),
        ("boxes", ["box", "boxe"]),
        ("batches", ["batch", "batche"]),
        ("ids", ["id"]),
        ("status", []),
        ("address", []),
        ("analysis", []),
        ("invoice", []),
        ("is", []),
    ],
)
def test_singulars(word: str, expected: list[str]) -> None:
    assert singulars(word) == expected

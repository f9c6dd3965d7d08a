from __future__ import annotations

from django import forms

MAX_QUERY_CHARS = 1000


class CatalogQueryForm(forms.Form):
    """The catalog's query string: free-text search, a tag filter and the page number."""

    # Cut, not refused: an operationId may be 300 characters, and a refused query listed
    # every API as if nothing had been typed.
    q = forms.CharField(required=False, strip=True)
    tag = forms.CharField(required=False, max_length=200)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def clean_q(self) -> list[str]:
        # Case is kept: operation search splits `createInvoices` at its capitals. Every term
        # goes on: the search leaves out stop words, then keeps a few (apis.search.MAX_WORDS);
        # cut here first, a pasted sentence ended in its eighth term ("... accessible to"),
        # taken for the word being typed, and a stop word found nothing.
        return list(self.cleaned_data["q"][:MAX_QUERY_CHARS].split())


class NavQueryForm(forms.Form):
    """The side navigation's query: one group's links (`g`), or a filter (`q`) on the page of
    operation `op`."""

    g = forms.IntegerField(required=False, min_value=0, max_value=100_000)
    q = forms.CharField(required=False, max_length=200, strip=True)
    op = forms.CharField(required=False, max_length=300)

    def clean_q(self) -> list[str]:
        return [term.lower() for term in self.cleaned_data["q"].split()][:8]

from __future__ import annotations

from django import forms


class CatalogQueryForm(forms.Form):
    """The catalog's query string: free-text search, a tag filter and the page number."""

    q = forms.CharField(required=False, max_length=200, strip=True)
    tag = forms.CharField(required=False, max_length=200)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def clean_q(self) -> list[str]:
        return [term.lower() for term in self.cleaned_data["q"].split()][:8]

"""usage/forms.py: the reports' selects, written in Python, are Django's markup exactly."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from usage.forms import ListSelect

CHOICES: list[Any] = [
    ("", "All APIs"),
    ("petstore", 'Pet <store> & "friends"'),
    ("echo", "Echo"),
    ("Older", [("v1", "Version 'one'"), ("v2", "Version two")]),
]


@pytest.mark.parametrize("value", [None, "", "echo", "v2", "unknown"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_api", "required": True, "data-x": 'a"b'}])
def test_list_select_writes_djangos_select(value: Any, attrs: dict[str, Any] | None) -> None:
    ours = ListSelect(choices=CHOICES).render("api", value, attrs)
    djangos = forms.Select(choices=CHOICES).render("api", value, attrs)
    assert ours == djangos
    assert "&lt;store&gt; &amp; &quot;friends&quot;" in ours


def test_the_reports_form_lists_the_apis_a_viewer_may_see(db: Any) -> None:
    from apis.models import Api
    from products.models import Product
    from usage.forms import ReportFilterForm

    none = Product.objects.none()

    Api.objects.create(slug="zeta", name="Zeta", is_published=True)
    Api.objects.create(slug="alpha", name="Alpha", is_published=True)
    form = ReportFilterForm({"api": "alpha"}, apis=Api.objects.all(), products=none)
    assert form.is_valid() and form.cleaned_data["api"].slug == "alpha"
    html = str(form["api"])
    assert html.index('value="alpha" selected>Alpha') < html.index('value="zeta">Zeta')
    hidden = ReportFilterForm({"api": "zeta"}, apis=Api.objects.filter(slug="alpha"), products=none)
    assert not hidden.is_valid()  # a hidden API's slug is refused like an unknown one

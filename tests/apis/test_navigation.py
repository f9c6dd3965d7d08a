"""Navigation links: built without one reverse() per operation, identical to reverse()."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apis.navigation import operation_url


@pytest.mark.parametrize(
    "slug",
    ["GetAccount", "get-api-v1-{name}", "a b%c?d#e&f=g;h:i@j~k", "ünï", '"<>\\^`|'],
)
def test_operation_url_matches_reverse(slug: str) -> None:
    assert operation_url("api", slug, None) == reverse("apis:operation", args=["api", slug])
    assert operation_url("api", slug, "2.0 beta").endswith("/?v=2.0+beta")

"""Redoc's `x-tagGroups`: the reference's navigation and API page list tags under the
document's groups (Mattermost has 40 tags in groups); a spec without it renders as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from apis.models import Api

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).with_name("golden_petstore_nav.json")


def _between(html: str, start: str, end: str) -> str:
    return start + html.split(start, 1)[1].split(end, 1)[0]


def _reference_parts(client: Client) -> dict[str, str]:
    """What x-tagGroups would change: the navigation of the API page, of an operation page and
    of the filter, and the API page's operations."""
    page = client.get("/apis/petstore/").content.decode()
    op = client.get("/apis/petstore/operations/showPetById/").content.decode()
    return {
        "api_nav": _between(page, '<nav class="nav-scroll"', "</nav>"),
        "api_operations": _between(page, '<section id="operations">', "\n  </section>"),
        "operation_nav": _between(op, '<nav class="nav-scroll"', "</nav>"),
        "filtered_nav": client.get("/apis/petstore/nav/", {"q": "pet"}).content.decode(),
        "group_links": client.get("/apis/petstore/nav/", {"g": "0"}).content.decode(),
    }


def test_a_spec_without_tag_groups_renders_as_before(client: Client, petstore: Api) -> None:
    """Byte for byte the markup the reference had before it read x-tagGroups (the golden file
    was written by that code)."""
    assert _reference_parts(client) == json.loads(GOLDEN.read_text())

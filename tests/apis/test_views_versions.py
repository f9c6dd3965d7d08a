"""A publisher reading a draft, and the version switcher on an operation the other version
lacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from apis.models import Api
from tests.conftest import ImportSpec

pytestmark = pytest.mark.django_db

SPEC = (
    "openapi: 3.0.0\ninfo: {{title: Versioned, version: '{v}'}}\npaths:\n"
    "  /{p}:\n    get: {{operationId: {op}, responses: {{'200': {{description: ok}}}}}}\n"
)


@pytest.fixture
def staff(client: Client) -> Client:
    """A publisher: staff with the permission to see drafts (staff alone sees none)."""
    user = get_user_model().objects.create_user("pub", "pub@example.com", "pw-pub-12345")
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_api"))
    client.force_login(user)
    return client


def test_staff_see_a_draft_banner_on_an_unpublished_api(
    staff: Client, import_spec: ImportSpec, write_spec: Callable[[str, str], Path]
) -> None:
    import_spec(write_spec("a.yaml", SPEC.format(v="1.0", p="old", op="getOld")), "versioned")
    api = Api.objects.get(slug="versioned")
    for path in ("/apis/versioned/", "/apis/versioned/operations/getOld/"):
        assert "<strong>Draft.</strong>" not in staff.get(path).content.decode()
    api.is_published = False
    api.save()
    for path in ("/apis/versioned/", "/apis/versioned/operations/getOld/"):
        assert (
            "<strong>Draft.</strong> This API is not published" in staff.get(path).content.decode()
        )
    assert Client().get("/apis/versioned/").status_code == 404  # and nobody else sees it


def test_switching_to_a_version_without_the_operation_lands_on_its_overview(
    client: Client, import_spec: ImportSpec, write_spec: Callable[[str, str], Path]
) -> None:
    import_spec(write_spec("a.yaml", SPEC.format(v="1.0", p="old", op="getOld")), "versioned")
    import_spec(write_spec("b.yaml", SPEC.format(v="2.0", p="new", op="getNew")), "versioned")
    # On 1.0's getOld, the switcher asks for 2.0 (the default), which has no getOld.
    switched = client.get("/apis/versioned/operations/getOld/?v=2.0")
    assert switched.status_code == 302 and switched["Location"] == "/apis/versioned/"
    page = client.get(switched["Location"]).content.decode()
    assert "Version 2.0 has no operation getOld; here is that version&#x27;s overview." in page
    back = client.get("/apis/versioned/operations/getNew/?v=1.0")
    assert back["Location"] == "/apis/versioned/?v=1.0"
    # A slug no version has is still a 404, and so is an unknown version.
    assert client.get("/apis/versioned/operations/nothing/?v=1.0").status_code == 404
    assert client.get("/apis/versioned/operations/getOld/?v=9.9").status_code == 404

"""Who sees which API: SECURITY.md case 67 on every page kind, and drafts as a permission."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apis.models import Api
from console.models import CallHistory
from tests.products.conftest import MakeProduct

pytestmark = pytest.mark.django_db

PAGES = [
    "/apis/{slug}/",
    "/apis/{slug}/operations/{op}/",
    "/apis/{slug}/download/original/",
    "/apis/{slug}/download/json/",
    "/apis/{slug}/download/yaml/",
]


@pytest.fixture
def partner_only(petstore: Api, make_product: MakeProduct, make_group: Any) -> Api:
    """Petstore offered only in a product for the `partners` group."""
    make_group("partners")
    make_product("partner-deal", petstore, groups=("partners",))
    return petstore


def _op(api: Api) -> str:
    assert api.default_version is not None
    return api.default_version.operations.first().slug  # type: ignore[union-attr]


def test_an_api_in_no_product_stays_public(client: Client, petstore: Api) -> None:
    assert client.get("/apis/petstore/").status_code == 200
    assert "Petstore" in client.get("/apis/").content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_an_api_only_for_another_group_is_404_on_every_page(
    ada_client: Client, partner_only: Api, page: str
) -> None:
    url = page.format(slug="petstore", op=_op(partner_only))
    response = ada_client.get(url)
    assert response.status_code == 404
    assert b"Petstore" not in response.content


def test_a_hidden_api_is_absent_from_catalog_search_tags_and_home(
    ada_client: Client, partner_only: Api, echo: Api
) -> None:
    catalog = ada_client.get("/apis/").content.decode()
    assert "Echo API" in catalog and "Petstore" not in catalog
    assert "Petstore" not in ada_client.get("/apis/?q=pets").content.decode()
    assert 'value="pets"' not in catalog  # petstore's tag is not offered as a filter
    assert "Petstore" not in ada_client.get("/").content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_a_member_of_the_group_sees_it(
    client: Client, ada: Any, partner_only: Api, page: str
) -> None:
    from products.models import Group

    Group.objects.get(slug="partners").members.add(ada)
    client.force_login(ada)
    assert client.get(page.format(slug="petstore", op=_op(partner_only))).status_code == 200


def test_an_unpublished_product_shows_nothing_and_hides_its_api(
    client: Client, petstore: Api, make_product: MakeProduct, make_group: Any
) -> None:
    """It used to leave the API public (in no *published* product); an API in a product is
    not public, so a draft product closes its APIs (tests/products/test_fail_closed.py)."""
    make_group("partners")
    make_product("draft-deal", petstore, groups=("partners",), published=False)
    assert client.get("/apis/petstore/").status_code == 404


def test_a_product_for_guests_only_hides_the_api_from_signed_in_developers(
    client: Client, ada_client: Client, petstore: Api, make_product: MakeProduct
) -> None:
    make_product("open", petstore, groups=("guests",))
    assert Client().get("/apis/petstore/").status_code == 200
    assert ada_client.get("/apis/petstore/").status_code == 404


def test_staff_alone_see_no_drafts(client: Client, make_user: Any, import_spec: Any) -> None:
    import_spec("portal/demo/specs/petstore.yaml", "draft-store", publish=False)
    staff = make_user("clerk", is_staff=True)
    client.force_login(staff)
    assert client.get("/apis/draft-store/").status_code == 404
    assert "draft-store" not in client.get("/apis/").content.decode()
    staff.user_permissions.add(Permission.objects.get(codename="view_api"))
    client.force_login(type(staff).objects.get(pk=staff.pk))
    assert client.get("/apis/draft-store/").status_code == 200


def test_console_send_and_history_hide_a_hidden_api(
    ada_client: Client, ada: Any, partner_only: Api
) -> None:
    assert partner_only.default_version is not None
    label = partner_only.default_version.label
    entry = CallHistory.objects.create(
        user=ada, api_slug="petstore", version_label=label,
        operation_slug=_op(partner_only), method="GET", url="http://x/", status=200, form={},
    )  # fmt: skip
    assert "petstore" not in ada_client.get("/console/history/").content.decode().lower()
    assert ada_client.get(f"/console/history/{entry.uuid}/").status_code == 404
    response = ada_client.post(
        "/console/send/",
        {"api": "petstore", "version": label, "operation": _op(partner_only)},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("page", [*PAGES, "/apis/", "/"])
def test_a_group_members_pages_are_private_to_caches(
    client: Client, ada: Any, partner_only: Api, page: str
) -> None:
    """A member of the group sees pages that name the API only the group may see; they went
    out with no Cache-Control (Vary: Cookie alone), so a shared cache that ignores Vary, as
    many CDNs do for HTML, could hand them to anyone. A signed-in user's page is private."""
    from products.models import Group

    Group.objects.get(slug="partners").members.add(ada)
    client.force_login(ada)
    response = client.get(page.format(slug="petstore", op=_op(partner_only)))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_an_anonymous_public_page_is_left_to_caches(petstore: Api) -> None:
    response = Client().get("/apis/petstore/")
    assert response.status_code == 200 and "private" not in response.get("Cache-Control", "")

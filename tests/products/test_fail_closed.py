"""Unpublishing a product closes its APIs, it does not open them: an API offered only by
unpublished products is seen by drafts' viewers alone, and the gateway refuses its calls
(tests/gateway/test_subscription_pipeline.py); the publisher is told when a save does that."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apis.models import Api
from products import flows
from products.models import Product
from tests.products.conftest import MakeProduct

pytestmark = pytest.mark.django_db

PAGES = [
    "/apis/{slug}/",
    "/apis/{slug}/operations/{op}/",
    "/apis/{slug}/download/original/",
    "/apis/{slug}/download/json/",
    "/apis/{slug}/download/yaml/",
]


def _op(api: Api) -> str:
    assert api.default_version is not None
    return api.default_version.operations.first().slug  # type: ignore[union-attr]


def _unpublish(product: Product) -> None:
    product.published = False
    product.save()


@pytest.fixture
def closed(petstore: Api, make_product: MakeProduct) -> Product:
    """Petstore's only product, offered to developers, then unpublished to stop it."""
    product = make_product("pets", petstore)
    _unpublish(product)
    return product


@pytest.mark.parametrize("page", PAGES)
def test_an_api_whose_only_product_is_unpublished_is_404_to_everyone(
    ada_client: Client, petstore: Api, closed: Product, page: str
) -> None:
    url = page.format(slug="petstore", op=_op(petstore))
    for who in (Client(), ada_client):
        response = who.get(url)
        assert response.status_code == 404, (url, who)
        assert b"Petstore" not in response.content


def test_it_is_absent_from_the_catalog_search_and_home(
    ada_client: Client, echo: Api, closed: Product
) -> None:
    for who in (Client(), ada_client):
        catalog = who.get("/apis/").content.decode()
        assert "Echo API" in catalog and "Petstore" not in catalog
        assert "Petstore" not in who.get("/apis/?q=pets").content.decode()
        assert "Petstore" not in who.get("/").content.decode()


def test_the_console_refuses_to_send_to_it(
    ada_client: Client, petstore: Api, closed: Product
) -> None:
    assert petstore.default_version is not None
    response = ada_client.post(
        "/console/send/",
        {"api": "petstore", "version": petstore.default_version.label, "operation": _op(petstore)},
    )
    assert response.status_code == 404


def test_a_drafts_viewer_still_sees_it_and_the_console_says_it_is_closed(
    client: Client, make_user: Any, petstore: Api, closed: Product
) -> None:
    editor = make_user("editor")
    editor.user_permissions.add(Permission.objects.get(codename="view_api"))
    client.force_login(editor)
    assert client.get("/apis/petstore/").status_code == 200
    page = client.get(f"/apis/petstore/operations/{_op(petstore)}/").content.decode()
    assert "data-subscribe-hint" in page  # the gateway asks a key for it
    assert "No published product offers this API" in page


def test_unpublishing_the_only_product_hides_an_api_that_was_offered(
    ada_client: Client, petstore: Api, make_product: MakeProduct
) -> None:
    product = make_product("pets", petstore)
    assert ada_client.get("/apis/petstore/").status_code == 200
    _unpublish(product)
    assert ada_client.get("/apis/petstore/").status_code == 404
    assert Client().get("/apis/petstore/").status_code == 404


def test_an_api_in_no_product_stays_public_and_a_published_product_still_offers(
    ada_client: Client, petstore: Api, echo: Api, make_product: MakeProduct
) -> None:
    assert Client().get("/apis/echo/").status_code == 200  # in no product: public
    make_product("pets", petstore)
    make_product("draft", petstore, published=False)
    assert ada_client.get("/apis/petstore/").status_code == 200  # through "pets"


def test_the_console_needs_a_key_for_it(petstore: Api, closed: Product) -> None:
    from products.console import needs_key

    assert needs_key(petstore)


def test_an_unpublished_open_product_does_not_open_its_api(
    petstore: Api, make_product: MakeProduct
) -> None:
    from products.console import needs_key

    make_product("free", petstore, subscription_required=False, published=False)
    assert needs_key(petstore)
    assert Client().get("/apis/petstore/").status_code == 404


def test_my_subscriptions_says_why_the_keys_stopped(
    ada: Any, ada_client: Client, petstore: Api, make_product: MakeProduct
) -> None:
    product = make_product("pets", petstore)
    sub = flows.subscribe(ada, product)
    _unpublish(product)
    listing = ada_client.get("/products/subscriptions/").content.decode()
    assert "not published" in listing and "keys are refused" in listing
    page = ada_client.get(f"/products/subscriptions/{sub.uuid}/").content.decode()
    assert "no longer published" in page


# The publisher's warnings.


@pytest.fixture
def root_client(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def _product_form(product: Product, *, published: bool, apis: list[Api]) -> dict[str, Any]:
    return {
        "name": product.name,
        "slug": product.slug,
        "description": "",
        "published": "on" if published else "",
        "apis": [api.pk for api in apis],
        "api_scopes": "{}",
        "groups": [g.pk for g in product.groups.all()],
        "subscription_required": "on",
        "rate_limit_period": "60",
        "quota_period": "86400",
    }


def test_the_published_box_says_what_a_draft_product_does(root_client: Client) -> None:
    page = root_client.get("/admin/products/product/add/").content.decode()
    assert "Unticked, the product is a draft: its APIs are hidden" in page


def test_unpublishing_a_product_warns_that_its_apis_are_hidden_and_closed(
    root_client: Client, ada: Any, petstore: Api, make_product: MakeProduct
) -> None:
    product = make_product("pets", petstore)
    flows.subscribe(ada, product)
    html = root_client.post(
        f"/admin/products/product/{product.pk}/change/",
        _product_form(product, published=False, apis=[petstore]),
        follow=True,
    ).content.decode()
    assert "Pets is not published" in html
    assert f"Its API {petstore.name} is now hidden from everyone" in html
    assert "the gateway refuses its calls" in html
    assert "1 active subscription" in html


def test_adding_a_public_api_to_a_draft_product_warns_that_it_hides_it(
    root_client: Client, echo: Api, make_product: MakeProduct
) -> None:
    draft = make_product("draft", published=False)
    assert Client().get("/apis/echo/").status_code == 200
    html = root_client.post(
        f"/admin/products/product/{draft.pk}/change/",
        _product_form(draft, published=False, apis=[echo]),
        follow=True,
    ).content.decode()
    assert f"Its API {echo.name} is now hidden from everyone" in html
    assert Client().get("/apis/echo/").status_code == 404


def test_a_draft_product_whose_apis_another_product_offers_saves_quietly(
    root_client: Client, echo: Api, make_product: MakeProduct
) -> None:
    make_product("starter", echo)
    draft = make_product("draft", published=False)
    html = root_client.post(
        f"/admin/products/product/{draft.pk}/change/",
        _product_form(draft, published=False, apis=[echo]),
        follow=True,
    ).content.decode()
    assert "hidden from everyone" not in html and "not published" not in html


def test_publishing_an_api_only_a_draft_product_offers_warns_on_its_page(
    root_client: Client, petstore: Api, closed: Product
) -> None:
    html = root_client.post(
        f"/admin/apis/api/{petstore.pk}/change/",
        {
            "name": petstore.name,
            "slug": petstore.slug,
            "is_published": "on",
            "default_version": petstore.default_version_id,
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
        follow=True,
    ).content.decode()
    assert "only Pets offers it, and it is not published" in html
    assert "hidden from everyone" in html


def test_apis_nobody_sees_names_the_apis_of_an_unpublished_product(
    petstore: Api, echo: Api, closed: Product, make_product: MakeProduct
) -> None:
    from products.visibility import apis_nobody_sees

    assert apis_nobody_sees(closed) == [petstore]
    closed.apis.add(echo)
    make_product("starter", echo)
    assert apis_nobody_sees(closed) == [petstore]


def test_taking_an_api_out_of_its_last_product_warns_that_it_is_public_now(
    root_client: Client, petstore: Api, echo: Api, make_product: MakeProduct
) -> None:
    """The other way round: an API in no product is public, so an administrator who takes it
    out of its only product (or deletes the product) to stop it opens it; the admin says so."""
    product = make_product("pets", petstore, echo)
    html = root_client.post(
        f"/admin/products/product/{product.pk}/change/",
        _product_form(product, published=True, apis=[echo]),
        follow=True,
    ).content.decode()
    assert f"{petstore.name} is now in no product: it is public" in html
    assert Client().get("/apis/petstore/").status_code == 200  # what the warning is about
    html = root_client.post(
        f"/admin/products/product/{product.pk}/delete/", {"post": "yes"}, follow=True
    ).content.decode()
    assert not Product.objects.filter(pk=product.pk).exists()
    assert f"{echo.name} is now in no product: it is public" in html


def test_the_publish_action_warns_about_an_api_only_a_draft_product_offers(
    root_client: Client, petstore: Api, echo: Api, closed: Product
) -> None:
    html = root_client.post(
        "/admin/apis/api/",
        {"action": "publish", "_selected_action": [petstore.pk, echo.pk]},
        follow=True,
    ).content.decode()
    assert "Petstore is published, but only Pets offers it, and it is not published" in html
    assert "Echo API is published, but" not in html  # in no product: public


def test_deleting_products_in_bulk_warns_about_the_apis_it_opens(
    root_client: Client, petstore: Api, make_product: MakeProduct
) -> None:
    product = make_product("pets", petstore)
    html = root_client.post(
        "/admin/products/product/",
        {"action": "delete_selected", "_selected_action": [product.pk], "post": "yes"},
        follow=True,
    ).content.decode()
    assert not Product.objects.filter(pk=product.pk).exists()
    assert f"{petstore.name} is now in no product: it is public" in html


def test_the_gateways_metrics_do_not_name_it(petstore: Api, echo: Api, closed: Product) -> None:
    """/-/metrics names to a scraper only the APIs anyone may see (gateway/metrics.py)."""
    from gateway.subscriptions import public_apis

    assert public_apis() == frozenset({"echo"})


def test_a_subscribe_that_meets_an_unpublish_makes_nothing(
    ada: Any, petstore: Api, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
) -> None:
    """subscribe() checked that the product is published before taking its lock; an
    administrator who unpublished it in between got an active subscription made to a draft."""
    product = make_product("pets", petstore)
    real = flows._count_creation

    def unpublished_meanwhile(user: Any) -> None:
        real(user)
        Product.objects.filter(pk=product.pk).update(published=False)

    monkeypatch.setattr(flows, "_count_creation", unpublished_meanwhile)
    with pytest.raises(flows.FlowError, match="not offered"):
        flows.subscribe(ada, product)
    assert not product.subscriptions.exists()


def test_the_api_page_does_not_say_the_gateway_refuses_a_group_less_products_keys(
    root_client: Client, petstore: Api, make_product: MakeProduct
) -> None:
    """A published product without groups hides its APIs too, but its existing subscriptions'
    keys still work: the warning says nobody can subscribe, not that every call is refused."""
    make_product("pets", petstore, groups=())
    html = root_client.post(
        "/admin/apis/api/", {"action": "publish", "_selected_action": [petstore.pk]}, follow=True
    ).content.decode()
    assert "only Pets offers it, and no group may see it" in html
    assert "no one can subscribe to call it" in html and "refuses its calls" not in html


def test_a_scope_subset_follows_its_api_when_the_api_is_renamed(
    echo: Api, make_product: MakeProduct, root_client: Client
) -> None:
    """Product.api_scopes names APIs by slug; an API renamed in the admin left its read-only
    subset behind under the old slug, and the product then granted every scope of the API
    (products/grants.scopes_granted reads no entry as all): the gateway's product-scope check
    let an external issuer's echo.write through."""
    from products import grants

    starter = make_product("starter", echo, api_scopes={"echo": ["echo.read"]})
    every = grants.spec_scopes(echo)
    assert "echo.write" in every
    answer = root_client.post(
        f"/admin/apis/api/{echo.pk}/change/",
        {
            "name": echo.name,
            "slug": "echo-v2",
            "is_published": "on",
            "default_version": echo.default_version_id,
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert answer.status_code in (200, 302)
    echo.refresh_from_db()
    assert echo.slug == "echo-v2", answer.content[:2000]
    starter.refresh_from_db()
    assert starter.api_scopes == {"echo-v2": ["echo.read"]}
    assert grants.scopes_granted(starter, echo, every) == {"echo.read"}

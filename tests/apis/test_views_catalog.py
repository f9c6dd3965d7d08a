from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from apis.models import Api
from tests.apis.conftest import found_by
from tests.conftest import DEMO_SPECS, ImportSpec

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(import_spec: ImportSpec) -> None:
    import_spec(DEMO_SPECS / "echo.yaml", "echo")
    import_spec(DEMO_SPECS / "petstore.yaml", "petstore")
    import_spec(DEMO_SPECS / "petstore.yaml", "draft-store", publish=False)


def test_catalog_lists_published_apis_as_cards(client: Client, catalog: None) -> None:
    response = client.get("/apis/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Echo API" in html and "Petstore" in html
    assert "draft-store" not in html
    assert "2 APIs" in html
    assert "v2.1.0" in html  # version on the card
    assert "5 operations" in html  # petstore's operation count
    assert 'href="/apis/?tag=pets"' in html


def test_a_cards_counts_are_written_with_thousands_separators(
    client: Client, catalog: None
) -> None:
    # Kubernetes' card read '1123 operations', where the products, usage and README write
    # 10,000 and 1,123.
    Api.objects.filter(slug="petstore").update(operation_count=1123, webhook_count=1500)
    html = client.get("/apis/").content.decode()
    assert "1,123 operations · 1,500 webhooks" in html


def test_staff_also_see_unpublished_apis(admin_client: Client, catalog: None) -> None:
    html = admin_client.get("/apis/").content.decode()
    assert "/apis/draft-store/" in html and "unpublished" in html


@pytest.mark.parametrize(
    ("query", "found", "missing"),
    [
        ("q=echo", "Echo API", "Petstore"),
        ("q=ORDERS", "Petstore", "Echo API"),  # an operation path, any case
        ("q=place+order", "Petstore", "Echo API"),  # an operation summary, all words
        ("q=anything", "Echo API", "Petstore"),  # a path
        ("tag=pets", "Petstore", "Echo API"),
        ("q=zebra", "No API matches", "Echo API"),
    ],
)
def test_search_and_tag_filter(
    client: Client, catalog: None, query: str, found: str, missing: str
) -> None:
    html = client.get(f"/apis/?{query}").content.decode()
    assert found in html
    assert missing not in html.split('id="results"')[1]


def test_htmx_search_returns_only_the_results(client: Client, catalog: None) -> None:
    response = client.get("/apis/?q=echo", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html
    assert "Echo API" in html


def test_pagination(client: Client, catalog: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.APIS_PAGE_SIZE = 1
    first = client.get("/apis/").content.decode()
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/apis/?page=2").content.decode()
    assert "Page 2 of 2" in second
    # A page number past the end shows the last page, garbage shows the first.
    assert client.get("/apis/?page=99").status_code == 200
    assert client.get("/apis/?page=abc").status_code == 200


def test_search_results_are_counted_and_paged_in_name_order(
    client: Client, catalog: None, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.APIS_PAGE_SIZE = 1
    first = client.get("/apis/", {"q": "delete"}).content.decode().split('id="results"')[1]
    assert "2 APIs matching" in first and "Page 1 of 2" in first
    assert "Echo API" in first and "Petstore" not in first.split('class="op-hits"')[0]
    assert 'href="?q=delete&amp;page=2"' in first
    second = client.get("/apis/?q=delete&page=2").content.decode()
    cards = second.split('id="results"')[1].split('class="op-hits"')[0]
    assert "Page 2 of 2" in second and "Petstore" in cards and "Echo API" not in cards
    # Past the end: the last page, as without a query.
    assert "Page 2 of 2" in client.get("/apis/?q=delete&page=9").content.decode()


def test_a_search_matches_the_apis_once_and_sets_the_planner_once(
    client: Client, catalog: None
) -> None:
    """The page counts and pages the APIs one query found (it ran the match twice), and on
    PostgreSQL the search's planner cost is set once for the APIs and the operations."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/apis/", {"q": "delete"}).content.decode()
    assert "2 APIs matching" in html
    statements = [q["sql"] for q in queries.captured_queries]
    api_match = "apis_api.search_vector @@" if connection.vendor == "postgresql" else "apis_api_fts"
    assert len([s for s in statements if api_match in s]) == 1
    if connection.vendor == "postgresql":
        # Set once; put back once, because the test's transaction holds the search's.
        assert len([s for s in statements if "cpu_operator_cost" in s]) == 2


def test_catalog_rejects_post(client: Client) -> None:
    assert client.post("/apis/").status_code == 405


def test_empty_catalog(client: Client, db: None) -> None:
    """With nothing published the catalog said 'No API matches. Try fewer words or another
    tag.' to a visitor who had searched for nothing."""
    assert Api.objects.count() == 0
    html = client.get("/apis/").content.decode()
    assert "No API is published yet" in html and "No API matches" not in html
    assert "importspec" not in html
    assert "No API matches" in client.get("/apis/?q=zebra").content.decode()
    from django.contrib.auth.models import User

    client.force_login(User.objects.create(username="boss", is_staff=True, is_superuser=True))
    html = client.get("/apis/").content.decode()
    assert 'href="/admin/apis/api/import/"' in html


def test_search_finds_operations_and_links_straight_to_them(
    client: Client, admin_client: Client, catalog: None, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    from tests.apis.test_search import BILLING

    import_spec(write_spec("billing.yaml", BILLING), "billing")
    import_spec(write_spec("secret.yaml", BILLING), "secret-billing", publish=False)
    html = client.get("/apis/?q=createInvoices").content.decode()
    results = html.split('id="results"')[1]
    hits = results.split('class="op-hits"')[1]
    first = hits.split("</a>")[0]
    assert 'href="/apis/billing/operations/createInvoices/"' in first
    assert 'data-m="post">/v1/invoices<span>Issue invoices in bulk · Billing</span>' in first
    assert "No API matches" not in results  # operations were found
    assert "/apis/secret-billing/" not in results  # unpublished: not for readers
    assert (
        "/apis/secret-billing/operations/createInvoices/"
        in admin_client.get("/apis/?q=createInvoices").content.decode()
    )
    # Parts of the id and path fragments find it too, in the htmx fragment as well.
    fragment = client.get(
        "/apis/?q=create+invoice", headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="results"')
    assert "/apis/billing/operations/createInvoices/" in fragment
    assert (
        "/apis/billing/operations/payInvoice/"
        in client.get("/apis/?q=/v1/invoices/").content.decode()
    )


def test_tag_filter_narrows_operation_hits_too(client: Client, catalog: None) -> None:
    hit = "/apis/petstore/operations/placeOrder/"
    assert hit in client.get("/apis/?q=placeOrder&tag=pets").content.decode()
    narrowed = client.get("/apis/?q=placeOrder&tag=Echo").content.decode()
    assert hit not in narrowed and "No API matches" in narrowed


@pytest.mark.parametrize(
    "query",
    [
        "createInvoices",  # an operationId, whole
        "invoice create",  # its words, in any order and number
        "payment method",  # words of an operation's description
        "retention policies",  # a snake_case operationId, a plural
    ],
)
def test_api_cards_are_found_by_the_words_of_their_operations(
    client: Client, catalog: None, import_spec: ImportSpec, write_spec, query: str
) -> None:  # type: ignore[no-untyped-def]
    from tests.apis.test_search import BILLING

    import_spec(write_spec("billing.yaml", BILLING), "billing")
    results = client.get("/apis/", {"q": query}).content.decode().split('id="results"')[1]
    cards = results.split('class="op-hits"')[0]
    assert "1 API matching" in cards
    assert 'href="/apis/billing/"' in cards and "Petstore" not in cards


def test_a_query_without_words_matches_no_api(client: Client, catalog: None) -> None:
    html = client.get("/apis/", {"q": "*"}).content.decode()
    assert "0 APIs matching" in html and "No API matches" in html


def test_version_badges_read_as_written(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # "Vikunja API vunversioned": a missing version, or one written "v2", got a second "v".
    spec = "openapi: 3.0.3\ninfo: {{title: {t}, version: '{v}'}}\npaths: {{}}\n"
    for title, version in (("Plain", "1.2"), ("Worded", "v2"), ("Empty", "")):
        import_spec(write_spec(f"{title}.yaml", spec.format(t=title, v=version)), title.lower())
    html = client.get("/apis/").content.decode()
    pills = re.findall(r'<span class="pill">([^<]*)</span>', html)
    assert sorted(pills) == ["unversioned", "v1.2", "v2"]


WEBHOOKS_ONLY = """\
openapi: 3.1.0
info: {title: Transfer events, version: '1'}
webhooks:
  transferDone:
    post:
      operationId: transferDone
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {'200': {description: received}}
  transferFailed:
    post:
      responses: {'200': {description: received}}
"""


def test_cards_count_webhooks_beside_operations(
    client: Client, catalog: None, import_spec: ImportSpec, write_spec: Any
) -> None:
    # A webhooks-only API said "0 operations", as if it held nothing.
    import_spec(write_spec("events.yaml", WEBHOOKS_ONLY), "events")
    for page in ("/apis/", "/"):
        html = client.get(page).content.decode()
        card = html.split('href="/apis/events/"')[1].split("</li>")[0]
        assert "2 webhooks" in card
        assert "0 operations" not in card
        petstore = html.split('href="/apis/petstore/"')[1].split("</li>")[0]
        assert "5 operations" in petstore and "webhook" not in petstore


INFO_SUMMARY = """\
openapi: 3.1.0
info:
  title: Parcels
  summary: Sends and tracks lovely parcels.
  description: The Parcels API. It has a long description too.
  version: 1.0.0
paths:
  /parcels:
    summary: Parcels in transit
    description: Path item description shown to readers.
    get:
      operationId: listParcels
      responses: {'200': {description: parcels}}
    post:
      operationId: sendParcel
      summary: Send a parcel
      description: Hands a parcel to the courier.
      responses: {'201': {description: sent}}
"""


def test_an_info_summary_is_the_cards_summary_shown_and_searchable(
    client: Client, catalog: None, import_spec: ImportSpec, write_spec: Any
) -> None:
    # OpenAPI 3.1's `info.summary` is the short line a catalog card is for; before, the card
    # took the description's first paragraph and the summary was nowhere.
    api = import_spec(write_spec("parcels.yaml", INFO_SUMMARY), "parcels")
    card = client.get("/apis/").content.decode().split('href="/apis/parcels/"')[1]
    card = card.split("</li>")[0]
    assert "Sends and tracks lovely parcels." in card
    assert "It has a long description" not in card
    page = client.get("/apis/parcels/").content.decode()
    assert "Sends and tracks lovely parcels." in page
    assert found_by(api, "lovely")
    # Without a summary, the description's first paragraph, as before.
    spec = INFO_SUMMARY.replace("  summary: Sends and tracks lovely parcels.\n", "")
    import_spec(write_spec("parcels2.yaml", spec), "parcels2")
    card = client.get("/apis/").content.decode().split('href="/apis/parcels2/"')[1]
    assert "It has a long description too." in card.split("</li>")[0]


def test_a_path_items_summary_and_description_show_on_its_operations(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # A Path Item's summary and description apply to all its operations (OpenAPI 3.x);
    # before, they were shown nowhere.
    import_spec(write_spec("parcels.yaml", INFO_SUMMARY), "parcels")
    html = client.get("/apis/parcels/operations/listParcels/").content.decode()
    assert "<h1>Parcels in transit</h1>" in html
    assert "Path item description shown to readers." in html
    # An operation's own summary and description win.
    html = client.get("/apis/parcels/operations/sendParcel/").content.decode()
    assert "<h1>Send a parcel</h1>" in html
    assert "Hands a parcel to the courier." in html
    assert "Path item description" not in html


def test_a_card_reads_only_the_tags_it_shows(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Microsoft Graph declares thousands of tags: each catalog page (a search too) and the
    # home page read all of them to show six on its card (9,000 rows, about 150 ms a view).
    from django.db.models.signals import post_init

    from apis.models import Tag

    names = [f"group{i:02}" for i in range(40)]
    ops = "".join(
        f"  /{n}:\n    get:\n      tags: [{n}]\n      operationId: list_{n}\n"
        "      responses: {'200': {description: ok}}\n"
        for n in names
    )
    spec = "openapi: 3.0.3\ninfo: {title: Graphish, version: '1'}\npaths:\n" + ops
    import_spec(write_spec("graphish.yaml", spec), "graphish")
    read: list[Tag] = []

    def count(sender: type, instance: Tag, **kwargs: Any) -> None:
        read.append(instance)

    post_init.connect(count, sender=Tag)
    try:
        pages = [client.get(url).content.decode() for url in ("/apis/", "/apis/?q=list", "/")]
    finally:
        post_init.disconnect(count, sender=Tag)
    for page in pages[:2]:
        shown = re.findall(r'<a class="tag" href="/apis/\?tag=([^"]+)"', page)
        assert shown == names[:6]
    assert len(read) <= 2 * (6 + 30)  # a card's six, and the tag filter's thirty, per page


def test_a_summary_pasted_whole_finds_its_operation(
    client: Client, db: None, import_spec: ImportSpec, write_spec: Any
) -> None:
    # DocuSign Rooms' "Gets a list of room folders accessible to the current user.": the
    # form kept the first eight terms, so the query ended in "to", looked for as the word
    # being typed, and found nothing; the search leaves stop words out itself.
    spec = (
        "openapi: 3.0.3\ninfo: {title: Rooms, version: '1'}\npaths:\n  /folders:\n    get:\n"
        "      operationId: RoomFolders_GetRoomFolders\n"
        "      summary: Gets a list of room folders accessible to the current user.\n"
        "      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("rooms.yaml", spec), "rooms")
    query = "Gets a list of room folders accessible to the current user."
    html = client.get("/apis/", {"q": query}).content.decode()
    assert "/apis/rooms/operations/RoomFolders_GetRoomFolders/" in html


def test_a_pasted_summary_ending_in_a_stop_word_finds_its_operation(
    client: Client, db: None, import_spec: ImportSpec, write_spec: Any
) -> None:
    # Vault's aws roles: "Read, write and reference IAM policies that access keys can be made
    # for." The API matched ("format" elsewhere starts with "for"), no operation did.
    spec = (
        "openapi: 3.0.3\ninfo: {title: Vault, version: '1'}\npaths:\n  /aws/roles:\n    get:\n"
        "      operationId: aws-read-role\n"
        "      summary: Read IAM policies that access keys can be made for.\n"
        "      responses: {'200': {description: ok}}\n"
        "  /sys/format:\n    get:\n      operationId: read-format\n"
        "      summary: The format of keys\n      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("vault.yaml", spec), "vault")
    query = "Read IAM policies that access keys can be made for."
    html = client.get("/apis/", {"q": query}).content.decode()
    assert "/apis/vault/operations/aws-read-role/" in html

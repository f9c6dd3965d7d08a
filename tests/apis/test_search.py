"""Operation search (apis/search.py) on whichever engine the suite runs on: SQLite's FTS5
table or PostgreSQL's GIN index, both kept in step by the database itself."""

from __future__ import annotations

import pytest

from apis.importer import delete_version, set_default_version
from apis.models import Api, ApiVersion, Operation
from apis.search import (
    RANKED_MAX,
    match_expression,
    search_catalog,
    search_operations,
)
from tests.conftest import ImportSpec

pytestmark = pytest.mark.django_db

BILLING = """
openapi: 3.0.0
info: {title: Billing, version: '1'}
paths:
  /v1/invoices:
    post: {operationId: createInvoices, summary: Issue invoices in bulk, tags: [invoicing], responses: {'200': {description: ok}}}
    get: {operationId: listInvoices, summary: List invoices, tags: [invoicing], responses: {'200': {description: ok}}}
  /v1/invoices/{id}/pay:
    post: {operationId: payInvoice, summary: Settle one invoice, tags: [invoicing], description: "Charges the customer's **default payment method** and marks it settled.", responses: {'200': {description: ok}}}
  /v1/policy:
    get: {operationId: get_retention_policy, summary: Read the policy, tags: [admin], responses: {'200': {description: ok}}}
  /v1/rate-limits:
    get: {operationId: x-read-rate-limits, summary: Limits, tags: [admin], responses: {'200': {description: ok}}}
  /v1/customers:
    post: {operationId: createCustomer, summary: Register a customer, tags: [crm], responses: {'200': {description: ok}}}
  /v1/refunds:
    post: {operationId: refund, summary: Give money back, tags: [payments], responses: {'200': {description: ok}}}
"""


@pytest.fixture
def billing(import_spec: ImportSpec, write_spec) -> Api:  # type: ignore[no-untyped-def]
    return import_spec(write_spec("billing.yaml", BILLING), "billing")


def _found(query: str) -> list[str]:
    return [hit.slug for hit in search_operations(Api.objects.all(), query)]


@pytest.mark.parametrize(
    ("query", "first", "also"),
    [
        ("createInvoices", "createInvoices", []),  # the whole operationId
        ("CreateInvoices", "createInvoices", []),  # in any case
        ("createInv", "createInvoices", []),  # typed so far
        ("invoices", None, ["createInvoices", "listInvoices", "payInvoice"]),  # a part
        ("create invoice", "createInvoices", []),  # parts, and a singular finds the plural
        ("/v1/invoices", None, ["createInvoices", "listInvoices", "payInvoice"]),  # path
        ("invoices/{id}/pay", "payInvoice", []),
        ("money back", "refund", []),  # summary words
        ("crm", "createCustomer", []),  # tag
        ("PAYMENTS", "refund", []),
    ],
)
def test_finds_operations_by_id_path_summary_and_tag(
    billing: Api, query: str, first: str | None, also: list[str]
) -> None:
    found = _found(query)
    if first:
        assert found[0] == first
    assert set(also) <= set(found)
    assert "createCustomer" not in found or query == "crm"


@pytest.mark.parametrize(
    ("query", "first"),
    [
        # Words in any order and either number: only the last one typed is a prefix.
        ("invoice create", "createInvoices"),
        ("invoices create", "createInvoices"),
        ("invoice list", "listInvoices"),
        ("invoice pay", "payInvoice"),
        ("invoices pay", "payInvoice"),
        ("customers create", "createCustomer"),
        ("policies retention", "get_retention_policy"),  # snake_case, plural of -y
        ("retention polic", "get_retention_policy"),
        ("limit rate read", "x-read-rate-limits"),  # kebab-case
        ("limits", "x-read-rate-limits"),
        # The description is searched too, after ids, paths, tags and summaries.
        ("payment method", "payInvoice"),
        ("marks settled", "payInvoice"),
        ("marks it as settled", "payInvoice"),  # stop words are no hindrance
        ("the customer's default", "payInvoice"),
        ("register a cus", "createCustomer"),  # nor is a short last word being typed
        # A stop word last that starts no word is a whole one (a summary pasted: Vault's
        # "... access keys can be made for."), left out like the others; it found nothing.
        ("Give money back to", "refund"),
        ("settle one invoice for", "payInvoice"),
        # Nor is a stop word half typed that starts no indexed word ("th" of "the").
        ("money back to th", "refund"),
        ("settle one invoice fo", "payInvoice"),
    ],
)
def test_finds_words_inside_identifiers_in_any_order_and_number(
    billing: Api, query: str, first: str
) -> None:
    assert _found(query)[:1] == [first]


def test_description_words_rank_after_id_words(import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = (
        "openapi: 3.0.0\ninfo: {title: D, version: '1'}\npaths:\n"
        "  /a:\n    get: {operationId: listThings, description: 'Each *refund* shows here.',"
        " responses: {'200': {description: ok}}}\n"
        "  /b:\n    post: {operationId: createRefund, responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("d.yaml", spec), "described")
    assert _found("refund") == ["createRefund", "listThings"]


def test_a_broad_query_lists_id_path_and_tag_matches_first(
    import_spec: ImportSpec, write_spec, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Past RANKED_MAX matches nothing is ranked, but an operation named for the word still
    # comes before those that only mention it.
    monkeypatch.setattr("apis.search.RANKED_MAX", 2)
    paths = "".join(
        f"  /a{n}:\n    get: {{operationId: op{n}, summary: Mentions a widget,"
        " responses: {'200': {description: ok}}}\n"
        for n in range(4)
    )
    paths += "  /z:\n    get: {operationId: getWidgets, responses: {'200': {description: ok}}}\n"
    import_spec(
        write_spec("w.yaml", f"openapi: 3.0.0\ninfo: {{title: W, version: '1'}}\npaths:\n{paths}"),
        "w",
    )
    # The others follow in the table's order: import order on SQLite; PostgreSQL's heap order,
    # which the search-vector updates after an import may shuffle (a CI run saw op2 first).
    found = _found("widget")
    assert found[0] == "getWidgets" and sorted(found[1:]) == ["op0", "op1", "op2", "op3"]
    first, second = (hit.slug for hit in search_operations(Api.objects.all(), "widget", limit=2))
    assert first == "getWidgets" and second in found[1:]


def test_a_broad_query_of_several_words_lists_strong_matches_first(
    import_spec: ImportSpec, write_spec, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Several words take another road on PostgreSQL (their strong matches planned as if all
    # were wanted): the same matches, in the same order.
    monkeypatch.setattr("apis.search.RANKED_MAX", 2)
    paths = "".join(
        f"  /a{n}:\n    get: {{operationId: op{n}, summary: Gets a widget,"
        " responses: {'200': {description: ok}}}\n"
        for n in range(3)
    )
    paths += (
        "  /y:\n    get: {operationId: getWidgetCount, responses: {'200': {description: ok}}}\n"
    )
    paths += "  /z:\n    get: {operationId: getWidgets, responses: {'200': {description: ok}}}\n"
    import_spec(
        write_spec("w.yaml", f"openapi: 3.0.0\ninfo: {{title: W, version: '1'}}\npaths:\n{paths}"),
        "w",
    )
    # The strong matches first, then the others, each in the table's order, which PostgreSQL
    # does not promise to be the import order (an updated row moves; a vacuumed page takes
    # later rows): compared as sets.
    for typed in ("get widget", "widgets get"):
        found = _found(typed)
        assert sorted(found[:2]) == ["getWidgetCount", "getWidgets"], typed
        assert sorted(found[2:]) == ["op0", "op1", "op2"], typed
    assert _found("nothing widget") == []


def test_ranks_an_id_match_over_a_summary_match(import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = (
        "openapi: 3.0.0\ninfo: {title: R, version: '1'}\npaths:\n"
        "  /a:\n    get: {operationId: listThings, summary: Shows what the archive holds, responses: {'200': {description: ok}}}\n"
        "  /b:\n    get: {operationId: archive, summary: Archive it, responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("r.yaml", spec), "ranked")
    assert _found("archive") == ["archive", "listThings"]


def test_nothing_to_search_and_hostile_queries(billing: Api) -> None:
    assert _found("") == [] and _found("  ") == [] and _found("zebra") == []
    # FTS and tsquery syntax is never passed through: these are plain words or nothing.
    for query in ['"', "*", "NEAR(a b)", "a OR b", "-invoices", "invoices:*", "!&|", "'; drop"]:
        search_operations(Api.objects.all(), query)  # no database error
    assert "createInvoices" in _found('-"invoices"*')


def _planner_settings() -> tuple[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('cpu_operator_cost'), current_setting('synchronize_seqscans')"
        )
        cost, sync = cursor.fetchone()
        return str(cost), str(sync)


def test_the_planner_cost_of_a_search_stays_inside_it(billing: Api) -> None:
    """On PostgreSQL the search raises cpu_operator_cost and reads the table from its start
    (no synchronized scans) for its own statements only: a query of the caller's
    transaction after it is planned and read as before."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    before = _planner_settings()
    with transaction.atomic():
        assert _found("createInvoices")[0] == "createInvoices"
        assert _planner_settings() == before
    assert _found("createInvoices")[0] == "createInvoices"
    assert _planner_settings() == before


@pytest.mark.django_db(transaction=True)
def test_the_planner_cost_ends_with_a_search_of_its_own(billing: Api) -> None:
    """Outside any transaction the search runs in one of its own, whose commit drops the
    settings: nothing is put back, and the next statement is planned as before."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    before = _planner_settings()
    assert not connection.in_atomic_block
    assert _found("createInvoices")[0] == "createInvoices"
    assert _planner_settings() == before
    # The catalog's search too: the APIs and the count in one statement, then the hits.
    ids, hits = search_catalog(Api.objects.all(), Api.objects.all(), "create invoice")
    assert ids == [billing.pk] and hits[0].slug == "createInvoices"
    assert _planner_settings() == before


def test_a_lean_match_drops_only_the_prefixes_another_covers() -> None:
    """The count of matches reads a lean query: the same matches, fewer alternatives."""
    assert match_expression("createInvoices", "postgresql", lean=True) == "(create) & (invoice:*)"
    assert match_expression("boxes", "postgresql", lean=True) == "(box:*)"
    # `policy` is no prefix of `policies`; `policie` is, and covers it.
    assert match_expression("policies", "postgresql", lean=True) == "(policy:* | policie:*)"
    # Only the last word is a prefix; whole words keep every form.
    assert (
        match_expression("refunds acc", "postgresql", lean=True) == "(refunds | refund) & (acc:*)"
    )


def test_only_apis_the_caller_may_see(billing: Api, import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    import_spec(write_spec("hidden.yaml", BILLING), "hidden", publish=False)
    visible = search_operations(Api.objects.filter(is_published=True), "createInvoices")
    assert [hit.api_slug for hit in visible] == ["billing"]
    everyone = search_operations(Api.objects.all(), "createInvoices")
    assert sorted(hit.api_slug for hit in everyone) == ["billing", "hidden"]


def test_index_follows_imports_defaults_and_deletes(
    billing: Api, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    v2 = BILLING.replace("version: '1'", "version: '2'").replace("createInvoices", "issueInvoices")
    import_spec(write_spec("v2.yaml", v2), "billing")
    # Only the default (newest) version is searched.
    assert "issueInvoices" in _found("issue") and "createInvoices" not in _found("createInvoices")
    # Deleting it makes version 1 the default again, and its operations come back.
    delete_version(ApiVersion.objects.get(api=billing, label="2"))
    assert _found("createInvoices") == ["createInvoices"] and "issueInvoices" not in _found(
        "issueInvoices"
    )
    # Replacing a version re-indexes it; deleting the API drops its operations from search.
    import_spec(
        write_spec("v1b.yaml", BILLING.replace("refund", "reimburse")), "billing", replace=True
    )
    assert _found("reimburse") == ["reimburse"] and _found("refund") == []
    Api.objects.filter(slug="billing").delete()
    assert _found("invoices") == []


def test_an_api_is_found_by_its_camel_case_name_in_lower_case(
    import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Brands are written in camel case (GitHub, PagerDuty, OpenAI). Their words were indexed
    # apart only (git, hub), so a reader typing "github" in the catalog found nothing.
    spec = BILLING.replace("title: Billing", "title: PagerDuty REST")
    pager = import_spec(write_spec("pager.yaml", spec), "incidents")
    hub = import_spec(write_spec("hub.yaml", BILLING.replace("Billing", "Hub")), "hub")
    hub.name = "GitHub v3"
    hub.save()
    set_default_version(hub.default_version)  # the catalog words follow a renamed API
    everyone = Api.objects.all()
    for query, api in [("pagerduty", pager), ("PagerDuty", pager), ("github", hub)]:
        assert search_catalog(everyone, everyone, query)[0] == [api.pk], query
    assert search_catalog(everyone, everyone, "duty")[0] == [pager.pk]  # words alone still


def test_an_operation_id_typed_whole_in_any_case_finds_it(
    billing: Api, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Ids are indexed as their words (create, invoices); "createinvoices", typed as one
    # word, matched none of them and found nothing.
    assert _found("createinvoices") == ["createInvoices"]
    assert _found(" CREATEINVOICES ") == ["createInvoices"]
    import_spec(write_spec("hidden.yaml", BILLING.replace("Billing", "Hidden")), "hidden",
                publish=False)  # fmt: skip
    visible = search_operations(Api.objects.filter(is_published=True), "createinvoices")
    assert [hit.api_slug for hit in visible] == ["billing"]


def test_the_start_of_an_operation_id_typed_in_lower_case_finds_it(billing: Api) -> None:
    # Typed as one lower-case word, the start of `createInvoices` crosses its camel-case
    # boundary and matched no indexed word: "createinv" found nothing while being typed.
    assert _found("createinv") == ["createInvoices"]
    assert _found("CREATEINVOICE") == ["createInvoices"]
    assert _found("x-read-rate-l") == ["x-read-rate-limits"]
    assert _found("listinv") == ["listInvoices"]
    assert _found("createinvz") == []


def test_a_search_as_long_as_the_longest_operation_id_finds_it(
    import_spec: ImportSpec, write_spec, client
) -> None:  # type: ignore[no-untyped-def]
    long_id = "get" + "VeryLongResourceName" * 14  # 283 characters, one word
    spec = BILLING.replace("operationId: refund,", f"operationId: {long_id},")
    import_spec(write_spec("long.yaml", spec), "long")
    slug = Operation.objects.get(operation_id=long_id).slug  # cut to fit a URL segment
    assert _found(long_id) == _found(long_id.lower()) == [slug]
    # The catalog's box refused more than 200 characters and then listed every API.
    for typed in (long_id, long_id.lower()):
        page = client.get("/apis/", {"q": typed}).content.decode()
        assert f"/apis/long/operations/{slug}/" in page, typed


def test_an_operation_id_typed_whole_comes_first_among_many_matches(
    import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Docker's `Session` (POST /session) ranked 36th of 87 operations with the word
    # "session" in their ids, paths and summaries, and only 20 are shown.
    paths = "".join(
        f"  /v1/sessions/{i}/session-items/session-{i}:\n    get: {{operationId: listSessionItemsOfSession{i},"
        f" summary: Session items of session {i}, responses: {{'200': {{description: ok}}}}}}\n"
        for i in range(40)
    )
    spec = (
        "openapi: 3.0.3\ninfo: {title: Engine, version: '1'}\npaths:\n"
        f"{paths}  /session:\n    post: {{operationId: Session, summary: Start a session,"
        " responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("engine.yaml", spec), "engine")
    for typed in ("Session", "session"):
        found = _found(typed)
        assert found[0] == "Session" and len(found) == 20, typed


def test_a_camel_case_operation_id_typed_whole_comes_first(
    import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Asana's `getTask` was not among the first five hits for "getTask" (nor Docker's
    # `ImageBuild` first for "ImageBuild"): an id of several camel-case words was ranked
    # like any two words, behind longer ids that repeat them (getSubtasksForTask).
    paths = "".join(
        f"  /tasks/{{task_gid}}/subtasks{i}:\n    get: {{operationId: getSubtasksForTask{i},"
        f" summary: Get subtasks of a task {i}, responses: {{'200': {{description: ok}}}}}}\n"
        for i in range(30)
    )
    spec = (
        "openapi: 3.0.3\ninfo: {title: Tasks, version: '1'}\npaths:\n"
        f"{paths}  /tasks/{{task_gid}}:\n    get: {{operationId: getTask, summary: Get a task,"
        " description: Returns the complete task record for a single task., responses:"
        " {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("tasks.yaml", spec), "tasks")
    for typed in ("getTask", "gettask", "GETTASK"):
        assert _found(typed)[0] == "getTask", typed


def test_an_operation_id_typed_as_its_words_comes_first(
    import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # "get a task" (Asana's summary of getTask, word for word) and "get task" match more
    # operations than are ranked (RANKED_MAX): they are listed in import order, and Asana's
    # getTask came after longer ids with the same words (getSubtasksForTask...).
    paths = "".join(
        f"  /tasks/{{task_gid}}/subtasks{i}:\n    get: {{operationId: getSubtasksForTask{i},"
        f" summary: Get subtasks of a task {i}, responses: {{'200': {{description: ok}}}}}}\n"
        for i in range(RANKED_MAX + 10)
    )
    spec = (
        "openapi: 3.0.3\ninfo: {title: Tasks, version: '1'}\npaths:\n"
        f"{paths}  /tasks/{{task_gid}}:\n    get: {{operationId: getTask, summary: Get a task,"
        " responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("tasks.yaml", spec), "tasks")
    for typed in ("get task", "get a task", "Get Task"):
        assert _found(typed)[0] == "getTask", typed
    assert _found("get subtasks for task 7")[0] == "getSubtasksForTask7"  # "for": a stop word


def _path_spec(title: str, exact: str, longer: list[str]) -> str:
    """An API with operations at `exact` (GET with a long description, POST) and at each of
    `longer` paths, which hold the same words."""
    ops = "".join(
        f"  {path}:\n    get: {{operationId: op{n}, summary: Accounts {n},"
        " responses: {'200': {description: ok}}}\n"
        for n, path in enumerate(longer)
    )
    return (
        f"openapi: 3.0.3\ninfo: {{title: {title}, version: '1'}}\npaths:\n{ops}"
        f"  {exact}:\n"
        "    post: {operationId: createAccount, summary: Register an account, description: '"
        + "Creates a user and account records. " * 20
        + "', responses: {'200': {description: ok}}}\n"
    )


def test_a_summary_typed_whole_comes_first(import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    # SendGrid's POST /marketing/lists, "Create List", was not among the 20 hits for its own
    # summary beside NetBox's many dcim_*_create operations: their ids carry both words.
    paths = "".join(
        f"  /dcim/list-{i}/:\n    post: {{operationId: createListEntry{i},"
        f" summary: Create list entry {i}, responses: {{'200': {{description: ok}}}}}}\n"
        for i in range(40)
    )
    spec = (
        "openapi: 3.0.3\ninfo: {title: Mail, version: '1'}\npaths:\n"
        f"{paths}  /marketing/lists:\n    post: {{operationId: POST_mc_lists, summary: Create List,"
        " responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("mail.yaml", spec), "mail")
    for typed in ("Create List", "create list", "  create   LIST ", "Create List."):
        hits = search_operations(Api.objects.all(), typed)
        assert hits[0].path == "/marketing/lists", typed
        assert len(hits) == 20, typed
    # Words of it only, not the whole: ranked as before.
    assert search_operations(Api.objects.all(), "create")[0].path != "/marketing/lists"


def test_a_path_typed_whole_finds_its_operations_first(import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    # Mastodon: `/api/v1/accounts` listed 19 longer paths, not POST /api/v1/accounts.
    longer = [f"/api/v1/accounts/{{id}}/{word}" for word in "abcdefghijklmnopqrstuvwxy"]
    import_spec(write_spec("m.yaml", _path_spec("M", "/api/v1/accounts", longer)), "m")
    # Influx's `/users/{userID}` lost to Keycloak's twenty `/{realm}/users/{userId}/...`.
    keycloak = [f"/{{realm}}/users/{{userId}}/{word}" for word in "abcdefghijklmnopqrstuv"]
    import_spec(write_spec("k.yaml", _path_spec("K", "/k", keycloak)), "k")
    import_spec(write_spec("i.yaml", _path_spec("I", "/users/{userID}", [])), "i")

    hits = search_operations(Api.objects.all(), "/api/v1/accounts")
    assert (hits[0].path, hits[0].method) == ("/api/v1/accounts", "post")
    for typed in ("/users/{userID}", "/users/{userid}", "/users/{userID}/"):
        hits = search_operations(Api.objects.all(), typed)
        assert (hits[0].api_slug, hits[0].path) == ("i", "/users/{userID}"), typed
    # Only a path typed whole: a fragment ranks as before.
    assert search_operations(Api.objects.all(), "/api/v1/acc")[0].path != "/api/v1/accounts"


def test_a_method_and_path_typed_as_the_page_heads_them_finds_that_operation_first(
    import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    # Open-Meteo (no operationIds): "GET /v1/forecast", copied from its page's heading, found
    # nothing ("get" is in no id, path or summary); Typesense's "POST /collections"
    # (createCollection) found only Weaviate's schema update, whose description says "POST".
    spec = (
        "openapi: 3.0.3\ninfo: {title: Weather, version: '1'}\npaths:\n"
        "  /v1/forecast:\n    get: {responses: {'200': {description: ok}}}\n"
        "  /collections:\n"
        "    get: {operationId: getCollections, responses: {'200': {description: ok}}}\n"
        "    post: {operationId: createCollection, responses: {'200': {description: ok}}}\n"
        "  /schema:\n    put: {operationId: updateSchema, description: Send a POST to the"
        " collections endpoint first., responses: {'200': {description: ok}}}\n"
    )
    import_spec(write_spec("weather.yaml", spec), "weather")
    for typed in ("GET /v1/forecast", "get /v1/forecast/", "  Get   /V1/Forecast "):
        hits = search_operations(Api.objects.all(), typed)
        assert [(h.method, h.path) for h in hits] == [("get", "/v1/forecast")], typed
    hits = search_operations(Api.objects.all(), "POST /collections")
    assert (hits[0].method, hits[0].path) == ("post", "/collections")
    assert "getCollections" not in [h.slug for h in hits]
    # A method the path does not have: no operation of it is made up.
    assert search_operations(Api.objects.all(), "DELETE /v1/forecast") == []

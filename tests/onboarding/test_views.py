"""/api/v1/: who may call it (SECURITY.md case 80) and the onboarding flows in JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from applications.models import Application
from products.models import Subscription
from tests.onboarding.conftest import token_for


def _call(client: Client, method: str, path: str, token: str = "", body: Any = None) -> Any:
    extra: dict[str, Any] = {}
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body is not None:
        extra["data"] = json.dumps(body) if not isinstance(body, bytes | str) else body
        extra["content_type"] = "application/json"
    return getattr(client, method.lower())(path, **extra)


# --- SECURITY.md case 80 -------------------------------------------------------------------


def test_case_80_no_token_is_401_with_a_challenge(client: Client, db: None) -> None:
    for path in ("/api/v1/products", "/api/v1/applications", "/api/v1/subscriptions"):
        answer = client.get(path)
        assert answer.status_code == 401
        assert answer["Content-Type"] == "application/problem+json"
        assert answer["WWW-Authenticate"].startswith('Bearer realm="portal"')


def test_the_401_without_a_token_says_how_to_get_one(client: Client, db: None) -> None:
    """'A bearer token with the portal scope is required.' left a newcomer at a terminal with no
    idea where such a token comes from."""
    detail = client.get("/api/v1/products").json()["detail"]
    assert "client credentials" in detail and "scope=portal" in detail
    # Whole addresses: a terminal has no page to resolve '/idp/token/' against.
    assert "http://testserver/idp/token/" in detail
    assert "http://testserver/applications/new/" in detail


def test_case_80_unknown_or_revoked_token_is_401(
    client: Client, ada: Any, portal_token: Callable[..., str]
) -> None:
    assert _call(client, "GET", "/api/v1/applications", "not-a-token").status_code == 401
    token = portal_token(ada)
    assert _call(client, "GET", "/api/v1/applications", token).status_code == 200
    # Deleting the application revokes its tokens (case 79): the next call is refused.
    from applications import flows

    flows.delete(Application.objects.get(owner=ada, name="CLI"))
    answer = _call(client, "GET", "/api/v1/applications", token)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer["WWW-Authenticate"]


def test_case_80_token_without_portal_scope_is_403(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    from products import flows as product_flows

    registered = register(ada, "machine")
    product_flows.subscribe(ada, make_product("starter", echo), application=registered.application)
    token = token_for(client, registered, "echo.read")  # a real token, for an API
    answer = _call(client, "GET", "/api/v1/applications", token)
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer["WWW-Authenticate"]
    assert 'scope="portal"' in answer["WWW-Authenticate"]


def test_case_80_a_session_cookie_is_not_a_credential(client: Client, ada: Any) -> None:
    client.force_login(ada)
    assert client.get("/api/v1/applications").status_code == 401
    assert (
        _call(
            client, "POST", "/api/v1/applications", body={"name": "x", "kind": "machine"}
        ).status_code
        == 401
    )
    assert not Application.objects.filter(name="x").exists()


def test_case_80_another_developers_objects_are_404_and_unchanged(
    client: Client,
    ada: Any,
    bob: Any,
    register: Callable[..., Any],
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    from products import flows as product_flows

    bobs_app = register(bob, "machine").application
    bobs_sub = product_flows.subscribe(bob, make_product("starter", echo), application=bobs_app)
    token = portal_token(ada)
    app_path = f"/api/v1/applications/{bobs_app.uuid}"
    sub_path = f"/api/v1/subscriptions/{bobs_sub.uuid}"
    for method, path, body in [
        ("GET", app_path, None),
        ("PATCH", app_path, {"name": "mine now"}),
        ("DELETE", app_path, None),
        ("POST", f"{app_path}/secret", None),
        ("GET", sub_path, None),
        ("DELETE", sub_path, None),
        (
            "POST",
            "/api/v1/subscriptions",
            {"product": "starter", "application": str(bobs_app.uuid)},
        ),
    ]:
        answer = _call(client, method, path, token, body)
        assert answer.status_code == 404, (method, path)
        assert "client_secret" not in answer.content.decode()
    bobs_app.refresh_from_db()
    bobs_sub.refresh_from_db()
    assert bobs_app.name == "bob's machine app" and bobs_sub.state == Subscription.ACTIVE
    assert not Subscription.objects.filter(owner=ada).exists()
    listed = _call(client, "GET", "/api/v1/applications", token).json()["applications"]
    assert [a["name"] for a in listed] == ["CLI"]


# --- the flows ------------------------------------------------------------------------------


def test_products_text_from_the_admin_comes_with_plain_line_ends(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    # As the admin's textareas save it.
    make_product(
        "starter",
        echo,
        description="Keys at once.\r\nFor tests.",
        terms="1. No resale.\r\n2. Be nice.",
    )
    products = _call(client, "GET", "/api/v1/products", portal_token(ada)).json()["products"]
    assert products[0]["terms"] == "1. No resale.\n2. Be nice."
    assert products[0]["description"] == "Keys at once.\nFor tests."


def test_onboarding_from_a_terminal(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    make_product("starter", echo)
    token = portal_token(ada)
    products = _call(client, "GET", "/api/v1/products", token).json()["products"]
    assert [(p["id"], p["apis"]) for p in products] == [("starter", ["echo"])]

    made = _call(
        client, "POST", "/api/v1/applications", token, {"name": "Export", "kind": "machine"}
    )
    assert made.status_code == 201
    app = made.json()
    assert app["client_secret"] and app["client_id"] and app["kind"] == "machine"
    assert made["Location"].endswith(f"/api/v1/applications/{app['id']}")
    again = _call(client, "GET", f"/api/v1/applications/{app['id']}", token).json()
    assert "client_secret" not in again and again["client_id"] == app["client_id"]

    sub = _call(
        client,
        "POST",
        "/api/v1/subscriptions",
        token,
        {"product": "starter", "application": app["id"]},
    )
    assert sub.status_code == 201 and sub.json()["state"] == "active"
    assert sub.json()["application"] == app["id"] and sub.json()["primary_key"]

    # The new application's own token now gets the product's API scope.
    got = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "scope": "echo.read"},
        HTTP_AUTHORIZATION="Basic "
        + __import__("base64")
        .b64encode(f"{app['client_id']}:{app['client_secret']}".encode())
        .decode(),
    )
    assert got.status_code == 200, got.content

    rotated = _call(client, "POST", f"/api/v1/applications/{app['id']}/secret", token).json()
    assert rotated["client_secret"] and rotated["client_secret"] != app["client_secret"]

    patched = _call(
        client, "PATCH", f"/api/v1/applications/{app['id']}", token, {"name": "Export v2"}
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Export v2"

    cancelled = _call(client, "DELETE", f"/api/v1/subscriptions/{sub.json()['id']}", token)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert _call(client, "DELETE", f"/api/v1/applications/{app['id']}", token).status_code == 204
    assert not Application.objects.filter(uuid=app["id"]).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "robot"}, "kind"),
        ({"kind": "machine"}, "name"),
        ({"name": "x", "kind": "web", "redirect_uris": ["https://*.example/cb"]}, "redirect_uris"),
        ({"name": "x", "kind": "web", "redirect_uris": "https://a.example/cb"}, "redirect_uris"),
        ({"name": "x", "kind": "web", "redirect_uris": ["http://a.example/cb"]}, "redirect_uris"),
    ],
)
def test_invalid_application_is_400_naming_the_field(
    client: Client, ada: Any, portal_token: Callable[..., str], body: dict[str, Any], field: str
) -> None:
    token = portal_token(ada)
    answer = _call(client, "POST", "/api/v1/applications", token, body)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert Application.objects.filter(owner=ada).count() == 1  # the CLI app only


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"x"'])
def test_a_body_that_is_not_a_json_object_is_400(
    client: Client, ada: Any, portal_token: Callable[..., str], body: bytes
) -> None:
    answer = _call(client, "POST", "/api/v1/applications", portal_token(ada), body)
    assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json"


def test_invisible_product_is_404(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    make_product("partners", echo, groups=("administrators",))
    token = portal_token(ada)
    assert _call(client, "GET", "/api/v1/products", token).json()["products"] == []
    assert _call(client, "GET", "/api/v1/products/partners", token).status_code == 404
    answer = _call(client, "POST", "/api/v1/subscriptions", token, {"product": "partners"})
    assert answer.status_code == 404 and not Subscription.objects.exists()


def test_creation_limit_is_429(
    client: Client, ada: Any, portal_token: Callable[..., str], settings: Any
) -> None:
    settings.APPLICATIONS_CREATE_PER_HOUR = 2
    token = portal_token(ada)  # the first of two
    body = {"name": "again", "kind": "machine"}
    assert _call(client, "POST", "/api/v1/applications", token, body).status_code == 201
    assert _call(client, "POST", "/api/v1/applications", token, body).status_code == 429


def test_the_hourly_subscription_limit_is_429_for_that_developer_only(
    client: Client,
    ada: Any,
    bob: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
    settings: Any,
) -> None:
    settings.SUBSCRIPTIONS_CREATE_PER_HOUR = 1
    make_product("starter", echo)
    token, body = portal_token(ada), {"product": "starter"}
    assert _call(client, "POST", "/api/v1/subscriptions", token, body).status_code == 201
    refused = _call(client, "POST", "/api/v1/subscriptions", token, body)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert "created 1 subscription in the last hour" in refused.json()["detail"]
    assert Subscription.objects.filter(owner=ada).count() == 1
    bobs = _call(client, "POST", "/api/v1/subscriptions", portal_token(bob), body)
    assert bobs.status_code == 201
    document = _call(client, "GET", "/api/v1/openapi.json").json()
    assert "429" in document["paths"]["/subscriptions"]["post"]["responses"]


def test_wrong_method_is_405(client: Client, ada: Any, portal_token: Callable[..., str]) -> None:
    assert _call(client, "PUT", "/api/v1/applications", portal_token(ada), {}).status_code == 405


def test_openapi_document_is_served_and_describes_the_paths(client: Client, db: None) -> None:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/products",
        "/applications",
        "/applications/{application}/secret",
        "/subscriptions",
    } <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["portal"]["type"] == "oauth2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # A list, an object, a number or a boolean where the document says string was stored
        # as its Python text: an application named "['a']" or "True".
        ({"name": ["a"], "kind": "machine"}, "name"),
        ({"name": {"a": 1}, "kind": "machine"}, "name"),
        ({"name": 5, "kind": "machine"}, "name"),
        ({"name": True, "kind": "machine"}, "name"),
        ({"name": "x", "description": ["a"], "kind": "machine"}, "description"),
        ({"name": "x", "kind": "machine", "keep_for_console": "no"}, "keep_for_console"),
        ({"name": "x", "kind": "machine", "keep_for_console": {"a": 1}}, "keep_for_console"),
    ],
)
def test_a_json_value_of_the_wrong_type_is_400_not_stored_as_its_text(
    client: Client, ada: Any, portal_token: Callable[..., str], body: dict[str, Any], field: str
) -> None:
    token = portal_token(ada)
    answer = _call(client, "POST", "/api/v1/applications", token, body)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]
    assert Application.objects.filter(owner=ada).count() == 1  # the CLI app only
    made = _call(client, "POST", "/api/v1/applications", token, {"name": "x", "kind": "machine"})
    assert made.status_code == 201
    patched = _call(client, "PATCH", f"/api/v1/applications/{made.json()['id']}", token, body)
    assert patched.status_code == 400 or field not in ("name", "description")
    assert Application.objects.get(uuid=made.json()["id"]).name == "x"


@pytest.mark.parametrize("accept", ["no", "false ", ["no"], {"accepted": False}, 1, "yes"])
def test_terms_are_accepted_only_by_json_true(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
    accept: Any,
) -> None:
    # "accept_terms": "no" subscribed the developer and recorded that they accepted the terms.
    make_product("gold", echo, terms="Be nice to the backend.")
    token = portal_token(ada)
    body = {"product": "gold", "accept_terms": accept}
    answer = _call(client, "POST", "/api/v1/subscriptions", token, body)
    assert answer.status_code == 400, answer.content
    assert "accept_terms" in answer.json()["errors"]
    assert not Subscription.objects.exists()
    body["accept_terms"] = True
    assert _call(client, "POST", "/api/v1/subscriptions", token, body).status_code == 201


def test_a_subscription_without_accepting_the_terms_says_which_field_accepts_them(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    """From a terminal, "Accept the terms of use to subscribe." named no field to send and
    no place to read the terms."""
    make_product("gold", echo, terms="Be nice to the backend.")
    answer = _call(client, "POST", "/api/v1/subscriptions", portal_token(ada), {"product": "gold"})
    assert answer.status_code == 409
    detail = answer.json()["detail"]
    assert '"accept_terms": true' in detail and "/api/v1/products/gold" in detail
    assert not Subscription.objects.exists()


def test_a_subscription_past_the_products_limit_says_how_to_subscribe_again(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    """The page says "Cancel one to subscribe again." beside the limit; the terminal got the
    limit alone, and no way on."""
    product = make_product("gold", echo)
    product.subscriptions_limit = 1
    product.save()
    token = portal_token(ada)
    assert (
        _call(client, "POST", "/api/v1/subscriptions", token, {"product": "gold"}).status_code
        == 201
    )
    answer = _call(client, "POST", "/api/v1/subscriptions", token, {"product": "gold"})
    assert answer.status_code == 409
    assert "the most it allows. Cancel one to subscribe again" in answer.json()["detail"]


@pytest.mark.parametrize("name", [None, "", "   "])
def test_case80_variant_patch_cannot_blank_the_applications_name(
    client: Client, ada: Any, portal_token: Callable[..., str], name: Any
) -> None:
    # The page's form requires a name; a PATCH naming the field must too (leaving it out
    # keeps the name as it is).
    token = portal_token(ada)
    made = _call(client, "POST", "/api/v1/applications", token, {"name": "x", "kind": "machine"})
    path = f"/api/v1/applications/{made.json()['id']}"
    answer = _call(client, "PATCH", path, token, {"name": name})
    assert answer.status_code == 400, answer.content
    assert "name" in answer.json()["errors"]
    assert Application.objects.get(uuid=made.json()["id"]).name == "x"
    assert _call(client, "PATCH", path, token, {"description": "d"}).json()["name"] == "x"


@pytest.mark.parametrize("size", [100 * 1024, 3 * 1024 * 1024])
def test_an_oversized_body_is_a_problem_naming_the_limit(
    client: Client, ada: Any, portal_token: Callable[..., str], size: int
) -> None:
    # Past Django's upload cap (2.5 MB) too: a JSON client gets problem+json, not an HTML page.
    token = portal_token(ada)
    body = '{"name": "x", "kind": "machine", "description": "' + "a" * size + '"}'
    answer = _call(client, "POST", "/api/v1/applications", token, body)
    assert answer.status_code == 413  # Content Too Large (RFC 9110 section 15.5.14)
    assert answer["Content-Type"] == "application/problem+json"
    assert "64 KiB" in answer.json()["detail"]
    assert Application.objects.filter(owner=ada).count() == 1  # the CLI app only


def test_case80_variant_a_malformed_id_or_unknown_path_is_a_404_problem(
    client: Client, ada: Any, portal_token: Callable[..., str]
) -> None:
    # A terminal reads problem+json; the portal's HTML 404 page is no answer for it.
    token = portal_token(ada)
    for path in (
        "/api/v1/applications/1",
        "/api/v1/applications/../subscriptions",
        "/api/v1/subscriptions/not-a-uuid",
        "/api/v1/applications/00000000-0000-0000-0000-000000000000/secret/x",
        "/api/v1/nothing-here",
    ):
        answer = _call(client, "GET", path, token)
        assert answer.status_code == 404, path
        assert answer["Content-Type"] == "application/problem+json", path
        assert answer.json()["status"] == 404


def test_a_path_with_a_trailing_slash_is_told_the_one_without(
    client: Client, ada: Any, portal_token: Callable[..., str]
) -> None:
    """`curl .../api/v1/products/`, as the portal's own pages are written, answered only "No
    such path in this API": nothing said the path was right but for its last slash."""
    token = portal_token(ada)
    answer = _call(client, "GET", "/api/v1/products/", token)
    assert answer.status_code == 404
    assert "Did you mean /api/v1/products (no slash at the end)?" in answer.json()["detail"]
    answer = _call(client, "GET", "/api/v1/nothing-here/", token)
    assert "Did you mean" not in answer.json()["detail"]


def test_case80_variant_a_token_for_an_apis_audience_is_401(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    # A token with the portal scope that was asked for the echo API too is sent to echo's
    # backend with each call: whoever runs that backend must not manage Ada's applications.
    from products import flows as product_flows

    registered = register(ada, "machine")
    product_flows.subscribe(ada, make_product("starter", echo), application=registered.application)
    token = token_for(client, registered, "portal echo.read")
    answer = _call(client, "GET", "/api/v1/applications", token)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer["WWW-Authenticate"]
    assert "audience" in answer.json()["detail"]
    # A token for the portal alone still works.
    portal_only = token_for(client, registered)
    assert _call(client, "GET", "/api/v1/applications", portal_only).status_code == 200


def test_a_method_the_path_does_not_take_is_a_405_problem_naming_the_allowed_ones(
    client: Client, ada: Any, portal_token: Callable[..., str]
) -> None:
    token = portal_token(ada)
    for method in ("PUT", "HEAD", "OPTIONS", "TRACE"):
        answer = client.generic(
            method, "/api/v1/applications", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert answer.status_code == 405, method
        assert answer["Allow"] == "GET, POST"
        if method != "HEAD":  # a HEAD answer has no body
            assert answer["Content-Type"] == "application/problem+json"
            assert "GET, POST" in answer.json()["detail"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_a_method_the_document_does_not_take_is_a_405_problem_too(db: None, method: str) -> None:
    """The OpenAPI document's path answered an empty text/html 405 (require_GET), and a
    POST without a CSRF token Django's HTML 403 page: a terminal reads JSON."""
    answer = Client(enforce_csrf_checks=True).generic(method, "/api/v1/openapi.json")
    assert answer.status_code == 405
    assert answer["Allow"] == "GET"
    assert answer["Content-Type"] == "application/problem+json"
    assert "GET" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ({"redirect_uri": ["https://a.example/cb"]}, ["redirect_uri"]),  # redirect_uris
        ({"name": "renamed", "redirect_uri": ["https://a.example/cb"]}, ["redirect_uri"]),
        ({"name": "renamed", "kind": "spa", "owner": "bob"}, ["kind", "owner"]),
    ],
)
def test_a_patch_with_an_unknown_field_is_400_naming_it_and_changes_nothing(
    client: Client, ada: Any, portal_token: Callable[..., str], body: Any, unknown: list[str]
) -> None:
    # A typo answered 200 and changed nothing: the caller believed the change was made.
    token = portal_token(ada)
    made = _call(
        client, "POST", "/api/v1/applications", token,
        {"name": "x", "kind": "web", "redirect_uris": ["https://old.example/cb"]},
    ).json()  # fmt: skip
    answer = _call(client, "PATCH", f"/api/v1/applications/{made['id']}", token, body)
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert sorted(answer.json()["errors"]) == unknown
    assert all(name in answer.json()["detail"] for name in unknown)
    app = Application.objects.get(uuid=made["id"])
    assert (app.name, list(app.redirect_uris)) == ("x", ["https://old.example/cb"])


def test_an_unknown_field_names_the_field_it_is_close_to(
    client: Client, ada: Any, portal_token: Callable[..., str]
) -> None:
    token = portal_token(ada)
    made = _call(client, "POST", "/api/v1/applications", token, {"name": "x", "kind": "machine"})
    body = {"redirect_uri": ["https://a.example/cb"]}
    answer = _call(client, "PATCH", f"/api/v1/applications/{made.json()['id']}", token, body)
    assert "did you mean redirect_uris?" in answer.json()["errors"]["redirect_uri"][0]


@pytest.mark.parametrize(
    ("path", "body", "unknown"),
    [
        ("/api/v1/applications", {"name": "x", "kind": "machine", "scopes": ["a"]}, "scopes"),
        ("/api/v1/subscriptions", {"product": "starter", "accept_term": True}, "accept_term"),
        ("/api/v1/applications/{app}/secret", {"grace": 3600}, "grace"),
    ],
)
def test_a_post_with_an_unknown_field_is_400_naming_it_and_makes_nothing(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
    path: str,
    body: Any,
    unknown: str,
) -> None:
    make_product("starter", echo)
    token = portal_token(ada)
    cli = Application.objects.get(owner=ada)
    assert cli.provider_client is not None
    secret = cli.provider_client.client_secret
    answer = _call(client, "POST", path.format(app=cli.uuid), token, body)
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["errors"]) == [unknown] and unknown in answer.json()["detail"]
    assert Application.objects.filter(owner=ada).count() == 1 and not Subscription.objects.exists()
    cli.provider_client.refresh_from_db()
    assert cli.provider_client.client_secret == secret


# --- pages of a list ---------------------------------------------------------------------


def _all_pages(client: Client, token: str, path: str, key: str) -> list[list[str]]:
    """The ids of each page, following `next` from `path` to the end."""
    pages: list[list[str]] = []
    url: str | None = path
    while url is not None:
        answer = _call(client, "GET", url, token)
        assert answer.status_code == 200, answer.content
        pages.append([row["id"] for row in answer.json()[key]])
        url = answer.json()["next"]
        assert len(pages) <= 10, "next never ends"
    return pages


def test_a_list_longer_than_a_page_is_given_in_pages_of_50_linked_by_next(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    make_product: Callable[..., Any],
) -> None:
    # Every row came in one answer, however many there were.
    for n in range(51):
        make_product(f"p{n:02}", name=f"Product {n:02}")
    pages = _all_pages(client, portal_token(ada), "/api/v1/products", "products")
    assert [len(page) for page in pages] == [50, 1]
    assert [slug for page in pages for slug in page] == [f"p{n:02}" for n in range(51)]


@pytest.mark.parametrize(("limit", "sizes"), [(1, [1, 1, 1, 1]), (2, [2, 2]), (3, [3, 1])])
def test_next_leads_through_the_rest_of_the_developers_applications_once_each(
    client: Client,
    ada: Any,
    bob: Any,
    portal_token: Callable[..., str],
    register: Callable[..., Any],
    limit: int,
    sizes: list[int],
) -> None:
    token = portal_token(ada)  # the CLI, the first of four
    for name in ("b", "a", "a"):  # a tie in the list's order: each must still come once
        register(ada, kind="machine", name=name)
    register(bob, kind="machine", name="bob's")
    everything = _call(client, "GET", "/api/v1/applications", token).json()
    assert everything["next"] is None and len(everything["applications"]) == 4
    pages = _all_pages(client, token, f"/api/v1/applications?limit={limit}", "applications")
    assert [len(page) for page in pages] == sizes
    assert [i for page in pages for i in page] == [a["id"] for a in everything["applications"]]


def test_subscriptions_come_in_pages_too(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    token = portal_token(ada)
    make_product("starter", echo)
    for _ in range(3):
        made = _call(client, "POST", "/api/v1/subscriptions", token, {"product": "starter"})
        assert made.status_code == 201
    first = _call(client, "GET", "/api/v1/subscriptions?limit=2", token).json()
    assert len(first["subscriptions"]) == 2
    assert first["next"].startswith("http://testserver/api/v1/subscriptions?")
    rest = _call(client, "GET", first["next"], token).json()
    assert len(rest["subscriptions"]) == 1 and rest["next"] is None
    ids = {s["id"] for s in first["subscriptions"] + rest["subscriptions"]}
    assert ids == {str(s.uuid) for s in Subscription.objects.filter(owner=ada)}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        # Past what the database's integers hold (SQLite's are 64-bit): a clear 400, not a 500.
        ("offset=99999999999999999999", "offset"),
        ("limit=99999999999999999999", "limit"),
    ],
)
@pytest.mark.parametrize("path", ["products", "applications", "subscriptions"])
def test_a_bad_limit_or_offset_is_a_400_problem_naming_it(
    client: Client, ada: Any, portal_token: Callable[..., str], path: str, query: str, field: str
) -> None:
    answer = _call(client, "GET", f"/api/v1/{path}?{query}", portal_token(ada))
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert list(answer.json()["errors"]) == [field]


def test_the_document_describes_the_pages(client: Client, db: None) -> None:
    doc = _call(client, "GET", "/api/v1/openapi.json").json()
    for key in ("products", "applications", "subscriptions"):
        get = doc["paths"][f"/{key}"]["get"]
        names = set()
        for p in get["parameters"]:
            name = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
            names.add(name)
        assert names == {"limit", "offset"}
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        assert {key, "next"} <= set(schema["properties"]) and "400" in get["responses"]


@pytest.mark.parametrize("name", ["staging\r\nApprove here: https://evil.example", "\u202etset"])
def test_a_name_with_a_line_break_or_direction_control_is_400_naming_the_field(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
    name: str,
) -> None:
    """A subscription's came back 409 Conflict with no `errors`, as if the product refused
    it, and an application's 400 without naming the field, where every other wrong field is
    a 400 naming it; nothing is made either way."""
    make_product("starter", echo)
    token = portal_token(ada)
    body: dict[str, Any] = {"product": "starter", "name": name}
    made = _call(client, "POST", "/api/v1/subscriptions", token, body)
    assert made.status_code == 400 and made.json()["errors"]["name"]
    assert not Subscription.objects.exists()
    app = _call(client, "POST", "/api/v1/applications", token, {"name": name, "kind": "machine"})
    assert app.status_code == 400 and app.json()["errors"]["name"]
    assert Application.objects.filter(owner=ada).count() == 1  # the CLI's own
    cli = Application.objects.get(owner=ada)
    patched = _call(client, "PATCH", f"/api/v1/applications/{cli.uuid}", token, {"name": name})
    assert patched.status_code == 400 and patched.json()["errors"]["name"]
    cli.refresh_from_db()
    assert cli.name == "CLI"


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/merge+json"]
)
def test_a_secret_rotation_with_a_body_is_refused_whatever_its_content_type(
    client: Client, ada: Any, portal_token: Callable[..., str], content_type: str
) -> None:
    """`curl -d '{"grace": 3600}'` sends its JSON as a form: only a body labelled
    application/json was read, so this one rotated the secret at once, the old one dead."""
    token = portal_token(ada)
    cli = Application.objects.get(owner=ada)
    assert cli.provider_client is not None
    secret = cli.provider_client.client_secret
    answer = client.post(
        f"/api/v1/applications/{cli.uuid}/secret",
        data='{"grace": 3600}',
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 400, answer.content
    cli.provider_client.refresh_from_db()
    assert cli.provider_client.client_secret == secret
    # No body at all, whatever the label, rotates (the documented call).
    empty = client.post(
        f"/api/v1/applications/{cli.uuid}/secret",
        data="",
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert empty.status_code == 200 and empty.json()["client_secret"]


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=XX",
        "application/x-www-form-urlencoded; charset=bogus",
    ],
)
def test_a_secret_rotation_with_a_form_it_cannot_read_is_a_400_problem(
    client: Client, ada: Any, portal_token: Callable[..., str], content_type: str
) -> None:
    token = portal_token(ada)
    cli = Application.objects.get(owner=ada)
    body = b'--XX\r\nContent-Disposition: form-data; name="grace"\r\n\r\n3600\r\n--XX--\r\n'
    answer = client.generic(
        "POST",
        f"/api/v1/applications/{cli.uuid}/secret",
        body,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"


def test_a_subscription_of_an_unpublished_product_says_its_keys_are_refused(
    client: Client,
    ada: Any,
    portal_token: Callable[..., str],
    echo: Any,
    make_product: Callable[..., Any],
) -> None:
    """Unpublishing a product leaves its subscriptions active and the gateway refuses their
    keys; the JSON said only "active", where My subscriptions says why the keys stopped."""
    from products import flows as product_flows

    product = make_product("starter", echo)
    sub = product_flows.subscribe(ada, product)
    path = f"/api/v1/subscriptions/{sub.uuid}"
    token = portal_token(ada)
    assert _call(client, "GET", path, token).json()["product_published"] is True
    product.published = False
    product.save()
    body = _call(client, "GET", path, token).json()
    assert body["state"] == "active" and body["product_published"] is False


def test_an_external_servers_failure_is_a_502_not_the_callers_400(
    client: Client, ada: Any, portal_token: Callable[..., str], fake_outbound: Any, db: None
) -> None:
    """Registering at, or updating at, an external authorization server that answers 500 was
    a 400 ('the request is wrong: do not repeat it') where the deletion answered 502: the
    request was right and may well pass later."""
    from console.models import AuthorizationServer
    from tests.console.conftest import response

    reg = "https://as.example/register"
    AuthorizationServer.objects.create(
        slug="fake-as", name="Fake AS", issuer="https://as.example",
        token_url="https://as.example/token", registration_url=reg, client_id="portal",
        developer_registration=True, initial_access_token="iat-1",
    )  # fmt: skip
    token = portal_token(ada)
    fake_outbound.on("POST", reg, lambda sent: response(500, body=b"down"))
    body = {"name": "x", "kind": "machine", "server": "fake-as"}
    failed = _call(client, "POST", "/api/v1/applications", token, body)
    assert failed.status_code == 502, failed.content
    assert failed["Content-Type"] == "application/problem+json"
    # The server naming the metadata as the fault: the caller's request, refused again later.
    refusal = {"error": "invalid_client_metadata", "error_description": "no"}
    fake_outbound.on("POST", reg, lambda sent: response(400, refusal))
    assert _call(client, "POST", "/api/v1/applications", token, body).status_code == 400
    managed = {
        "client_id": "ext-1", "client_secret": "s", "registration_access_token": "rat",
        "registration_client_uri": f"{reg}/ext-1",
    }  # fmt: skip
    fake_outbound.on("POST", reg, lambda sent: response(201, managed))
    made = _call(client, "POST", "/api/v1/applications", token, body)
    assert made.status_code == 201, made.content
    fake_outbound.on("PUT", f"{reg}/ext-1", lambda sent: response(503, body=b"later"))
    path = f"/api/v1/applications/{made.json()['id']}"
    patched = _call(client, "PATCH", path, token, {"name": "renamed"})
    assert patched.status_code == 502, patched.content
    assert Application.objects.get(uuid=made.json()["id"]).name == "x"
    # The caller's own mistakes stay 400.
    assert (
        _call(client, "PATCH", path, token, {"redirect_uris": ["https://a.example/"]}).status_code
        == 400
    )

"""The admin: state changes go through the flows; the audit trail cannot be deleted."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils.html import strip_tags

from apis.models import Api
from products import flows
from products.forms import SubscribeForm
from products.models import Group, Product, SubscriptionEvent
from tests.products.conftest import MakeProduct

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


SUBSCRIPTIONS = "/admin/products/subscription/"


def test_suspend_action_asks_for_a_reason_first(
    root_client: Client, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    response = root_client.post(
        SUBSCRIPTIONS, {"action": "suspend_selected", "_selected_action": [sub.pk]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Starter: ada" in page and 'name="reason"' in page
    sub.refresh_from_db()
    assert sub.state == "active"  # nothing happens until the page is confirmed


def test_suspend_without_a_reason_mails_no_reason_line(
    root_client: Client,
    ada: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = root_client.post(
            SUBSCRIPTIONS,
            {"action": "suspend_selected", "_selected_action": [sub.pk], "post": "yes"},
            follow=True,
        )
    assert "Suspended 1 subscription." in response.content.decode()
    sub.refresh_from_db()
    assert sub.state == "suspended"
    [message] = mail.outbox
    assert "was suspended" in message.body
    assert "Reason" not in message.body and "root" not in message.body
    event = sub.events.get(action="suspend")
    assert event.reason == ""
    assert event.actor is not None and event.actor.get_username() == "root"  # for admins


def test_suspend_with_a_reason_mails_it(
    root_client: Client,
    ada: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    subs = [flows.subscribe(ada, make_product(slug, echo)) for slug in ("starter", "gold")]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = root_client.post(
            SUBSCRIPTIONS,
            {
                "action": "suspend_selected",
                "_selected_action": [sub.pk for sub in subs],
                "post": "yes",
                "reason": "  Contract ACME-42 ended ",
            },
            follow=True,
        )
    assert "Suspended 2 subscriptions." in response.content.decode()
    assert len(mail.outbox) == 2
    assert all("Reason: Contract ACME-42 ended\n" in m.body for m in mail.outbox)
    assert [s.events.get(action="suspend").reason for s in subs] == ["Contract ACME-42 ended"] * 2


def _product_form(api: Api, *groups: Group, published: bool = True) -> dict[str, Any]:
    return {
        "name": "Partner",
        "slug": "partner",
        "description": "",
        "published": "on" if published else "",
        "apis": [api.pk],
        "api_scopes": "{}",
        "groups": [group.pk for group in groups],
        "subscription_required": "on",
        "rate_limit_period": "60",
        "quota_period": "86400",
    }


def test_publishing_a_product_without_groups_warns_that_its_apis_are_hidden(
    root_client: Client, echo: Api
) -> None:
    assert Client().get("/apis/echo/").status_code == 200  # public: in no product yet
    response = root_client.post("/admin/products/product/add/", _product_form(echo), follow=True)
    html = response.content.decode()
    assert "Partner is published, but no group may see it." in html
    assert f"Its API {echo.name} is now hidden from everyone." in html
    assert Client().get("/apis/echo/").status_code == 404  # what the warning is about


def test_a_product_offered_to_a_group_saves_without_a_warning(
    root_client: Client, echo: Api
) -> None:
    developers = Group.objects.get(slug="developers")
    response = root_client.post(
        "/admin/products/product/add/", _product_form(echo, developers), follow=True
    )
    assert "no group may see it" not in response.content.decode()
    assert Product.objects.filter(slug="partner").exists()


def test_the_warning_names_no_api_another_product_still_offers(
    root_client: Client, echo: Api, make_product: MakeProduct
) -> None:
    make_product("starter", echo)  # to developers
    html = root_client.post(
        "/admin/products/product/add/", _product_form(echo), follow=True
    ).content.decode()
    assert "Partner is published, but no group may see it." in html
    assert "hidden from everyone" not in html


def test_an_unpublished_product_without_groups_saves_without_a_warning(
    root_client: Client, echo: Api
) -> None:
    html = root_client.post(
        "/admin/products/product/add/", _product_form(echo, published=False), follow=True
    ).content.decode()
    assert "no group may see it" not in html


def test_events_and_subscriptions_cannot_be_deleted(
    root_client: Client, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    event = SubscriptionEvent.objects.get(subscription=sub)
    assert (
        root_client.post(
            f"/admin/products/subscriptionevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        root_client.post(
            f"/admin/products/subscription/{sub.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert SubscriptionEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "page", ["product", "group", "subscription", "subscriptionevent", "apikeynames"]
)
def test_admin_lists_open(root_client: Client, page: str) -> None:
    assert root_client.get(f"/admin/products/{page}/").status_code == 200


def test_portal_groups_are_not_a_second_groups_in_the_admin_index(root_client: Client) -> None:
    index = strip_tags(root_client.get("/admin/").content.decode())
    assert "Portal groups" in index
    assert index.count("Groups") == 1  # Django's own, for permissions


def test_the_group_form_asks_for_the_name_before_the_slug(root_client: Client) -> None:
    html = root_client.get("/admin/products/group/add/").content.decode()
    assert html.index('name="name"') < html.index('name="slug"')


def test_a_product_name_with_a_line_break_is_refused(root_client: Client, echo: Api) -> None:
    # It is the subject of every e-mail about the product's subscriptions: Django refuses a
    # subject with a line break, so no administrator would hear of a request.
    data = {**_product_form(echo), "name": "Partner\r\nBcc: all@example.com"}
    response = root_client.post("/admin/products/product/add/", data)
    assert response.status_code == 200
    assert "A name cannot hold a line break." in response.content.decode()
    assert not Product.objects.exists()


def test_approving_a_product_the_developer_no_longer_sees_is_refused_with_a_message(
    root_client: Client, ada: Any, echo: Api, make_product: MakeProduct, make_group: Any
) -> None:
    partners = make_group("partners", ada)
    sub = flows.subscribe(ada, make_product("deal", echo, groups=("partners",),
                                            approval_required=True))  # fmt: skip
    partners.members.remove(ada)
    response = root_client.post(
        SUBSCRIPTIONS,
        {"action": "approve_selected", "_selected_action": [sub.pk], "post": "yes"},
        follow=True,
    )
    assert "ada may no longer see Deal" in strip_tags(response.content.decode())
    sub.refresh_from_db()
    assert sub.state == "submitted"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("staging\r\nApprove here: https://evil.example", "A name cannot hold a line break."),
        ("staging\u202egnitset", "A name cannot hold a control or text-direction character."),
        ("x" * 101, "at most 100 characters"),
    ],
)
def test_the_admin_refuses_a_subscription_name_the_subscribe_form_refuses(
    root_client: Client, ada: Any, echo: Api, make_product: MakeProduct, name: str, problem: str
) -> None:
    # The name goes into the e-mails about the subscription, as the developer's does.
    sub = flows.subscribe(ada, make_product("starter", echo), name="staging")
    response = root_client.post(f"{SUBSCRIPTIONS}{sub.pk}/change/", {"name": name})
    assert response.status_code == 200 and problem in response.content.decode()
    sub.refresh_from_db()
    assert sub.name == "staging"
    form = SubscribeForm({"name": name})  # the developer's form refuses the same names
    assert not form.is_valid() and problem in str(form.errors["name"])


@pytest.mark.parametrize(
    "field",
    [
        "rate_limit_calls",
        "rate_limit_period",
        "quota_calls",
        "quota_kilobytes",
        "quota_period",
        "subscriptions_limit",
    ],
)
def test_the_admin_refuses_a_zero_limit_the_config_file_refuses(
    root_client: Client, echo: Api, field: str
) -> None:
    # The config file asks for at least 1 (products/config-schema.json): a period of 0 would
    # divide by zero in the gateway's counters, and 0 calls would silently mean no limit.
    data = {**_product_form(echo), "quota_calls": "100", field: "0"}
    response = root_client.post("/admin/products/product/add/", data)
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("action", "start"),
    [("approve", "submitted"), ("reject", "submitted"), ("suspend", "active"),
     ("reactivate", "suspended"), ("cancel", "active")],
)  # fmt: skip
def test_a_staff_user_who_may_only_view_subscriptions_runs_no_state_action(
    client: Client,
    make_user: Any,
    ada: Any,
    echo: Api,
    make_product: MakeProduct,
    action: str,
    start: str,
) -> None:
    """Viewing the list is no right to change a subscription: the actions need the queue's
    approve permission (approve, reject) or the change permission (the others)."""
    from django.contrib.auth.models import Permission

    from products.models import Subscription

    sub = flows.subscribe(ada, make_product("starter", echo))
    Subscription.objects.filter(pk=sub.pk).update(state=start)
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    client.force_login(clerk)
    listing = client.get(SUBSCRIPTIONS)
    assert listing.status_code == 200
    assert f"{action}_selected" not in listing.content.decode()
    client.post(
        SUBSCRIPTIONS,
        {"action": f"{action}_selected", "_selected_action": [sub.pk], "post": "yes"},
    )
    sub.refresh_from_db()
    assert sub.state == start
    assert not sub.events.filter(action=action).exists()


@pytest.mark.parametrize(
    ("codename", "allowed", "refused"),
    [("approve_subscription", "approve", "suspend"), ("change_subscription", "suspend", "approve")],
)
def test_each_state_action_needs_its_own_permission(
    client: Client,
    make_user: Any,
    ada: Any,
    echo: Api,
    make_product: MakeProduct,
    codename: str,
    allowed: str,
    refused: str,
) -> None:
    from django.contrib.auth.models import Permission

    flows.subscribe(ada, make_product("starter", echo))  # the list offers actions on rows
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_subscription", codename])
    )
    client.force_login(clerk)
    page = client.get(SUBSCRIPTIONS).content.decode()
    assert f"{allowed}_selected" in page and f"{refused}_selected" not in page


def test_a_built_in_groups_slug_and_claims_cannot_be_changed(root_client: Client) -> None:
    """The portal finds the built-in groups by their slugs: renamed, `developers` would stop
    meaning everyone signed in; and no claim value makes a member of one."""
    developers = Group.objects.get(slug="developers")
    data = {"name": "Developers", "slug": "devs", "description": "", "claim_values": '["x"]'}
    root_client.post(f"/admin/products/group/{developers.pk}/change/", data)
    developers.refresh_from_db()
    assert developers.slug == "developers" and developers.claim_values == []


def test_a_custom_group_cannot_take_a_built_in_groups_slug_in_another_case(
    root_client: Client,
) -> None:
    data = {"name": "Admins", "slug": "Administrators", "description": "", "claim_values": "[]"}
    response = root_client.post("/admin/products/group/add/", data)
    assert "built-in group" in response.content.decode()
    assert not Group.objects.filter(slug="Administrators").exists()


@pytest.mark.parametrize(
    ("header", "query"),
    [("Authorization", "key"), ("Host", "key"), ("Content-Length", "key"),
     ("X-Forwarded-For", "key"), ("Cookie", "key"), ("X-Api-Key", "_method"),
     ("X-Api-Key", "access_token")],
)  # fmt: skip
def test_key_names_the_gateway_reads_for_something_else_are_refused(
    root_client: Client, echo: Api, header: str, query: str
) -> None:
    """The key is taken out of its header before anything else reads the call: named
    Authorization it took the token from validate-jwt, named Host or Content-Length the
    host check's or the body's."""
    from products.models import ApiKeyNames

    data = {"api": echo.pk, "header": header, "query": query}
    response = root_client.post("/admin/products/apikeynames/add/", data)
    assert response.status_code == 200 and "the gateway reads for something else" in (
        response.content.decode()
    )
    assert not ApiKeyNames.objects.exists()
    data = {"api": echo.pk, "header": "X-Api-Key", "query": "api-key"}
    assert root_client.post("/admin/products/apikeynames/add/", data).status_code == 302


@pytest.mark.parametrize("claims", ['"partner"', '{"partner": 1}', '["partner", 5]', '[""]'])
def test_a_groups_claim_values_must_be_a_list_of_text(root_client: Client, claims: str) -> None:
    """Typed as one string, `"partner"` made a member of anyone whose claim listed one of its
    letters (the sync read the string as the values p, a, r, t ...)."""
    data = {"name": "Partners", "slug": "partners", "description": "", "claim_values": claims}
    response = root_client.post("/admin/products/group/add/", data)
    assert "A list of claim values" in response.content.decode()
    assert not Group.objects.filter(slug="partners").exists()


def test_a_string_stored_as_claim_values_makes_no_member_of_its_letters(
    settings: Any, ada: Any
) -> None:
    from products.groups import sync_claim_groups

    Group.objects.create(slug="partners", name="Partners", claim_values="partner")
    assert sync_claim_groups(ada, ["p"]) == set()


def test_a_product_page_counts_its_subscriptions_and_links_them(
    root_client: Client, ada: Any, bob: Any, echo: Api, make_product: MakeProduct
) -> None:
    # A publisher on a product's page had no way to see who subscribed: the subscriptions
    # list (filtered by product) was three clicks away, the approval queue not linked.
    product = make_product("gold", echo, approval_required=True)
    flows.subscribe(ada, product)
    flows.subscribe(bob, product)
    empty = make_product("silver", echo)
    page = root_client.get(f"/admin/products/product/{product.pk}/change/").content.decode()
    text = " ".join(strip_tags(page).split())
    assert "2 subscriptions: 2 waiting for approval" in text
    assert f'href="{SUBSCRIPTIONS}?product__id__exact={product.pk}"' in page
    assert 'href="/products/approvals/"' in page
    other = root_client.get(f"/admin/products/product/{empty.pk}/change/").content.decode()
    assert "No subscriptions yet." in " ".join(strip_tags(other).split())
    listing = root_client.get("/admin/products/product/").content.decode()
    assert f'href="{SUBSCRIPTIONS}?product__id__exact={product.pk}">2</a>' in listing


def test_the_limits_say_what_they_count_and_common_periods(root_client: Client) -> None:
    # 'Rate limit calls' and 'Quota calls' had no help, the periods only 'seconds': a
    # publisher setting Starter's '10,000 a month' had to work out 2592000 alone.
    text = " ".join(
        strip_tags(root_client.get("/admin/products/product/add/").content.decode()).split()
    )
    assert "Calls per rate-limit period, for each subscription; empty = no limit." in text
    assert "Seconds: 60 a minute, 3600 an hour." in text
    assert "Calls per quota period, for each subscription; empty = no quota." in text
    assert "Seconds: 86400 a day, 604800 a week, 2592000 30 days." in text


def test_the_subscriptions_list_writes_times_as_the_portal_does(
    root_client: Client, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    # 'Dec. 5, 2026, 2:05 p.m.' was cut off at the list's right edge beside the navigation.
    sub = flows.subscribe(ada, make_product("gold", echo))
    page = root_client.get(SUBSCRIPTIONS).content.decode()
    assert f'<td class="field-since">{sub.created:%Y-%m-%d %H:%M} UTC</td>' in page


@pytest.mark.parametrize(
    ("scopes", "says"),
    [
        # Not one of the product's APIs: no entry for echo reads as all of its scopes, so a
        # typo in the slug made the intended read-only product a read-write one, silently.
        ({"Echo": ["echo.read"]}, "is not one of the product's APIs"),
        ({"ech0": ["echo.read"]}, "is not one of the product's APIs"),
        # A scope the spec does not define grants nothing: a typo left the product granting
        # less than meant with no word (applyconfig refuses both).
        ({"echo": ["echo.reed"]}, "defines no scope"),
    ],
)
def test_api_scopes_naming_no_api_of_the_product_or_no_scope_of_it_are_refused(
    root_client: Client, echo: Api, scopes: dict[str, list[str]], says: str
) -> None:
    form = {**_product_form(echo), "api_scopes": json.dumps(scopes)}
    response = root_client.post("/admin/products/product/add/", form)
    assert response.status_code == 200  # the form again, with the error
    assert says in html.unescape(response.content.decode())
    assert not Product.objects.filter(slug="partner").exists()


def test_api_scopes_of_the_products_api_are_kept(root_client: Client, echo: Api) -> None:
    form = {**_product_form(echo), "api_scopes": json.dumps({"echo": ["echo.read"]})}
    response = root_client.post("/admin/products/product/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Product.objects.get(slug="partner").api_scopes == {"echo": ["echo.read"]}

"""Products pages, "My subscriptions" and the approval queue."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils.html import strip_tags

from apis.models import Api
from applications import flows as app_flows
from products import flows
from products.models import Product, Subscription
from tests.products.conftest import MakeProduct

pytestmark = pytest.mark.django_db


@pytest.fixture
def starter(echo: Api, make_product: MakeProduct) -> Any:
    return make_product("starter", echo, groups=("guests", "developers"), rate_limit_calls=60)


@pytest.fixture
def gold(echo: Api, make_product: MakeProduct) -> Any:
    return make_product("gold", echo, approval_required=True, terms="**No** resale.")


@pytest.fixture
def approver(make_user: Any) -> Any:
    user = make_user("carol")
    user.user_permissions.add(Permission.objects.get(codename="approve_subscription"))
    return user


# --- products list and detail ---------------------------------------------------------


def test_product_list_shows_what_the_user_may_see(
    ada_client: Client, starter: Any, gold: Any
) -> None:
    anonymous = Client().get("/products/").content.decode()
    assert "Starter" in anonymous and "Gold" not in anonymous  # gold: developers only
    signed_in = ada_client.get("/products/").content.decode()
    assert "Starter" in signed_in and "Gold" in signed_in and "approval required" in signed_in


def test_product_card_counts_only_the_apis_the_product_page_lists(
    ada_client: Client, echo: Api, petstore: Api, make_product: MakeProduct
) -> None:
    make_product("partner", echo, petstore)

    def counts() -> list[str]:
        return re.findall(r"\d+ APIs?\b", strip_tags(ada_client.get("/products/").content.decode()))

    assert counts() == ["2 APIs"]
    petstore.is_published = False
    petstore.save()
    assert counts() == ["1 API"]
    echo.is_published = False
    echo.save()
    assert counts() == []
    assert "No API in this product yet" in ada_client.get("/products/partner/").content.decode()


def test_product_detail_lists_apis_terms_and_subscribe(ada_client: Client, gold: Any) -> None:
    html = ada_client.get("/products/gold/").content.decode()
    assert 'href="/apis/echo/"' in html
    assert "<strong>No</strong> resale." in html
    assert 'name="accept_terms"' in html and "Request a subscription" in html


def test_at_the_subscription_limit_the_page_says_so_instead_of_a_form(
    ada_client: Client, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    partner = make_product("partner", echo, subscriptions_limit=1, terms="No resale.")
    app = app_flows.register(ada, kind="machine", name="CI runner", redirect_uris=[]).application
    flows.subscribe(ada, partner, accept_terms=True, application=app)  # an application's counts
    html = ada_client.get("/products/partner/").content.decode()
    assert "You already have 1 subscription to Partner, the most it allows." in html
    assert 'name="accept_terms"' not in html and "/products/partner/subscribe/" not in html
    # A form offered before the limit was reached (another tab) is still refused.
    response = ada_client.post(
        "/products/partner/subscribe/", {"accept_terms": "on", "name": "second"}, follow=True
    )
    assert "the most it allows" in response.content.decode()
    assert Subscription.objects.filter(owner=ada).count() == 1


def test_below_the_subscription_limit_the_form_is_offered(
    ada_client: Client, echo: Api, make_product: MakeProduct
) -> None:
    make_product("partner", echo, subscriptions_limit=2)
    html = ada_client.get("/products/partner/").content.decode()
    assert "at most 2 subscriptions each" in html
    assert 'action="/products/partner/subscribe/"' in html and "the most it allows" not in html


def test_the_developer_sees_the_call_and_kilobyte_limits(
    ada_client: Client, starter: Any, make_user: Any
) -> None:
    Product.objects.filter(pk=starter.pk).update(
        quota_calls=10000, quota_kilobytes=100 * 1024, quota_period=86400
    )
    limits = "60 calls per minute", "quota: 10,000 calls and 100 MB per day"
    for page in ("/products/", "/products/starter/"):
        html = ada_client.get(page).content.decode()
        assert all(limit in html for limit in limits), page
        text = " ".join(strip_tags(html).split())  # as read: "minute· quota" lost its space
        assert "60 calls per minute · quota: 10,000" in text, page
    sub = flows.subscribe(make_user("ada2"), Product.objects.get(pk=starter.pk))
    ada_client.force_login(sub.owner)
    html = ada_client.get(f"/products/subscriptions/{sub.uuid}/").content.decode()
    assert "quota: 10,000 calls and 100 MB per day" in html and "answers 403" in html


def test_anonymous_see_sign_in_instead_of_subscribe(client: Client, starter: Any) -> None:
    html = client.get("/products/starter/").content.decode()
    assert "Sign in to subscribe" in html


@pytest.mark.parametrize("slug", ["gold", "nope"])
def test_hidden_or_unknown_product_is_404(client: Client, gold: Any, slug: str) -> None:
    assert client.get(f"/products/{slug}/").status_code == 404


def test_wrong_method_is_405(ada_client: Client, starter: Any) -> None:
    assert ada_client.post("/products/starter/").status_code == 405
    assert ada_client.get("/products/starter/subscribe/").status_code == 405


def test_api_page_shows_the_product_badge(client: Client, starter: Any, gold: Any) -> None:
    html = client.get("/apis/echo/").content.decode()
    assert 'data-product="starter"' in html and 'data-product="gold"' not in html


def _text_transform(classes: list[str]) -> str:
    """The text-transform portal.css gives an element with these classes (one-class rules)."""
    css = (settings.BASE_DIR / "static" / "css" / "portal.css").read_text()
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    value = "none"
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        found = re.search(r"text-transform:\s*([\w-]+)", body)
        if found and selector.strip() in {f".{name}" for name in classes}:
            value = found.group(1)
    return value


def test_the_product_badge_shows_the_products_name_as_written(
    client: Client, echo: Api, make_product: MakeProduct
) -> None:
    make_product("partner", echo, groups=("guests",), name="Partner")
    html = client.get("/apis/echo/").content.decode()
    link = re.search(r'<a class="([^"]+)" data-product="partner"[^>]*>([^<]+)</a>', html)
    assert link is not None and link.group(2) == "Partner"
    assert _text_transform(link.group(1).split()) != "lowercase"  # was shown as "partner"


# --- subscribing ------------------------------------------------------------------------


def test_subscribe_redirects_to_the_new_subscription(
    ada_client: Client, ada: Any, starter: Any
) -> None:
    response = ada_client.post("/products/starter/subscribe/", {"name": "staging"})
    sub = Subscription.objects.get(owner=ada)
    assert (
        response.status_code == 302
        and response["Location"] == f"/products/subscriptions/{sub.uuid}/"
    )
    assert sub.state == "active" and sub.name == "staging"


def test_subscribing_from_the_consoles_hint_goes_back_to_the_console(
    ada_client: Client, ada: Any, starter: Any, gold: Any
) -> None:
    """The console's "Subscribe to Starter, then come back" left the developer on the new
    subscription's page, to find the operation again by hand; the console now sends its key."""
    back = "/apis/echo/operations/echoGet/#console-subscription"
    html = ada_client.get("/products/starter/", {"next": back}).content.decode()
    assert f'<input type="hidden" name="next" value="{back}">' in html
    response = ada_client.post("/products/starter/subscribe/", {"next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert "You are subscribed to Starter." in response.content.decode()
    # Elsewhere than this portal: the subscription's page, as without it.
    response = ada_client.post("/products/starter/subscribe/", {"next": "https://evil.example/"})
    newest = Subscription.objects.order_by("created", "pk").last()
    assert newest is not None and response["Location"] == newest.get_absolute_url()
    # A request still to be approved gives no key yet: its page says so.
    form = {"next": back, "accept_terms": "on"}
    response = ada_client.post("/products/gold/subscribe/", form)
    assert response["Location"].startswith("/products/subscriptions/")


def test_subscribe_without_accepting_terms_changes_nothing(ada_client: Client, gold: Any) -> None:
    response = ada_client.post("/products/gold/subscribe/", {}, follow=True)
    assert "Accept the terms of use" in response.content.decode()
    assert not Subscription.objects.exists()


def test_terms_accepted_on_a_page_loaded_before_they_changed_subscribe_no_one(
    ada_client: Client, gold: Any
) -> None:
    """The form says which terms were read; accepting "**No** resale." is no acceptance of
    the terms an administrator put in their place while the page stood open."""
    html = ada_client.get("/products/gold/").content.decode()
    [version] = re.findall(r'name="terms_version" value="([^"]+)"', html)
    gold.terms = "No resale, and we may read your traffic."
    gold.save()
    form = {"accept_terms": "on", "terms_version": version}
    response = ada_client.post("/products/gold/subscribe/", form, follow=True)
    assert "The terms of use changed" in response.content.decode()
    assert not Subscription.objects.exists()
    html = response.content.decode()  # the product page again, with the new terms to accept
    [form["terms_version"]] = re.findall(r'name="terms_version" value="([^"]+)"', html)
    assert form["terms_version"] != version
    ada_client.post("/products/gold/subscribe/", form)
    assert Subscription.objects.get().terms_accepted is not None


@pytest.mark.parametrize(
    ("name", "problem"),
    [("a\r\nb", "A name cannot hold a line break."), ("x" * 101, "at most 100 characters")],
)
def test_a_refused_subscription_name_says_why(
    ada_client: Client, starter: Any, name: str, problem: str
) -> None:
    response = ada_client.post("/products/starter/subscribe/", {"name": name}, follow=True)
    assert problem in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_hourly_subscription_limit_is_shown_and_makes_nothing(
    ada_client: Client, ada: Any, starter: Any, settings: Any
) -> None:
    settings.SUBSCRIPTIONS_CREATE_PER_HOUR = 1
    assert ada_client.post("/products/starter/subscribe/", {"name": "one"}).status_code == 302
    refused = ada_client.post("/products/starter/subscribe/", {"name": "two"})
    assert refused.status_code == 400  # the product page again, the name as typed
    assert "You have created 1 subscription in the last hour" in refused.content.decode()
    assert 'value="two"' in refused.content.decode()
    assert Subscription.objects.filter(owner=ada).count() == 1


def test_subscribe_needs_sign_in_and_csrf(client: Client, ada: Any, starter: Any) -> None:
    assert client.post("/products/starter/subscribe/").status_code == 302  # to sign-in
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ada)
    assert strict.post("/products/starter/subscribe/").status_code == 403
    assert not Subscription.objects.exists()


def _application(owner: Any, name: str) -> Any:
    return app_flows.register(owner, name=name, kind="machine", redirect_uris=[]).application


def test_subscribe_for_one_of_my_applications(ada_client: Client, ada: Any, starter: Any) -> None:
    app = _application(ada, "Nightly sync")
    form = ada_client.get("/products/starter/").content.decode()
    assert '<option value="">Myself</option>' in form and f'value="{app.uuid}"' in form
    response = ada_client.post("/products/starter/subscribe/", {"application": str(app.uuid)})
    sub = Subscription.objects.get(owner=ada)
    assert response["Location"] == sub.get_absolute_url() and sub.application == app
    page = ada_client.get(sub.get_absolute_url()).content.decode()
    assert "for <a" in page and "Nightly sync" in page
    listing = ada_client.get("/products/subscriptions/").content.decode()
    assert "Nightly sync" in listing and "Myself" not in listing


def test_a_refused_subscription_keeps_what_was_typed_beside_the_reason(
    ada_client: Client, ada: Any, gold: Any
) -> None:
    """A refusal (terms not ticked, a name refused) sent the developer back to an empty form,
    the reason at the top of the page: the name typed and the application chosen were gone."""
    app = _application(ada, "Nightly sync")
    form = {"name": "staging", "application": str(app.uuid)}
    response = ada_client.post("/products/gold/subscribe/", form)
    assert response.status_code == 400
    html = response.content.decode()
    [subscribe] = re.findall(r'<form method="post" action="/products/gold/subscribe/".*?</form>',
                             html, re.S)  # fmt: skip
    assert "Accept the terms of use" in subscribe and 'role="alert"' in subscribe
    assert 'name="name" maxlength="100" autocomplete="off" value="staging"' in subscribe
    assert f'<option value="{app.uuid}" selected>' in subscribe
    assert 'name="accept_terms" required>' in subscribe  # ticking the terms stays a choice
    assert not Subscription.objects.exists()


def test_subscribe_for_myself_by_default(ada_client: Client, ada: Any, starter: Any) -> None:
    _application(ada, "Nightly sync")
    ada_client.post("/products/starter/subscribe/", {"application": ""})
    assert Subscription.objects.get(owner=ada).application is None
    assert "Myself" in ada_client.get("/products/subscriptions/").content.decode()


def test_subscribe_for_another_developers_application_is_404(
    ada_client: Client, bob: Any, starter: Any
) -> None:
    """SECURITY.md case 68: nothing is made."""
    bobs = _application(bob, "Bob's tool")
    assert f'value="{bobs.uuid}"' not in ada_client.get("/products/starter/").content.decode()
    response = ada_client.post("/products/starter/subscribe/", {"application": str(bobs.uuid)})
    assert response.status_code == 404 and not Subscription.objects.exists()


def test_subscribe_flow_refuses_another_developers_application(
    ada: Any, bob: Any, starter: Any
) -> None:
    with pytest.raises(flows.FlowError, match="Not your application"):
        flows.subscribe(ada, starter, application=_application(bob, "Bob's tool"))
    assert not Subscription.objects.exists()


# --- my subscriptions -------------------------------------------------------------------


@pytest.fixture
def ada_sub(ada: Any, starter: Any) -> Subscription:
    return flows.subscribe(ada, starter, name="staging")


def test_my_subscriptions_lists_only_mine(
    ada_client: Client, ada_sub: Subscription, bob: Any, starter: Any
) -> None:
    bobs = flows.subscribe(bob, starter, name="bobs-app")
    html = ada_client.get("/products/subscriptions/").content.decode()
    assert "staging" in html and "bobs-app" not in html and str(bobs.uuid) not in html


def test_an_unnamed_subscription_is_called_by_its_product_as_on_its_page(
    ada_client: Client, ada: Any, starter: Any
) -> None:
    # The list linked "(unnamed)" to a page headed "Starter"; the usage pages said "Starter".
    sub = flows.subscribe(ada, starter)
    html = ada_client.get("/products/subscriptions/").content.decode()
    assert f'<a href="/products/subscriptions/{sub.uuid}/">Starter</a>' in html
    assert "(unnamed)" not in html


def test_case70_keys_are_masked_until_shown_and_never_in_a_url(
    ada_client: Client, ada_sub: Subscription
) -> None:
    primary = flows.shown_key(ada_sub, "primary")
    page = ada_client.get(f"/products/subscriptions/{ada_sub.uuid}/")
    html = page.content.decode()
    assert primary not in html and "••••••••" + primary[-4:] in html
    assert page["Cache-Control"].startswith("no-cache") or "no-store" in page["Cache-Control"]
    shown = ada_client.post(f"/products/subscriptions/{ada_sub.uuid}/show/", {"which": "primary"})
    assert primary in shown.content.decode() and "no-store" in shown["Cache-Control"]
    assert flows.shown_key(ada_sub, "secondary") not in shown.content.decode()


def test_show_with_htmx_returns_the_keys_fragment_only(
    ada_client: Client, ada_sub: Subscription
) -> None:
    response = ada_client.post(
        f"/products/subscriptions/{ada_sub.uuid}/show/",
        {"which": "secondary"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="keys"') and "<html" not in html
    assert flows.shown_key(ada_sub, "secondary") in html


def test_regenerate_replaces_one_key(ada_client: Client, ada_sub: Subscription) -> None:
    old = ada_sub.secondary_hash
    response = ada_client.post(
        f"/products/subscriptions/{ada_sub.uuid}/regenerate/", {"which": "secondary"}
    )
    assert response.status_code == 302
    ada_sub.refresh_from_db()
    assert ada_sub.secondary_hash != old
    assert ada_sub.events.filter(action="regenerate secondary key").exists()


def test_cancel_by_the_developer(ada_client: Client, ada_sub: Subscription) -> None:
    ada_client.post(f"/products/subscriptions/{ada_sub.uuid}/cancel/")
    ada_sub.refresh_from_db()
    assert ada_sub.state == "cancelled"


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "", {}),
        ("post", "show/", {"which": "primary"}),
        ("post", "regenerate/", {"which": "primary"}),
        ("post", "cancel/", {}),
    ],
)
def test_another_developers_subscription_is_404_and_unchanged(
    client: Client, bob: Any, ada_sub: Subscription, method: str, suffix: str, data: dict[str, str]
) -> None:
    """SECURITY.md case 68."""
    client.force_login(bob)
    before = (ada_sub.state, ada_sub.primary_hash)
    response = getattr(client, method)(f"/products/subscriptions/{ada_sub.uuid}/{suffix}", data)
    assert response.status_code == 404
    ada_sub.refresh_from_db()
    assert (ada_sub.state, ada_sub.primary_hash) == before


def test_subscription_pages_need_sign_in(client: Client, ada_sub: Subscription) -> None:
    assert client.get("/products/subscriptions/").status_code == 302
    assert client.get(f"/products/subscriptions/{ada_sub.uuid}/").status_code == 302


# --- approval queue ---------------------------------------------------------------------


@pytest.fixture
def pending(ada: Any, gold: Any) -> Subscription:
    return flows.subscribe(ada, gold, accept_terms=True)


def test_the_queue_needs_the_permission_not_staff(
    client: Client, make_user: Any, pending: Subscription
) -> None:
    client.force_login(make_user("clerk", is_staff=True))
    assert client.get("/products/approvals/").status_code == 403
    assert (
        client.post(f"/products/approvals/{pending.uuid}/", {"action": "approve"}).status_code
        == 403
    )
    pending.refresh_from_db()
    assert pending.state == "submitted"


def test_approve_without_scripts(client: Client, approver: Any, pending: Subscription) -> None:
    client.force_login(approver)
    html = client.get("/products/approvals/").content.decode()
    assert "ada" in html and "Gold" in html
    response = client.post(f"/products/approvals/{pending.uuid}/", {"action": "approve"})
    assert response.status_code == 302 and response["Location"] == "/products/approvals/"
    pending.refresh_from_db()
    assert pending.state == "active"
    assert "Nothing waiting" in client.get("/products/approvals/").content.decode()


def test_the_queue_says_which_application_each_request_is_for(
    client: Client, approver: Any, ada: Any, gold: Any, pending: Subscription
) -> None:
    # The queue named the developer, the product and the subscription's own name, not the
    # application whose client would get the product's APIs' scopes once approved.
    app = _application(ada, "Nightly sync")
    flows.subscribe(ada, gold, accept_terms=True, application=app, name="prod")
    client.force_login(approver)
    html = client.get("/products/approvals/").content.decode()
    assert '<th scope="col">For</th>' in html
    assert "<td>the developer</td>" in html
    assert (
        '<td>Nightly sync <span class="muted">Machine client</span>'
        ' <span class="muted">“prod”</span></td>'
    ) in html


def test_reject_with_htmx_swaps_the_row_and_needs_a_reason(
    client: Client, approver: Any, pending: Subscription
) -> None:
    client.force_login(approver)
    url = f"/products/approvals/{pending.uuid}/"
    missing = client.post(url, {"action": "reject"}, headers={"HX-Request": "true"})
    # A 200, or htmx would not swap the row that says why nothing happened.
    assert missing.status_code == 200 and "Say why" in missing.content.decode()
    pending.refresh_from_db()
    assert pending.state == "submitted"
    response = client.post(
        url, {"action": "reject", "reason": "unknown company"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="sub-{pending.uuid}"') and "Rejected" in html
    pending.refresh_from_db()
    assert pending.state == "rejected"
    assert pending.events.get(action="reject").reason == "unknown company"


def test_regenerating_in_place_adds_the_entry_to_the_history_shown(
    ada_client: Client, ada_sub: Subscription
) -> None:
    """With htmx the new key replaced the keys table, but the page's History still ended at
    the previous entry until a reload: the answer now carries the history out of band."""
    response = ada_client.post(
        f"/products/subscriptions/{ada_sub.uuid}/regenerate/",
        {"which": "primary"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="keys"')
    history = html[html.index('<section id="history" hx-swap-oob="true">') :]
    assert "regenerate primary key" in history
    # The page's messages are replaced too: the new key is confirmed, and an earlier notice
    # ("You are subscribed...") does not stay up as if it were the answer.
    notice = html[html.index('<div id="messages" role="status" hx-swap-oob="true">') :]
    assert "A new primary key was made; the old one no longer works." in notice
    page = ada_client.get(f"/products/subscriptions/{ada_sub.uuid}/").content.decode()
    assert '<section id="history">' in page  # the full page's own is not out of band


def test_a_rejected_subscription_says_why_and_offers_no_keys(
    ada_client: Client, approver: Any, pending: Subscription
) -> None:
    """It showed two masked keys with "Show" buttons, keys that never work, and the reason
    only as the last line of its history."""
    flows.change_state(pending, "reject", approver, "Unknown company")
    html = ada_client.get(f"/products/subscriptions/{pending.uuid}/").content.decode()
    callout = strip_tags(
        html[html.index('class="callout') : html.index("</p>", html.index('class="callout'))]
    )
    assert "Rejected by an administrator: Unknown company." in callout
    assert "data-key-masked" not in html and ">Show</button>" not in html
    assert "This subscription has no usable keys." in html


def test_cancelling_asks_first_on_a_page_of_its_own(
    ada_client: Client, ada_sub: Subscription
) -> None:
    """One click on the subscription page cancelled it for good (a cancelled subscription is
    never reactivated); applications are deleted only after a page that asks."""
    url = f"/products/subscriptions/{ada_sub.uuid}/cancel/"
    page = ada_client.get(f"/products/subscriptions/{ada_sub.uuid}/").content.decode()
    assert f'href="{url}"' in page and f'action="{url}"' not in page
    asking = ada_client.get(url)
    assert asking.status_code == 200
    html = asking.content.decode()
    assert "cannot be undone" in html and f'action="{url}"' in html
    ada_sub.refresh_from_db()
    assert ada_sub.state == "active"
    assert ada_client.post(url).status_code == 302
    ada_sub.refresh_from_db()
    assert ada_sub.state == "cancelled"


def test_a_product_no_longer_offered_is_named_without_a_link_to_its_404(
    ada_client: Client, ada: Any, echo: Api, make_product: MakeProduct, make_group: Any
) -> None:
    """The developer left the product's group (or it was unpublished): the subscription and
    its keys stay theirs, but its product page answers 404; the pages linked to it."""
    make_group("partners", ada)
    deal = make_product("deal", echo, groups=("partners",))
    sub = flows.subscribe(ada, deal)
    ada.portal_groups.clear()
    for url in ("/products/subscriptions/", f"/products/subscriptions/{sub.uuid}/"):
        html = ada_client.get(url).content.decode()
        assert "Deal" in html and "/products/deal/" not in html
        assert "no longer offered to you" in html
    assert ada_client.get("/products/deal/").status_code == 404
    html = ada_client.get(f"/products/subscriptions/{sub.uuid}/").content.decode()
    assert "keep working" in html  # the gateway still takes them (APIM's behaviour)
    deal.published = False
    deal.save()
    html = ada_client.get(f"/products/subscriptions/{sub.uuid}/").content.decode()
    assert "no longer published" in html and "/products/deal/" not in html


@pytest.mark.parametrize("page", ["/products/", "/products/starter/", "/applications/"])
def test_pages_that_show_a_developers_own_rows_are_not_kept_by_caches(
    ada_client: Client, ada_sub: Subscription, page: str
) -> None:
    """The product list and page say which products this user's groups may see and list
    their subscriptions and applications. They went out with no Cache-Control at all, where
    My subscriptions, My applications and the application pages say no-store: a cache that
    stores heuristically could serve one developer's rows to another (or a group's products
    to someone outside it)."""
    response = ada_client.get(page)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]

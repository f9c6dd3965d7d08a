"""Products and subscriptions as a developer and an administrator meet them, in headless
Chromium against the default run (`seed_demo` + `serve`: provider, gateway, echo backend).

The demo developer asks for Unlimited, an administrator approves it in the queue, the key
appears and the console's call with it gets 200; regenerating the secondary key refuses the
old one at the gateway; the administrator suspends the subscription and within 5 s the same
console call gets 401 with the reason shown.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.console.live import DEMO_PASSWORD, DEMO_USER, Portal, running_portal
from tests.e2e.browser import password_token, sign_in

pytestmark = [pytest.mark.e2e]

ADMIN, ADMIN_PASSWORD = "root", "root-password-e2e"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    workdir = tmp_path_factory.mktemp("products-e2e")
    with running_portal(workdir) as running:
        # The running portal's own environment: its database is SQLite or, on the
        # PostgreSQL pass, a database of its own on that server.
        running.create_superuser(ADMIN, ADMIN_PASSWORD)
        yield running


def send(page: Any) -> tuple[str, str]:
    with page.expect_response("**/console/send/") as answer:
        page.click("#console-send")
    assert answer.value.status == 200
    page.wait_for_selector("#console-result [data-status-code]")
    return page.inner_text("#console-result [data-status-code]"), page.inner_text("#console-result")


def test_subscribe_approve_call_regenerate_suspend(
    page: Any, chromium: Any, portal: Portal, screenshot_dir: Path
) -> None:
    # The developer asks for Unlimited, which needs approval.
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/products/")
    page.screenshot(path=str(screenshot_dir / "products-list.png"))
    page.get_by_role("link", name="Unlimited").first.click()
    page.wait_for_url("**/products/unlimited/")
    page.fill("#sub-name", "e2e")
    page.screenshot(path=str(screenshot_dir / "product-detail.png"), full_page=True)
    page.get_by_role("button", name="Request a subscription").click()
    page.wait_for_url("**/products/subscriptions/*/")
    subscription_url = page.url
    assert "Waiting for an administrator's approval" in page.inner_text("main")

    # An administrator approves it in the queue (htmx swaps the row).
    admin = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(admin, portal, ADMIN, ADMIN_PASSWORD, "/products/approvals/")
    row = admin.locator("tr", has_text="Unlimited")
    admin.screenshot(path=str(screenshot_dir / "approval-queue.png"))
    row.get_by_role("button", name="Approve").click()
    admin.locator("tr", has_text="Unlimited").locator("[data-state=active]").wait_for()

    # The key appears, masked until shown; the console uses it on the server.
    page.goto(subscription_url)
    assert page.inner_text("[data-state]") == "Active"
    assert page.locator("[data-key]").count() == 0
    page.locator("tr", has_text="Secondary").get_by_role("button", name="Show").click()
    old_secondary = page.inner_text("[data-key=secondary]")
    assert len(old_secondary) >= 43
    page.screenshot(path=str(screenshot_dir / "my-subscription.png"), full_page=True)

    page.goto(portal.url("/apis/echo/operations/echoGet/"))
    page.locator("#console-subscription label", has_text="Unlimited").locator("input").check()
    assert old_secondary not in page.content()
    password_token(page, "echo.read", DEMO_USER, DEMO_PASSWORD)
    status, result = send(page)
    assert status == "200"
    assert old_secondary not in page.content()

    # Regenerating the secondary key: the gateway refuses the old one.
    gateway = portal.url("/gateway/echo/anything")
    page.goto(subscription_url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text="Secondary").get_by_role("button", name="Regenerate").click()
    page.wait_for_selector("[data-key=secondary]")
    assert page.inner_text("[data-key=secondary]") != old_secondary
    # The page's history has the new entry without a reload, and its message says so.
    expect(page.locator("#history")).to_contain_text("regenerate secondary key")
    expect(page.locator("#messages")).to_have_text(
        "A new secondary key was made; the old one no longer works."
    )
    deadline = time.monotonic() + 5  # every gateway process reloads keys within 5 s
    while True:
        refused = requests.get(
            gateway, headers={"Ocp-Apim-Subscription-Key": old_secondary}, timeout=10
        )
        # Until then the old key passes the key check and fails validate-jwt (no token).
        if refused.json()["check"] == "subscription-key" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert refused.status_code == 401 and refused.json()["check"] == "subscription-key"

    # The administrator suspends it in the admin; within 5 s the console call gets 401.
    admin.goto(portal.url("/admin/products/subscription/?q=Unlimited"))
    admin.check("#action-toggle")
    admin.select_option("select[name=action]", "suspend_selected")
    admin.get_by_role("button", name="Run").or_(
        admin.get_by_role("button", name="Go")
    ).first.click()
    # The action asks for an optional reason first; none is given.
    admin.wait_for_selector("textarea[name=reason]")
    admin.get_by_role("button", name="Suspend", exact=True).click()
    admin.wait_for_selector("text=Suspended 1 subscription.")
    page.goto(portal.url("/apis/echo/operations/echoGet/"))
    page.wait_for_selector(".console-token >> text=password")
    unlimited = page.locator("#console-subscription label", has_text="Unlimited")
    assert "suspended" in unlimited.inner_text()
    unlimited.locator("input").check()  # the same call as before
    deadline = time.monotonic() + 5
    while True:
        status, result = send(page)
        if status == "401" or time.monotonic() > deadline:
            break
    assert status == "401"
    assert "suspended" in result
    assert page.console_errors == []


def requested_by(portal: Portal, username: str) -> None:
    """A developer of their own asks for Unlimited (approval required), so the queue has
    their row whatever the other tests of this module did with the demo user's."""
    portal.manage(
        "shell", "-c",
        "from django.contrib.auth import get_user_model; from products import flows; "
        "from products.models import Product; "
        f"user = get_user_model().objects.create_user({username!r}, {username + '@example.com'!r}); "
        f"flows.subscribe(user, Product.objects.get(slug='unlimited'), name={username!r})",
    )  # fmt: skip


def test_rejecting_without_a_reason_says_so_in_the_row(
    page: Any, chromium: Any, portal: Portal
) -> None:
    """The row's answer to a reject without a reason went out as a 400, which htmx does not
    swap: nothing happened on screen (and, under DEBUG, django-htmx's error page handler put
    the bare row in place of the whole page)."""
    requested_by(portal, "e2e-reject")
    admin = page
    sign_in(admin, portal, ADMIN, ADMIN_PASSWORD, "/products/approvals/")
    row = admin.locator("tr", has_text="e2e-reject")
    row.get_by_role("button", name="Reject").click()
    expect(row.get_by_role("alert")).to_have_text("Say why, for the developer.")
    expect(admin.get_by_role("heading", name="Approval queue")).to_be_visible()
    row.get_by_label("Reason").fill("Unknown company")
    row.get_by_role("button", name="Reject").click()
    expect(row.locator("[data-state=rejected]")).to_be_visible()


def test_the_approval_queue_on_a_phone_does_not_scroll_sideways(
    page: Any, chromium: Any, portal: Portal
) -> None:
    """The row's visually hidden "Reason" label, absolutely positioned, escaped the table's
    own scrolling box at 390 px and made the whole page scroll sideways."""
    requested_by(portal, "e2e-phone")
    admin = page
    admin.set_viewport_size({"width": 390, "height": 844})
    sign_in(admin, portal, ADMIN, ADMIN_PASSWORD, "/products/approvals/")
    admin.locator("tr", has_text="e2e-phone").wait_for()
    widths = admin.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths

"""Usage pages in headless Chromium against the default run (`seed_demo` + `serve`: the
provider, the gateway recording every call, the aggregator, the echo backend).

The journeys: the demo developer calls the echo API from the console as their own
application (and, before, with their Starter subscription's key), opens the application's
(the subscription's) usage page and, within a minute, sees the calls in the chart and in its
table. Then a week of made-up calls (tests/e2e/usage_seed.py, through
the aggregator) for axe on both themes, the viewer's time zone on the axes, and the
screenshots (UPDATE_SCREENSHOTS=1 writes docs/screenshots/usage-*.png).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.console.live import DEMO_PASSWORD, DEMO_USER, Portal, running_portal
from tests.e2e.browser import (
    application_token,
    password_token,
    register_machine_application,
    sign_in,
)
from tests.e2e.test_accessibility import phone_page, violations
from tests.e2e.usage_seed import SEED

pytestmark = [pytest.mark.e2e]

ADMIN, ADMIN_PASSWORD = "root", "root-password-e2e"
ZONE = "Europe/Paris"
APP = "Usage journey app"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with running_portal(tmp_path_factory.mktemp("usage-e2e")) as running:
        running.create_superuser(ADMIN, ADMIN_PASSWORD)
        # The aggregator beside the portal, as `make run` starts it.
        log = (running.log.parent / "aggregate.log").open("w")
        aggregator = subprocess.Popen(
            [sys.executable, "manage.py", "aggregate_usage"],
            cwd=REPO_ROOT, env=running.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield running
        finally:
            aggregator.terminate()
            aggregator.wait(10)
            log.close()


def new_context(chromium: Any, theme: str = "light", **options: Any) -> Any:
    options.setdefault("viewport", {"width": 1280, "height": 900})
    # bypass_csp: axe is injected as an inline script, which the portal's CSP rightly refuses.
    context = chromium.new_context(timezone_id=ZONE, bypass_csp=True, **options)
    context.add_init_script(f"try {{ localStorage.setItem('theme', '{theme}'); }} catch (e) {{}}")
    return context


def stat(page: Any, label: str) -> str:
    return str(page.locator("[data-stats] div", has_text=label).locator("dd").inner_text())


def browser_in_paris(chromium: Any) -> tuple[Any, list[str]]:
    """A page whose browser is in Paris: the portal learns the zone from the tz cookie
    (static/js/tz.js); console errors collected."""
    page = new_context(chromium).new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page, errors


def call_three_times(page: Any) -> None:
    for _ in range(3):
        with page.expect_response("**/console/send/"):
            page.click("#console-send")
        page.wait_for_selector("#console-result [data-status-code]")
        assert page.inner_text("#console-result [data-status-code]") == "200"


def sees_the_three_calls(page: Any) -> None:
    """On a usage page: within a minute the three calls are in the chart and the table."""
    # The gateway flushes its batches and the aggregator rolls them up within a minute.
    deadline = time.monotonic() + 90
    while stat(page, "Calls") != "3" and time.monotonic() < deadline:
        time.sleep(3)
        page.get_by_role("link", name="Refresh").click()  # htmx swaps the body in place
        page.wait_for_load_state("networkidle")
    assert stat(page, "Calls") == "3"
    page.reload()  # no refresh still in flight while the table is opened
    # In the chart: one success bar; its tooltip counts the three calls.
    assert page.locator("#chart-calls rect.s-success").count() == 1
    assert "3 calls (3 success" in page.locator("#chart-calls").inner_html()
    # In the table (behind its summary), the hour's row, in the browser's zone.
    page.locator("[data-table=calls] summary").click()
    rows = page.locator("[data-table=calls] tbody tr")
    rows.first.wait_for(state="visible")
    assert rows.count() == 1
    assert rows.first.locator("td").all_inner_texts() == ["3", "0", "0", "0", "3"]
    assert f"Time ({ZONE})" in page.inner_text("#chart-calls")
    assert "echoGet" in page.inner_text("[data-ranked]")


def test_console_calls_with_a_subscription_key_appear_on_its_usage_page(
    chromium: Any, portal: Portal
) -> None:
    page, errors = browser_in_paris(chromium)
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/apis/echo/operations/echoGet/")
    page.locator("#console-subscription label", has_text="Starter").locator("input").check()
    password_token(page, "echo.read", DEMO_USER, DEMO_PASSWORD)
    call_three_times(page)
    # From the subscription to its usage page, by the links a developer follows.
    page.goto(portal.url("/products/subscriptions/"))
    page.get_by_role("link", name="demo").first.click()
    page.get_by_role("link", name=re.compile("^Usage")).click()
    page.wait_for_url("**/usage/subscriptions/*/")
    sees_the_three_calls(page)
    assert errors == []
    page.context.close()


def test_console_calls_as_an_application_appear_on_its_usage_page(
    chromium: Any, portal: Portal
) -> None:
    """The issue's journey: calls from the console as the developer's own application."""
    page, errors = browser_in_paris(chromium)
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/products/")
    register_machine_application(page, portal, APP, "usage-app")

    page.goto(portal.url("/apis/echo/operations/echoGet/"))
    application_token(page, APP, "echo.read")
    page.locator(".console-token", has_text=f"{APP} (your application)").wait_for()
    page.locator("#console-subscription label", has_text="usage-app").locator("input").check()
    call_three_times(page)

    # From the application to its usage page, by the links a developer follows.
    page.goto(portal.url("/applications/"))
    page.get_by_role("link", name=APP).click()
    page.get_by_role("link", name=re.compile("^Usage")).click()
    page.wait_for_url("**/usage/applications/*/")
    sees_the_three_calls(page)
    assert errors == []
    page.context.close()


def test_usage_pages_pass_axe_in_both_themes_and_make_the_screenshots(
    chromium: Any, portal: Portal, screenshot_dir: Path
) -> None:
    made = portal.manage(
        "shell", "-c",
        "from django.contrib.auth import get_user_model; from applications import flows; "
        "a = flows.register(get_user_model().objects.get(username='demo'), name='Weather app',"
        " description='', kind='machine', redirect_uris=[]).application; "
        "print('MADE', a.uuid, a.client_id)",
    )  # fmt: skip
    _, app_uuid, client_id = next(
        line for line in made.splitlines() if line.startswith("MADE")
    ).split()
    assert "events" in portal.manage("shell", "-c", SEED, USAGE_SEED_CLIENT_ID=client_id)
    app_page = f"/usage/applications/{app_uuid}/?range=7d"
    reports_page = "/usage/reports/?range=7d&by=operation&order=calls"
    report: dict[str, list[str]] = {}
    for theme in ("light", "dark"):
        context = new_context(chromium, theme)
        page = context.new_page()
        try:
            sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/applications/")
            page.goto(portal.url(app_page))
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            assert f"Time ({ZONE})" in page.inner_text("#chart-calls")
            assert page.locator("#chart-calls rect.s-success").count() > 100
            page.locator("[data-table=calls] summary").click()
            report[f"application {theme}"] = violations(page)
            page.locator("[data-table=calls] summary").click()
            page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top
            page.screenshot(
                path=str(screenshot_dir / f"usage-application-{theme}.png"), full_page=True
            )
            # The range changes in place (htmx), and the address follows.
            page.get_by_role("link", name="Last 30 days").click()
            page.wait_for_url("**range=30d")
            page.wait_for_selector("#chart-calls >> text=Calls per day")
            page.goto(portal.url("/products/subscriptions/"))
            page.get_by_role("link", name="demo").first.click()
            page.get_by_role("link", name=re.compile("^Usage")).click()
            page.wait_for_selector("[data-quota]")
            report[f"subscription {theme}"] = violations(page)
            # My usage, from the account menu: the seeded application's calls on its row.
            page.locator("summary[data-account-name]").click()
            page.get_by_role("link", name="My usage").click()
            page.get_by_role("link", name="Last 7 days").click()
            page.wait_for_url("**/usage/?range=7d")
            weather = page.locator("[data-overview=applications] tr", has_text="Weather app")
            assert int(weather.locator("td").nth(1).inner_text().replace(",", "")) > 0
            report[f"my usage {theme}"] = violations(page)
            if theme == "light":
                page.screenshot(path=str(screenshot_dir / "usage-mine.png"), full_page=True)
            if theme == "light":
                page.set_viewport_size({"width": 390, "height": 844})
                page.goto(portal.url(app_page))
                page.screenshot(
                    path=str(screenshot_dir / "usage-application-phone.png"), full_page=True
                )
        finally:
            context.close()
        context = new_context(chromium, theme)
        page = context.new_page()
        try:
            sign_in(page, portal, ADMIN, ADMIN_PASSWORD, "/usage/reports/")
            page.goto(portal.url(reports_page))
            assert "Top operations by calls" in page.inner_text("main")
            assert page.locator("[data-ranked] tbody tr").count() == 5  # the seed's five
            report[f"reports {theme}"] = violations(page)
            page.screenshot(path=str(screenshot_dir / f"usage-reports-{theme}.png"), full_page=True)
        finally:
            context.close()
    failing = {name: found for name, found in report.items() if found}
    assert failing == {}, json.dumps(failing, indent=2)


def test_a_filter_the_reports_refuse_shows_its_error_beside_the_form(
    page: Any, portal: Portal
) -> None:
    """The htmx answer to filters that do not validate was a 400, which htmx does not swap:
    "Show" did nothing (and, under DEBUG, django-htmx put the bare fragment in place of the
    page, form included)."""
    sign_in(page, portal, ADMIN, ADMIN_PASSWORD, "/usage/reports/")
    page.fill("[name=developer]", "nosuchuser")
    page.locator("form.usage-filters").get_by_role("button", name="Show").click()
    page.wait_for_selector("[data-error=developer]")
    assert page.inner_text("[data-error=developer]") == "No developer has this user name."
    assert page.input_value("[name=developer]") == "nosuchuser"
    assert "Fix the filters above to see a report." in page.inner_text("main")


def test_my_usage_fits_a_phone(chromium: Any, portal: Portal) -> None:
    # At 390 px both tables of My usage scrolled sideways: a subscription's calls, error
    # rate, p50 and quota (and an application's client id and numbers) were out of sight
    # to the right, with no column header left in view to say which number was which.
    portal.manage(
        "shell", "-c",
        "from django.contrib.auth import get_user_model; from applications import flows; "
        "flows.register(get_user_model().objects.get(username='demo'), name='Phone app',"
        " description='', kind='machine', redirect_uris=[])",
    )  # fmt: skip
    with phone_page(chromium) as page:
        sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/usage/")
        for table in ("subscriptions", "applications"):
            region = page.locator(f"[data-overview={table}]")
            for box in (region, region.locator("xpath=..")):  # the table and its region
                assert box.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), table
            row = region.locator("tbody tr").first
            for cell in row.locator("th, td").all():
                box = cell.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (
                    table,
                    cell.inner_text(),
                )
            # Each number still says what it is, the column headers being out of the way.
            calls = row.locator("td[data-label=Calls]")
            assert calls.evaluate("el => getComputedStyle(el, '::before').content") == '"Calls"'
            assert calls.is_visible()

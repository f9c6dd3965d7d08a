"""The try-it console as a developer meets it, in headless Chromium against the default run
(`seed_demo` + `serve`: the built-in provider, the gateway and the echo backend, for real).

catalog -> operation -> sign in -> authorization code flow -> send (200, echoed Authorization)
-> client credentials as the developer's own machine application (200; the shared console
client offers none) -> a token for the wrong audience (401, reason shown) -> an expired token
refreshed without the user doing anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.live import DEMO_PASSWORD, DEMO_USER, Portal, running_portal
from tests.e2e.browser import (
    application_token,
    password_token,
    register_machine_application,
    sign_in,
)

pytestmark = [pytest.mark.e2e]

APP = "Console journey job"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with running_portal(tmp_path_factory.mktemp("console-e2e")) as running:
        yield running


def send_and_wait(page: Any) -> tuple[str, str]:
    """Press Send; the status the gateway answered, and the response panel's text."""
    with page.expect_response("**/console/send/") as answer:
        page.click("#console-send")
    assert answer.value.status == 200
    page.wait_for_selector("#console-result [data-status-code]")
    return page.inner_text("#console-result [data-status-code]"), page.inner_text("#console-result")


def shoot(page: Any, path: Path) -> None:
    """The console panel alone, in a viewport tall enough that the sticky header stays out."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 3600})
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#console").screenshot(path=str(path), caret="initial")
    page.set_viewport_size(size)


def test_console_journey(page: Any, portal: Portal, screenshot_dir: Path) -> None:
    page.goto(portal.url("/apis/"))
    page.get_by_role("link", name="Echo API").first.click()
    page.get_by_role("link", name="Echo a GET request").first.click()
    page.wait_for_url("**/apis/echo/operations/echoGet/**")
    assert "Sign in to try it" in page.inner_text("#console")
    page.locator("#console").screenshot(
        path=str(screenshot_dir / "console-signed-out.png"), caret="initial"
    )

    # Sign in with the header button: the provider's login, then back on this page.
    page.get_by_role("button", name="Sign in").first.click()
    page.wait_for_url("**/idp/login/**")
    page.fill("#id_username", DEMO_USER)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/apis/echo/operations/echoGet/**")
    assert page.locator("#console-form").count() == 1
    # Legacy grants are offered with RFC 9700's warning.
    assert page.locator(".console-legacy").count() == 2

    # Authorization code with PKCE: the provider asks for consent, then back to the same
    # page with the form as it was left.
    page.fill('input[name="param.query.message"]', "hello from Chromium")
    page.get_by_role("button", name="Get token · Authorization code with PKCE").click()
    page.wait_for_url("**/idp/authorize/**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/apis/echo/operations/echoGet/**")
    assert page.input_value('input[name="param.query.message"]') == "hello from Chromium"
    token = page.locator(".console-token").first
    assert token.locator('[data-claim="aud"]').inner_text() == "api://echo"
    assert "authorization_code" in token.inner_text()

    status, result = send_and_wait(page)
    assert status == "200"
    assert '"authorization": "Bearer [' in result  # the echo backend saw our token
    assert "hello from Chromium" in result
    assert (
        page.evaluate("performance.getEntriesByType('navigation').length") == 1
    )  # htmx, no reload
    shoot(page, screenshot_dir / "console-200.png")

    # The shared console client offers no client credentials (its token would have no
    # developer behind it, so no API scope); the panel says where machine calls go.
    assert page.locator('[data-grant="client_credentials"]').count() == 0
    assert "My applications" in page.inner_text("[data-per-developer]")

    # Client credentials as the developer's own machine application, on the server, swapped
    # in by htmx. (Tokens are kept per client and scopes: the authorization-code token stays.)
    register_machine_application(page, portal, APP, "console-journey")
    page.goto(portal.url("/apis/echo/operations/echoGet/"))
    page.fill('input[name="param.query.message"]', "hello from Chromium")
    application_token(page, APP, "echo.read")
    page.wait_for_selector(".console-token >> text=client_credentials")
    assert send_and_wait(page)[0] == "200"

    # A token for another API's audience: the gateway's reason beside the decoded token.
    application_token(page, APP, "petstore.read")
    page.wait_for_selector('[data-claim="aud"] >> text=api://petstore')
    status, result = send_and_wait(page)
    assert status == "401"
    assert "The token's aud is api://petstore; this API expects api://echo." in result
    scopes = page.locator(".console-apps [data-app]", has_text=APP).locator(
        "input[name^='scopes.app.']"
    )
    assert scopes.input_value() == "petstore.read"  # as typed
    shoot(page, screenshot_dir / "console-401-audience.png")
    # At 1440 px the reason sat in three fifths of the narrow console column (about 260 px,
    # a few words a line) with the token's claims squeezed beside it: the reason now takes the
    # column's width, the claims under it, whenever the two do not fit side by side.
    page.set_viewport_size({"width": 1440, "height": 900})
    shoot(page, screenshot_dir / "console-401-audience-1440.png")
    reason = page.locator(".console-rejection .callout").bounding_box()
    claims = page.locator(".console-rejection .console-claims").bounding_box()
    column = page.locator("#console-result").bounding_box()
    assert reason is not None and claims is not None and column is not None
    assert reason["width"] >= 0.9 * column["width"] or reason["width"] >= 400, (reason, column)
    assert claims["x"] + claims["width"] <= column["x"] + column["width"] + 1
    page.set_viewport_size({"width": 1280, "height": 900})

    # The authorization-code token runs out (the countdown shows it); sending refreshes it
    # with its refresh token first, without the user doing anything.
    code_token = page.locator(".console-token", has_text="authorization_code")
    code_token.locator('input[name="token"]').check()
    code_token.locator(".console-countdown", has_text="expired").wait_for(timeout=20_000)
    status, result = send_and_wait(page)
    assert "The token had expired, so the console refreshed it first." in result
    assert status == "200"
    # The card beside the form now counts down the new token's lifetime.
    assert code_token.locator(".console-countdown").inner_text() != "expired"
    assert page.console_errors == []


def test_console_without_javascript(chromium: Any, portal: Portal) -> None:
    """Plain form posts all the way: sign in, a token from the server, send, the response page."""
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(portal.url("/apis/echo/operations/echoGet/"))
        page.get_by_role("button", name="Sign in").first.click()
        page.fill("#id_username", DEMO_USER)
        page.fill("#id_password", DEMO_PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/apis/echo/operations/echoGet/**")

        page.fill('input[name="param.query.message"]', "no scripts here")
        # A token from the server for the developer, by a plain form post.
        password_token(page, "echo.read", DEMO_USER, DEMO_PASSWORD)
        page.wait_for_url("**/apis/echo/operations/echoGet/**")
        assert page.input_value('input[name="param.query.message"]') == "no scripts here"
        assert page.locator('.console-token input[name="token"]:checked').count() == 1

        page.click("#console-send")
        page.wait_for_url("**/console/send/")
        assert page.inner_text("[data-status-code]") == "200"
        assert "no scripts here" in page.inner_text(".console-body")
        page.get_by_role("link", name="Load this call into the form").click()
        page.wait_for_url("**/apis/echo/operations/echoGet/**")
        assert page.input_value('input[name="param.query.message"]') == "no scripts here"
    finally:
        context.close()


def test_implicit_hand_over_leaves_nothing_in_the_browser(page: Any, portal: Portal) -> None:
    """The legacy implicit grant: console.js posts the fragment and wipes it from the URL."""
    page.goto(portal.url("/apis/echo/operations/echoGet/"))
    page.get_by_role("button", name="Sign in").first.click()
    page.fill("#id_username", DEMO_USER)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/apis/echo/operations/echoGet/**")

    page.locator(".console-legacy-grant summary", has_text="Implicit").click()  # folded, warned
    assert "RFC 9700 §2.1.2" in page.inner_text(".console-legacy-grant[open]")
    with page.expect_navigation():
        page.get_by_role("button", name="Get token · Implicit (legacy)").click()
    # The provider asks for consent once per client and scopes; an earlier test may have given it.
    if "/idp/authorize/" in page.url:
        page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/apis/echo/operations/echoGet/**")
    assert "access_token" not in page.url
    assert page.locator(".console-token", has_text="implicit").count() == 1
    status, _ = send_and_wait(page)
    assert status == "200"
    # The hand-over left no history entry that carries the token (no URL, no form data).
    page.go_back()
    assert "access_token" not in page.url and "/console/callback/implicit/" not in page.url
    assert page.console_errors == []


def test_refused_input_shows_inline_under_debug(page: Any, portal: Portal) -> None:
    """The default run has DEBUG on, where django-htmx replaces the page with any 400."""
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/apis/echo/operations/echoPost/")
    page.fill("#cb-0", '{"text": ')  # not JSON
    with page.expect_response("**/console/send/") as answer:
        page.click("#console-send")
    assert answer.value.status == 422
    page.wait_for_selector("#console-result .console-error")
    assert "The body is not valid JSON" in page.inner_text("#console-result .console-error")
    # Still the operation page, form and all, as the user left it.
    assert page.locator("#console-form").count() == 1
    assert page.input_value("#cb-0") == '{"text": '
    # Chromium logs every 4xx fetch; anything else would be a script error.
    assert [e for e in page.console_errors if "status of 422" not in e] == []


def test_send_after_the_api_was_unpublished_says_so_inline(page: Any, portal: Portal) -> None:
    """Under DEBUG a 404 from Send replaced the whole page with Django's technical 404."""
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/apis/echo/operations/echoGet/")
    portal.manage(
        "shell", "-c", "from apis.models import Api; Api.objects.filter(slug='echo').update(is_published=False)"
    )  # fmt: skip
    try:
        with page.expect_response("**/console/send/") as answer:
            page.click("#console-send")
        assert answer.value.status == 404
        page.wait_for_selector("#console-result .console-error")
        assert "This operation is not available" in page.inner_text("#console-result")
        assert page.locator("#console-form").count() == 1  # the page is still the page
    finally:
        portal.manage(
            "shell", "-c", "from apis.models import Api; Api.objects.filter(slug='echo').update(is_published=True)"
        )  # fmt: skip


def test_a_swap_over_styled_fields_breaks_no_csp(page: Any, portal: Portal) -> None:
    # A field that has a style attribute, even an empty one (a password manager's or
    # autofill's inline styling leaves one), had it copied onto its replacement by htmx's
    # settling: an inline style the portal's CSP refuses, one console error per field.
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/apis/echo/operations/echoGet/")
    page.evaluate(
        """() => document.querySelectorAll("#console-auth input[id]").forEach(field => {
             field.style.color = "inherit"; field.style.color = ""; })"""
    )  # CSSOM, which the CSP allows; each field keeps style=""
    assert page.locator('#console-auth input[id][style=""]').count() >= 1
    password_token(page, "echo.read", DEMO_USER, DEMO_PASSWORD)
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []


def test_a_refused_value_marks_its_field_until_it_is_fixed(page: Any, portal: Portal) -> None:
    """A call refused because a value fails the schema said what was wrong, but the field
    at fault was not marked: a screen reader user could not find it. It is aria-invalid,
    described by the message about it, and unmarked once a send no longer refuses it."""
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/apis/echo/operations/echoGet/")
    field = page.locator('input[name="param.query.repeat"]')
    field.fill("99")
    with page.expect_response("**/console/send/") as answer:
        page.click("#console-send")
    assert answer.value.status == 422
    page.wait_for_selector("#console-result .console-body-problems")
    assert field.get_attribute("aria-invalid") == "true"
    described = (field.get_attribute("aria-describedby") or "").split()
    assert described, "no aria-describedby"
    said = " ".join(page.inner_text(f"#{name}") for name in described)
    assert "greater than the maximum of 10" in said
    assert page.locator('#console-form [aria-invalid="true"]').count() == 1

    field.fill("3")
    send_and_wait(page)
    assert field.get_attribute("aria-invalid") is None
    assert field.get_attribute("aria-describedby") is None
    assert [e for e in page.console_errors if "status of 422" not in e] == []

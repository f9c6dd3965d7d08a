"""The portal's forms as a signed-in developer sees them, in headless Chromium (live server)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_form_cards_button_is_a_button_not_a_bar(
    page: Any, live_server: Any, client: Any, settings: Any
) -> None:
    # The card lays its children out in a column, which stretched "Register" (and
    # "Subscribe", "Delete") across the whole card with its word at the left end.
    client.force_login(get_user_model().objects.create_user("dev"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/applications/new/")
    card = page.locator("form.card").bounding_box()
    button = page.get_by_role("button", name="Register").bounding_box()
    assert button["width"] < card["width"] / 3
    # The type's group is framed in the theme's border colour, not the browser's default.
    frame = page.locator("form.card fieldset").evaluate("el => getComputedStyle(el).borderTopColor")
    border = page.locator("form.card").evaluate("el => getComputedStyle(el).borderTopColor")
    assert frame == border
    assert page.console_errors == []


def test_without_javascript_no_button_waits_for_it(
    chromium: Any, live_server: Any, client: Any, settings: Any
) -> None:
    # The header's theme switch and the Copy buttons by a client id, a secret or a key are
    # scripts' buttons: without JavaScript they showed and did nothing when pressed.
    client.force_login(get_user_model().objects.create_user("dev"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context = chromium.new_context(java_script_enabled=False)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/applications/new/")
        page.fill("#id_name", "No scripts")
        page.get_by_label("Machine client (client credentials only)").check()
        page.get_by_role("button", name="Register").click()
        page.wait_for_selector("[data-key=secret]")
        copies = page.locator("[data-copy]")
        assert copies.count() == 3  # the client id, the secret, the token command
        hidden = [copies.nth(i).is_hidden() for i in range(copies.count())]
        assert hidden == [True, True, True]
        assert page.locator("[data-theme-toggle]").is_hidden()
    finally:
        context.close()


def test_copy_without_a_clipboard_selects_the_text(
    page: Any, live_server: Any, client: Any, settings: Any
) -> None:
    # The clipboard API exists only in a secure context: on a portal served over plain http
    # by name (http://portal.internal/) Copy did nothing, and said nothing.
    client.force_login(get_user_model().objects.create_user("dev"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})"
    )
    page.goto(f"{live_server.url}/applications/new/")
    page.fill("#id_name", "Plain http")
    page.get_by_label("Machine client (client credentials only)").check()
    page.get_by_role("button", name="Register").click()
    secret = page.locator("[data-key=secret]")
    secret.wait_for()
    button = page.locator("[data-copy=secret]")
    button.click()
    assert page.evaluate("getSelection().toString()").strip() == secret.inner_text().strip()
    assert "Ctrl+C" in button.inner_text()
    assert page.console_errors == []

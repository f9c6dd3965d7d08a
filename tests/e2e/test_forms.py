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

"""What the browser journeys share: signing in at the built-in provider's page."""

from __future__ import annotations

from typing import Any

from tests.console.live import Portal


def sign_in(page: Any, portal: Portal, username: str, password: str, path: str) -> None:
    """Open `path`, sign in there as `username`, and come back to it."""
    page.goto(portal.url(path))
    page.get_by_role("button", name="Sign in").first.click()
    page.wait_for_url("**/idp/login/**")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}**")

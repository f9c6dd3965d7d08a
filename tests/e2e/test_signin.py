"""Signing in and out in headless Chromium against the built-in provider (live server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from identity.clients import ensure_portal_client
from tests.conftest import DEMO_SPECS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "portal-signin-e2e-secret"


@pytest.fixture
def builtin_signin(live_server: Any, settings: Any) -> Any:
    settings.IDENTITY_BUILTIN = True
    settings.IDENTITY_ISSUER = ""
    settings.IDENTITY_PORTAL_CLIENT_SECRET = SECRET
    settings.SESSION_COOKIE_SECURE = False  # plain-http loopback server
    settings.CSRF_COOKIE_SECURE = False
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
        "ALLOWED_SCHEMES": ["https", "http"],
    }
    ensure_portal_client(f"{live_server.url}/idp", SECRET)
    return get_user_model().objects.create_user(
        "ada", "ada@example.com", "analytical-engine", first_name="Ada", last_name="Lovelace"
    )


def test_sign_in_from_the_catalog_and_out_again(
    page: Any, live_server: Any, imported: Any, builtin_signin: Any, screenshot_dir: Path
) -> None:
    imported(DEMO_SPECS / "echo.yaml", "echo")
    page.goto(f"{live_server.url}/apis/?q=echo")
    assert page.locator(".card").count() == 1
    assert page.locator("[data-account-name]").count() == 0

    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/idp/login/**")
    page.screenshot(path=str(screenshot_dir / "signin.png"))
    page.fill("#id_username", "ada")
    page.fill("#id_password", "wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert "Please enter a correct username and password" in page.inner_text("main")
    # The refused attempt answers 400, which Chromium logs; nothing else may.
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    page.console_errors.clear()
    page.fill("#id_password", "analytical-engine")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/apis/?q=echo")  # back on the same page
    assert page.inner_text("[data-account-name]") == "Ada Lovelace"
    assert page.locator(".card").count() == 1

    page.click("[data-account-name]")
    page.get_by_role("link", name="Profile").click()
    assert page.inner_text('[data-field="email"]') == "ada@example.com"
    page.screenshot(path=str(screenshot_dir / "profile.png"))

    page.click("[data-account-name]")
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-account-name]").count() == 0
    page.goto(f"{live_server.url}/accounts/profile/")
    assert "/accounts/login/" in page.url
    assert page.console_errors == []

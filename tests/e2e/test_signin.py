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


@pytest.fixture
def client_site() -> Any:
    """A client application on another origin (loopback, its own port) that the provider
    redirects to after sign-in; it answers every request with a plain page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>Client</title><p>Back at the client."
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _authorize_url(live_server: Any, client_id: str, redirect_uri: str) -> str:
    from urllib.parse import urlencode

    query = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "openid", "state": "st-1", "code_challenge_method": "S256",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    }  # fmt: skip
    return f"{live_server.url}/idp/authorize/?{urlencode(query)}"


@pytest.mark.parametrize("first_party", [True, False], ids=["no-consent", "consent"])
def test_sign_in_at_the_provider_ends_at_a_client_on_another_origin(
    page: Any, live_server: Any, builtin_signin: Any, client_site: str, first_party: bool
) -> None:
    """Chromium checks every redirect after a form post against the posting page's CSP
    form-action: the login form (drawn again after a wrong password) and the consent form
    must both let the provider's redirect reach the client's registered redirect URI."""
    from identity.clients import ensure_client
    from identity.models import Client as OAuthClient

    redirect_uri = f"{client_site}/cb"
    ensure_client(
        client_id="web-app", secret="web-app-secret", name="Web app",
        grant=OAuthClient.GRANT_AUTHORIZATION_CODE, redirect_uris=[redirect_uri],
        skip_authorization=first_party,
    )  # fmt: skip
    page.goto(_authorize_url(live_server, "web-app", redirect_uri))
    page.wait_for_url("**/idp/login/**")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert "Please enter a correct username and password" in page.inner_text("main")
    page.console_errors.clear()  # the refused attempt's 400
    page.fill("#id_password", "analytical-engine")
    page.get_by_role("button", name="Sign in").click()
    if not first_party:
        page.wait_for_url("**/idp/authorize/**")
        page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}?**")
    assert "code=" in page.url and "state=st-1" in page.url
    assert page.inner_text("p") == "Back at the client."
    assert not [e for e in page.console_errors if "form-action" in e]


def test_the_header_fits_a_phone_with_a_long_account_name(
    chromium: Any, live_server: Any, client: Any, settings: Any
) -> None:
    # An account named by its e-mail address (as many providers name them) pushed the
    # account menu off a 390 px screen, and the whole page scrolled sideways.
    user = get_user_model().objects.create_user("alexandra.papadopoulou@example.com")
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/products/")
    menu = page.locator("[data-account-name]")
    box = menu.bounding_box()
    width = page.evaluate("document.documentElement.scrollWidth")
    menu.click()  # still opens, with the way to sign out
    assert page.get_by_role("button", name="Sign out").is_visible()
    context.close()
    assert box["x"] + box["width"] <= 390 and width <= 390


def test_the_account_menu_closes_with_escape_or_a_click_elsewhere(
    chromium: Any, live_server: Any, client: Any, settings: Any
) -> None:
    """The account menu stayed open over the page until its own button was pressed again:
    Escape did nothing (a keyboard user had to tab back to it), nor did a click beside it."""
    user = get_user_model().objects.create_user("ada", first_name="Ada")
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/products/")
    menu = page.locator("details.account-menu")
    summary = page.locator("[data-account-name]")
    summary.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("open") is not None
    page.keyboard.press("Tab")  # into the menu: the first link
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert page.evaluate("document.activeElement.hasAttribute('data-account-name')")
    summary.click()
    assert page.get_by_role("link", name="Profile").is_visible()
    page.locator("h1").click()
    assert menu.get_attribute("open") is None
    summary.click()
    menu.get_by_role("link", name="My subscriptions").click()  # its links still work
    page.wait_for_url("**/products/subscriptions/")
    context.close()

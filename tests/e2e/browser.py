"""What the browser journeys share: signing in at the built-in provider's page, getting a
token in the console."""

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
    zone_stored(page)


def zone_stored(page: Any) -> None:
    """Waits for static/js/tz.js, on every signed-in page, to store the browser's time zone
    (once the page has loaded); the pages that show times read it. Polled from here: the
    portal's CSP forbids the eval that wait_for_function polls with."""
    for _ in range(100):
        if any(cookie["name"] == "tz" for cookie in page.context.cookies()):
            return
        page.wait_for_timeout(50)
    raise AssertionError("static/js/tz.js stored no tz cookie within 5 s of a signed-in page")


def password_token(page: Any, scopes: str, username: str, password: str) -> None:
    """A token from the server for the signed-in developer, in the console on this page: the
    demo's password grant (legacy, behind its warning) through the shared console client, so it
    carries only what the developer's subscriptions grant. The console's other grants through
    that client redirect to the provider; client credentials go through the developer's own
    application."""
    page.fill('input[name="scopes.builtin"]', scopes)
    legacy = page.locator(".console-legacy-grant", has_text="Resource owner password")
    legacy.locator("summary").click()
    legacy.locator('input[name="username"]').fill(username)
    legacy.locator('input[name="password"]').fill(password)
    with page.expect_response("**/console/token/"):
        legacy.get_by_role("button", name="Get token · Resource owner password (legacy)").click()
    page.wait_for_selector(".console-token >> text=password")


def register_machine_application(page: Any, portal: Portal, name: str, subscription: str) -> None:
    """Register a machine application whose secret is kept for the console, and subscribe it
    to the demo's Starter product (echo and petstore) as `subscription`."""
    register_application(page, portal, name)
    subscribe_application(page, portal, name, subscription)


def register_application(page: Any, portal: Portal, name: str) -> tuple[str, str]:
    """Register a machine application whose secret is kept for the console; its (client id,
    secret) as the page shows them once. The page stays on that answer."""
    page.goto(portal.url("/applications/new/"))
    page.fill("#id_name", name)
    page.get_by_label("Machine client (client credentials only)").check()
    page.get_by_label("Keep the secret for the console").check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_selector("[data-key=secret]")
    return page.inner_text("[data-key=client_id]"), page.inner_text("[data-key=secret]")


def subscribe_application(page: Any, portal: Portal, name: str, subscription: str) -> None:
    """Subscribe the application `name` to the demo's Starter product as `subscription`; the
    page is then the subscription's."""
    page.goto(portal.url("/products/starter/"))
    page.select_option("#sub-application", label=f"{name} (application)")
    page.fill("#sub-name", subscription)
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/products/subscriptions/*/")


def application_token(page: Any, name: str, scopes: str) -> None:
    """A client-credentials token as the developer's application `name` ("Your applications"
    in the console on this page)."""
    option = page.locator(".console-apps [data-app]", has_text=name)
    option.locator("input[name^='scopes.app.']").fill(scopes)
    with page.expect_response("**/console/token/"):
        option.get_by_role("button", name=f"Get token as {name}").click()

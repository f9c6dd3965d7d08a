"""A developer's own application, in headless Chromium against the default run (`seed_demo` +
`serve`: provider, gateway, echo backend).

The demo developer registers a machine application (secret kept for the console), subscribes
it to Starter, gets a token in the console as that application and calls the gateway: 200.
A scope outside its product is refused with the reason shown. Cancelling its subscription
stops new tokens, and the gateway (require-subscribed-client on echo's route) refuses its
token within 5 s. Deleting the application: its key is refused, the console stops offering
it and the provider no longer knows the client.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.console.live import DEMO_PASSWORD, DEMO_USER, Portal, running_portal
from tests.e2e.browser import (
    application_token,
    register_application,
    sign_in,
    subscribe_application,
)
from tests.e2e.test_products import send

pytestmark = [pytest.mark.e2e]

APP = "E2E nightly job"
PAGE = "/apis/echo/operations/echoGet/"


# A published API in no product of the application's (the demo's Starter has echo and
# petstore): its scope is outside what the application was granted.
BILLING = """
openapi: 3.0.3
info: {title: Billing, version: "1"}
paths:
  /invoices:
    get:
      operationId: listInvoices
      security: [{oauth: [billing.read]}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: /idp/token/
          scopes: {billing.read: Read invoices}
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    workdir = tmp_path_factory.mktemp("applications-e2e")
    with running_portal(workdir) as running:
        spec = workdir / "billing.yaml"
        spec.write_text(BILLING)
        running.manage("importspec", str(spec), "--slug", "billing", "--publish")
        # Echo's route ties tokens to a subscribed client, and the demo user's own Starter
        # key lets a call reach that check once the application's key is gone.
        running.manage(
            "shell", "-c",
            "from gateway.models import JwtPolicy; "
            "p = JwtPolicy.objects.get(route__api__slug='echo'); "
            "p.require_subscribed_client = True; p.save()",
        )  # fmt: skip
        yield running


def test_application_subscribe_console_call_delete(
    page: Any, portal: Portal, screenshot_dir: Path
) -> None:
    # 1. Register a machine application; the secret is shown once and kept for the console.
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/products/")
    client_id, secret = register_application(page, portal, APP)
    assert len(secret) > 20
    page.screenshot(path=str(screenshot_dir / "application-created.png"), full_page=True)
    page.goto(portal.url("/applications/"))
    page.get_by_role("link", name=APP).click()
    app_url = page.url
    assert secret not in page.content()  # shown only once
    assert page.inner_text("[data-console-secret]").startswith("The secret is kept")

    # 2. Subscribe it to Starter.
    subscribe_application(page, portal, APP, "e2e-app")
    page.locator("tr", has_text="Primary").get_by_role("button", name="Show").click()
    app_key = page.inner_text("[data-key=primary]")

    # 3. The console gets a token as the application and the gateway answers 200.
    page.goto(portal.url(PAGE))
    application_token(page, APP, "echo.read")
    card = page.locator(".console-token", has_text=f"{APP} (your application)")
    card.wait_for()
    assert card.locator("[data-claim=scope]").inner_text() == "echo.read"
    page.locator("#console-subscription label", has_text="e2e-app").locator("input").check()
    status, _ = send(page)
    assert status == "200"
    assert secret not in page.content() and app_key not in page.content()
    page.screenshot(path=str(screenshot_dir / "console-application-token.png"), full_page=True)

    # 4. A scope outside Starter's APIs is refused, with the provider's reason shown.
    # A fresh page: refilling the same field after a swap made Chromium set style="" on
    # every input (CSP style-src reports) in this headless run.
    page.goto(portal.url(PAGE))
    application_token(page, APP, "billing.read")
    refusal = page.locator(".console-messages .message-error")
    refusal.wait_for()
    assert "invalid_scope" in refusal.inner_text()
    assert "may not have the scope billing.read" in refusal.inner_text()
    assert page.locator(".console-token", has_text=f"{APP} (your application)").count() == 1

    # 5. Cancel the subscription: no new token, and the gateway refuses the token it already
    # has (403 subscribed-client) within 5 s.
    token = client_credentials(portal, client_id, secret).json()["access_token"]
    gateway = portal.url("/gateway/echo/anything")
    # The last word: the shell may print a line of its own first.
    demo_key = portal.manage(
        "shell", "-c",
        "from products.models import Subscription; from products import keys; "
        "print(keys.decrypt(Subscription.objects.get(name='demo').primary_encrypted))",
    ).split()[-1]  # fmt: skip
    as_app = {"Ocp-Apim-Subscription-Key": demo_key, "Authorization": f"Bearer {token}"}
    assert requests.get(gateway, headers=as_app, timeout=10).status_code == 200
    page.goto(portal.url("/products/subscriptions/"))
    page.get_by_role("link", name="e2e-app").first.click()
    page.get_by_role("link", name="Cancel this subscription").click()
    page.get_by_role("button", name="Cancel the subscription").click()
    page.wait_for_selector("text=The subscription is cancelled; its keys no longer work.")
    refused_token = client_credentials(portal, client_id, secret)
    assert refused_token.status_code == 400 and refused_token.json()["error"] == "invalid_scope"
    deadline = time.monotonic() + 5
    while True:
        refused = requests.get(gateway, headers=as_app, timeout=10)
        if refused.status_code == 403 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert refused.status_code == 403 and refused.json()["check"] == "subscribed-client"
    page.goto(portal.url(PAGE))
    assert page.locator(".console-apps [data-app]", has_text=APP).count() == 0

    # 6. Delete the application: the gateway refuses its key; the console no longer offers
    # it or sends its token, and the provider no longer knows the client.
    page.goto(app_url)
    page.get_by_role("link", name="Delete this application").click()
    page.locator("main").get_by_role("button", name="Delete").click()
    page.wait_for_url("**/applications/")
    assert f"{APP} is deleted" in page.inner_text("main")
    assert page.get_by_role("link", name=APP).count() == 0
    refused = requests.get(gateway, headers={"Ocp-Apim-Subscription-Key": app_key}, timeout=10)
    assert refused.status_code == 401 and refused.json()["check"] == "subscription-key"

    page.goto(portal.url(PAGE))
    assert page.locator(".console-apps").count() == 0
    assert page.locator(".console-token", has_text=f"{APP} (your application)").count() == 0
    answer = client_credentials(portal, client_id, secret)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert re.fullmatch(r"[\w-]+", client_id)
    assert page.console_errors == []


def client_credentials(portal: Portal, client_id: str, secret: str) -> requests.Response:
    return requests.post(
        portal.url("/idp/token/"),
        data={"grant_type": "client_credentials", "scope": "echo.read"},
        auth=(client_id, secret),
        timeout=10,
    )


def test_client_ids_keep_to_two_lines_on_a_phone(
    page: Any, portal: Portal, screenshot_dir: Path
) -> None:
    # At 390 px the tables' codes broke anywhere, and the client id column shrank to a few
    # characters: a 40-character id stood as a column of 8 or 10 lines.
    sign_in(page, portal, DEMO_USER, DEMO_PASSWORD, "/products/")
    client_id, _ = register_application(page, portal, "Phone width job")
    page.set_viewport_size({"width": 390, "height": 844})
    pages = {"list": portal.url("/applications/"), "detail": page.url}
    for name, url in pages.items():
        page.goto(url)
        code = page.locator("td code", has_text=client_id).first
        page.screenshot(path=str(screenshot_dir / f"client-id-phone-{name}.png"), full_page=True)
        box = code.bounding_box()
        line = float(code.evaluate("e => getComputedStyle(e).lineHeight").removesuffix("px"))
        assert box is not None and round(box["height"] / line) <= 2, (name, box, line)

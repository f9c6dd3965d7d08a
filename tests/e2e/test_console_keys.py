"""The console on an API that needs an API key, as a developer meets it in Chromium against
the default run: paste the key once, send, see the answer; the key never shows in the page.
Also the screenshots of that console at desktop (1440) and phone (390) widths.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.live import DEMO_PASSWORD, DEMO_USER, Portal, running_portal

pytestmark = [pytest.mark.e2e]

KEY = "live-key-0123456789abcdef-7f3a"
SPEC = """\
openapi: 3.0.3
info: {title: Weather, version: '1.0', description: A keyed API for the console screenshots.}
paths:
  /forecast:
    get:
      operationId: getForecast
      summary: The forecast for a city
      security: [{apiKey: []}]
      parameters:
        - {name: city, in: query, required: true, schema: {type: string}, example: Lyon}
        - {name: days, in: query, schema: {type: integer, minimum: 1, maximum: 7}, example: 3}
      responses:
        '200':
          description: The forecast.
          content:
            application/json:
              example: {city: Lyon, days: [{max: 21, min: 12, sky: sunny}]}
components:
  securitySchemes:
    apiKey: {type: apiKey, in: header, name: X-API-Key, description: Your weather key.}
"""
ROUTE = (
    "from apis.models import Api; from gateway.models import Route; "
    "Route.objects.get_or_create(api=Api.objects.get(slug='weather'), "
    "defaults={'suffix': 'weather', 'backend': 'mock'})"
)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    workdir = tmp_path_factory.mktemp("keys-e2e")
    with running_portal(workdir) as running:
        spec = workdir / "weather.yaml"
        spec.write_text(SPEC)
        running.manage("importspec", str(spec), "--slug", "weather", "--publish")
        running.manage("shell", "-c", ROUTE)
        yield running


def test_console_with_an_api_key(page: Any, portal: Portal, screenshot_dir: Path) -> None:
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(portal.url("/apis/weather/operations/getForecast/"))
    page.get_by_role("button", name="Sign in").first.click()
    page.fill("#id_username", DEMO_USER)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/apis/weather/operations/getForecast/**")

    console = page.locator("#console")
    assert "API key in the header X-API-Key" in console.inner_text()
    assert page.input_value('input[name="param.query.days"]') == ""  # optional: empty
    page.get_by_label("API key").fill(KEY)
    with page.expect_response("**/console/credential/") as kept:
        page.get_by_role("button", name="Keep key").click()
    assert kept.value.status == 200
    page.wait_for_selector("[data-masked]")
    assert page.inner_text("[data-masked]") == "•••• 7f3a"

    with page.expect_response("**/console/send/") as answer:
        page.click("#console-send")
    assert answer.value.status == 200
    page.wait_for_selector("#console-result [data-status-code]")
    assert page.inner_text("#console-result [data-status-code]") == "200"
    assert "sunny" in page.inner_text("#console-result")
    assert KEY not in page.content()  # not in the form, the answer or the snippets
    assert "$API_KEY" in page.inner_text("#console-result .console-snippets")

    shoot(page, screenshot_dir / "console-api-key-desktop.png")
    page.set_viewport_size({"width": 390, "height": 844})
    # On a phone the token and key lines wrap between words: no one-letter columns.
    widths = page.eval_on_selector_all(
        "#console code", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert min(w for w in widths if w > 0) > 12
    shoot(page, screenshot_dir / "console-api-key-phone.png")
    assert page.console_errors == []


def shoot(page: Any, path: Path) -> None:
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 4000})
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#console").screenshot(path=str(path), caret="initial")
    page.set_viewport_size(size)

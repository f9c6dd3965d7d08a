"""The catalog and reference pages as a reader meets them, in headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_SPECS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_catalog_search_as_you_type(
    page: Any, live_server: Any, imported: Any, screenshot_dir: Path
) -> None:
    imported(DEMO_SPECS / "echo.yaml", "echo")
    imported(DEMO_SPECS / "petstore.yaml", "petstore")
    page.goto(f"{live_server.url}/apis/")
    assert page.locator(".card").count() == 2
    page.screenshot(path=str(screenshot_dir / "catalog.png"), full_page=True)

    page.keyboard.press("/")  # the shortcut focuses the search box
    page.keyboard.type("orders")
    page.wait_for_url("**/apis/?q=orders**")  # htmx pushed the bookmarkable URL
    page.wait_for_function("document.querySelectorAll('.card').length === 1")
    assert page.locator(".card-title").inner_text() == "Petstore"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload

    page.select_option("#catalog-tag", "Echo")
    page.wait_for_selector("text=No API matches")
    assert page.console_errors == []


def test_reference_pages_without_javascript(chromium: Any, live_server: Any, imported: Any) -> None:
    """Every reading page works with scripts off: navigation, operations, folded schemas."""
    imported(DEMO_SPECS / "petstore.yaml", "petstore")
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/apis/petstore/")
    assert page.locator(".nav-tree a").count() == 5
    assert page.locator(".op-list a").first.is_visible()
    page.locator(".op-list a", has_text="Find a pet by id").click()
    assert page.locator("h1").inner_text() == "Find a pet by id"
    page.select_option("#version-select", "2.1.0")
    assert page.locator("#response-200 .schema-tree").is_visible()
    context.close()


def test_operation_page_schema_tree_and_lazy_schema(
    page: Any, live_server: Any, imported: Any
) -> None:
    imported(DEMO_SPECS / "petstore.yaml", "petstore")
    page.goto(f"{live_server.url}/apis/petstore/operations/showPetById/")
    assert page.locator(".recursive").first.is_visible() or page.locator(".recursive").count() >= 1
    raw = page.locator("#response-200 .raw-schema").first
    raw.locator("summary").click()
    assert '"allOf"' in raw.locator("pre").inner_text()
    assert page.console_errors == []


def test_cut_schema_levels_load_in_place(
    page: Any, live_server: Any, imported: Any, tmp_path: Path
) -> None:
    """Past the row budget every property is still listed; a click loads the cut level."""
    import orjson

    from tests.apis.test_views_schema_part import WIDE

    spec = tmp_path / "wide.json"
    spec.write_bytes(orjson.dumps(WIDE))
    imported(spec, "payments")
    url = f"{live_server.url}/apis/payments/operations/createPayment/"
    page.goto(url)
    rows = page.locator("#request-application-json .schema-tree > .schema-props > .prop")
    assert rows.count() == 73
    last = rows.nth(72)
    assert last.locator(".prop-children .prop").count() == 0
    last.get_by_role("link", name="Show the nested fields").click()
    last.locator(".lazy-loaded .prop-name", has_text="n19").wait_for()
    assert page.url == url  # swapped in place by htmx, no navigation
    assert last.locator(".prop-children .prop").count() == 20
    assert page.console_errors == []


def test_nav_filter_theme_and_keyboard(page: Any, live_server: Any, imported: Any) -> None:
    imported(DEMO_SPECS / "petstore.yaml", "petstore")
    page.goto(f"{live_server.url}/apis/petstore/")
    page.keyboard.press("/")
    page.keyboard.type("order")
    visible = page.locator(".nav-tree li[data-filter]:visible")
    assert visible.count() == 1
    assert "Place an order" in visible.inner_text()

    page.click("[data-theme-toggle]")
    theme = page.evaluate("document.documentElement.dataset.theme")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == theme  # remembered
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.click("[data-theme-toggle]")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
    assert page.console_errors == []


@pytest.mark.corpus
def test_large_real_specs(
    page: Any,
    chromium: Any,
    live_server: Any,
    imported: Any,
    shared_specs: Path,
    screenshot_dir: Path,
) -> None:
    """Kubernetes' 1,123 operations and an OpenAI operation, as a reader sees them."""
    imported(shared_specs / "real-world/kubernetes.swagger.json", "kubernetes")
    imported(shared_specs / "real-world/openai.yaml", "openai")

    response = page.goto(f"{live_server.url}/apis/kubernetes/")
    assert len(response.body()) < 1_000_000
    assert page.locator(".nav-tree a").count() == 1123
    page.screenshot(path=str(screenshot_dir / "kubernetes-api.png"))

    # Usable before any script runs: navigation and the first operations are there without JS.
    bare = chromium.new_context(java_script_enabled=False)
    bare_page = bare.new_page()
    bare_page.goto(f"{live_server.url}/apis/kubernetes/")
    assert bare_page.locator(".nav-tree a").first.is_visible()
    assert bare_page.locator(".op-list a").first.is_visible()
    bare.close()

    page.goto(f"{live_server.url}/apis/openai/operations/createChatCompletion/")
    title = page.locator("h1").inner_text()
    assert title and "**" not in title  # Markdown in a summary is not shown raw in the title
    page.screenshot(path=str(screenshot_dir / "openai-operation.png"))
    # Deep schemas are links that htmx swaps in place: unfold the first one and load it.
    assert page.locator(".lazy-schema a").count() > 0
    page.evaluate(
        """() => { let el = document.querySelector('.lazy-schema a');
        for (let d = el.closest('details'); d; d = d.parentElement.closest('details')) d.open = true; }"""
    )
    lazy = page.locator(".lazy-schema a").first
    name = lazy.inner_text().removeprefix("Show ")
    lazy.click()
    loaded = page.locator(".lazy-loaded").first
    loaded.wait_for()
    assert page.url.endswith("/createChatCompletion/")  # swapped in place, no navigation
    assert name and loaded.locator(".schema-tree").count() == 1
    assert page.console_errors == []

"""Fixtures shared by every test package."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

REPO_ROOT = Path(__file__).resolve().parent.parent
# The corpus of real specs lives beside the repository (../shared/specs), never inside it.
SHARED_SPECS = REPO_ROOT.parent / "shared" / "specs"
DEMO_SPECS = REPO_ROOT / "portal" / "demo" / "specs"
ImportSpec = Callable[..., Any]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    """On the PostgreSQL + Redis pass, each xdist worker keeps its own Redis database.

    Like the local-memory cache of the SQLite pass, a worker's counters and cached keys are
    then its own: one worker's `cache.clear()` never empties another's mid-test.
    """
    url = os.environ.get("REDIS_URL", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.removeprefix("gw").isdigit():
        return
    from django.conf import settings

    own = f"{url.rsplit('/', 1)[0]}/{int(worker.removeprefix('gw')) + 1}"
    os.environ["REDIS_URL"] = own  # for the servers tests start in subprocesses
    if settings.CACHES["default"].get("LOCATION") == url:
        settings.CACHES["default"]["LOCATION"] = own
    if getattr(settings, "REDIS_URL", None) == url:
        settings.REDIS_URL = own


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """The cache holds counters keyed by primary key (the hourly creation limits of
    applications and subscriptions, portal/lib/creation_limit.py). On SQLite rolled-back
    tests reuse primary keys, so a count left by one test would refuse another's: that pass's
    local-memory cache is emptied before each test. PostgreSQL never hands a sequence value
    out twice, and its pass's Redis holds what module fixtures set up (streams, consumer
    groups), so it is left alone here (directories that need it clear it themselves)."""
    from django.core.cache import cache
    from django.db import connection

    if connection.vendor == "sqlite":
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_version_caches() -> None:
    """Version caches are keyed by primary key; rolled-back tests reuse keys, production never."""
    from apis import documents, navigation, reference
    from console import samples

    documents.clear_cache()
    navigation.clear_cache()
    reference.clear_cache()
    samples.clear_cache()


@pytest.fixture(autouse=True)
def _no_usage_recording(settings: Any) -> None:
    """In-process gateways record no usage events unless a test turns it on (tests/usage/):
    the recorder's thread would write into whichever test database is open."""
    settings.USAGE_RECORDING = False


@pytest.fixture
def import_spec(db: None) -> ImportSpec:
    """Imports a spec file through the real `importspec` command and returns its API."""

    def do_import(path: Path | str, slug: str, *, publish: bool = True, **options: object) -> Any:
        call_command(
            "importspec", str(path), slug=slug, publish=publish, stdout=io.StringIO(), **options
        )
        from apis.models import Api

        return Api.objects.get(slug=slug)

    return do_import


@pytest.fixture(scope="session")
def shared_specs() -> Path:
    if not SHARED_SPECS.is_dir():
        pytest.skip(f"the shared spec corpus is not at {SHARED_SPECS}")
    return SHARED_SPECS


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download is never used).

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it
    is open, and tests of other modules (the gateway's) run their own asyncio loops.
    """
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (creating fixtures) are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context per test, failing the test on any console error or CSP report."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    context.close()

"""404 and 500 pages carry the portal's layout: header, navigation, theme, a way back."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_404_page_has_the_portal_layout(client: Client) -> None:
    page = client.get("/no/such/page/")
    assert page.status_code == 404
    html = page.content.decode()
    assert 'class="site-header"' in html and 'class="skip-link"' in html
    assert "Page not found" in html and "<code>/no/such/page/</code>" in html
    assert 'href="/apis/"' in html


def test_404_inside_the_catalog_too(client: Client) -> None:
    page = client.get("/apis/no-such-api/")
    assert page.status_code == 404 and 'class="site-header"' in page.content.decode()


@pytest.mark.parametrize("path", ["/no/such/page/", "/apis/no-such-api/"])
def test_404_is_the_portals_page_in_the_dev_run_too(
    client: Client, settings: Any, path: str
) -> None:
    """`make run` has DEBUG on, under which Django answered with its yellow technical page
    listing every URL pattern: what a new user following a stale link saw."""
    settings.DEBUG = True
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 404
    assert 'class="site-header"' in html and "Page not found" in html
    assert "URLconf" not in html and "DEBUG = True" not in html
    assert "nonce-" in page["Content-Security-Policy"]  # the page passed the CSP middleware


@override_settings(ROOT_URLCONF="tests.portal.error_urls")
def test_500_page_has_the_portal_layout() -> None:
    client = Client(raise_request_exception=False)
    page = client.get("/boom/")
    assert page.status_code == 500
    html = page.content.decode()
    assert 'class="site-header"' in html and "Something went wrong" in html
    assert "a bug" not in html and "Traceback" not in html


@override_settings(ROOT_URLCONF="tests.portal.error_urls")
def test_the_database_out_of_reach_is_a_503_to_retry(caplog: pytest.LogCaptureFixture) -> None:
    """While PostgreSQL restarts, every page was a 500 (a server bug, to a balancer and a
    monitor) after a second traceback logged for the 500 page's own layout, which needs the
    database too: now 503 with Retry-After, plain, and the cause logged once."""
    client = Client(raise_request_exception=False)
    with caplog.at_level("ERROR"):
        page = client.get("/database-down/")
    assert page.status_code == 503 and page["Retry-After"].isdigit()
    html = page.content.decode()
    assert "unavailable" in html.lower() and "Connection refused" not in html
    assert "the 500 page could not be rendered" not in caplog.text


def test_403_page_has_the_portal_layout(client: Client, django_user_model: Any) -> None:
    # A developer who opens the usage reports (an administrator's page) met a bare
    # "403 Forbidden" with no header, theme or way back.
    client.force_login(django_user_model.objects.create_user("dev", password="pw-dev-12345"))
    page = client.get("/usage/reports/")
    assert page.status_code == 403
    html = page.content.decode()
    assert 'class="site-header"' in html and "Not allowed" in html
    assert 'href="/apis/"' in html


def test_404_tells_a_signed_out_visitor_that_signing_in_may_show_more(
    client: Client, django_user_model: Any
) -> None:
    """A hidden product or API answers 404 (it must not be told apart from a missing one):
    someone following a link while signed out met "Page not found" with no hint."""
    hint = "shown only once you sign in"
    assert hint in client.get("/products/partners-only/").content.decode()
    client.force_login(django_user_model.objects.create_user("dev", password="pw-dev-12345"))
    page = client.get("/products/partners-only/")
    assert page.status_code == 404 and hint not in page.content.decode()


def test_a_refused_form_says_what_to_do_in_the_portals_layout(django_user_model: Any) -> None:
    # A form sent from a page left open across a sign-out (the CSRF token no longer
    # matches) met Django's bare "Forbidden (403) CSRF verification failed. Request aborted."
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user("dev", password="pw-dev-12345"))
    page = client.post("/applications/new/", {"name": "x"})
    assert page.status_code == 403
    html = page.content.decode()
    assert 'class="site-header"' in html and "CSRF verification" not in html
    assert "Go back, reload the page" in html

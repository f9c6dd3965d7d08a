"""Security headers on every page and cookie flags (case 59)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ["/", "/apis/", "/accounts/login/", "/idp/login/", "/idp/", "/accounts/oidc/oidc/login/"]


@pytest.mark.parametrize("path", PAGES)
def test_case59_html_pages_send_the_security_headers(path: str, portal_signin: Any) -> None:
    browser = Client()
    first = browser.get(path, secure=True)
    second = browser.get(path, secure=True)
    assert first.status_code == 200, path
    csp = first["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce, csp
    assert nonce.group(1) not in second["Content-Security-Policy"]  # per request
    assert f'nonce="{nonce.group(1)}"' in first.content.decode()
    assert first["Strict-Transport-Security"].startswith("max-age=")
    assert first["X-Content-Type-Options"] == "nosniff"
    assert first["Referrer-Policy"] == "same-origin"
    assert first["Cross-Origin-Opener-Policy"] == "same-origin"


def test_session_cookie_flags(settings: Any, user_factory: Any) -> None:
    settings.SESSION_COOKIE_SECURE = True
    user_factory("grace")
    response = Client().post(
        "/idp/login/", {"username": "grace", "password": PASSWORD}, secure=True
    )
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"

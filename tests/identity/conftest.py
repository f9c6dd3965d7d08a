"""Fixtures for sign-in and the built-in provider."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.cache import cache

from identity.clients import ensure_client, ensure_portal_client
from identity.models import Client
from tests.accounts.stub_op import CLIENT_ID, CLIENT_SECRET, StubOP

PORTAL_SECRET = "portal-signin-test-secret"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    # PBKDF2 at full strength dominates these tests' run time on a small machine.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "identity.hashers.ClientSecretHasher",
    ]


def provider_options(settings: Any, **options: Any) -> None:
    """Change django-oauth-toolkit options for one test (it reloads on setting_changed)."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **options}


@pytest.fixture(autouse=True)
def _loopback_http(settings: Any) -> None:
    # The test servers are plain http on loopback, as on a dev box (IDENTITY_LOOPBACK_HTTP).
    provider_options(
        settings, ALLOWED_REDIRECT_URI_SCHEMES=["https", "http"], ALLOWED_SCHEMES=["https", "http"]
    )


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user_factory(db: None) -> Callable[..., Any]:
    def make(username: str = "grace", **fields: Any) -> Any:
        fields.setdefault("email", f"{username}@example.com")
        fields.setdefault("first_name", username.title())
        fields.setdefault("last_name", "Hopper")
        return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)

    return make


@pytest.fixture
def client_factory(db: None) -> Callable[..., Client]:
    def make(
        client_id: str = "test-app", secret: str = "test-app-secret", **options: Any
    ) -> Client:
        options.setdefault("name", client_id)
        options.setdefault("grant", Client.GRANT_AUTHORIZATION_CODE)
        options.setdefault("redirect_uris", ["http://127.0.0.1:9999/cb"])
        return ensure_client(client_id=client_id, secret=secret, **options)

    return make


DEMO_SPECS = Path(__file__).resolve().parents[2] / "portal" / "demo" / "specs"
REDIRECT = "http://127.0.0.1:9999/cb"


@pytest.fixture
def published_apis(import_spec: Any) -> None:
    """The provider issues tokens only for published APIs and the scopes their specs define."""
    import_spec(DEMO_SPECS / "echo.yaml", "echo")
    import_spec(DEMO_SPECS / "petstore.yaml", "petstore")


@pytest.fixture
def signed_in(client: Any, user_factory: Any) -> Any:
    """grace, signed in at the provider (not the portal) in the test client."""
    user = user_factory("grace")
    response = client.post("/idp/login/", {"username": "grace", "password": PASSWORD})
    assert response.status_code == 302
    return user


@pytest.fixture
def app(client_factory: Any) -> Client:
    """A confidential client with consent (not first party), like a developer's web app."""
    return client_factory("console", "console-secret", redirect_uris=[REDIRECT])


@pytest.fixture
def portal_signin(settings: Any) -> Callable[[str], Client]:
    """The portal's own sign-in client at the built-in provider, for a server origin."""
    settings.IDENTITY_BUILTIN = True
    settings.IDENTITY_ISSUER = ""  # derived from the request, like a fresh deployment
    settings.IDENTITY_PORTAL_CLIENT_SECRET = PORTAL_SECRET
    settings.SESSION_COOKIE_SECURE = False  # plain-http loopback server in these tests
    settings.CSRF_COOKIE_SECURE = False

    def make(origin: str) -> Client:
        return ensure_portal_client(f"{origin}/idp", PORTAL_SECRET)

    return make


@pytest.fixture
def stub_op(settings: Any) -> Iterator[StubOP]:
    """An external provider (id `stub`) the portal is configured to use, on loopback."""
    with StubOP() as op:
        settings.IDENTITY_BUILTIN = False
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "stub",
                        "name": "Stub OP",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {
                            "server_url": op.issuer,
                            "expected_issuer": op.issuer,
                            "oauth_pkce_enabled": True,
                        },
                    }
                ],
            }
        }
        settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 2
        yield op


def form_fields(html: str, form_marker: str = "") -> dict[str, str]:
    """The hidden inputs of the first form (after `form_marker`) in a page."""
    start = html.find(form_marker) if form_marker else 0
    chunk = html[start : html.find("</form>", start)]
    return {
        name: value.replace("&amp;", "&")
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', chunk)
    }


def signin_with_builtin(
    session: requests.Session, base: str, page: str, username: str, password: str
) -> requests.Response:
    """The whole journey over HTTP: header button, provider login, consent-free return."""
    html = session.get(base + page).text
    action = re.search(r'<form method="post" action="([^"]+)" class="signin-form">', html)
    assert action, "no Sign in button in the header"
    response = session.post(
        urljoin(base, action.group(1).replace("&amp;", "&")),
        data=form_fields(html, 'class="signin-form"'),
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    authorize = response.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    login_page = session.get(authorize)  # -> the provider's login page
    assert "/idp/login/" in login_page.url
    fields = form_fields(login_page.text, 'action="/idp/login/"')
    fields.update({"username": username, "password": password})
    return session.post(base + "/idp/login/", data=fields, headers={"Referer": login_page.url})

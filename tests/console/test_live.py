"""Each grant against the built-in provider over real HTTP, through the real gateway, to the
echo backend: the default run (`seed_demo` + `serve`) in a subprocess, nothing mocked.

The demo's console client is shared by every developer: its tokens carry only what the
signed-in developer's subscriptions grant (the demo user's Starter: echo and petstore), and
client credentials go through the developer's own machine application."""

from __future__ import annotations

import html as htmllib
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from identity.demo_credentials import CONSOLE_CLIENT_ID, CONSOLE_CLIENT_SECRET
from tests.console.live import (
    DEMO_PASSWORD,
    DEMO_USER,
    REFRESH_MARGIN,
    TOKEN_SECONDS,
    Portal,
    consent_if_asked,
    hidden_fields,
    query_of,
    running_portal,
    sign_in,
)

PAGE = "/apis/echo/operations/echoGet/"
OP = {"api": "echo", "version": "1.0.0", "operation": "echoGet"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with running_portal(tmp_path_factory.mktemp("console-live")) as running:
        yield running


@pytest.fixture
def browser(portal: Portal) -> requests.Session:
    """A signed-in user agent (cookies, redirects) for the demo user."""
    session = requests.Session()
    landed = sign_in(session, portal, PAGE)
    assert landed.url == portal.url(PAGE)
    return session


def csrf(session: requests.Session, portal: Portal) -> str:
    return hidden_fields(session.get(portal.url(PAGE)).text, 'id="console-form"')[
        "csrfmiddlewaretoken"
    ]


def get_token(
    session: requests.Session, portal: Portal, grant: str, scopes: str, **extra: str
) -> requests.Response:
    data = {
        **OP,
        "csrfmiddlewaretoken": csrf(session, portal),
        "grant_choice": f"builtin:{grant}",
        "scopes.builtin": scopes,
        "param.query.message": "kept",
        **extra,
    }
    return session.post(portal.url("/console/token/"), data=data, allow_redirects=False)


def chosen_token(page: str) -> str:
    found = re.search(r'<input type="radio" name="token" value="([^"]+)" checked>', page)
    assert found, "no token is selected on the page"
    return found.group(1)


def send(session: requests.Session, portal: Portal, token: str) -> str:
    page = session.get(portal.url(PAGE)).text
    data = {
        **OP,
        "csrfmiddlewaretoken": hidden_fields(page, 'id="console-form"')["csrfmiddlewaretoken"],
        "server": f"{portal.base}/gateway/echo",
        "token": token,
        "param.query.message": "hello from the console",
    }
    answer = session.post(portal.url("/console/send/"), data=data)
    assert answer.status_code == 200, answer.text[:3000]
    # Case 32: no token in the server's log, whatever happened so far.
    assert "eyJ" not in portal.log.read_text()
    return htmllib.unescape(re.sub(r"<[^>]+>", "", answer.text))


def back_on_the_page(session: requests.Session, portal: Portal, answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text[:1000]
    assert answer.headers["Location"] == PAGE + "#console"
    page = session.get(portal.url(PAGE)).text
    assert 'name="param.query.message" value="kept"' in page  # the form as the user left it
    return page


def assert_echoed_200(text: str) -> None:
    assert re.search(r"^\s*200\s*$", text, re.M), text[:2000]
    # The echo backend shows what reached it: our bearer token, our query, no portal cookie.
    # (The echo backend shows the bearer token's length, not the token.)
    assert re.search(r'"authorization": "Bearer \[\d+ characters\]"', text), text[:3000]
    assert "hello from the console" in text
    assert (
        "sessionid" not in text.split("Body", 1)[1] and "csrftoken" not in text.split("Body", 1)[1]
    )


# The demo user's machine application, its secret kept for the console, subscribed to the
# demo's Starter product (echo and petstore); prints the console's name for it.
OWN_APPLICATION = """
from django.contrib.auth import get_user_model
from applications import flows
from applications.models import Application
from products import flows as products
from products.models import Product
user = get_user_model().objects.get(username="demo")
app = Application.objects.filter(owner=user, name="Live job").first()
if app is None:
    app = flows.register(
        user, name="Live job", kind="machine", redirect_uris=[], keep_for_console=True
    ).application
    products.subscribe(user, Product.objects.get(slug="starter"), application=app)
print("app." + app.uuid.hex)
"""


def password_token(session: requests.Session, portal: Portal, scopes: str) -> str:
    """A token for the demo user from the server (the password grant); the page after it."""
    answer = get_token(
        session, portal, "password", scopes, username=DEMO_USER, password=DEMO_PASSWORD
    )
    return back_on_the_page(session, portal, answer)


def test_client_credentials_as_the_developers_own_application(
    browser: requests.Session, portal: Portal
) -> None:
    slug = portal.manage("shell", "-c", OWN_APPLICATION).strip().splitlines()[-1]
    data = {
        **OP,
        "csrfmiddlewaretoken": csrf(browser, portal),
        "grant_choice": f"{slug}:client_credentials",
        f"scopes.{slug}": "echo.read",
        "param.query.message": "kept",
    }
    answer = browser.post(portal.url("/console/token/"), data=data, allow_redirects=False)
    page = back_on_the_page(browser, portal, answer)
    assert 'data-claim="aud">api://echo<' in page
    assert "Live job (your application)" in page
    assert_echoed_200(send(browser, portal, chosen_token(page)))


def test_the_shared_console_client_offers_no_client_credentials(
    browser: requests.Session, portal: Portal
) -> None:
    assert 'value="builtin:client_credentials"' not in browser.get(portal.url(PAGE)).text
    page = back_on_the_page(
        browser, portal, get_token(browser, portal, "client_credentials", "echo.read")
    )
    assert "Client credentials is not enabled for Built-in provider." in page
    # Nor does the provider give the shared client a client-credentials token.
    refused = requests.post(
        portal.url("/idp/token/"),
        data={"grant_type": "client_credentials", "scope": "echo.read"},
        auth=(CONSOLE_CLIENT_ID, CONSOLE_CLIENT_SECRET),
        timeout=10,
    )
    assert refused.status_code in (400, 401) and "access_token" not in refused.json()


def test_a_developer_without_a_subscription_gets_no_api_scope(portal: Portal) -> None:
    """The authorization code flow through the console, as a developer who holds no
    subscription: the provider refuses the scope, the console says why, no token is kept."""
    portal.manage(
        "shell", "-c",
        "from django.contrib.auth import get_user_model; U = get_user_model()\n"
        "U.objects.filter(username='nosub').exists() or "
        "U.objects.create_user('nosub', 'nosub@example.com', 'nosub-password-1')",
    )  # fmt: skip
    session = requests.Session()
    sign_in(session, portal, PAGE, "nosub", "nosub-password-1")
    start = get_token(session, portal, "authorization_code", "echo.read")
    assert start.status_code == 302
    callback = consent_if_asked(
        session, portal, session.get(start.headers["Location"], allow_redirects=False)
    )
    assert query_of(callback)["error"] == "invalid_scope"
    answer = session.get(callback if "://" in callback else portal.url(callback))
    assert answer.status_code == 400
    assert "This client may not have the scope echo.read" in htmllib.unescape(answer.text)
    assert 'data-token="' not in session.get(portal.url(PAGE)).text


def test_password_grant(browser: requests.Session, portal: Portal) -> None:
    page = password_token(browser, portal, "echo.read")
    assert DEMO_PASSWORD not in page
    assert_echoed_200(send(browser, portal, chosen_token(page)))


def test_authorization_code_with_pkce(browser: requests.Session, portal: Portal) -> None:
    start = get_token(browser, portal, "authorization_code", "echo.read")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{portal.base}/idp/authorize/?")
    query = query_of(authorize)
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    callback = consent_if_asked(browser, portal, browser.get(authorize, allow_redirects=False))
    params = query_of(callback)
    assert set(params) >= {"code", "state"}
    assert params.get("iss", f"{portal.base}/idp") == f"{portal.base}/idp"
    answer = browser.get(
        callback if "://" in callback else portal.url(callback), allow_redirects=False
    )
    page = back_on_the_page(browser, portal, answer)
    assert_echoed_200(send(browser, portal, chosen_token(page)))


def test_implicit(browser: requests.Session, portal: Portal) -> None:
    start = get_token(browser, portal, "implicit", "echo.read")
    query = query_of(start.headers["Location"])
    assert query["response_type"] == "token"
    callback = consent_if_asked(
        browser, portal, browser.get(start.headers["Location"], allow_redirects=False)
    )
    fragment = dict(parse_qsl(urlsplit(callback).fragment))
    assert "access_token" in fragment and urlsplit(callback).path == "/console/callback/"
    # What console.js does on the callback page: post the fragment to the server.
    page = browser.get(portal.url("/console/callback/"))
    fields = hidden_fields(page.text, "data-console-implicit")
    answer = browser.post(
        portal.url("/console/callback/implicit/"),
        data={**fields, **fragment},
        allow_redirects=False,
    )
    page_html = back_on_the_page(browser, portal, answer)
    assert_echoed_200(send(browser, portal, chosen_token(page_html)))


def test_wrong_audience_is_a_401_with_the_reason(browser: requests.Session, portal: Portal) -> None:
    page = password_token(browser, portal, "petstore.read")
    assert 'data-claim="aud">api://petstore<' in page
    text = send(browser, portal, chosen_token(page))
    assert re.search(r"^\s*401\s*$", text, re.M)
    assert "The gateway refused the call (check: aud)" in text
    assert "The token's aud is api://petstore; this API expects api://echo." in text


def test_expired_token_is_refreshed_before_the_call(
    browser: requests.Session, portal: Portal
) -> None:
    page = password_token(browser, portal, "echo.read")
    token = chosen_token(page)
    time.sleep(TOKEN_SECONDS + 1 - REFRESH_MARGIN)  # now within the margin, or past expiry
    text = send(browser, portal, token)
    assert "so the console refreshed it first." in text  # within the margin or past
    assert_echoed_200(text)


def test_sign_out_clears_every_token(browser: requests.Session, portal: Portal) -> None:
    page = password_token(browser, portal, "echo.read")
    assert chosen_token(page)
    token = hidden_fields(page, 'id="console-form"')["csrfmiddlewaretoken"]
    browser.post(portal.url("/accounts/logout/"), data={"csrfmiddlewaretoken": token})
    sign_in(browser, portal, PAGE)
    assert 'data-token="' not in browser.get(portal.url(PAGE)).text


def test_missing_scope_is_a_403_with_the_reason(browser: requests.Session, portal: Portal) -> None:
    page = password_token(browser, portal, "echo.read")
    token = chosen_token(page)
    post_page = browser.get(portal.url("/apis/echo/operations/echoPost/")).text
    data = {
        "api": "echo",
        "version": "1.0.0",
        "operation": "echoPost",
        "csrfmiddlewaretoken": hidden_fields(post_page, 'id="console-form"')["csrfmiddlewaretoken"],
        "server": f"{portal.base}/gateway/echo",
        "token": token,
        "media_type": "application/json",
        "body.0": '{"text": "hi"}',
    }
    answer = browser.post(portal.url("/console/send/"), data=data)
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", answer.text))
    assert re.search(r"^\s*403\s*$", text, re.M), text[:2000]
    assert "The scope echo.write is missing (the token has: echo.read)." in text

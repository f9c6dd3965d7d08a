"""Issue 10: "No shared console client can mint other scopes. APIs the developer cannot see are
never offered."

The demo's console client at the built-in provider, as `seed_demo` sets it up, through the
console's own views: the authorization code flow with PKCE (the provider's real authorize and
token endpoints; the stand-in at the outbound boundary hands the console's token request to the
provider through Django's test client) and the password grant. A token carries an API's scope
only when the signed-in developer's active subscriptions grant it; client credentials, whose
token has no developer behind it, are not offered through the shared client, and the page says
where machine-to-machine calls go instead.
"""

from __future__ import annotations

import html as htmllib
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from apis.models import Api
from console import demo as console_demo
from console.models import AuthorizationServer
from console.tokens import TokenStore
from identity import demo as identity_demo
from identity.demo_credentials import CONSOLE_CLIENT_ID, DEMO_PASSWORD, DEMO_USERNAME
from identity.models import Client as OAuthClient
from products import flows as product_flows
from tests.console.conftest import FakeOutbound, forward_token_requests
from tests.identity.conftest import _fast_hashing  # noqa: F401  (autouse, shared)
from tests.products.conftest import make_product  # noqa: F401  (a fixture, shared)

# The development run's origin: loopback (the provider redirects there over plain http) and
# the built-in gateway's, which the console may call.
ORIGIN = "http://127.0.0.1:8000"
PAGE = "/apis/echo/operations/echoGet/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def demo(
    settings: Any,
    echo: Api,
    petstore: Api,
    fake_outbound: FakeOutbound,
    monkeypatch: pytest.MonkeyPatch,
) -> FakeOutbound:
    """The demo's provider clients and console authorization server, on 127.0.0.1."""
    settings.DEBUG = True  # the demo seeds refuse to run without it
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.IDENTITY_ISSUER = f"{ORIGIN}/idp"
    settings.IDENTITY_PORTAL_CLIENT_SECRET = "portal-signin-demo-secret"
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
        "ALLOWED_SCHEMES": ["https", "http"],
        "OIDC_ISS_ENDPOINT": settings.IDENTITY_ISSUER,
        # The development run's IDENTITY_LEGACY_GRANTS, for the password grant.
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
    }
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    identity_demo.seed(io.StringIO())
    console_demo.seed(io.StringIO())
    forward_token_requests(fake_outbound, ORIGIN)
    return fake_outbound


@pytest.fixture
def developer(demo: FakeOutbound) -> Client:
    """The demo user, signed in on the portal and at its built-in provider (as the portal's
    sign-in through that provider leaves the browser)."""
    from django.contrib.auth import get_user_model

    # As a browser on `make run` sends it: the Host names the port (the console builds its
    # redirect URI from it, and a confidential client's loopback URI matches on its port).
    client = Client(SERVER_NAME="127.0.0.1", SERVER_PORT="8000", HTTP_HOST="127.0.0.1:8000")
    client.force_login(get_user_model().objects.get(username=DEMO_USERNAME))
    login = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    assert client.post("/idp/login/", login).status_code == 302
    return client


@pytest.fixture
def echo_starter(make_product: Any, echo: Api) -> Any:  # noqa: F811
    """A product with the echo API only; petstore stays public and in no product."""
    return make_product("starter", echo)


def _subscribe(echo_starter: Any) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=DEMO_USERNAME)
    product_flows.subscribe(user, echo_starter, name="demo")


def _ask(client: Client, grant: str, scopes: str, **extra: str) -> Any:
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet",
            "grant_choice": f"builtin:{grant}", "scopes.builtin": scopes, **extra}  # fmt: skip
    return client.post("/console/token/", data)


def _code_flow(client: Client, scopes: str) -> str:
    """The console's authorization code flow as a browser follows it; the console's page
    (or its error page) at the end, as text."""
    start = _ask(client, "authorization_code", scopes)
    assert start.status_code == 302, start.content[:500]
    authorize = start["Location"]
    assert authorize.startswith(f"{ORIGIN}/idp/authorize/?")
    path = authorize[len(ORIGIN) :]
    page = client.get(path)
    if page.status_code == 200:  # the consent page: allow
        form = page.context["form"].initial
        fields = {k: v for k, v in form.items() if v is not None and k != "allow"}
        page = client.post(path, {**fields, "allow": "Authorize"})
    assert page.status_code == 302, page.content[:500]
    callback = urlsplit(page["Location"])
    assert callback.path == "/console/callback/"
    back = client.get("/console/callback/", {k: v[0] for k, v in parse_qs(callback.query).items()})
    if back.status_code == 302:
        return client.get(back["Location"].split("#")[0]).content.decode()
    return back.content.decode()


def _token_scopes(client: Client) -> list[str]:
    return [t.scopes for t in TokenStore(client.session).all()]


def test_without_a_subscription_the_console_gets_no_api_scope(developer: Client) -> None:
    page = _code_flow(developer, "echo.read")
    assert "invalid_scope" in page
    assert "This client may not have the scope echo.read" in page
    assert _token_scopes(developer) == []
    refused = _ask(
        developer, "password", "echo.read", username=DEMO_USERNAME, password=DEMO_PASSWORD
    )
    assert refused.status_code == 302
    assert "invalid_scope" in developer.get(PAGE).content.decode()
    assert _token_scopes(developer) == []


def test_without_a_subscription_the_refusal_says_how_to_get_the_scope(developer: Client) -> None:
    """The refusal read "This client may not have the scope echo.read.." (the provider's
    full stop, then the console's), and nothing said why: this client's tokens carry only
    what the developer's subscriptions grant, and they held none for echo."""
    hint = "subscribe to a product that offers this API"
    page = htmllib.unescape(_code_flow(developer, "echo.read"))
    assert "This client may not have the scope echo.read. " in page
    assert ".." not in page
    assert hint in page
    _ask(developer, "password", "echo.read", username=DEMO_USERNAME, password=DEMO_PASSWORD)
    page = htmllib.unescape(developer.get(PAGE).content.decode())
    assert "This client may not have the scope echo.read. " in page and hint in page


def test_with_a_subscription_the_console_gets_exactly_the_granted_scopes(
    developer: Client, echo_starter: Any
) -> None:
    _subscribe(echo_starter)
    page = _code_flow(developer, "echo.read echo.write")
    assert 'data-claim="aud">api://echo<' in page
    [token] = TokenStore(developer.session).all()
    assert token.granted_scopes == ["echo.read", "echo.write"]
    # petstore is public but in no product the developer subscribed to: not for this client.
    wider = _code_flow(developer, "echo.read petstore.read")
    assert "This client may not have the scope petstore.read" in wider
    assert len(TokenStore(developer.session).all()) == 1


def test_a_misspelt_scope_is_not_blamed_on_a_missing_subscription(
    developer: Client, echo_starter: Any
) -> None:
    """A typo in the scopes of a developer subscribed to the API was answered with only
    "subscribe to a product that offers this API", which they had done."""
    _subscribe(echo_starter)
    page = htmllib.unescape(_code_flow(developer, "echo.raed"))
    assert "invalid_scope: Unknown scope echo.raed. " in page
    assert "the scopes an API defines (the operation's page lists them under Authorization)" in page
    assert "check the spelling, or subscribe" in page


def test_client_credentials_are_not_offered_through_the_shared_client(
    developer: Client, echo_starter: Any
) -> None:
    _subscribe(echo_starter)
    # Not even where an administrator turned it on, at the console and at the provider.
    server = AuthorizationServer.objects.get(slug="builtin")
    server.grant_client_credentials = True
    server.save()
    OAuthClient.objects.filter(client_id=CONSOLE_CLIENT_ID).update(allow_client_credentials=True)
    page = developer.get(PAGE).content.decode()
    assert 'value="builtin:authorization_code"' in page
    assert 'value="builtin:client_credentials"' not in page
    # The page says where machine-to-machine calls go instead.
    note = page[page.index("data-per-developer") :]
    assert "Tokens from this client carry only what your subscriptions grant." in note
    assert 'a machine application on <a href="/applications/">My applications</a>' in note
    asked = developer.post(
        "/console/token/",
        {"api": "echo", "version": "1.0.0", "operation": "echoGet",
         "grant_choice": "builtin:client_credentials", "scopes.builtin": "echo.read"},
        headers=HTMX,
    )  # fmt: skip
    assert "Client credentials is not enabled for Built-in provider" in asked.content.decode()
    assert _token_scopes(developer) == []


def test_an_api_the_developer_cannot_see_is_never_offered(
    developer: Client,
    make_product: Any,  # noqa: F811
    petstore: Api,
) -> None:
    make_product("internal", petstore, groups=("administrators",))
    assert developer.get("/apis/petstore/").status_code == 404
    assert developer.get("/apis/petstore/operations/listPets/").status_code == 404
    asked = developer.post(
        "/console/token/",
        {"api": "petstore", "version": "2.1.0", "operation": "listPets",
         "grant_choice": "builtin:authorization_code", "scopes.builtin": "petstore.read"},
    )  # fmt: skip
    assert asked.status_code == 404
    assert "petstore" not in developer.get(PAGE).content.decode().lower()

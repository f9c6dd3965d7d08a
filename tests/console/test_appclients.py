"""The console gets tokens as the developer's own application (SECURITY.md case 78).

The built-in provider's real token endpoint answers: the stand-in at the outbound boundary
hands the console's request to it through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apis.models import Api
from applications import flows as app_flows
from console.tokens import TokenStore
from products import flows as product_flows
from products.models import Group, Product
from tests.console.conftest import GATEWAY, FakeOutbound, response
from tests.identity.conftest import _fast_hashing  # noqa: F401  (autouse, shared)

PAGE = "/apis/echo/operations/echoGet/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def subscribed_app(user: Any, echo: Api, petstore: Api) -> app_flows.Registered:
    """A machine application subscribed to a product with echo only (petstore is in none)."""
    registered = app_flows.register(
        user, name="Ada's job", kind="machine", redirect_uris=[], keep_for_console=True
    )
    starter = Product.objects.create(slug="starter", name="Starter", published=True)
    starter.apis.set([echo])
    starter.groups.set(Group.objects.filter(slug="developers"))
    product_flows.subscribe(user, starter, application=registered.application)
    return registered


def _get_token(client: Client, slug: str, scopes: str, **extra: str) -> Any:
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet",
            "grant_choice": f"{slug}:client_credentials", f"scopes.{slug}": scopes, **extra}  # fmt: skip
    return client.post("/console/token/", data, headers=HTMX)


def _slug(registered: app_flows.Registered) -> str:
    return f"app.{registered.application.uuid.hex}"


def test_case_78_tokens_carry_only_the_applications_grants(
    signed_in: Client, subscribed_app: app_flows.Registered, provider: FakeOutbound
) -> None:
    page = signed_in.get(PAGE).content.decode()
    assert f'data-app="{subscribed_app.application.uuid}"' in page
    assert "Get token as Ada&#x27;s job" in page
    assert subscribed_app.secret not in page  # kept on the server

    slug = _slug(subscribed_app)
    got = _get_token(signed_in, slug, "echo.read")
    assert got.status_code == 200
    [token] = TokenStore(signed_in.session).all()
    assert token.claims is not None
    assert token.claims["client_id"] == subscribed_app.application.client_id
    assert token.claims["scope"] == "echo.read" and token.claims["aud"] == "api://echo"
    assert token.server_name == "Ada's job (your application)"  # the card names it
    assert "Ada&#x27;s job (your application)" in got.content.decode()
    # Its own credentials went to the provider, not the shared console client's.
    assert provider.sent[-1].header("Authorization").startswith("Basic ")

    # Petstore is in no product of this application: refused there, nothing kept here.
    refused = _get_token(signed_in, slug, "petstore.read")
    assert "invalid_scope" in refused.content.decode()
    assert len(TokenStore(signed_in.session).all()) == 1
    wider = _get_token(signed_in, slug, "echo.read petstore.write")
    assert "invalid_scope" in wider.content.decode()
    assert len(TokenStore(signed_in.session).all()) == 1


def test_case_78_a_cancelled_subscription_stops_the_console_too(
    signed_in: Client, user: Any, subscribed_app: app_flows.Registered, provider: FakeOutbound
) -> None:
    sub = subscribed_app.application.subscriptions.get()
    product_flows.cancel_by_owner(sub, user)
    # No longer offered, and asking by its id is a 404 with nothing obtained.
    assert (
        f'data-app="{subscribed_app.application.uuid}"' not in signed_in.get(PAGE).content.decode()
    )
    assert _get_token(signed_in, _slug(subscribed_app), "echo.read").status_code == 404
    assert provider.sent == [] and TokenStore(signed_in.session).all() == []


def test_another_developers_application_is_404(
    client: Client,
    subscribed_app: app_flows.Registered,
    provider: FakeOutbound,
    django_user_model: Any,
) -> None:
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw-bob-12345")
    client.force_login(bob)
    assert f'data-app="{subscribed_app.application.uuid}"' not in client.get(PAGE).content.decode()
    assert _get_token(client, _slug(subscribed_app), "echo.read").status_code == 404
    assert provider.sent == []


def test_a_pasted_secret_stays_on_the_server_for_the_session(
    signed_in: Client, subscribed_app: app_flows.Registered, provider: FakeOutbound
) -> None:
    app_flows.forget_console_secret(subscribed_app.application)
    slug = _slug(subscribed_app)
    page = signed_in.get(PAGE).content.decode()
    assert f'name="app_secret.{slug}"' in page

    missing = _get_token(signed_in, slug, "echo.read")
    assert "Paste Ada&#x27;s job&#x27;s client secret" in missing.content.decode()
    assert provider.sent == []

    wrong = _get_token(signed_in, slug, "echo.read", **{f"app_secret.{slug}": "wrong-secret"})
    assert "invalid_client" in wrong.content.decode()
    got = _get_token(signed_in, slug, "echo.read", **{f"app_secret.{slug}": subscribed_app.secret})
    html = got.content.decode()
    assert subscribed_app.secret not in html and 'data-app-secret="pasted"' in html
    assert len(TokenStore(signed_in.session).all()) == 1
    # Not in the form state restored after a redirect.
    plain = signed_in.post(
        "/console/token/",
        {"api": "echo", "version": "1.0.0", "operation": "echoGet",
         "grant_choice": f"{slug}:client_credentials", f"scopes.{slug}": "echo.read",
         f"app_secret.{slug}": subscribed_app.secret},
    )  # fmt: skip
    assert plain.status_code == 302
    assert subscribed_app.secret not in str(signed_in.session.get("console_restore", ""))


def test_a_pasted_secret_the_provider_refused_is_dropped(
    signed_in: Client, subscribed_app: app_flows.Registered, provider: FakeOutbound
) -> None:
    """A mistyped secret was kept for the session after invalid_client: the panel said
    "Secret: pasted for this session" with no field to paste the right one, and every later
    try sent the wrong secret again, until sign-out."""
    app_flows.forget_console_secret(subscribed_app.application)
    slug = _slug(subscribed_app)
    wrong = _get_token(signed_in, slug, "echo.read", **{f"app_secret.{slug}": "wrong-secret"})
    html = wrong.content.decode()
    assert "invalid_client" in html and "paste it again" in html
    assert f'name="app_secret.{slug}"' in html and 'data-app-secret="pasted"' not in html
    again = _get_token(signed_in, slug, "echo.read")
    assert "Paste Ada&#x27;s job&#x27;s client secret" in again.content.decode()
    got = _get_token(signed_in, slug, "echo.read", **{f"app_secret.{slug}": subscribed_app.secret})
    assert 'data-app-secret="pasted"' in got.content.decode()
    assert len(TokenStore(signed_in.session).all()) == 1


def test_only_client_credentials(
    signed_in: Client, subscribed_app: app_flows.Registered, provider: FakeOutbound
) -> None:
    slug = _slug(subscribed_app)
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet",
            "grant_choice": f"{slug}:password", f"scopes.{slug}": "echo.read"}  # fmt: skip
    answer = signed_in.post("/console/token/", data, headers=HTMX)
    assert "client credentials" in answer.content.decode()
    assert provider.sent == []


def test_a_deleted_applications_token_is_no_longer_sent(
    signed_in: Client, subscribed_app: app_flows.Registered, provider: FakeOutbound
) -> None:
    _get_token(signed_in, _slug(subscribed_app), "echo.read")
    [token] = TokenStore(signed_in.session).all()
    provider.on("GET", f"{GATEWAY}/echo/anything", lambda sent: response(200, {"ok": True}))
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet",
            "server": f"{GATEWAY}/echo", "param.query.message": "hi", "token": token.id}  # fmt: skip
    signed_in.post("/console/send/", data)
    assert provider.sent[-1].header("Authorization") == f"Bearer {token.access_token}"

    app_flows.delete(subscribed_app.application)
    answer = signed_in.post("/console/send/", data).content.decode()
    assert "application was deleted" in answer
    assert provider.sent[-1].header("Authorization") == ""
    assert TokenStore(signed_in.session).all() == []


def test_one_developers_wrong_secrets_do_not_lock_the_console_out_for_everyone(
    signed_in: Client,
    subscribed_app: app_flows.Registered,
    provider: FakeOutbound,
    echo: Api,
    django_user_model: Any,
    settings: Any,
) -> None:
    """The console asks the built-in provider from the portal's own address, for every
    developer: the provider counts failed client authentications by address, so one
    developer pasting a wrong secret 20 times a minute had every console token request
    refused (429 invalid_client) for everyone, the shared console client's included. The
    portal holds the client's hashed secrets: a wrong one is refused here, never sent."""
    settings.IDENTITY_CLIENT_AUTH_FAILURES_PER_IP = 5
    slug = _slug(subscribed_app)
    for _ in range(8):
        wrong = _get_token(signed_in, slug, "echo.read", **{f"app_secret.{slug}": "wrong-secret"})
        assert "not the client secret of Ada&#x27;s job" in wrong.content.decode()
    assert provider.sent == []

    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw-bob-12345")
    bobs = app_flows.register(
        bob, name="Bob's job", kind="machine", redirect_uris=[], keep_for_console=True
    )
    product_flows.subscribe(bob, Product.objects.get(slug="starter"), application=bobs.application)
    other = Client()
    other.force_login(bob)
    got = _get_token(other, _slug(bobs), "echo.read")
    assert got.status_code == 200 and "Too many" not in got.content.decode()
    assert len(TokenStore(other.session).all()) == 1

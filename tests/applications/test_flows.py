"""Registering, rotating and deleting applications, checked at the built-in provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from applications import flows
from applications.models import Application
from applications.redirects import RedirectUriError
from identity.models import Client as OAuthClient
from tests.applications.conftest import basic, client_credentials

Register = Callable[..., flows.Registered]


def test_machine_client_gets_a_token_with_the_secret_shown_once(
    client: Client, ada: Any, register: Register
) -> None:
    registered = register(ada, "machine")
    app = registered.application
    provider = OAuthClient.objects.get(client_id=app.client_id)
    assert provider.client_type == OAuthClient.CLIENT_CONFIDENTIAL
    assert provider.authorization_grant_type == OAuthClient.GRANT_CLIENT_CREDENTIALS
    assert provider.user == ada and provider.redirect_uris == ""
    # Only a hash is kept: the clear secret exists in the Registered result alone.
    assert registered.secret and registered.secret not in provider.client_secret
    response = client_credentials(client, app.client_id, registered.secret)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_web_client_is_confidential_authorization_code_only(
    client: Client, ada: Any, register: Register, loopback_http: None
) -> None:
    registered = register(
        ada, "web", redirect_uris=["https://app.example/cb", "http://127.0.0.1:8000/cb"]
    )
    provider = registered.application.provider_client
    assert provider is not None
    assert provider.client_type == OAuthClient.CLIENT_CONFIDENTIAL
    assert provider.granted_types() == {OAuthClient.GRANT_AUTHORIZATION_CODE}
    assert provider.redirect_uris == "https://app.example/cb http://127.0.0.1:8000/cb"
    assert not provider.skip_authorization  # a third party: the user is asked
    refused = client_credentials(client, provider.client_id, registered.secret)
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize("loopback_on", [True, False])
def test_registration_and_authorization_agree_on_loopback_http(
    client: Client, ada: Any, register: Register, settings: Any, loopback_on: bool
) -> None:
    """A loopback redirect URI is refused at registration exactly when the provider would
    refuse to redirect there (IDENTITY_LOOPBACK_HTTP), so no application is left unusable."""
    schemes = ["https", "http"] if loopback_on else ["https"]
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "ALLOWED_REDIRECT_URI_SCHEMES": schemes,
        "ALLOWED_SCHEMES": schemes,
    }
    uri = "http://127.0.0.1:8000/cb"
    if not loopback_on:
        with pytest.raises(RedirectUriError, match="accepts only https"):
            register(ada, "web", redirect_uris=[uri])
        assert not Application.objects.exists()
        return
    app = register(ada, "web", redirect_uris=[uri]).application
    signed_in = client.post("/idp/login/", {"username": "ada", "password": "pw-ada-1"})
    assert signed_in.status_code == 302
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": uri,
        "scope": "openid",
        "state": "st",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    page = client.get("/idp/authorize/", query)
    assert page.status_code == 200, page.content[:300]
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    fields.pop("allow", None)
    answer = client.post("/idp/authorize/?" + urlencode(query), {**fields, "allow": "Authorize"})
    assert answer.status_code == 302
    assert answer["Location"].startswith(uri + "?code=")


def test_single_page_app_is_public_with_no_secret(
    client: Client, ada: Any, register: Register
) -> None:
    registered = register(ada, "spa")
    provider = registered.application.provider_client
    assert provider is not None
    assert registered.secret == "" and not registered.application.has_secret
    assert provider.client_type == OAuthClient.CLIENT_PUBLIC
    assert provider.client_secret == ""
    refused = client_credentials(client, provider.client_id, "")
    assert refused.status_code in (400, 401)
    with pytest.raises(flows.FlowError, match="no secret"):
        flows.rotate_secret(registered.application)


def test_rotate_secret_stops_the_old_one(client: Client, ada: Any, register: Register) -> None:
    registered = register(ada, "machine")
    app = registered.application
    new = flows.rotate_secret(app)
    assert new != registered.secret
    assert client_credentials(client, app.client_id, registered.secret).status_code == 401
    assert client_credentials(client, app.client_id, new).status_code == 200


def test_case79_delete_revokes_tokens_and_removes_the_client(
    client: Client, ada: Any, register: Register
) -> None:
    """SECURITY.md case 79: a refresh token of a deleted application no longer works."""
    registered = register(ada, "web")
    app = registered.application
    provider = app.provider_client
    expires = timezone.now() + timedelta(hours=1)
    access = AccessToken.objects.create(
        user=ada, application=provider, token="at-1", expires=expires, scope="openid"
    )
    RefreshToken.objects.create(user=ada, application=provider, token="rt-1", access_token=access)
    flows.delete(app)
    assert not Application.objects.filter(pk=app.pk).exists()
    assert not OAuthClient.objects.filter(client_id=app.client_id).exists()
    assert not AccessToken.objects.filter(application_id=provider.pk if provider else 0).exists()
    assert not RefreshToken.objects.filter(user=ada).exists()
    refresh = client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": "rt-1"},
        HTTP_AUTHORIZATION=basic(app.client_id, registered.secret),
    )
    assert refresh.status_code == 401
    assert client_credentials(client, app.client_id, registered.secret).status_code == 401


@pytest.mark.parametrize(
    ("kind", "uris", "says"),
    [
        ("web", [], "at least one redirect URI"),
        ("spa", [], "at least one redirect URI"),
        ("machine", ["https://app.example/cb"], "leave the redirect URIs empty"),
        ("desktop", ["https://app.example/cb"], "Choose a web"),
    ],
)
def test_register_refuses_inconsistent_kinds(
    ada: Any, register: Register, kind: str, uris: list[str], says: str
) -> None:
    with pytest.raises(flows.FlowError, match=says):
        register(ada, kind, redirect_uris=uris)
    assert not Application.objects.exists() and not OAuthClient.objects.exists()


def test_register_refuses_a_bad_redirect_uri(ada: Any, register: Register) -> None:
    with pytest.raises(RedirectUriError, match="fragment"):
        register(ada, "web", redirect_uris=["https://app.example/cb#x"])
    assert not OAuthClient.objects.exists()


def test_creation_is_rate_limited_per_user(
    ada: Any, bob: Any, register: Register, settings: Any
) -> None:
    settings.APPLICATIONS_CREATE_PER_HOUR = 2
    register(ada, "machine")
    register(ada, "machine")
    with pytest.raises(flows.FlowError, match="2 applications in the last hour"):
        register(ada, "machine")
    assert Application.objects.filter(owner=ada).count() == 2
    register(bob, "machine")  # another developer has their own count
    assert OAuthClient.objects.count() == 3


def test_anonymous_cannot_register(register: Register) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(flows.FlowError, match="Sign in"):
        flows.register(AnonymousUser(), name="x", kind="machine", redirect_uris=[])


def test_delete_cancels_the_applications_subscriptions(
    ada: Any, register: Register, make_product: Any, import_spec: Any
) -> None:
    from products import flows as product_flows
    from products.models import Subscription
    from tests.conftest import DEMO_SPECS

    product = make_product("starter", import_spec(DEMO_SPECS / "echo.yaml", "echo"))
    app = register(ada, "machine").application
    for_app = product_flows.subscribe(ada, product, application=app)
    for_me = product_flows.subscribe(ada, product)
    flows.delete(app)
    for_app.refresh_from_db()
    for_me.refresh_from_db()
    assert for_app.state == Subscription.CANCELLED and for_app.application is None
    assert for_app.events.filter(reason="its application was deleted").exists()
    assert for_me.state == Subscription.ACTIVE


def test_rotation_keeps_the_old_secret_for_the_chosen_time_then_not(
    client: Client, ada: Any, register: Register
) -> None:
    """Issue 10: rotating keeps the old secret valid until a time the developer picks."""
    registered = register(ada, "machine")
    app = registered.application
    new = flows.rotate_secret(app, timedelta(hours=2))
    assert client_credentials(client, app.client_id, registered.secret).status_code == 200
    assert client_credentials(client, app.client_id, new).status_code == 200
    # client_secret_post too, not only HTTP Basic.
    body = client.post(
        "/idp/token/",
        {"grant_type": "client_credentials", "client_id": app.client_id,
         "client_secret": registered.secret},
    )  # fmt: skip
    assert body.status_code == 200
    assert app.old_secret_until is not None
    OAuthClient.objects.filter(pk=app.provider_client_id).update(
        previous_secret_expires=timezone.now() - timedelta(seconds=1)
    )
    assert client_credentials(client, app.client_id, registered.secret).status_code == 401
    assert client_credentials(client, app.client_id, new).status_code == 200


def test_a_second_rotation_ends_the_first_ones_grace(
    client: Client, ada: Any, register: Register
) -> None:
    registered = register(ada, "machine")
    app = registered.application
    second = flows.rotate_secret(app, timedelta(hours=2))
    third = flows.rotate_secret(app, timedelta(hours=2))
    assert client_credentials(client, app.client_id, registered.secret).status_code == 401
    assert client_credentials(client, app.client_id, second).status_code == 200
    assert client_credentials(client, app.client_id, third).status_code == 200


def test_the_grace_is_limited(ada: Any, register: Register, settings: Any) -> None:
    settings.APPLICATIONS_SECRET_GRACE_MAX = 3600
    registered = register(ada, "machine")
    provider = registered.application.provider_client
    assert provider is not None
    before = OAuthClient.objects.get(pk=provider.pk).client_secret
    with pytest.raises(flows.FlowError, match="at most 1 hours"):
        flows.rotate_secret(registered.application, timedelta(hours=2))
    assert OAuthClient.objects.get(pk=provider.pk).client_secret == before  # nothing changed


@pytest.mark.parametrize("name", ["CI\nApproved by the portal team", "Portal Console \u202e"])
def test_an_application_name_with_line_breaks_or_direction_controls_is_refused(
    ada: Any, name: str
) -> None:
    with pytest.raises(flows.FlowError, match="line break|control"):
        flows.register(ada, name=name, kind="machine", redirect_uris=[])

"""The built-in provider's login page: next, CSRF, rate limits, demo credentials."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from identity.demo_credentials import DEMO_PASSWORD, DEMO_USERNAME
from identity.session import SESSION_KEY
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str, ip: str = "10.1.1.1", **extra: Any) -> Any:
    return client.post(
        "/idp/login/", {"username": username, "password": password, **extra}, REMOTE_ADDR=ip
    )


def test_success_goes_to_next_and_signs_in_the_provider_only(
    client: Client, user_factory: Any
) -> None:
    user_factory("grace")
    response = login(client, "grace", PASSWORD, next="/idp/authorize/?client_id=x")
    assert response.status_code == 302 and response["Location"] == "/idp/authorize/?client_id=x"
    assert client.session[SESSION_KEY]["id"]
    # Signing in at the provider is not signing in to the portal.
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "next_url", ["//evil.example", "/\\evil.example", "https:evil.example", "javascript:alert(1)"]
)
def test_case54_off_site_next_goes_home_after_a_password_sign_in(
    client: Client, user_factory: Any, next_url: str
) -> None:
    user_factory("grace")
    response = login(client, "grace", PASSWORD, next=next_url)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/idp/login/", {"next": next_url})
    assert f'value="{next_url}"' not in page.content.decode()


def test_wrong_password(client: Client, user_factory: Any) -> None:
    user_factory("grace")
    response = login(client, "grace", "wrong")
    assert response.status_code == 400
    assert b"Please enter a correct username and password" in response.content
    assert SESSION_KEY not in client.session


def test_csrf_is_required() -> None:
    assert (
        Client(enforce_csrf_checks=True).post("/idp/login/", {"username": "a"}).status_code == 403
    )


def test_case57_eleventh_failure_a_minute_from_one_ip_is_refused_whatever_xff_says(
    client: Client, user_factory: Any
) -> None:
    user_factory("grace")
    for i in range(10):
        response = login(client, f"user{i}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        assert response.status_code == 400
    refused = login(client, "grace", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert b"Too many failed sign-ins" in refused.content
    assert SESSION_KEY not in client.session
    assert (
        login(client, "grace", PASSWORD, ip="10.9.9.9").status_code == 302
    )  # other IPs unaffected


def test_case57_sixth_failure_for_one_account_is_refused_from_that_address_only(
    client: Client, user_factory: Any
) -> None:
    """Locking per account and address: a guesser cannot lock the owner out."""
    user_factory("grace")
    for _ in range(5):
        assert login(client, "grace", "wrong", ip="10.0.0.1").status_code == 400
    assert login(client, "Grace", PASSWORD, ip="10.0.0.1").status_code == 429
    assert login(client, "other", "wrong", ip="10.0.0.1").status_code == 400
    assert login(client, "grace", PASSWORD, ip="10.0.0.99").status_code == 302


def test_demo_credentials_are_refused_in_production(
    client: Client, user_factory: Any, settings: Any
) -> None:
    demo = user_factory(DEMO_USERNAME)
    demo.set_password(DEMO_PASSWORD)
    demo.save()
    settings.DEBUG = False
    refused = login(client, DEMO_USERNAME, DEMO_PASSWORD)
    assert refused.status_code == 403 and b"demo account is disabled" in refused.content
    settings.DEBUG = True
    assert login(client, DEMO_USERNAME, DEMO_PASSWORD).status_code == 302


def test_methods(client: Client) -> None:
    assert client.put("/idp/login/").status_code == 405
    assert client.get("/idp/login/").status_code == 200


def test_admin_login_shares_the_limits(client: Client, user_factory: Any) -> None:
    user_factory("boss", is_staff=True)
    for _ in range(5):
        client.post(
            "/admin/login/", {"username": "boss", "password": "wrong"}, REMOTE_ADDR="10.2.2.2"
        )
    page = client.post(
        "/admin/login/", {"username": "boss", "password": PASSWORD}, REMOTE_ADDR="10.2.2.2"
    )
    assert page.status_code == 200  # the admin shows its form again: no session
    assert "_auth_user_id" not in client.session
    assert login(client, "boss", PASSWORD, ip="10.2.2.2").status_code == 429


def test_password_grant_shares_the_limits(
    client: Client, user_factory: Any, client_factory: Any, settings: Any
) -> None:
    import base64

    from tests.identity.conftest import provider_options

    provider_options(settings, COMPLIANT_BCP_RFC9700_PASSWORD_GRANT=False)
    user_factory("grace")
    client_factory("ropc", "ropc-secret", allow_password=True)
    auth = "Basic " + base64.b64encode(b"ropc:ropc-secret").decode()
    form = {"grant_type": "password", "username": "grace", "scope": "echo.read"}
    for _ in range(5):
        response = client.post(
            "/idp/token/", {**form, "password": "wrong"}, HTTP_AUTHORIZATION=auth
        )
        assert response.status_code == 400
    refused = client.post("/idp/token/", {**form, "password": PASSWORD}, HTTP_AUTHORIZATION=auth)
    assert "access_token" not in refused.json()

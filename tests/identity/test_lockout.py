"""Behind a load balancer (TRUSTED_PROXIES), failed sign-ins count per real client, and a
guesser cannot lock an account out for everyone (SECURITY.md cases 57 and 81)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from identity import ratelimit
from identity.session import SESSION_KEY
from tests.identity.conftest import PASSWORD, provider_options

pytestmark = pytest.mark.django_db

LB = "10.0.0.2"  # every request arrives from the load balancer
ATTACKER = "203.0.113.66"


@pytest.fixture(autouse=True)
def behind_lb(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


def via_lb(client: Client, path: str, data: dict[str, str], real: str, **extra: Any) -> Any:
    return client.post(path, data, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=real, **extra)


def ten_bad_passwords(client: Client, *usernames: str) -> None:
    for i in range(10):
        data = {"username": usernames[i % len(usernames)], "password": "x"}
        assert via_lb(client, "/idp/login/", data, ATTACKER).status_code in (400, 429)


def test_ten_bad_passwords_do_not_block_the_owner_from_elsewhere(
    client: Client, user_factory: Any
) -> None:
    user_factory("grace")
    ten_bad_passwords(client, "grace")
    data = {"username": "grace", "password": PASSWORD}
    assert via_lb(client, "/idp/login/", data, ATTACKER).status_code == 429
    response = via_lb(Client(), "/idp/login/", data, "198.51.100.7")
    assert response.status_code == 302


def test_nor_another_users_sign_in(client: Client, user_factory: Any) -> None:
    user_factory("grace")
    user_factory("alan")
    ten_bad_passwords(client, "grace", "ada", "linus", "ken", "barbara")  # a password spray
    signed_in = Client()
    data = {"username": "alan", "password": PASSWORD}
    assert via_lb(signed_in, "/idp/login/", data, "198.51.100.8").status_code == 302
    assert signed_in.session[SESSION_KEY]["id"]


def test_nor_a_staff_login(client: Client, user_factory: Any) -> None:
    user_factory("boss", is_staff=True, is_superuser=True)
    ten_bad_passwords(client, "boss")
    admin = Client()
    data = {"username": "boss", "password": PASSWORD}
    assert via_lb(admin, "/admin/login/", data, "198.51.100.9").status_code == 302
    assert admin.session["_auth_user_id"]


def test_nor_the_password_grant(
    client: Client, user_factory: Any, client_factory: Any, settings: Any
) -> None:
    provider_options(settings, COMPLIANT_BCP_RFC9700_PASSWORD_GRANT=False)
    user_factory("grace")
    client_factory("ropc", "ropc-secret", allow_password=True)
    ten_bad_passwords(client, "grace")
    auth = "Basic " + base64.b64encode(b"ropc:ropc-secret").decode()
    form = {"grant_type": "password", "username": "grace", "password": PASSWORD}
    response = via_lb(Client(), "/idp/token/", form, "198.51.100.10", HTTP_AUTHORIZATION=auth)
    assert "access_token" in response.json(), response.content


def test_the_admin_login_says_when_the_address_is_blocked(
    client: Client, user_factory: Any
) -> None:
    """From the address that failed too often, the admin's login refused the right password
    with 'Please enter the correct username and password', so a staff member kept retyping
    it (each try refused again) instead of waiting."""
    user_factory("boss", is_staff=True, is_superuser=True)
    ten_bad_passwords(client, "grace", "ada", "linus", "ken", "barbara")
    via_lb(client, "/idp/login/", {"username": "alan", "password": "x"}, ATTACKER)
    assert ratelimit.blocked(ATTACKER, "boss") is not None
    admin = Client()
    data = {"username": "boss", "password": PASSWORD}
    page = via_lb(admin, "/admin/login/", data, ATTACKER)
    text = page.content.decode()
    assert "Too many failed sign-ins" in text and "correct username and password" not in text
    assert page.context["form"].data["username"] == "boss"  # what was typed stays
    assert "_auth_user_id" not in admin.session


def test_the_password_grant_says_when_the_address_is_blocked(
    user_factory: Any, client_factory: Any, settings: Any
) -> None:
    """A password spray through the password grant blocks the address as the sign-in page
    does (case 57), and the answer says so: it read 400 'Invalid credentials given.' for the
    right password too, so a client told its user the password was wrong and to retry."""
    provider_options(settings, COMPLIANT_BCP_RFC9700_PASSWORD_GRANT=False)
    user_factory("grace")
    client_factory("ropc", "ropc-secret", allow_password=True)
    auth = "Basic " + base64.b64encode(b"ropc:ropc-secret").decode()
    for i in range(settings.IDENTITY_LOGIN_FAILURES_PER_IP):
        form = {"grant_type": "password", "username": f"user{i}", "password": "x"}
        refused = via_lb(Client(), "/idp/token/", form, ATTACKER, HTTP_AUTHORIZATION=auth)
        assert refused.json()["error"] == "invalid_grant"
    form = {"grant_type": "password", "username": "grace", "password": PASSWORD}
    blocked = via_lb(Client(), "/idp/token/", form, ATTACKER, HTTP_AUTHORIZATION=auth)
    assert blocked.status_code == 429, blocked.content
    assert int(blocked["Retry-After"]) > 0 and blocked["Cache-Control"] == "no-store"
    assert blocked.json()["error"] == "invalid_grant"
    assert "Too many failed sign-ins" in blocked.json()["error_description"]
    elsewhere = via_lb(Client(), "/idp/token/", form, "198.51.100.10", HTTP_AUTHORIZATION=auth)
    assert "access_token" in elsewhere.json(), elsewhere.content


def test_a_spoofed_header_from_outside_the_proxies_changes_nothing(
    client: Client, user_factory: Any
) -> None:
    """Straight to the portal, a rotating X-Forwarded-For does not reset the count."""
    user_factory("grace")
    for i in range(10):
        client.post(
            "/idp/login/",
            {"username": f"user{i}", "password": "x"},
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        )
    refused = client.post(
        "/idp/login/",
        {"username": "grace", "password": PASSWORD},
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )
    assert refused.status_code == 429


def test_many_failures_from_everywhere_slow_the_account_without_locking_it(
    client: Client, user_factory: Any, settings: Any
) -> None:
    settings.IDENTITY_LOGIN_ACCOUNT_SLOW_AFTER = 8
    settings.IDENTITY_LOGIN_SLOW_SECONDS = 1
    user_factory("grace")
    assert ratelimit.delay("grace") == 0
    for i in range(8):  # a botnet: one failure from each of many addresses
        data = {"username": "grace", "password": "x"}
        assert via_lb(client, "/idp/login/", data, f"192.0.2.{i}").status_code == 400
    assert ratelimit.delay("Grace") == 1  # each attempt on the account now waits a second
    data = {"username": "grace", "password": PASSWORD}
    assert via_lb(Client(), "/idp/login/", data, "198.51.100.7").status_code == 302


@pytest.mark.parametrize("length", [151, 20_000])
def test_usernames_past_the_fields_limit_count_against_the_address(
    user_factory: Any, client_factory: Any, settings: Any, length: int
) -> None:
    """The form's username field holds 150 characters; longer ones (a guesser's padding, a
    pasted token) are refused like a wrong password, counted, and never a 500, on the sign-in
    page and through the password grant."""
    provider_options(settings, COMPLIANT_BCP_RFC9700_PASSWORD_GRANT=False)
    user_factory("grace")
    client_factory("ropc", "ropc-secret", allow_password=True)
    auth = "Basic " + base64.b64encode(b"ropc:ropc-secret").decode()
    for i in range(settings.IDENTITY_LOGIN_FAILURES_PER_IP):
        data = {"username": f"grace{'x' * length}{i}", "password": "x"}
        assert via_lb(Client(), "/idp/login/", data, ATTACKER).status_code == 400
    right = {"username": "grace", "password": PASSWORD}
    assert via_lb(Client(), "/idp/login/", right, ATTACKER).status_code == 429
    form = {"grant_type": "password", "username": f"grace{'x' * length}", "password": "x"}
    blocked = via_lb(Client(), "/idp/token/", form, ATTACKER, HTTP_AUTHORIZATION=auth)
    assert blocked.status_code == 429 and blocked.json()["error"] == "invalid_grant"
    for i in range(settings.IDENTITY_LOGIN_FAILURES_PER_IP):
        form["username"] = f"grace{'x' * length}{i}"
        refused = via_lb(Client(), "/idp/token/", form, "198.51.100.20", HTTP_AUTHORIZATION=auth)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    grace = {"grant_type": "password", "username": "grace", "password": PASSWORD}
    again = via_lb(Client(), "/idp/token/", grace, "198.51.100.20", HTTP_AUTHORIZATION=auth)
    assert again.status_code == 429

"""A person who already has a portal account (made by the built-in provider, an administrator
or `seed_demo`) signs in through an external provider with the same e-mail address.

Only where the operator trusts that provider's verified addresses (OIDC_LINK_BY_VERIFIED_EMAIL)
is the sign-in that account, with its subscriptions and applications; an address the provider
does not say it verified never is (Entra ID's `email` claim, for one, is not verified).
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts.providers import ProviderConfigError, external_providers_from_env
from tests.accounts.test_signin_errors import CALLBACK, start

pytestmark = pytest.mark.django_db


def trust_emails(settings: Any) -> None:
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    app["settings"] = {**app["settings"], "email_authentication": True}


def sign_in(client: Client, op: Any, verified: Any) -> Any:
    op.claims = {"email_verified": verified}
    op.userinfo = {**op.userinfo, "email_verified": verified}
    params = start(client)
    return client.get(CALLBACK, {"code": "c", "state": params["state"]})


def test_a_verified_address_of_a_trusted_provider_signs_into_that_account(
    client: Client, stub_op: Any, settings: Any, user_factory: Any
) -> None:
    trust_emails(settings)
    ada = user_factory("ada", email="ada@example.com")

    response = sign_in(client, stub_op, True)

    assert response.status_code == 302 and response["Location"] == "/apis/"
    assert client.session[SESSION_KEY] == str(ada.pk)
    assert SocialAccount.objects.get(uid="stub-user").user == ada
    # allauth's guard against an account registered under someone else's address before they
    # came: its password (never verified against the address) stops working.
    ada.refresh_from_db()
    assert not ada.has_usable_password()
    # The next sign-in finds the linked account by its subject, whatever the address says.
    client.logout()
    assert sign_in(client, stub_op, False).status_code == 302
    assert client.session[SESSION_KEY] == str(ada.pk)


@pytest.mark.parametrize("verified", [False, None, "false"])
def test_an_address_the_provider_did_not_verify_links_nothing(
    client: Client, stub_op: Any, settings: Any, user_factory: Any, verified: Any
) -> None:
    trust_emails(settings)
    ada = user_factory("ada", email="ada@example.com")

    response = sign_in(client, stub_op, verified)

    assert SESSION_KEY not in client.session or client.session[SESSION_KEY] != str(ada.pk)
    assert not SocialAccount.objects.filter(user=ada).exists()
    assert response.status_code == 302 and response["Location"] != "/apis/"


def test_without_the_operators_trust_a_verified_address_links_nothing(
    client: Client, stub_op: Any, user_factory: Any
) -> None:
    ada = user_factory("ada", email="ada@example.com")
    sign_in(client, stub_op, True)
    assert SESSION_KEY not in client.session or client.session[SESSION_KEY] != str(ada.pk)
    assert not SocialAccount.objects.filter(user=ada).exists()


def test_the_trust_is_set_per_provider_from_the_environment() -> None:
    base = {"OIDC_ISSUER": "https://kc.example/realms/a", "OIDC_CLIENT_ID": "portal"}
    (app,) = external_providers_from_env({**base, "OIDC_LINK_BY_VERIFIED_EMAIL": "1"})
    assert app["settings"]["email_authentication"] is True
    (app,) = external_providers_from_env(base)
    assert "email_authentication" not in app["settings"]
    with pytest.raises(ProviderConfigError, match="OIDC_LINK_BY_VERIFIED_EMAIL"):
        external_providers_from_env({**base, "OIDC_LINK_BY_VERIFIED_EMAIL": "maybe"})


def assert_not_linked(client: Client, *users: Any) -> None:
    for user in users:
        assert SESSION_KEY not in client.session or client.session[SESSION_KEY] != str(user.pk)
        assert not SocialAccount.objects.filter(user=user, uid="stub-user").exists()


def test_an_address_two_accounts_share_links_neither(
    client: Client, stub_op: Any, settings: Any, user_factory: Any
) -> None:
    """Which of the two the provider's person is, no one can tell: the first the database
    returned was signed into."""
    trust_emails(settings)
    ada = user_factory("ada", email="ada@example.com")
    other = user_factory("ada2", email="ada@example.com")

    sign_in(client, stub_op, True)

    assert_not_linked(client, ada, other)


@pytest.mark.parametrize(
    "fields", [{"is_staff": True}, {"is_superuser": True}, {"is_active": False}]
)
def test_an_address_never_links_a_staff_superuser_or_deactivated_account(
    client: Client, stub_op: Any, settings: Any, user_factory: Any, fields: dict[str, Any]
) -> None:
    """A provider's say-so about an address is not enough to become an administrator, and
    a deactivated account stays unlinked (it was linked, its password wiped)."""
    trust_emails(settings)
    ada = user_factory("ada", email="ada@example.com", **fields)

    sign_in(client, stub_op, True)

    assert_not_linked(client, ada)
    ada.refresh_from_db()
    assert ada.has_usable_password()


def test_an_account_linked_to_another_subject_of_the_provider_is_not_linked_again(
    client: Client, stub_op: Any, settings: Any, user_factory: Any
) -> None:
    """The provider gave the address to someone else (a reused mailbox, a renamed person):
    the account already has that provider's person, and the new one is not them."""
    trust_emails(settings)
    ada = user_factory("ada", email="ada@example.com")
    SocialAccount.objects.create(user=ada, provider="stub", uid="the-first-ada")

    sign_in(client, stub_op, True)

    assert_not_linked(client, ada)


@pytest.mark.parametrize("address", ["\u212aate@example.com", "kate@example.com\u0307"])
def test_a_unicode_lookalike_of_an_address_links_nothing(
    client: Client, stub_op: Any, settings: Any, user_factory: Any, address: str
) -> None:
    """U+212A KELVIN SIGN lowers to 'k': allauth's case-insensitive match took the
    provider's '\u212aate@' for the portal's 'kate@'."""
    trust_emails(settings)
    kate = user_factory("kate", email="kate@example.com")
    stub_op.userinfo = {**stub_op.userinfo, "email": address}

    sign_in(client, stub_op, True)

    assert_not_linked(client, kate)


def test_an_address_differing_only_in_case_links(
    client: Client, stub_op: Any, settings: Any, user_factory: Any
) -> None:
    trust_emails(settings)
    ada = user_factory("ada", email="Ada@Example.com")

    response = sign_in(client, stub_op, True)

    assert response.status_code == 302 and response["Location"] == "/apis/"
    assert client.session[SESSION_KEY] == str(ada.pk)

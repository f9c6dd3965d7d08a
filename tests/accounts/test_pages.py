"""Profile, the administrators' setup page, sign-out and the header's account menu."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(user_factory: Any) -> Any:
    user = user_factory("grace")
    SocialAccount.objects.create(
        user=user,
        provider="oidc",
        uid="00u-grace",
        extra_data={"id_token": {"iss": "https://login.example.com", "sub": "00u-grace"}},
    )
    return user


def test_profile_shows_who_and_linked_identities(client: Client, linked: Any) -> None:
    client.force_login(linked)
    page = client.get("/accounts/profile/").content.decode()
    assert 'data-field="name">Grace Hopper<' in page
    assert 'data-field="email">grace@example.com<' in page
    assert 'data-field="subject">00u-grace<' in page
    assert "https://login.example.com" in page


def test_profile_needs_sign_in(client: Client) -> None:
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_profile_is_read_only(client: Client, linked: Any) -> None:
    client.force_login(linked)
    assert client.post("/accounts/profile/").status_code == 405


def test_setup_page_is_for_staff_and_shows_exact_redirect_uris(
    client: Client, user_factory: Any, portal_signin: Any
) -> None:
    assert client.get("/accounts/setup/").status_code == 302
    client.force_login(user_factory("dev"))
    assert client.get("/accounts/setup/").status_code == 404
    client.force_login(user_factory("admin", is_staff=True))
    page = client.get("/accounts/setup/").content.decode()
    assert 'data-field="redirect_uri">http://testserver/accounts/oidc/oidc/login/callback/<' in page
    assert "http://testserver/idp" in page


@pytest.mark.parametrize("trusted", [True, False])
def test_setup_page_says_whether_a_provider_links_existing_accounts(
    client: Client, user_factory: Any, stub_op: Any, settings: Any, trusted: bool
) -> None:
    if trusted:
        app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
        app["settings"] = {**app["settings"], "email_authentication": True}
    client.force_login(user_factory("admin", is_staff=True))
    page = client.get("/accounts/setup/").content.decode()
    said = page.split('data-field="existing_accounts">', 1)[1].split("</dd>", 1)[0]
    if trusted:
        assert said.startswith("Linked") and "OIDC_LINK_BY_VERIFIED_EMAIL" in said
    else:
        assert said.startswith("Not linked") and "a new account" in said


def test_header_offers_one_click_sign_in_back_to_this_page(
    client: Client, portal_signin: Any
) -> None:
    page = client.get("/apis/?q=pets").content.decode()
    assert 'action="/accounts/oidc/oidc/login/?process=login&amp;next=/apis/%3Fq%3Dpets"' in page
    assert ">Sign in</button>" in page


def test_header_links_to_the_chooser_with_several_providers(
    client: Client, portal_signin: Any, stub_op: Any, settings: Any
) -> None:
    settings.IDENTITY_BUILTIN = True
    page = client.get("/apis/").content.decode()
    assert 'href="/accounts/login/?next=/apis/"' in page
    chooser = client.get("/accounts/login/?next=/apis/").content.decode()
    assert "Sign in with Stub OP" in chooser and "Sign in with API Portal account" in chooser
    assert chooser.count('method="post"') >= 2


def test_the_sign_in_pages_header_link_keeps_next_instead_of_nesting_it(
    client: Client, portal_signin: Any, stub_op: Any, settings: Any
) -> None:
    # On the chooser, the header's Sign in pointed at the chooser with next= the chooser:
    # /accounts/login/?next=/accounts/login/%3Fnext%3D/apis/, one level more on each click,
    # so a crawler opening every page never ran out of new URLs.
    settings.IDENTITY_BUILTIN = True
    chooser = client.get("/accounts/login/?next=/apis/%3Fq%3Dpets").content.decode()
    assert 'href="/accounts/login/?next=/apis/%3Fq%3Dpets"' in chooser
    assert "next=/accounts/login" not in chooser and "next=%2Faccounts" not in chooser
    bare = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/login/?next=/"' in bare
    away = client.get("/accounts/login/?next=//evil.example/").content.decode()
    assert 'href="/accounts/login/?next=/"' in away


def test_header_menu_when_signed_in(client: Client, linked: Any) -> None:
    client.force_login(linked)
    page = client.get("/").content.decode()
    assert "data-account-name>Grace Hopper<" in page
    assert 'action="/accounts/logout/"' in page


def test_the_menu_leads_an_administrator_to_the_admin(client: Client, user_factory: Any) -> None:
    # Importing an API, publishing a product: the admin had no link from the portal; an
    # administrator had to know to type /admin/.
    client.force_login(user_factory("dev"))
    assert 'href="/admin/"' not in client.get("/").content.decode()
    client.force_login(user_factory("boss", is_staff=True))
    assert '<a href="/admin/">Administration</a>' in client.get("/").content.decode()


def test_sign_out_needs_post_and_csrf(linked: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(linked)
    assert browser.get("/accounts/logout/").status_code == 200  # a confirmation page
    assert browser.post("/accounts/logout/").status_code == 403
    assert browser.get("/accounts/profile/").status_code == 200  # still signed in


def test_sign_out_without_provider_session_goes_home(client: Client, linked: Any) -> None:
    client.force_login(linked)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/accounts/profile/").status_code == 302


def test_sign_out_says_so_on_the_page_it_lands_on(client: Client, linked: Any) -> None:
    """Signing in said 'Successfully signed in as ...'; signing out said nothing: the page
    came back with only the header's button changed."""
    client.force_login(linked)
    response = client.post("/accounts/logout/", follow=True)
    assert "You are signed out." in response.content.decode()
    assert "You are signed out." not in client.get("/").content.decode()  # shown once


def test_local_signup_is_closed(client: Client) -> None:
    response = client.get("/accounts/signup/")
    assert response.status_code in (200, 302, 404)
    assert b'name="password1"' not in response.content


def test_the_chooser_is_a_card_that_says_what_signing_in_gives(
    client: Client, portal_signin: Any, stub_op: Any, settings: Any
) -> None:
    # allauth's page: "Sign In" (every other page says "Sign in") over a bare button, left
    # in the page, unlike the provider's sign-in card it leads to.
    settings.IDENTITY_BUILTIN = True
    chooser = client.get("/accounts/login/?next=/apis/").content.decode()
    assert "Sign In" not in chooser
    assert '<section class="auth-card card">' in chooser
    assert '<h1 class="auth-title">Sign in</h1>' in chooser
    assert "subscribe to products" in chooser
    assert "<title>Sign in · " in chooser


def test_the_chooser_without_a_provider_says_so(client: Client, settings: Any) -> None:
    # With no provider configured the page was a heading and nothing under it.
    settings.IDENTITY_BUILTIN = False
    settings.SOCIALACCOUNT_PROVIDERS = {}
    chooser = client.get("/accounts/login/").content.decode()
    assert 'data-empty="providers"' in chooser
    assert "No sign-in provider is configured" in chooser


def test_the_admin_sign_in_page_leads_to_the_portals_sign_in(client: Client) -> None:
    # /admin/ sent an administrator to a bare username and password form: one who signs in
    # through the organisation's provider has no password there, and nothing said where to
    # sign in instead.
    page = client.get("/admin/login/?next=/admin/apis/api/").content.decode()
    assert 'href="/accounts/login/?next=/admin/apis/api/"' in page
    assert 'id="login-form"' in page  # the password form stays, for local accounts

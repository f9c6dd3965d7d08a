"""The round trip over real HTTP against the built-in provider (a live server, no mocks)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session

from tests.identity.conftest import PASSWORD, signin_with_builtin

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_returns_to_the_page_and_profile_shows_who(
    live_server: Any, portal_signin: Any, user_factory: Any
) -> None:
    portal_signin(live_server.url)
    grace = user_factory("grace")
    session = requests.Session()

    landed = signin_with_builtin(session, live_server.url, "/apis/?q=pets", "grace", PASSWORD)

    assert landed.status_code == 200
    assert landed.url == f"{live_server.url}/apis/?q=pets"  # back on the page, query kept
    assert "data-account-name>Grace Hopper<" in landed.text
    # The callback carried RFC 9207 `iss`, and the portal linked the identity to the same user.
    account = SocialAccount.objects.get(user=grace)
    assert account.uid == str(grace.pk)
    assert account.extra_data["id_token"]["iss"] == f"{live_server.url}/idp"

    profile = session.get(f"{live_server.url}/accounts/profile/")
    assert profile.status_code == 200
    assert 'data-field="email">grace@example.com<' in profile.text
    assert f'data-field="subject">{grace.pk}<' in profile.text
    assert "API Portal account <span" in profile.text  # the built-in provider's name


def test_wrong_password_at_the_provider_creates_no_portal_session(
    live_server: Any, portal_signin: Any, user_factory: Any
) -> None:
    portal_signin(live_server.url)
    user_factory("grace")
    session = requests.Session()

    page = signin_with_builtin(session, live_server.url, "/apis/", "grace", "wrong")

    assert page.status_code == 400
    assert "Please enter a correct username and password" in page.text
    assert (
        session.get(f"{live_server.url}/accounts/profile/", allow_redirects=False).status_code
        == 302
    )


def test_case60_sign_out_ends_both_sessions_and_deletes_server_side_tokens(
    live_server: Any, portal_signin: Any, user_factory: Any
) -> None:
    portal_signin(live_server.url)
    user_factory("grace")
    session = requests.Session()
    signin_with_builtin(session, live_server.url, "/", "grace", PASSWORD)
    old_cookie = session.cookies["sessionid"]
    # What the console keeps for a signed-in user lives in this server-side session.
    stored = Session.objects.get(session_key=old_cookie)
    data = stored.get_decoded()
    data["console_tokens"] = {"echo": {"access_token": "eyJ-secret", "refresh_token": "r-secret"}}
    stored.session_data = Session.objects.encode(data)
    stored.save()

    profile = session.get(f"{live_server.url}/accounts/profile/")
    token = form_token(profile.text)
    out = session.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": token},
        allow_redirects=False,
    )

    # RP-initiated logout at the provider, which sends the browser home.
    assert out.status_code == 302
    assert out.headers["Location"].startswith(f"{live_server.url}/idp/logout/?id_token_hint=")
    home = session.get(out.headers["Location"])
    assert home.url == f"{live_server.url}/"
    assert "data-account-name" not in home.text
    assert not Session.objects.filter(session_key=old_cookie).exists()
    assert all("eyJ-secret" not in str(s.get_decoded()) for s in Session.objects.all())
    # Replaying the old cookie gets no one in.
    replay = requests.get(
        f"{live_server.url}/accounts/profile/",
        cookies={"sessionid": str(old_cookie)},
        allow_redirects=False,
    )
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/accounts/login/")


def form_token(html: str) -> str:
    marker = 'name="csrfmiddlewaretoken" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]

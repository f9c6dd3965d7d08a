"""Sessions end after SESSION_IDLE_TIMEOUT without use, and after SESSION_COOKIE_AGE
whatever their use."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal.middleware import IDLE_KEY, STARTED_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_user("grace"))
    client.get("/apis/")  # the first request stamps the session
    return client


def backdate(client: Client, key: str, seconds: int) -> None:
    session = client.session
    session[key] = int(time.time()) - seconds
    session.save()


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_defaults_suit_a_session_holding_tokens(settings: Any) -> None:
    assert settings.SESSION_IDLE_TIMEOUT == 8 * 3600
    assert settings.SESSION_COOKIE_AGE <= 24 * 3600


def test_active_sessions_stay(signed_in: Client, settings: Any) -> None:
    backdate(signed_in, IDLE_KEY, settings.SESSION_IDLE_TIMEOUT - 60)
    signed_in.get("/apis/")
    assert is_signed_in(signed_in)
    assert int(time.time()) - signed_in.session[IDLE_KEY] < 5  # activity moved it on


def test_an_idle_session_ends(signed_in: Client, settings: Any) -> None:
    backdate(signed_in, IDLE_KEY, settings.SESSION_IDLE_TIMEOUT + 1)
    response = signed_in.get("/console/history/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not is_signed_in(signed_in)


def test_an_old_session_ends_however_active(signed_in: Client, settings: Any) -> None:
    backdate(signed_in, STARTED_KEY, settings.SESSION_COOKIE_AGE + 1)
    signed_in.get("/apis/")
    assert not is_signed_in(signed_in)


def test_the_idle_limit_is_configurable(signed_in: Client, settings: Any) -> None:
    settings.SESSION_IDLE_TIMEOUT = 600
    backdate(signed_in, IDLE_KEY, 601)
    signed_in.get("/apis/")
    assert not is_signed_in(signed_in)


def test_a_stale_cookie_makes_no_new_session(client: Client) -> None:
    from django.contrib.sessions.models import Session

    client.cookies["sessionid"] = "x" * 32
    client.get("/apis/")
    assert not Session.objects.exists()

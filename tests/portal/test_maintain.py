"""`manage.py maintain`: what has expired goes, what is live stays, and a second run (or a
run on another replica at the same time) finds nothing left and does not fail."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from console.models import CallHistory
from identity import keys
from identity.clients import ensure_client
from identity.models import Client, SigningKey

pytestmark = pytest.mark.django_db


def maintain() -> str:
    out = io.StringIO()
    call_command("maintain", stdout=out)
    return out.getvalue()


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_user("grace", password="x" * 20)


@pytest.fixture
def app(db: None) -> Client:
    return ensure_client(
        client_id="app",
        secret="app-secret",
        name="app",
        grant=Client.GRANT_AUTHORIZATION_CODE,
        redirect_uris=["https://app.example/cb"],
    )


def test_expired_sessions_go_and_live_ones_stay() -> None:
    live = SessionStore()
    live["k"] = 1
    live.create()
    old = SessionStore()
    old.set_expiry(-60)
    old["k"] = 1
    old.create()
    assert "1 expired sessions deleted" in maintain()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_expired_tokens_and_codes_go(user: Any, app: Client, settings: Any) -> None:
    now = timezone.now()
    refresh_life = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    long_ago = now - timedelta(seconds=refresh_life + 3600)
    stale = AccessToken.objects.create(
        user=user, application=app, token="stale", expires=long_ago, scope="openid"
    )
    RefreshToken.objects.create(user=user, application=app, token="stale-r", access_token=stale)
    AccessToken.objects.filter(pk=stale.pk).update(created=long_ago)
    RefreshToken.objects.filter(token="stale-r").update(created=long_ago, updated=long_ago)
    live = AccessToken.objects.create(
        user=user, application=app, token="live", expires=now + timedelta(hours=1), scope="openid"
    )
    Grant.objects.create(
        user=user,
        application=app,
        code="old-code",
        expires=now - timedelta(minutes=5),
        redirect_uri="https://app.example/cb",
    )
    Grant.objects.create(
        user=user,
        application=app,
        code="new-code",
        expires=now + timedelta(minutes=5),
        redirect_uri="https://app.example/cb",
    )
    out = maintain()
    assert "1 authorization codes deleted" in out
    assert list(AccessToken.objects.all()) == [live]
    assert not RefreshToken.objects.exists()
    assert list(Grant.objects.values_list("code", flat=True)) == ["new-code"]


def test_console_history_past_its_retention_goes(user: Any, settings: Any) -> None:
    settings.CONSOLE_HISTORY_RETENTION_DAYS = 30

    def call(days_ago: int) -> CallHistory:
        entry = CallHistory.objects.create(
            user=user, api_slug="a", version_label="1", operation_slug="o", method="get", url="u"
        )
        CallHistory.objects.filter(pk=entry.pk).update(
            created=timezone.now() - timedelta(days=days_ago)
        )
        return entry

    call(31)
    recent = call(29)
    assert "1 console calls deleted" in maintain()
    assert list(CallHistory.objects.all()) == [recent]


def test_retired_signing_keys_go_once_their_tokens_expired() -> None:
    first = keys.active_key()
    keys.rotate()
    assert "0 retired signing keys deleted" in maintain()  # its tokens may still be in use
    SigningKey.objects.filter(pk=first.pk).update(
        retired_at=timezone.now() - keys.retention() - timedelta(seconds=1)
    )
    assert "1 retired signing keys deleted" in maintain()
    assert SigningKey.objects.count() == 1


def test_a_second_run_finds_nothing_and_does_not_fail() -> None:
    old = SessionStore()
    old.set_expiry(-60)
    old.create()
    maintain()
    again = maintain()
    assert "0 expired sessions deleted" in again

"""Tokens revoked at the provider are recorded where the gateway can read them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from identity import revocation
from identity.models import RevokedToken
from tests.identity.test_tokens import _basic, code_flow

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("published_apis")]

AUTH = _basic("console", "console-secret")


def refresh(client: Client, token: str) -> Any:
    return client.post(
        "/idp/token/",
        {"grant_type": "refresh_token", "refresh_token": token},
        HTTP_AUTHORIZATION=AUTH,
    )


def test_revoking_an_access_token_records_its_jti(client: Client, signed_in: Any, app: Any) -> None:
    token = code_flow(client, app)["access_token"]
    assert not revocation.is_revoked(token)

    assert client.post("/idp/revoke/", {"token": token}, HTTP_AUTHORIZATION=AUTH).status_code == 200

    row = RevokedToken.objects.get()
    assert row.jti == jwt.decode(token, options={"verify_signature": False})["jti"]
    assert row.client_id == "console" and row.expires > timezone.now()
    assert revocation.is_revoked(token)


def test_refresh_token_reuse_records_the_family_access_tokens(
    client: Client, signed_in: Any, app: Any
) -> None:
    tokens = code_flow(client, app, scope="openid offline_access echo.read")
    rotated = refresh(client, tokens["refresh_token"]).json()
    assert not revocation.is_revoked(rotated["access_token"])

    replay = refresh(client, tokens["refresh_token"])  # a stolen, already used refresh token
    assert replay.status_code == 400

    assert revocation.is_revoked(rotated["access_token"])  # the live token of the family
    assert revocation.is_revoked(tokens["access_token"])


def test_expired_tokens_deleted_by_cleanup_are_not_revocations(
    client: Client, signed_in: Any, app: Any
) -> None:
    code_flow(client, app)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    AccessToken.objects.all().delete()
    assert not RevokedToken.objects.exists()


def test_prune_forgets_records_of_expired_tokens(client: Client, signed_in: Any, app: Any) -> None:
    token = code_flow(client, app)["access_token"]
    client.post("/idp/revoke/", {"token": token}, HTTP_AUTHORIZATION=AUTH)
    assert revocation.prune() == 0
    RevokedToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert revocation.prune() == 1 and not revocation.is_revoked(token)

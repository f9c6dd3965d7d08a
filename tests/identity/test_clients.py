"""The portal's own sign-in client at the built-in provider (identity/clients.py)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from identity.clients import ensure_portal_client

pytestmark = pytest.mark.django_db

VERIFIER = "v" * 64
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")


@pytest.mark.parametrize(("seeded_as", "signing_in_as"), [("oidc", "builtin"), ("builtin", "oidc")])
def test_the_built_in_sign_in_survives_an_external_provider_coming_or_going(
    client: Client, settings: Any, signed_in: Any, seeded_as: str, signing_in_as: str
) -> None:
    """The built-in provider's id is `oidc` alone and `builtin` beside an external provider
    (IDENTITY_PORTAL_PROVIDER_ID): a client registered under one went on refusing the other's
    callback ('Mismatching redirect URI') until someone ran setup_portal_client again."""
    settings.IDENTITY_PORTAL_PROVIDER_ID = seeded_as
    portal = ensure_portal_client("http://127.0.0.1:8000/idp", "portal-secret-" + "x" * 32)
    settings.IDENTITY_PORTAL_PROVIDER_ID = signing_in_as

    callback = f"http://127.0.0.1:8000/accounts/oidc/{signing_in_as}/login/callback/"
    response = client.get(
        "/idp/authorize/",
        {
            "client_id": portal.client_id, "redirect_uri": callback, "response_type": "code",
            "scope": "openid", "state": "s", "code_challenge": CHALLENGE.decode(),
            "code_challenge_method": "S256",
        },
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[-1500:]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == callback
    assert parse_qs(location.query)["code"]

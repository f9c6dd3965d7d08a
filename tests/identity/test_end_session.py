"""RP-initiated logout at /idp/logout/ (OpenID Connect RP-Initiated Logout 1.0)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("client_id", ["no-such-client", "CONSOLE"])
def test_an_unknown_client_id_is_the_providers_400_page(
    client: Client, signed_in: Any, app: Any, method: str, client_id: str
) -> None:
    """DOT looked the client up with .get(): any unknown client_id answered 500, signed in
    or not."""
    url = f"/idp/logout/?client_id={client_id}&post_logout_redirect_uri=https://app.example/"
    response = getattr(client, method)(url)
    assert response.status_code == 400
    assert "Location" not in response
    assert "Traceback" not in response.content.decode()


def test_a_registered_post_logout_redirect_uri_of_a_known_client_is_followed(
    client: Client, app: Any
) -> None:
    from identity.models import Client as OAuthClient

    OAuthClient.objects.filter(client_id="console").update(
        post_logout_redirect_uris="https://app.example/bye"
    )
    response = client.get(
        "/idp/logout/?client_id=console&post_logout_redirect_uri=https://app.example/bye"
    )
    assert response.status_code == 302 and response["Location"] == "https://app.example/bye"
    refused = client.get(
        "/idp/logout/?client_id=console&post_logout_redirect_uri=https://evil.example/"
    )
    assert refused.status_code == 400 and "Location" not in refused


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:9999/cb",  # its sign-in redirect URI, never a post-logout one
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
    ],
)
def test_a_developers_application_without_post_logout_uris_redirects_nowhere_it_named(
    client: Client, signed_in: Any, app: Any, target: str
) -> None:
    """A developer's application declares no post_logout_redirect_uris: its ID token as the
    hint, with any redirect, is the provider's 400 page, never a redirect there."""
    from urllib.parse import urlencode

    from tests.identity.test_tokens import code_flow

    id_token = code_flow(client, app, scope="openid")["id_token"]
    for params in (
        {"id_token_hint": id_token, "post_logout_redirect_uri": target},
        {"id_token_hint": id_token, "client_id": "console", "post_logout_redirect_uri": target},
    ):
        response = client.get(f"/idp/logout/?{urlencode(params)}")
        assert response.status_code == 400, response.content[:300]
        assert "Location" not in response

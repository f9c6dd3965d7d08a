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

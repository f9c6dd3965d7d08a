"""identity.Client's own checks, as the admin applies them to the clients it creates."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from identity.models import Client

pytestmark = pytest.mark.django_db


def _client(redirect_uris: str) -> Client:
    return Client(
        client_id="partner",
        name="Partner app",
        client_type=Client.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Client.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uris,
        algorithm=Client.RS256_ALGORITHM,
    )


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        # A browser reads the backslash as a slash: it goes to evil.example, while the
        # consent page names the whole as where the answer goes.
        ("https://evil.example\\.app.example/cb", "may not hold \\"),
        ("https://app.example/cb?next=<x>", "may not hold < >"),
        ("https://app.example/{cb}", "may not hold { }"),
        ("https://evil.example%2Eapp.example/cb", "not a valid host name"),
        ("https://app.example;script-src=*/cb", "not a valid host name"),
    ],
)
def test_an_administrators_client_gets_the_redirect_uri_rules_of_a_developers(
    uri: str, says: str
) -> None:
    """The host and character rules of applications.redirects (55014cf) applied to
    developers' applications only: the admin saved these, and the consent page of such a
    client named one host while the browser went to another."""
    with pytest.raises(ValidationError) as raised:
        _client(f"https://app.example/ok {uri}").clean()
    messages = raised.value.message_dict["redirect_uris"]
    assert len(messages) == 1 and uri in messages[0] and says in messages[0]


@pytest.mark.parametrize(
    "uri",
    ["https://app.example:8443/cb?tenant=1", "https://[2001:db8::1]/cb", "https://10.0.0.5/cb"],
)
def test_a_well_formed_redirect_uri_passes(uri: str, settings: Any) -> None:
    _client(uri).clean()


def test_plain_http_stays_loopback_only_and_a_malformed_uri_is_an_error_not_a_crash() -> None:
    with pytest.raises(ValidationError, match="plain http is only allowed on loopback"):
        _client("http://app.example/cb").clean()
    with pytest.raises(ValidationError):
        _client("https://[::1/cb").clean()

"""The provider's discovery document and key set are kept between sign-ins.

Without that, every sign-in asked the provider for both twice over (discovery when the
sign-in starts and again at the callback, then the keys): four round trips to Entra or Okta
before the token request, and a provider's metadata hiccup failed sign-ins it need not.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.accounts.test_signin_errors import CALLBACK, LOGIN, assert_failed, start

pytestmark = pytest.mark.django_db

DISCOVERY = "/.well-known/openid-configuration"


def sign_in(client: Client) -> Any:
    params = start(client)
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    return response


def test_sign_ins_ask_for_the_metadata_once(stub_op: Any) -> None:
    for _ in range(3):
        client = Client()
        assert sign_in(client).status_code == 302
        assert client.session[SESSION_KEY]
    assert stub_op.gets.count(DISCOVERY) == 1
    assert stub_op.gets.count("/jwks") == 1
    assert len(stub_op.token_requests) == 3


def test_a_rotated_key_is_fetched_when_a_token_names_it(client: Client, stub_op: Any) -> None:
    assert sign_in(client).status_code == 302
    stub_op.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stub_op.kid = "stub-key-2"

    second = Client()
    assert sign_in(second).status_code == 302
    assert second.session[SESSION_KEY]
    assert stub_op.gets.count("/jwks") == 2


def test_a_token_naming_a_key_the_provider_does_not_publish_is_refused(
    client: Client, stub_op: Any
) -> None:
    assert sign_in(client).status_code == 302
    stub_op.token_kid = "nobody-has-this-key"  # the provider's key set names stub-key-1
    other = Client()
    assert_failed(sign_in(other), "invalid_id_token", other)
    assert stub_op.gets.count("/jwks") == 2  # the kept set, then a fresh one, both without it


def test_a_refused_discovery_document_is_not_kept(client: Client, stub_op: Any) -> None:
    stub_op.discovery_overrides = {"issuer": "https://evil.example"}
    assert_failed(client.post(f"{LOGIN}?process=login"), "issuer_mismatch", client)

    stub_op.discovery_overrides = {}
    assert sign_in(client).status_code == 302
    assert client.session[SESSION_KEY]


def test_another_provider_url_is_another_document(
    client: Client, stub_op: Any, settings: Any
) -> None:
    assert sign_in(client).status_code == 302
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    app["settings"] = {**app["settings"], "server_url": "http://127.0.0.1:9", "expected_issuer": ""}
    other = Client()
    assert_failed(other.post(f"{LOGIN}?process=login"), "provider_unreachable", other)


def _poison(what: str, value: Any) -> None:
    """Every kept entry of this kind replaced by `value` (another version's shape, a
    half-written entry, or something else sharing the cache)."""
    from django.core.cache import cache

    kept = [k for k in _KEPT if k.startswith(f"accounts:oidc:{what}:")]
    assert kept
    for key in kept:
        cache.set(key, value)


_KEPT: list[str] = []


@pytest.fixture
def kept_keys(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from accounts import oidc

    original = oidc._metadata_key

    def recording(what: str, *parts: Any) -> str:
        key = original(what, *parts)
        if key not in _KEPT:
            _KEPT.append(key)
        return key

    _KEPT.clear()
    monkeypatch.setattr(oidc, "_metadata_key", recording)
    return _KEPT


@pytest.mark.parametrize(
    "kept", [{}, {"keys": 5}, {"keys": None}, {"keys": "abc"}, {"keys": {"kid": "x"}}]
)
def test_a_kept_key_set_of_another_shape_is_fetched_again(
    client: Client, stub_op: Any, kept_keys: list[str], kept: Any
) -> None:
    assert sign_in(client).status_code == 302
    _poison("jwks", kept)

    other = Client()
    assert sign_in(other).status_code == 302
    assert other.session[SESSION_KEY]


@pytest.mark.parametrize(
    "kept",
    [
        {},
        {"issuer": 5},
        {"issuer": "http://x", "authorization_endpoint": None},
        {"jwks_uri": "gopher://x"},
    ],
)
def test_a_kept_discovery_document_of_another_shape_is_fetched_again(
    client: Client, stub_op: Any, kept_keys: list[str], kept: Any
) -> None:
    assert sign_in(client).status_code == 302
    _poison("discovery", kept)

    other = Client()
    assert sign_in(other).status_code == 302
    assert other.session[SESSION_KEY]


def test_an_unknown_key_is_fetched_for_once_not_at_every_sign_in(
    client: Client, stub_op: Any
) -> None:
    """A provider answering with tokens no published key signs: one fresh key set, then the
    kept one refuses them, rather than a key-set fetch per sign-in."""
    assert sign_in(client).status_code == 302
    stub_op.token_kid = "nobody-has-this-key"
    for _ in range(3):
        other = Client()
        assert_failed(sign_in(other), "invalid_id_token", other)
    assert stub_op.gets.count("/jwks") == 2


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_a_discovered_endpoint_on_another_private_host_is_not_called(
    client: Client, stub_op: Any, endpoint: str
) -> None:
    """The configured provider's own host may be private (an operator's Keycloak); a
    document naming another loopback or private host:port for an endpoint the portal calls
    (here `localhost`, another name than the configured 127.0.0.1) sent the portal there,
    the code and client secret with it."""
    path = {"token_endpoint": "/token", "jwks_uri": "/jwks", "userinfo_endpoint": "/userinfo"}
    port = stub_op.issuer.rsplit(":", 1)[1]
    stub_op.discovery_overrides = {endpoint: f"http://localhost:{port}{path[endpoint]}"}

    assert_failed(sign_in(client), "provider_unreachable", client)
    assert stub_op.token_requests == [] or endpoint != "token_endpoint"

"""portal/lib/proxies.py and TrustedProxyMiddleware: whose forwarding headers are believed
(SECURITY.md cases 57 and 81)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from portal.lib.proxies import client_address, forwarded_scheme, parse_networks

LB = parse_networks(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(
    "peer, xff, expected",
    [
        # No trusted proxy on the path: the header is the client's word, ignored.
        ("203.0.113.5", "198.51.100.7", "203.0.113.5"),
        ("203.0.113.5", None, "203.0.113.5"),
        # Through the load balancer: the address it saw.
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        # A client forging entries left of the real one changes nothing.
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        # Two trusted hops: the rightmost untrusted address.
        ("10.0.0.2", "198.51.100.7, 10.0.0.9", "198.51.100.7"),
        # Garbage where an address should be: the last believable address, not the garbage.
        ("10.0.0.2", "198.51.100.7, not-an-ip", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        # Every hop a trusted proxy: the leftmost.
        ("10.0.0.2", "10.1.1.1, 10.0.0.9", "10.1.1.1"),
        # Ports and IPv6 forms.
        ("10.0.0.2", "198.51.100.7:51234", "198.51.100.7"),
        ("fd00::2", "[2001:db8::7]:443", "2001:db8::7"),
        ("::ffff:10.0.0.2", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_client_address(peer: str, xff: str | None, expected: str) -> None:
    assert client_address(peer, xff, LB) == expected


def test_nothing_is_trusted_by_default() -> None:
    assert client_address("10.0.0.2", "198.51.100.7", ()) == "10.0.0.2"


def test_forwarded_scheme_only_from_a_trusted_proxy() -> None:
    assert forwarded_scheme("10.0.0.2", "https", LB) == "https"
    assert forwarded_scheme("203.0.113.5", "https", LB) == ""
    assert forwarded_scheme("10.0.0.2", "gopher", LB) == ""


def test_bad_ranges_are_refused_with_their_value() -> None:
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        parse_networks(["10.0.0.0/33"])


@pytest.fixture
def behind_lb(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
def test_https_from_the_load_balancer_is_believed(client: Client, behind_lb: None) -> None:
    response = client.get("/apis/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200


@pytest.mark.django_db
def test_case81_https_claimed_by_anyone_else_is_not(client: Client, behind_lb: None) -> None:
    response = client.get("/apis/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")

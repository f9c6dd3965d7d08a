"""portal.lib.addresses: the one address rule of the console, spec import and key fetches."""

from __future__ import annotations

import ipaddress

import pytest

from portal.lib import addresses


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible (::/96), which is_global calls global
        "::a9fe:a9fe",  # ::169.254.169.254
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
        "::ffff:127.0.0.1",
        "::",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::7f00:1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "169.254.169.254",
        "168.63.129.16",
        "100.100.100.200",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",  # multicast, which is_global calls global
        "239.255.255.250",
        "ff02::1",
        "ff0e::1",
        "255.255.255.255",
        "240.0.0.1",
        "fe80::1",
        "fec0::1",
        "fd00:ec2::254",
    ],
)
def test_never_called_even_for_a_named_host(address: str) -> None:
    problem = addresses.address_problem(ipaddress.ip_address(address), private_ok=True)
    assert problem is not None and "never" in problem


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.0.0.5", "172.16.0.1", "192.168.1.1", "100.64.0.1"]
)
def test_non_public_only_for_a_named_host(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert addresses.address_problem(ip, private_ok=False) is not None
    assert addresses.address_problem(ip, private_ok=True) is None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass(address: str) -> None:
    assert addresses.address_problem(ipaddress.ip_address(address), private_ok=False) is None


@pytest.mark.parametrize(
    "name",
    [
        "metadata",
        "metadata.google.internal",
        "METADATA.GOOGLE.INTERNAL.",
        "metadata.goog",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
        "x.metadata.google.internal",
    ],
)
def test_metadata_names(name: str) -> None:
    assert addresses.name_problem(name) is not None


@pytest.mark.parametrize(
    "name",
    [
        "metadata\u3002google\u3002internal",  # ideographic full stops
        "metadata\uff0egoog",  # fullwidth full stop
        "metadata\uff61platformequinix\uff61com",  # halfwidth ideographic full stop
        "\uff4d\uff45\uff54\uff41\uff44\uff41\uff54\uff41.goog",  # fullwidth letters
    ],
)
def test_metadata_names_in_the_spellings_a_resolver_reads_the_same(name: str) -> None:
    """IDNA (which getaddrinfo applies to a text host name) reads `。`, `．` and `｡` as dots and
    fullwidth letters as ASCII: the gateway's key fetch compared the name as written and let
    `metadata。google。internal` through to DNS (Equinix's metadata name has a public
    address, so the address rule would not stop it)."""
    assert addresses.name_problem(name) is not None


def test_ordinary_names_pass() -> None:
    assert addresses.name_problem("login.example.com") is None
    assert addresses.name_problem("metadata.example.com") is None


def test_allowance_is_per_host_and_port() -> None:
    allow = addresses.allowance(["127.0.0.1:8000", "http://idp.local", "https://[::1]:9443/x"])
    assert allow.allows("127.0.0.1", 8000)
    assert not allow.allows("127.0.0.1", 6379)
    assert allow.allows("idp.local", 80) and not allow.allows("idp.local", 8080)
    assert allow.allows("::1", 9443) and not allow.allows("::1", 443)


def test_bare_hosts_allow_every_port_and_are_reported() -> None:
    entries = ["localhost", "127.0.0.1:8000", "[::1]"]
    allow = addresses.allowance(entries)
    assert allow.allows("localhost", 6379)
    assert addresses.bare_entries(entries) == ["localhost", "[::1]"]
    assert addresses.unreadable_entries(["127.0.0.1:99999", "ok:1", " "]) == ["127.0.0.1:99999"]

"""Which hosts and addresses the portal and the gateway may call: one set of rules for both.

Every outbound caller (the console and spec import through `portal.lib.outbound`, the
gateway's key fetches in `gateway.keys`) resolves a host once and asks `address_problem()`
about every address it got, then connects to a checked address.

- Some addresses are never called, whatever the configuration says: cloud metadata
  services, link-local, "this network" 0/8, multicast, reserved and broadcast, and every
  IPv6 spelling that carries an IPv4 address inside it (IPv4-compatible `::a.b.c.d`,
  mapped `::ffff:a.b.c.d`, translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and
  `64:ff9b:1::/48`, 6to4 `2002::/16`, Teredo `2001::/32`): a resolver or a kernel may turn
  those into the IPv4 address they embed, so a check of the IPv6 form proves nothing.
  `ipaddress.is_global` calls several of these global (`::127.0.0.1`, `224.0.0.1`).
- Loopback, private and shared (100.64/10) addresses are called only for a host *and port*
  the configuration names (`allowance()`): allowing the built-in provider on
  127.0.0.1:8000 must not open 127.0.0.1:6379 (Redis) as well.
- Everything else must be global.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NEVER: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why)
    for net, why in (
        ("0.0.0.0/8", "'this network'"),
        ("169.254.0.0/16", "link-local (cloud metadata at 169.254.169.254)"),
        ("168.63.129.16/32", "the Azure wire server"),
        ("100.100.100.200/32", "the Alibaba Cloud metadata service"),
        ("192.0.0.0/29", "the IPv4 service continuity prefix"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved or broadcast"),
        ("::/96", "an IPv4-compatible IPv6 address"),
        ("::ffff:0:0/96", "an IPv4-mapped IPv6 address"),
        ("::ffff:0:0:0/96", "an IPv4-translated IPv6 address"),
        ("64:ff9b::/96", "a NAT64 address (an IPv4 address inside IPv6)"),
        ("64:ff9b:1::/48", "a local NAT64 address"),
        ("2001::/32", "a Teredo address (an IPv4 address inside IPv6)"),
        ("2002::/16", "a 6to4 address (an IPv4 address inside IPv6)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("fd00:ec2::254/128", "the AWS metadata service"),
        ("ff00::/8", "multicast"),
    )
)
# Shared address space (carrier-grade NAT, also Tailscale): not global, but an operator may
# run a provider there, so it is allowed like a private address when the host is named.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_LOOPBACK_V6 = ipaddress.ip_address("::1")

# Cloud metadata names, refused before any lookup (also their subdomains).
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.com",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.packet.net",
        "metadata.platformequinix.com",
    }
)


def name_problem(host: str) -> str | None:
    """Why a host name is never called (a cloud metadata name), or None. The name is compared
    as the resolver reads it: IDNA (which getaddrinfo applies to a text name) takes `。`, `．`
    and `｡` for dots and fullwidth letters for ASCII."""
    name = host
    if not name.isascii():
        with contextlib.suppress(UnicodeError):  # else not a name any resolver looks up
            name = name.encode("idna").decode("ascii")
    name = name.lower().rstrip(".")
    if name in METADATA_NAMES or any(name.endswith("." + m) for m in METADATA_NAMES if "." in m):
        return f"{name} is a cloud metadata name and is never called"
    return None


def address_problem(ip: IPAddress, private_ok: bool) -> str | None:
    """Why an address may not be called (a phrase: "a non-public address"), or None.
    `private_ok`: the host and port are named
    by the configuration, so loopback, private and shared addresses are allowed."""
    if ip == _LOOPBACK_V6:
        return None if private_ok else "a non-public address (loopback)"
    for net, why in NEVER:
        if ip.version == net.version and ip in net:
            return f"blocked, never called ({why})"
    if ip.is_global:
        return None
    if private_ok and (ip.is_loopback or ip.is_private or ip in _SHARED):
        return None
    return "a non-public address"


@dataclass(frozen=True)
class Allowance:
    """Hosts allowed to resolve to non-public addresses: (host, port) pairs, and bare
    hosts (any port; deprecated, reported by a system check)."""

    pairs: frozenset[tuple[str, int]]
    bare: frozenset[str]

    def allows(self, host: str, port: int) -> bool:
        host = host.lower().strip("[]")
        return (host, port) in self.pairs or host in self.bare


def parse_entry(entry: str) -> tuple[str, int | None] | None:
    """`host`, `host:port`, `[v6]:port` or an origin `http(s)://host[:port]` -> (host, port).

    An origin without a port means its scheme's port; a bare host has no port (any port).
    None for an entry that cannot be read."""
    text = entry.strip().lower()
    if not text:
        return None
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return None
    if port is None and parts.scheme in ("http", "https"):
        port = 443 if parts.scheme == "https" else 80
    return host, port


def allowance(entries: Iterable[str]) -> Allowance:
    pairs: set[tuple[str, int]] = set()
    bare: set[str] = set()
    for entry in entries:
        parsed = parse_entry(entry)
        if parsed is None:
            continue
        host, port = parsed
        if port is None:
            bare.add(host)
        else:
            pairs.add((host, port))
    return Allowance(frozenset(pairs), frozenset(bare))


def bare_entries(entries: Iterable[str]) -> list[str]:
    """Entries without a port (allowed on every port): what the deprecation check names."""
    return [e for e in entries if (p := parse_entry(e)) is not None and p[1] is None]


def unreadable_entries(entries: Iterable[str]) -> list[str]:
    return [e for e in entries if e.strip() and parse_entry(e) is None]

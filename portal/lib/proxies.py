"""Whose forwarding headers to believe: the real client address behind trusted proxies.

Pure functions, shared by the portal's middleware and usable by the gateway. A proxy
appends the address it received a connection from to X-Forwarded-For, so reading the list
from the right, every entry added by a trusted proxy is believable and the first address
that is not a trusted proxy is the client. Anything left of it was written by the client
and may be forged (SECURITY.md cases 57 and 81).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR ranges (or single addresses) from configuration; ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR range") from None
    return tuple(networks)


@functools.lru_cache(maxsize=4)
def trusted_networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    """`parse_networks` of a TRUSTED_PROXIES setting, parsed once per value (per call sites
    on the hot path: the portal's middleware and the gateway)."""
    return parse_networks(values)


def _address(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:443
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: str | Address | None, trusted: Sequence[Network]) -> bool:
    parsed = _address(address) if isinstance(address, str) else address
    return parsed is not None and any(parsed in network for network in trusted)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address of the client: the rightmost X-Forwarded-For entry that is not a trusted
    proxy, when the connection itself comes from a trusted proxy; otherwise the peer.

    An entry that is not an address stops the walk at the last believable address: nothing
    a client wrote can become the answer.
    """
    if not trusted or not forwarded_for or not is_trusted(peer, trusted):
        return peer
    believed = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            return believed
        believed = str(address)
        if not is_trusted(address, trusted):
            return believed
    return believed  # every hop a trusted proxy: the leftmost is the client


def forwarded_scheme(peer: str, forwarded_proto: str | None, trusted: Sequence[Network]) -> str:
    """'https' or 'http' from X-Forwarded-Proto when a trusted proxy sent it, else ''."""
    if not forwarded_proto or not is_trusted(peer, trusted):
        return ""
    scheme = forwarded_proto.split(",")[0].strip().lower()
    return scheme if scheme in ("http", "https") else ""

"""The redirect URI rules every client gets, whoever registers it: a developer
(applications.redirects, which adds its own) or an administrator (identity.Client.clean).

The consent page names a redirect URI's host as where the person is sent; a URI a browser
reads another way (a backslash is a slash to it, '%2E' a dot) sends them elsewhere, and ';'
in a host reached the page's CSP header.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# RFC 3986 has no place for these; browsers rewrite them (a backslash is a slash to them) or
# encode them each their own way, so the URI registered is not the one a person is sent to.
NOT_IN_A_URI = frozenset('\\"<>^`{|}')
# Dot-separated labels of letters, digits, hyphens (not at either end) and underscores (some
# internal names have them), one trailing dot allowed.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
HOST_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")


def characters_problem(uri: str) -> str:
    """What is wrong with the characters of `uri` ('' when nothing), for a message."""
    if held := sorted(NOT_IN_A_URI.intersection(uri)):
        return f"a URI may not hold {' '.join(held)}."
    return ""


def host_problem(uri: str) -> str:
    """What is wrong with the host of `uri` ('' when nothing, or no host to judge)."""
    try:
        host = urlsplit(uri).hostname
    except ValueError:
        return ""  # malformed otherwise: the caller's other checks say so
    if host and not is_host_name(host):
        return f"{host} is not a valid host name."
    return ""


def is_host_name(host: str) -> bool:
    """A DNS name or an IP address (urlsplit gives an IPv6 literal without its brackets)."""
    if HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

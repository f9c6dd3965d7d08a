"""Redirect URI rules for developers' applications (SECURITY.md case 75).

Exact URIs only: https anywhere, plain http on loopback only (RFC 8252 section 7.3) and only
when the built-in provider would redirect there (IDENTITY_LOOPBACK_HTTP), no
wildcard, no fragment (RFC 6749 section 3.1.2), no userinfo (it would let a URI look like
one host and go to another).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from oauth2_provider.settings import oauth2_settings

from identity.models import LOOPBACK_HOSTS
from identity.redirect_uris import characters_problem, host_problem

MAX_URIS = 20
MAX_LENGTH = 2000


class RedirectUriError(ValueError):
    """The message names the URI and says what is wrong, for the developer."""


def check_redirect_uri(uri: str) -> str:
    """The URI unchanged when it is acceptable; RedirectUriError otherwise."""
    if len(uri) > MAX_LENGTH:
        raise RedirectUriError(f"{uri[:60]}…: longer than {MAX_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in uri):
        raise RedirectUriError(f"{uri}: contains spaces or control characters.")
    if problem := characters_problem(uri):
        raise RedirectUriError(f"{uri}: {problem}")
    if "*" in uri:
        raise RedirectUriError(f"{uri}: wildcards are not allowed; list each URI exactly.")
    if "#" in uri:
        raise RedirectUriError(f"{uri}: a redirect URI may not have a fragment (#).")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        port = parts.port  # raises ValueError on a malformed port or one past 65535
    except ValueError as exc:
        raise RedirectUriError(f"{uri}: not a valid URL.") from exc
    if port == 0:
        # Nothing listens on port 0 (asking for it means "any free port"): the application
        # could never be sent back there.
        raise RedirectUriError(f"{uri}: port 0 is no port to redirect to; give the real one.")
    if parts.scheme not in ("https", "http") or not host:
        raise RedirectUriError(f"{uri}: must be an https:// URL with a host.")
    if "@" in parts.netloc:
        raise RedirectUriError(f"{uri}: a user name or password in the URL is not allowed.")
    if uri.isascii() and (problem := host_problem(uri)):
        raise RedirectUriError(f"{uri}: {problem}")
    if not uri.isascii():
        # The provider's authorization refuses it ("Invalid redirect URI"), and a host in
        # another script can imitate a Latin one: the browser goes to its xn-- form.
        raise RedirectUriError(f"{uri}: only ASCII is allowed{_ascii_form(parts)}.")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise RedirectUriError(
            f"{uri}: plain http is only allowed on loopback (127.0.0.1, [::1], localhost); "
            "use https."
        )
    # The provider's authorization redirect checks the same list (identity.Client's
    # get_allowed_schemes); refusing here keeps an application from being registered with a
    # URI it can never be sent back to.
    if parts.scheme == "http" and "http" not in oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES:
        raise RedirectUriError(
            f"{uri}: this portal accepts only https redirect URIs (plain http on loopback is "
            "switched off here); use https."
        )
    return uri


def _ascii_form(parts: Any) -> str:
    """'; write it as …' with the host in IDNA and the rest percent-encoded, or ''."""
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    return "; write it as " + urlunsplit((parts.scheme, netloc, path, query, ""))


def browser_origins(uris: list[str]) -> list[str]:
    """The origins a browser names in `Origin` for pages at these (checked) URIs: scheme and
    lower-case host, the port only when it is not the scheme's default."""
    origins = []
    for uri in uris:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        default = 443 if parts.scheme == "https" else 80
        port = f":{parts.port}" if parts.port and parts.port != default else ""
        origins.append(f"{parts.scheme}://{host}{port}")
    return list(dict.fromkeys(origins))


def parse_redirect_uris(text: str) -> list[str]:
    """One URI a line (blank lines ignored, duplicates dropped), each checked."""
    uris = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if len(uris) > MAX_URIS:
        raise RedirectUriError(f"At most {MAX_URIS} redirect URIs.")
    return [check_redirect_uri(uri) for uri in uris]

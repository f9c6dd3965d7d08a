"""Where an authorization server's endpoints are: its admin row first, then its discovery
document (OpenID Connect Discovery or RFC 8414), fetched through the outbound wrapper, kept on
the row for CONSOLE_DISCOVERY_TTL and checked against the issuer it claims to be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.utils import timezone

from console import conf, http
from console.models import AuthorizationServer
from console.refusals import GrantError


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    refresh: str
    revoke: str
    issuer: str
    iss_parameter_supported: bool = False


def endpoints(server: AuthorizationServer, *, refresh: bool = False) -> Endpoints:
    """The server's endpoints: explicit ones first, then its discovery document."""
    meta: dict[str, Any] = server.metadata or {}
    if server.discovery_url:
        stale = (
            server.metadata_fetched is None
            or (timezone.now() - server.metadata_fetched).total_seconds() > conf.discovery_ttl()
        )
        if refresh or stale or not meta:
            meta = discover(server.discovery_url)
            check_discovered_issuer(server.discovery_url, server.issuer, meta["issuer"])
            server.metadata = meta
            server.metadata_fetched = timezone.now()
            if server.pk:
                AuthorizationServer.objects.filter(pk=server.pk).update(
                    metadata=meta, metadata_fetched=server.metadata_fetched
                )
    token = server.token_url or str(meta.get("token_endpoint") or "")
    return Endpoints(
        authorize=server.authorize_url or str(meta.get("authorization_endpoint") or ""),
        token=token,
        refresh=server.refresh_url or token,
        revoke=server.revoke_url or str(meta.get("revocation_endpoint") or ""),
        issuer=server.issuer or str(meta.get("issuer") or ""),
        iss_parameter_supported=meta.get("authorization_response_iss_parameter_supported") is True,
    )


_OIDC_WELL_KNOWN = "/.well-known/openid-configuration"
_OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"


def issuer_of(url: str) -> str | None:
    """The issuer a discovery URL was made from: OpenID Discovery 4 appends its well-known
    path to the issuer, RFC 8414 3 inserts its own between host and path. None for a URL of
    neither form."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return None
    if parts.path.endswith(_OIDC_WELL_KNOWN):
        return f"{parts.scheme}://{parts.netloc}{parts.path[: -len(_OIDC_WELL_KNOWN)]}"
    if parts.path == _OAUTH_WELL_KNOWN or parts.path.startswith(_OAUTH_WELL_KNOWN + "/"):
        return f"{parts.scheme}://{parts.netloc}{parts.path[len(_OAUTH_WELL_KNOWN) :]}"
    return None


def check_discovered_issuer(url: str, configured: str, discovered: str) -> None:
    """OpenID Discovery 4.3, RFC 8414 3.3: the document's issuer is the configured one, or
    (none configured) the one its URL was made from. Another issuer's document would have
    its endpoints sent the client secret and codes, and its issuer believed in `iss`."""
    expected = configured or issuer_of(url)
    if expected is None:
        return  # a URL of neither well-known form: nothing to compare it with
    if discovered.rstrip("/") != expected.rstrip("/"):
        raise GrantError(
            f"Discovery at {url} names issuer {discovered!r}, not "
            f"{expected!r}; it was refused (set the expected issuer if this is right)."
        )


def discover(url: str) -> dict[str, Any]:
    """Fetch and check an OpenID Connect / RFC 8414 metadata document."""
    result = http.fetch("GET", url, headers={"Accept": "application/json"})
    if result.status != 200:
        raise GrantError(f"Discovery at {url} answered {result.status}.")
    try:
        meta = orjson.loads(result.body)
    except orjson.JSONDecodeError:
        raise GrantError(f"Discovery at {url} did not return JSON.") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("issuer"), str):
        raise GrantError(f"Discovery at {url} returned no issuer.")
    for name in ("authorization_endpoint", "token_endpoint", "revocation_endpoint"):
        if name in meta and not isinstance(meta[name], str):
            raise GrantError(f"Discovery at {url} returned a malformed {name}.")
    if url.lower().startswith("https://") or meta["issuer"].lower().startswith("https://"):
        # Fetched over TLS from (or naming) an https issuer: a plain-http endpoint would
        # carry the client secret, the code and the tokens in the clear (the portal's own
        # sign-in refuses such a document too).
        for name in _DISCOVERED_ENDPOINTS:
            value = meta.get(name)
            if isinstance(value, str) and value and not value.lower().startswith("https://"):
                raise GrantError(
                    f"Discovery at {url} names {name} {value!r} on plain http for an "
                    "https issuer; it was refused."
                )
    return meta


_DISCOVERED_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "registration_endpoint",
    "introspection_endpoint",
)

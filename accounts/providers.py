"""External OpenID providers from the environment, as allauth `openid_connect` apps.

Read by settings.py, so no Django imports here. The primary provider comes from OIDC_*;
more can be listed in OIDC_EXTRA_PROVIDERS=<id>,<id> with OIDC_<ID>_ISSUER and friends
(or added as SocialApp rows in the admin).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from portal.lib.env import env_secret

DEFAULT_SCOPES = "openid profile email"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ProviderConfigError(ValueError):
    pass


def _app(
    env: Mapping[str, str], prefix: str, provider_id: str, default_name: str
) -> dict[str, Any] | None:
    issuer = env.get(f"{prefix}ISSUER", "").strip()
    discovery = env.get(f"{prefix}DISCOVERY_URL", "").strip()
    if not issuer and not discovery:
        return None
    if "{" in issuer or "}" in issuer:
        # Entra's discovery issuer is the template .../{tenantid}/v2.0; as the configured one
        # no document fitted it and every sign-in ended as 'issuer mismatch'.
        raise ProviderConfigError(
            f"{prefix}ISSUER {issuer!r} is a template; name the tenants to admit instead: "
            "common, organizations or a tenant id (e.g. "
            "https://login.microsoftonline.com/organizations/v2.0)"
        )
    client_id = env.get(f"{prefix}CLIENT_ID", "").strip()
    if not client_id:
        raise ProviderConfigError(f"{prefix}CLIENT_ID is required when {prefix}ISSUER is set")
    if not _ID.match(provider_id):
        raise ProviderConfigError(f"provider id {provider_id!r} must match {_ID.pattern}")
    scopes = env.get(f"{prefix}SCOPES", DEFAULT_SCOPES).replace(",", " ").split()
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    app_settings: dict[str, Any] = {
        # allauth appends /.well-known/openid-configuration; Auth0's issuer ends in "/".
        "server_url": discovery or issuer.rstrip("/"),
        "oauth_pkce_enabled": True,
        "scope": scopes,
        "fetch_userinfo": True,
    }
    if issuer:
        # Checked against the discovery document's issuer and every ID token's `iss`.
        app_settings["expected_issuer"] = issuer
    link = env.get(f"{prefix}LINK_BY_VERIFIED_EMAIL", "").strip().lower()
    if link in ("1", "true", "yes", "on"):
        # The provider's verified addresses sign into the portal account that has them
        # (allauth's email authentication): only for a provider trusted to verify them.
        app_settings["email_authentication"] = True
    elif link not in ("", "0", "false", "no", "off"):
        raise ProviderConfigError(f"{prefix}LINK_BY_VERIFIED_EMAIL must be 1 or 0, not {link!r}")
    auth_method = env.get(f"{prefix}TOKEN_AUTH_METHOD", "").strip()
    if auth_method:
        app_settings["token_auth_method"] = auth_method
    return {
        "provider_id": provider_id,
        "name": env.get(f"{prefix}NAME", "").strip() or default_name,
        "client_id": client_id,
        "secret": env_secret(f"{prefix}CLIENT_SECRET", environ=env),
        "settings": app_settings,
    }


def external_providers_from_env(env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    env = os.environ if env is None else env
    apps = []
    primary_id = env.get("OIDC_PROVIDER_ID", "").strip() or "oidc"
    primary = _app(env, "OIDC_", primary_id, "your company account")
    if primary:
        apps.append(primary)
    for raw in env.get("OIDC_EXTRA_PROVIDERS", "").split(","):
        provider_id = raw.strip().lower()
        if not provider_id:
            continue
        prefix = f"OIDC_{provider_id.upper().replace('-', '_')}_"
        app = _app(env, prefix, provider_id, provider_id)
        if app is None:
            raise ProviderConfigError(f"{prefix}ISSUER is required for provider {provider_id!r}")
        apps.append(app)
    ids = [a["provider_id"] for a in apps]
    if len(ids) != len(set(ids)):
        raise ProviderConfigError(f"duplicate OpenID provider ids: {ids}")
    return apps

"""External OpenID providers read from the environment."""

from __future__ import annotations

import pytest

from accounts.providers import ProviderConfigError, external_providers_from_env


def test_nothing_configured_means_no_external_provider() -> None:
    assert external_providers_from_env({}) == []


def test_primary_provider() -> None:
    (app,) = external_providers_from_env(
        {
            "OIDC_ISSUER": "https://login.microsoftonline.com/tid/v2.0",
            "OIDC_CLIENT_ID": "abc",
            "OIDC_CLIENT_SECRET": "s",
            "OIDC_SCOPES": "profile email offline_access",
            "OIDC_NAME": "Contoso",
        }
    )
    assert app["provider_id"] == "oidc" and app["name"] == "Contoso"
    assert app["settings"]["server_url"] == "https://login.microsoftonline.com/tid/v2.0"
    assert app["settings"]["expected_issuer"] == "https://login.microsoftonline.com/tid/v2.0"
    assert app["settings"]["oauth_pkce_enabled"] is True
    assert app["settings"]["scope"] == ["openid", "profile", "email", "offline_access"]


def test_discovery_url_and_several_providers() -> None:
    apps = external_providers_from_env(
        {
            "OIDC_DISCOVERY_URL": "https://kc.example.com/realms/dev/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": "portal",
            "OIDC_PROVIDER_ID": "keycloak",
            "OIDC_EXTRA_PROVIDERS": "okta",
            "OIDC_OKTA_ISSUER": "https://dev-1.okta.com",
            "OIDC_OKTA_CLIENT_ID": "0oa1",
        }
    )
    assert [a["provider_id"] for a in apps] == ["keycloak", "okta"]
    assert "expected_issuer" not in apps[0]["settings"]


@pytest.mark.parametrize(
    "env",
    [
        {"OIDC_ISSUER": "https://x"},  # no client id
        {"OIDC_EXTRA_PROVIDERS": "okta"},  # no OIDC_OKTA_ISSUER
        {"OIDC_ISSUER": "https://x", "OIDC_CLIENT_ID": "a", "OIDC_PROVIDER_ID": "Bad Id!"},
        {
            "OIDC_ISSUER": "https://x",
            "OIDC_CLIENT_ID": "a",
            "OIDC_EXTRA_PROVIDERS": "oidc",
            "OIDC_OIDC_ISSUER": "https://y",
            "OIDC_OIDC_CLIENT_ID": "b",
        },
    ],
)
def test_mistakes_fail_loudly(env: dict[str, str]) -> None:
    with pytest.raises(ProviderConfigError):
        external_providers_from_env(env)


def test_issuer_with_trailing_slash_is_kept_exact_but_discovered_once() -> None:
    (app,) = external_providers_from_env(
        {"OIDC_ISSUER": "https://tenant.eu.auth0.com/", "OIDC_CLIENT_ID": "a"}
    )
    assert app["settings"]["expected_issuer"] == "https://tenant.eu.auth0.com/"
    assert app["settings"]["server_url"] == "https://tenant.eu.auth0.com"


@pytest.mark.parametrize(
    "issuer",
    [
        "https://login.microsoftonline.com/{tenantid}/v2.0",
        "https://login.microsoftonline.com/{tenantid}/v2.0/",
        "https://login.microsoftonline.com/{TenantId}/v2.0",
    ],
)
def test_an_issuer_that_is_entras_template_is_a_configuration_error(issuer: str) -> None:
    """The template is what Entra's discovery document says; the configured issuer names the
    tenants admitted (common, organizations or a tenant id). As the issuer, no document fit
    it and every sign-in ended as 'issuer mismatch'."""
    env = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "portal"}
    with pytest.raises(ProviderConfigError, match="OIDC_ISSUER.*organizations"):
        external_providers_from_env(env)

"""Which issuer an OpenID provider's answers must name, tenant templates included.

Microsoft Entra ID's multi-tenant endpoints (`common`, `organizations`, `consumers`) publish one
discovery document for every tenant. Its `issuer` is a template,
`https://login.microsoftonline.com/{tenantid}/v2.0`, and each ID token's `iss` names the
person's own tenant, whose id the token's `tid` claim carries. Microsoft's rule for such
tokens: the issuer must be the template with `{tenantid}` replaced by the token's `tid`.

The configured issuer (OIDC_ISSUER) then says which tenants may sign in: one of the
multi-tenant names admits every tenant that endpoint serves (the provider decides which), a
tenant id admits that tenant only.
"""

from __future__ import annotations

import re
from typing import Any

TENANT_TEMPLATE = "{tenantid}"
# Entra's names for "more than one tenant" in an authority URL.
MULTI_TENANT_NAMES = frozenset({"common", "organizations", "consumers"})
# Entra's sign-in hosts: the public cloud, US Government, China (21Vianet), and the older names.
ENTRA_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.windows.net",
    }
)
# Entra tenant ids are GUIDs: nothing else may fill the template (a path, "common", a URL).
_TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def is_template(issuer: str) -> bool:
    return TENANT_TEMPLATE in issuer


def _well_formed(template: str) -> bool:
    """`{tenantid}` once, as one whole path segment after the host (Entra's
    `https://login.microsoftonline.com/{tenantid}/v2.0`): in the host (a tenant id choosing the
    host), inside a segment or twice, the template stood for issuers no tenant has."""
    before, _, after = template.partition(TENANT_TEMPLATE)
    _, sep, rest = before.partition("://")
    return (
        bool(sep)
        and rest.find("/") > 0  # a host, then the path the segment is in
        and before.endswith("/")
        and (after == "" or after.startswith("/"))
        and TENANT_TEMPLATE not in after
        and not any(c in before for c in "?#")
    )


def _segment(template: str, issuer: str) -> str | None:
    """What fills the template's `{tenantid}` to make `issuer`: one path segment, or None."""
    before, _, after = template.partition(TENANT_TEMPLATE)
    if len(issuer) <= len(before) + len(after):
        return None
    if not (issuer.startswith(before) and issuer.endswith(after)):
        return None
    middle = issuer[len(before) : len(issuer) - len(after)]
    return None if "/" in middle or "{" in middle else middle


def discovered_issuer_fits(discovered: str, configured: str) -> bool:
    """Whether a discovery document's issuer is the configured one, a template standing for
    the configured issuer's tenant segment (`.../common/v2.0` fits `.../{tenantid}/v2.0`)."""
    if not is_template(discovered):
        return discovered == configured
    return _well_formed(discovered) and _segment(discovered, configured) is not None


def multi_tenant_authority(url: str) -> bool:
    """Whether an Entra discovery URL is a multi-tenant endpoint's
    (`https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration`),
    whose issuer is the `{tenantid}` template, in any case of host and name."""
    _, sep, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return (
        bool(sep)
        and host.lower().rstrip(".") in ENTRA_HOSTS
        and path.split("/", 1)[0].lower() in MULTI_TENANT_NAMES
    )


def _tenant_id(claims: dict[str, Any]) -> str | None:
    tid = claims.get("tid")
    return tid if isinstance(tid, str) and _TENANT_ID.fullmatch(tid) else None


def token_issuer_fits(discovered: str, configured: str, claims: dict[str, Any]) -> bool:
    """Whether a signature-checked ID token's `iss` is one the provider may issue for this
    portal: the discovered issuer itself, or, for a template, the template filled with the
    token's own `tid`, of a tenant the configured issuer admits."""
    iss = claims.get("iss")
    if not isinstance(iss, str):
        return False
    if not is_template(discovered):
        return iss == discovered
    tid = _tenant_id(claims)
    if tid is None or not _well_formed(discovered):
        return False
    return iss == discovered.replace(TENANT_TEMPLATE, tid) and _admits(discovered, configured, tid)


def _admits(discovered: str, configured: str, tid: str) -> bool:
    """Whether the configured issuer admits tenant `tid`: a multi-tenant name (or none
    configured) all of them, a tenant id that one."""
    admitted = _segment(discovered, configured) if configured else None
    if admitted is None or admitted.lower() in MULTI_TENANT_NAMES:
        return True
    return admitted.lower() == tid.lower()


def response_issuer_fits(discovered: str, iss: str, configured: str = "") -> bool:
    """RFC 9207: an authorization response's `iss` is the discovered issuer, or for a template
    the template filled with the id of a tenant the configured issuer admits (the ID token
    must then name the same issuer: StrictOIDCAdapter._decode_id_token)."""
    if not is_template(discovered):
        return iss == discovered
    if not _well_formed(discovered):
        return False
    tenant = _segment(discovered, iss)
    return (
        tenant is not None
        and _TENANT_ID.fullmatch(tenant) is not None
        and _admits(discovered, configured, tenant)
    )

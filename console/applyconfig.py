"""The `authorization_servers` section of `manage.py applyconfig`.

    authorization_servers:
      - slug: corp
        name: Corporate sign-in
        discovery: https://login.example.com/.well-known/openid-configuration
        # or explicit endpoints (explicit ones win over discovery):
        # issuer: https://login.example.com
        # authorize: https://login.example.com/authorize
        # token: https://login.example.com/token
        # refresh: https://login.example.com/token
        # revoke: https://login.example.com/revoke
        client-id: portal-console
        client-secret-env: CORP_CONSOLE_SECRET   # read from the environment; or client-secret
        client-auth: basic                       # or body
        grants: [authorization_code, client_credentials]   # implicit, password: legacy
        default-scopes: orders.read
        authorize-params: {audience: api://orders}
        token-params: {resource: api://orders}
        developer-registration: true             # developers' applications, RFC 7591
        registration: https://login.example.com/register   # or the discovery document's
        initial-access-token-env: CORP_REG_TOKEN # RFC 7591 initial access token, from the env
        console: true                            # offered by the try-it console
        reference: true                          # shown in the reference pages
        apis:
          - orders                               # the server's default scopes
          - {slug: billing, scopes: billing.read billing.write}

Servers not named are left alone. A server's `apis` list is its whole list. A secret left out
keeps the saved one (it is write-only). Enabling a legacy grant writes an audit entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from console.audit import record_grant_changes
from console.models import CLIENT_AUTH_BASIC, CLIENT_AUTH_BODY, GRANT_LABELS, AuthorizationServer
from portal.lib.configfile import ConfigError, Context, Node, once_each

SECTION = "authorization_servers"
ORDER = 20  # after `apis`, whose APIs the servers are offered on

_KEYS = {
    "slug", "name", "discovery", "issuer", "authorize", "token", "refresh", "revoke",
    "client-id", "client-secret", "client-secret-env", "client-auth", "grants",
    "default-scopes", "authorize-params", "token-params", "console", "reference", "apis",
    "developer-registration", "registration", "initial-access-token-env",
}  # fmt: skip
_URLS = {
    "discovery": "discovery_url",
    "authorize": "authorize_url",
    "token": "token_url",
    "refresh": "refresh_url",
    "revoke": "revoke_url",
    "registration": "registration_url",
}


@dataclass
class ServerPlan:
    slug: str
    line: int
    fields: dict[str, Any]
    grants: list[str]
    secret: str | None
    apis: list[tuple[str, str, int]] = field(default_factory=list)  # slug, scopes, line
    initial_access_token: str | None = None


def _url(node: Node, what: str) -> str:
    value = node.scalar(str, what)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - reading it checks it (letters, past 65535)
    except ValueError:
        raise node.error(f"{what} is not a valid URL (its host or port)") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or "\\" in value
    ):
        raise node.error(f"{what} must be an http(s) URL without user info")
    return value


def _params(node: Node, what: str) -> dict[str, str]:
    out = {}
    for key, value in node.mapping(what).items():
        raw = value.scalar((str, int, float), f"{what}.{key}")
        out[key] = str(raw)
    return out


def _server(item: Node) -> ServerPlan:
    entry = item.mapping("an authorization server", _KEYS)
    for required in ("slug", "name", "client-id"):
        if required not in entry:
            raise item.error(f"an authorization server needs {required}")
    slug = entry["slug"].scalar(str, "slug")
    try:
        validate_slug(slug)
    except ValidationError:
        raise entry["slug"].error("slug: letters, digits, '-' and '_' only") from None
    fields: dict[str, Any] = {
        "name": entry["name"].scalar(str, "name"),
        "client_id": entry["client-id"].scalar(str, "client-id"),
        "issuer": entry["issuer"].scalar(str, "issuer") if "issuer" in entry else "",
        "client_auth": CLIENT_AUTH_BASIC,
        "default_scopes": "",
        "extra_authorize_params": {},
        "extra_token_params": {},
        "use_in_console": True,
        "show_in_reference": True,
        "developer_registration": False,
    }
    for key, name in _URLS.items():
        fields[name] = _url(entry[key], key) if key in entry else ""
    if not fields["discovery_url"] and not (fields["token_url"] or fields["authorize_url"]):
        raise item.error(f"{slug}: give discovery, or the authorize/token endpoints")
    if "client-auth" in entry:
        auth = entry["client-auth"].scalar(str, "client-auth")
        if auth not in (CLIENT_AUTH_BASIC, CLIENT_AUTH_BODY):
            raise entry["client-auth"].error("client-auth must be basic or body")
        fields["client_auth"] = auth
    if "default-scopes" in entry:
        fields["default_scopes"] = " ".join(entry["default-scopes"].strings("default-scopes"))
    if "authorize-params" in entry:
        fields["extra_authorize_params"] = _params(entry["authorize-params"], "authorize-params")
    if "token-params" in entry:
        fields["extra_token_params"] = _params(entry["token-params"], "token-params")
    if "console" in entry:
        fields["use_in_console"] = entry["console"].scalar(bool, "console")
    if "reference" in entry:
        fields["show_in_reference"] = entry["reference"].scalar(bool, "reference")
    if "developer-registration" in entry:
        fields["developer_registration"] = entry["developer-registration"].scalar(
            bool, "developer-registration"
        )
    grants = ["authorization_code"]
    if "grants" in entry:
        grants = entry["grants"].strings("grants")
        for grant in grants:
            if grant not in GRANT_LABELS:
                raise entry["grants"].error(
                    f"unknown grant {grant!r}; expected: {', '.join(GRANT_LABELS)}"
                )
    secret: str | None = None
    if "client-secret" in entry and "client-secret-env" in entry:
        raise entry["client-secret"].error("give client-secret or client-secret-env, not both")
    if "client-secret" in entry:
        secret = entry["client-secret"].scalar(str, "client-secret")
    elif "client-secret-env" in entry:
        name = entry["client-secret-env"].scalar(str, "client-secret-env")
        if name not in os.environ:
            raise entry["client-secret-env"].error(f"the environment variable {name} is not set")
        secret = os.environ[name]
    plan = ServerPlan(slug=slug, line=item.line, fields=fields, grants=grants, secret=secret)
    if "initial-access-token-env" in entry:
        name = entry["initial-access-token-env"].scalar(str, "initial-access-token-env")
        if name not in os.environ:
            raise entry["initial-access-token-env"].error(
                f"the environment variable {name} is not set"
            )
        plan.initial_access_token = os.environ[name]
    if "apis" in entry:
        for api in entry["apis"].items("apis"):
            if api.kind == "scalar":
                plan.apis.append((api.scalar(str, "an API slug"), "", api.line))
            else:
                link = api.mapping("an API", {"slug", "scopes"})
                if "slug" not in link:
                    raise api.error("an API needs its slug")
                scopes = " ".join(link["scopes"].strings("scopes")) if "scopes" in link else ""
                plan.apis.append((link["slug"].scalar(str, "slug"), scopes, api.line))
    return plan


def validate(node: Node, ctx: Context) -> list[ServerPlan]:
    return once_each(node, SECTION, _server, "authorization server")


def apply(plans: list[ServerPlan], ctx: Context) -> list[str]:
    from apis.models import Api
    from console.models import ApiAuthorizationServer

    out: list[str] = []
    for plan in plans:
        server = AuthorizationServer.objects.filter(slug=plan.slug).first()
        created = server is None
        server = server or AuthorizationServer(slug=plan.slug)
        before = server.grants if not created else []
        changed = [name for name, value in plan.fields.items() if getattr(server, name) != value]
        for name, value in plan.fields.items():
            setattr(server, name, value)
        if set(server.grants) != set(plan.grants):
            changed.append("grants")
        server.set_grants(plan.grants)
        if plan.secret is not None and server.client_secret != plan.secret:
            server.client_secret = plan.secret
            changed.append("client secret")
        token = plan.initial_access_token
        if token is not None and server.initial_access_token != token:
            server.initial_access_token = token
            changed.append("initial access token")
        if created or changed:
            if any(name.endswith("_url") for name in changed):
                server.metadata, server.metadata_fetched = {}, None
            server.save()
            what = "added" if created else "updated (" + ", ".join(changed) + ")"
            out.append(f"authorization server {plan.slug}: {what}")
        for entry in record_grant_changes(server, before, "applyconfig"):
            out.append(f"authorization server {plan.slug}: {entry.action} (audited)")
        wanted: dict[int, tuple[str, int]] = {}
        for position, (slug, scopes, line) in enumerate(plan.apis):
            api = Api.objects.filter(slug=slug).first()
            if api is None:
                raise ConfigError(line, f"the API {slug!r} does not exist")
            wanted[api.pk] = (scopes, position)
        links = {link.api_id: link for link in ApiAuthorizationServer.objects.filter(server=server)}
        for api_id, old in links.items():
            if api_id not in wanted:
                old.delete()
                out.append(f"authorization server {plan.slug}: no longer offered on {old.api.slug}")
        for api_id, (scopes, position) in wanted.items():
            existing = links.get(api_id)
            if existing is None:
                made = ApiAuthorizationServer.objects.create(
                    api_id=api_id, server=server, scopes=scopes, position=position
                )
                out.append(f"authorization server {plan.slug}: offered on {made.api.slug}")
                continue
            if (existing.scopes, existing.position) != (scopes, position):
                existing.scopes, existing.position = scopes, position
                existing.save()
                out.append(
                    f"authorization server {plan.slug}: scopes for {existing.api.slug} updated"
                )
    return out

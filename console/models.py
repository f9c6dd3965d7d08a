"""Authorization servers the console may use, and each user's recent calls.

Endpoints come from this configuration only, never from a spec: a spec's `tokenUrl`,
`authorizationUrl` and `openIdConnectUrl` are attacker-controlled text (SECURITY.md case 45).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_IMPLICIT = "implicit"
GRANT_PASSWORD = "password"

GRANT_LABELS = {
    GRANT_AUTHORIZATION_CODE: "Authorization code with PKCE",
    GRANT_CLIENT_CREDENTIALS: "Client credentials",
    GRANT_IMPLICIT: "Implicit (legacy)",
    GRANT_PASSWORD: "Resource owner password (legacy)",
}
LEGACY_GRANTS = frozenset({GRANT_IMPLICIT, GRANT_PASSWORD})

# Shown wherever a legacy grant is offered (RFC 9700 sections 2.1.2 and 2.4).
LEGACY_WARNINGS = {
    GRANT_IMPLICIT: (
        "RFC 9700 §2.1.2: the implicit grant SHOULD NOT be used. It exposes the access token "
        "in the front channel, where it can leak or be injected; use the authorization code "
        "grant with PKCE instead."
    ),
    GRANT_PASSWORD: (
        "RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used. It "
        "hands the user's password to the client and cannot support multi-factor sign-in; use "
        "the authorization code grant with PKCE instead."
    ),
}

CLIENT_AUTH_BASIC = "basic"
CLIENT_AUTH_BODY = "body"


class AuthorizationServer(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    discovery_url = models.URLField(
        "discovery URL",
        max_length=500,
        blank=True,
        help_text="OpenID Connect or RFC 8414 metadata URL. Explicit endpoints below win.",
    )
    issuer = models.CharField(
        max_length=500,
        blank=True,
        help_text="Expected issuer (checked on the authorization response when the server "
        "sends `iss`, RFC 9207). Taken from discovery when blank.",
    )
    authorize_url = models.URLField("authorize URL", max_length=500, blank=True)
    token_url = models.URLField("token URL", max_length=500, blank=True)
    refresh_url = models.URLField(
        "refresh URL", max_length=500, blank=True, help_text="Blank: the token URL."
    )
    revoke_url = models.URLField("revoke URL", max_length=500, blank=True)
    client_id = models.CharField("client ID", max_length=300)
    # Never rendered back: the admin form has a write-only field for it.
    client_secret = models.CharField(max_length=500, blank=True)
    client_auth = models.CharField(
        max_length=10,
        choices=[
            (CLIENT_AUTH_BASIC, "HTTP Basic (client_secret_basic)"),
            (CLIENT_AUTH_BODY, "Request body (client_secret_post)"),
        ],
        default=CLIENT_AUTH_BASIC,
    )
    grant_authorization_code = models.BooleanField("authorization code with PKCE", default=True)
    grant_client_credentials = models.BooleanField("client credentials", default=False)
    grant_implicit = models.BooleanField(
        "implicit (legacy)", default=False, help_text=LEGACY_WARNINGS[GRANT_IMPLICIT]
    )
    grant_password = models.BooleanField(
        "resource owner password (legacy)",
        default=False,
        help_text=LEGACY_WARNINGS[GRANT_PASSWORD],
    )
    default_scopes = models.CharField(max_length=1000, blank=True, help_text="Space-separated.")
    extra_authorize_params = models.JSONField(
        default=dict, blank=True, help_text='e.g. {"audience": "api://echo"}'
    )
    extra_token_params = models.JSONField(
        default=dict, blank=True, help_text='e.g. {"resource": "api://echo"}'
    )
    # RFC 7591: developers may register their own applications at this server.
    developer_registration = models.BooleanField(
        "developers register applications here",
        default=False,
        help_text="My applications offers this server; the portal registers each client "
        "through Dynamic Client Registration (RFC 7591) and manages it with RFC 7592.",
    )
    registration_url = models.URLField(
        "registration URL",
        max_length=500,
        blank=True,
        help_text="Blank: the discovery document's registration_endpoint.",
    )
    # Never rendered back: the admin form has a write-only field for it.
    initial_access_token = models.CharField(
        max_length=2000,
        blank=True,
        help_text="RFC 7591 initial access token, if the server asks for one.",
    )
    use_in_console = models.BooleanField(default=True)
    show_in_reference = models.BooleanField(default=True)
    apis = models.ManyToManyField(
        "apis.Api",
        through="ApiAuthorizationServer",
        blank=True,
        related_name="+",
        verbose_name="APIs",
    )
    # Discovery results, refreshed by console.discovery.endpoints().
    metadata = models.JSONField(default=dict, blank=True, editable=False)
    metadata_fetched = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def grants(self) -> list[str]:
        """Enabled grants, safest first."""
        flags = [
            (GRANT_AUTHORIZATION_CODE, self.grant_authorization_code),
            (GRANT_CLIENT_CREDENTIALS, self.grant_client_credentials),
            (GRANT_IMPLICIT, self.grant_implicit),
            (GRANT_PASSWORD, self.grant_password),
        ]
        return [grant for grant, enabled in flags if enabled]

    def set_grants(self, grants: list[str] | set[str]) -> None:
        self.grant_authorization_code = GRANT_AUTHORIZATION_CODE in grants
        self.grant_client_credentials = GRANT_CLIENT_CREDENTIALS in grants
        self.grant_implicit = GRANT_IMPLICIT in grants
        self.grant_password = GRANT_PASSWORD in grants


class ApiAuthorizationServer(models.Model):
    """An authorization server offered on one API's operation pages."""

    api = models.ForeignKey("apis.Api", on_delete=models.CASCADE, related_name="+")
    server = models.ForeignKey(AuthorizationServer, on_delete=models.CASCADE, related_name="links")
    scopes = models.CharField(
        max_length=1000, blank=True, help_text="Overrides the server's default scopes."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["api", "server"], name="console_api_server_unique")
        ]
        verbose_name = "API using this server"

    def __str__(self) -> str:
        return f"{self.server} for {self.api}"

    @property
    def effective_scopes(self) -> str:
        return self.scopes or self.server.default_scopes


class CallHistory(models.Model):
    """One call a signed-in user sent from the console, enough to load it back into the form.

    The token is never kept: `form` holds the form values only.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_calls"
    )
    operation = models.ForeignKey(
        "apis.Operation", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_slug = models.CharField(max_length=100)
    version_label = models.CharField(max_length=100)
    operation_slug = models.CharField(max_length=300)
    method = models.CharField(max_length=10)
    url = models.TextField()
    form = models.JSONField(default=dict, help_text="the console form's values")
    status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name_plural = "call history"
        indexes = [models.Index(fields=["user", "-created"])]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url} -> {self.status or self.error}"


class AuditEntry(models.Model):
    """Configuration changes worth a trail, such as enabling a legacy grant (case 51)."""

    created = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    server = models.ForeignKey(
        AuthorizationServer, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    server_name = models.CharField(max_length=200)
    action = models.CharField(max_length=100)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor}: {self.action} on {self.server_name}"

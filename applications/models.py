"""A developer's own OAuth client.

An Application is the developer's view of a client: name, kind, redirect URIs. The client
itself lives at the provider; for the built-in one that is an `identity.Client` row (a
django-oauth-toolkit application), which the flows in applications/flows.py create, update
and delete with it. `client_id` is kept here too so the page can always show it, whichever
provider holds the client.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Application(models.Model):
    WEB, SPA, MACHINE = "web", "spa", "machine"
    KINDS = [
        (WEB, "Web app (confidential client, redirect URIs)"),
        (SPA, "Single-page or native app (public client, PKCE, no secret)"),
        (MACHINE, "Machine client (client credentials only)"),
    ]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applications"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=2000)
    kind = models.CharField(max_length=10, choices=KINDS)
    redirect_uris = models.JSONField(default=list, blank=True)
    client_id = models.CharField(max_length=100, unique=True)
    # The built-in provider's client; deleting the application deletes it (flows.delete).
    provider_client = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="developer_application",
    )
    # An external authorization server (RFC 7591); None for the built-in provider.
    server = models.ForeignKey(
        "console.AuthorizationServer",
        on_delete=models.PROTECT,  # its applications must be deleted there first
        null=True,
        blank=True,
        related_name="developer_applications",
    )
    # The external server's issuer, so a token's (iss, client_id) finds its application.
    issuer = models.CharField(max_length=500, blank=True)
    # RFC 7592: where and with what the portal reads, updates and deletes the client there.
    registration_client_uri = models.URLField(max_length=1000, blank=True)
    registration_token = models.TextField(
        blank=True, help_text="encrypted (applications/secrets.py)"
    )
    # The client secret kept for the console when the developer asks (encrypted), else empty.
    console_secret = models.TextField(blank=True, help_text="encrypted (applications/secrets.py)")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "created"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("applications:detail", args=[self.uuid])

    @property
    def kind_name(self) -> str:
        """The kind in words, without its explanation: `Web app`, for a list's column."""
        return self.get_kind_display().split(" (")[0]

    @property
    def has_secret(self) -> bool:
        return self.kind != self.SPA

    @property
    def is_external(self) -> bool:
        return self.server_id is not None

    @property
    def provider_name(self) -> str:
        return self.server.name if self.server is not None else "this portal's provider"

    @property
    def old_secret_until(self) -> datetime | None:
        """When the secret replaced by the last rotation stops working, while it still works."""
        client = self.provider_client
        until = client.previous_secret_expires if client is not None else None
        return until if until is not None and until > timezone.now() else None

"""The built-in provider's clients and signing keys.

`Client` is django-oauth-toolkit's application model with per-client switches for the
grants RFC 9700 discourages: a client has one primary grant (DOT's field) and may be
allowed client credentials, implicit and password on top, each off unless an admin turns
it on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from identity.redirect_uris import characters_problem, host_problem

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _http_problem(uri: str) -> str:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return ""  # DOT's own check (super().clean()) names a malformed URI
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "plain http is only allowed on loopback."
    return ""


class Client(AbstractApplication):
    allow_client_credentials = models.BooleanField(
        default=False, help_text="Also allow the client credentials grant."
    )
    allow_implicit = models.BooleanField(
        default=False,
        help_text="Also allow the implicit grant. RFC 9700 section 2.1.2 says it must not be "
        "used: tokens travel in the URL fragment and cannot be sender-constrained.",
    )
    allow_password = models.BooleanField(
        default=False,
        help_text="Also allow the resource owner password grant. RFC 9700 section 2.4 says it "
        "must not be used: the client sees the user's password.",
    )
    may_introspect = models.BooleanField(
        default=False,
        help_text="A resource server: may introspect any client's tokens (RFC 7662). "
        "Without it a client may only introspect its own.",
    )

    scopes_from_subscriptions = models.BooleanField(
        "API scopes from the developer's subscriptions",
        default=False,
        help_text="For a client many developers share, like the try-it console's: a token "
        "carries an API's scope only when the signed-in developer's own applications hold it "
        "through an active subscription, and a token with no developer (client credentials) "
        "carries none. Off: a client set up here gets every published API's scopes.",
    )

    # After a rotation the previous secret (hashed) keeps working until this time, so a
    # developer can roll the new one out first (applications/flows.rotate_secret).
    previous_secret = models.CharField(max_length=255, blank=True, editable=False)
    previous_secret_expires = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractApplication.Meta):
        verbose_name = "OAuth client"

    def previous_secret_matches(self, provided: str) -> bool:
        """The provided secret is the one replaced by the last rotation, still in its grace."""
        from django.contrib.auth.hashers import check_password

        if not (self.previous_secret and provided and self.previous_secret_expires):
            return False
        if self.previous_secret_expires <= timezone.now():
            return False
        return bool(check_password(provided, self.previous_secret))

    def granted_types(self) -> set[str]:
        granted = {self.authorization_grant_type}
        if self.allow_client_credentials:
            granted.add(self.GRANT_CLIENT_CREDENTIALS)
        if self.allow_implicit:
            granted.add(self.GRANT_IMPLICIT)
        if self.allow_password:
            granted.add(self.GRANT_PASSWORD)
        return granted

    def allows_grant_type(self, *grant_types: str) -> bool:
        return bool(self.granted_types() & set(grant_types))

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        try:
            super().clean()
        except ValidationError as exc:
            for field, messages in exc.error_dict.items():
                # Keys come from SigningKey rows, not the OIDC_RSA_PRIVATE_KEY setting.
                kept = [m for m in messages if "OIDC_RSA_PRIVATE_KEY" not in " ".join(m.messages)]
                if kept:
                    errors[field] = kept
        for uri in self.redirect_uris.split():
            # The rules developers' applications get too (applications.redirects).
            problem = characters_problem(uri) or host_problem(uri) or _http_problem(uri)
            if problem:
                errors.setdefault("redirect_uris", []).append(ValidationError(f"{uri}: {problem}"))
        if errors:
            raise ValidationError(errors)

    def is_usable(self, request: Any) -> bool:
        """Not with the demo seed's well-known secret outside the dev run (identity.E002), nor
        as the application of a developer an administrator deactivated (APIM's blocked user):
        their tokens are revoked then (identity.revocation.revoke_user), and the application
        went on getting new ones and signing other people in. DOT asks this wherever it loads
        a client (every grant, the authorization endpoint, userinfo)."""
        from django.conf import settings
        from django.contrib.auth.hashers import check_password

        from identity.demo_credentials import DEMO_SECRETS

        demo_secret = DEMO_SECRETS.get(self.client_id)
        if demo_secret and not settings.DEBUG and check_password(demo_secret, self.client_secret):
            return False
        if self._owner_deactivated():
            return False
        return bool(super().is_usable(request))

    def _owner_deactivated(self) -> bool:
        from applications.models import Application

        return Application.objects.filter(provider_client=self, owner__is_active=False).exists()

    def redirect_uri_allowed(self, uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            return False  # plain http only on loopback (RFC 8252), whatever the settings say
        if not super().redirect_uri_allowed(uri):
            return False
        if self.client_type == self.CLIENT_PUBLIC:
            return True  # RFC 8252 7.3: a native app's loopback redirect on any port
        # A confidential (web) client is no native app: DOT's any-port rule for loopback
        # sent its code to whatever listened on another port of the machine.
        from oauth2_provider.models import redirect_to_uri_allowed

        return any(
            urlsplit(registered).port == parts.port and redirect_to_uri_allowed(uri, [registered])
            for registered in self.redirect_uris.split()
        )

    @property
    def jwk_key(self) -> Any:
        # ID tokens are signed with the current key from the database, not a setting.
        if self.algorithm == self.RS256_ALGORITHM:
            from identity import keys

            return keys.active_key().jwk()
        return super().jwk_key


class SigningKey(models.Model):
    """An RSA key the provider signs tokens with.

    The newest unretired key signs; retired keys stay published in the JWKS until every
    token they signed has expired (`identity.keys.retention`), then `rotate_signing_key
    --prune` deletes them.
    """

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.kid

    def jwk(self) -> Any:
        from identity import keys

        return keys.jwk_for(self)


class RevokedToken(models.Model):
    """An access token the provider revoked before its expiry, for verifiers to refuse.

    Written whenever a live access token row goes: revocation (RFC 7009), refresh-token
    reuse detection (which deletes the family's access tokens), rotation of its refresh
    token, an admin deleting it. A verifier looks up sha256(token) in `token_checksum`
    (the provider stores only that, RFC 9700 token storage) or the JWT's `jti` when known,
    and learns of new rows through its configuration version (gateway/signals.py). Rows go once the token
    would have expired anyway (`identity.revocation.prune`).
    """

    token_checksum = models.CharField(max_length=64, unique=True)
    jti = models.CharField(max_length=64, blank=True, db_index=True)
    client_id = models.CharField(max_length=100, blank=True)
    expires = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-revoked_at"]

    def __str__(self) -> str:
        return self.jti or self.token_checksum[:16]

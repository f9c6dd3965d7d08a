"""Gateway configuration per API: the route (suffix and backend) and its policies.

The hot path never queries these tables: `gateway.config.load_routes()` turns them into
frozen in-memory objects, and the gateway reloads them when `config_fingerprint()` changes.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from apis.models import Api
from gateway.routing import MAX_SUFFIX_SEGMENTS, SERVED_METHODS

suffix_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$",
    "Lower-case letters, digits, '.', '_' and '-', segments separated by '/'.",
)


def suffix_depth_validator(value: str) -> None:
    if value.count("/") + 1 > MAX_SUFFIX_SEGMENTS:
        raise ValidationError(
            f"At most {MAX_SUFFIX_SEGMENTS} segments: the gateway finds a route by no more."
        )


_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#@\sA-Z]+")


def _default_algorithms() -> list[str]:
    return ["RS256", "PS256", "ES256"]


def _default_cors_methods() -> list[str]:
    return ["GET", "POST", "PUT", "PATCH", "DELETE"]


class Route(models.Model):
    BACKEND_UPSTREAM = "upstream"
    BACKEND_ECHO = "echo"
    BACKEND_MOCK = "mock"
    BACKENDS = [
        (BACKEND_UPSTREAM, "Upstream URL"),
        (BACKEND_ECHO, "Echo (answers with what it received)"),
        (BACKEND_MOCK, "Mock (examples from the spec)"),
    ]
    KEY_SUBJECT = "subject"
    KEY_CLIENT = "client_id"
    KEY_ADDRESS = "address"
    RATE_KEYS = [
        (KEY_SUBJECT, "Token subject"),
        (KEY_CLIENT, "Token client id"),
        (KEY_ADDRESS, "Client address"),
    ]

    api = models.OneToOneField(
        Api, on_delete=models.CASCADE, related_name="gateway_route", verbose_name="API"
    )
    suffix = models.CharField(
        max_length=200,
        unique=True,
        validators=[suffix_validator, suffix_depth_validator],
        # Plain words: the admin renders help text as HTML, where <suffix> was a tag and vanished.
        help_text="The gateway answers at /gateway/ and this suffix: echo gives /gateway/echo/…",
    )
    is_enabled = models.BooleanField(default=True)
    backend = models.CharField(max_length=10, choices=BACKENDS, default=BACKEND_MOCK)
    upstream_url = models.URLField(
        "upstream URL", max_length=500, blank=True, help_text="Base URL for the upstream backend."
    )
    timeout = models.PositiveIntegerField(default=30, help_text="Backend timeout in seconds.")
    forward_claims = models.BooleanField(
        default=False,
        help_text="Send X-User-Sub, X-User-Issuer, X-User-Client-Id and X-User-Scopes to the backend.",
    )
    pass_through = models.BooleanField(
        default=False,
        help_text="Forward calls that match no operation of the spec (otherwise 404). "
        "A route whose API has no spec always passes through.",
    )
    # rate-limit-by-key
    rate_limit_calls = models.PositiveIntegerField(
        null=True, blank=True, help_text="Calls allowed per renewal period; empty = no limit."
    )
    rate_limit_period = models.PositiveIntegerField(default=60, help_text="Seconds.")
    rate_limit_key = models.CharField(max_length=10, choices=RATE_KEYS, default=KEY_ADDRESS)
    rate_limit_on_store_unavailable = models.CharField(
        max_length=5,
        choices=[
            ("allow", "Allow calls (no limit while the store is down)"),
            ("deny", "Deny (503)"),
        ],
        default="allow",
        help_text="When the shared counter store (Redis) is down.",
    )
    # CORS for browser clients
    cors_allowed_origins = models.JSONField(
        "CORS allowed origins",
        default=list,
        blank=True,
        help_text='Origins, or ["*"]; empty = no CORS.',
    )
    cors_allowed_methods = models.JSONField(
        "CORS allowed methods", default=_default_cors_methods, blank=True
    )
    cors_allowed_headers = models.JSONField("CORS allowed headers", default=list, blank=True)
    cors_expose_headers = models.JSONField("CORS expose headers", default=list, blank=True)
    cors_allow_credentials = models.BooleanField("CORS allow credentials", default=False)
    cors_max_age = models.PositiveIntegerField("CORS max age", default=600)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["suffix"]

    def __str__(self) -> str:
        return f"/{self.suffix} → {self.get_backend_display()}"

    def clean(self) -> None:
        from gateway.upstream import parse_origin

        if self.backend == self.BACKEND_UPSTREAM:
            if not self.upstream_url:
                raise ValidationError({"upstream_url": "An upstream backend needs a URL."})
            try:
                parse_origin(self.upstream_url)
            except ValueError as exc:
                raise ValidationError({"upstream_url": str(exc)}) from None
            if "?" in self.upstream_url or "#" in self.upstream_url:
                # The backend gets each call's own query: one here would be dropped unseen.
                raise ValidationError(
                    {
                        "upstream_url": "A base URL with no query or fragment: the backend gets "
                        "each call's own query."
                    }
                )
        for name in (
            "cors_allowed_origins",
            "cors_allowed_methods",
            "cors_allowed_headers",
            "cors_expose_headers",
        ):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({name: "A list of strings."})
        for origin in self.cors_allowed_origins:
            # A browser sends its Origin as scheme://host[:port], lower case, no path: an
            # entry written otherwise would never match, and CORS would be silently off.
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValidationError(
                    {
                        "cors_allowed_origins": f"{origin!r} is not an origin: write "
                        "scheme://host[:port] in lower case, without a path or a final /."
                    }
                )
        if "*" in self.cors_allowed_origins and self.cors_allow_credentials:
            raise ValidationError(
                {"cors_allow_credentials": "Credentials cannot be allowed for every origin."}
            )
        # As the file's rate-limit (calls and renewal-period at least 1): 0 calls would read
        # as no limit at all.
        if self.rate_limit_calls is not None and self.rate_limit_calls < 1:
            raise ValidationError({"rate_limit_calls": "At least 1 call, or empty for no limit."})
        if self.rate_limit_period < 1:
            raise ValidationError({"rate_limit_period": "At least 1 second."})
        if self.timeout < 1 or self.timeout > 600:
            raise ValidationError({"timeout": "Between 1 and 600 seconds."})


class JwtPolicy(models.Model):
    """APIM's validate-jwt attributes, plus RFC 9068/8725 checks APIM lacks."""

    route = models.OneToOneField(Route, on_delete=models.CASCADE, related_name="jwt_policy")
    header_name = models.CharField(max_length=100, default="Authorization", blank=True)
    query_parameter_name = models.CharField(max_length=100, blank=True)
    require_scheme = models.CharField(max_length=50, default="Bearer", blank=True)
    failed_validation_httpcode = models.PositiveSmallIntegerField(
        "failed validation HTTP code", default=401
    )
    failed_validation_error_message = models.CharField(max_length=500, blank=True)
    require_expiration_time = models.BooleanField(default=True)
    require_signed_tokens = models.BooleanField(
        default=True, help_text="Unsigned tokens are never accepted; kept for APIM parity."
    )
    clock_skew = models.PositiveIntegerField(default=0, help_text="Seconds.")
    openid_config = models.JSONField(
        "OpenID configuration", default=list, blank=True, help_text="Discovery document URLs."
    )
    issuer_signing_keys = models.JSONField(
        default=list, blank=True, help_text='[{"kid": ..., "pem": ...} or {"n": ..., "e": ...}]'
    )
    audiences = models.JSONField(
        default=list,
        blank=True,
        help_text='A list of accepted audiences, or "any" (with the quotes) to skip the check.',
    )
    issuers = models.JSONField(default=list, blank=True)
    algorithms = models.JSONField(default=_default_algorithms, blank=True)
    typ_exempt_issuers = models.JSONField(
        default=list,
        blank=True,
        help_text="Issuers whose access tokens say typ JWT (e.g. Entra ID).",
    )
    require_rfc9068_claims = models.BooleanField(
        "require RFC 9068 claims",
        default=True,
        help_text="Require sub, client_id, iat and jti (RFC 9068).",
    )
    max_lifetime = models.PositiveIntegerField(
        default=24 * 3600,
        null=True,
        blank=True,
        help_text="Seconds (exp - iat); empty = no cap (`none` in the configuration file).",
    )
    max_token_bytes = models.PositiveIntegerField(default=8192)
    strict_audience = models.BooleanField(
        default=False, help_text="Refuse tokens that also name other audiences."
    )
    require_subscribed_client = models.BooleanField(
        default=False,
        help_text="The token's client (client_id, else azp) must be a developer application "
        "with an active subscription to a product that includes this API (403 otherwise).",
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "validate-jwt policy"
        verbose_name_plural = "validate-jwt policies"

    def __str__(self) -> str:
        return f"validate-jwt for /{self.route.suffix}"

    def clean(self) -> None:
        from gateway.config import policy_errors

        errors = policy_errors(self)
        if errors:
            raise ValidationError(errors)


class RequiredClaim(models.Model):
    MATCH_ALL = "all"
    MATCH_ANY = "any"

    policy = models.ForeignKey(JwtPolicy, on_delete=models.CASCADE, related_name="claims")
    name = models.CharField(max_length=100)
    values = models.JSONField(default=list)
    match = models.CharField(
        max_length=3, choices=[(MATCH_ALL, "all"), (MATCH_ANY, "any")], default=MATCH_ALL
    )
    separator = models.CharField(max_length=5, blank=True, help_text='" " for scope or scp.')
    methods = models.CharField(
        max_length=100, blank=True, help_text="Space-separated methods; empty = all."
    )
    operation = models.CharField(
        max_length=300, blank=True, help_text="Operation slug of the API; empty = all."
    )
    position = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.match} of {', '.join(map(str, self.values))}"

    def clean(self) -> None:
        if (
            not isinstance(self.values, list)
            or not self.values
            or not all(isinstance(v, str) and v for v in self.values)
        ):
            raise ValidationError({"values": "A non-empty list of strings."})
        for value in self.values:
            if value != value.strip():
                # Claims are compared whole (a scope split at its spaces first): such a value
                # never matches, and the rule refuses every call without saying why.
                raise ValidationError(
                    {
                        "values": f"The value {value!r} of {self.name} starts or ends with a "
                        "space, which no token's claim value does: remove the spaces."
                    }
                )
        bad = [m.upper() for m in self.methods.split() if m.upper() not in SERVED_METHODS]
        if bad and bad[0] in _NEVER_SERVED:
            # A rule bound to it alone would hold no call: the gateway refuses it first.
            detail = f"The gateway never serves {bad[0]} (it answers 405): no rule can hold it."
            raise ValidationError({"methods": detail})
        if bad:
            raise ValidationError({"methods": f"Unknown method {bad[0]}."})


_NEVER_SERVED = {"TRACE", "CONNECT"}

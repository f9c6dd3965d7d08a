"""Products, groups, subscriptions and their audit trail.

A product offers APIs to the groups that may see it; a developer subscribes to a product and
gets two keys. Keys are stored twice: a SHA-256 hash the gateway looks up, and an encrypted
copy shown back to the developer (products/keys.py). Neither is ever the key in clear.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from portal.lib.headers import OVERRIDE_QUERY_PARAMS, header_key, never_forwarded, param_key
from portal.lib.names import validate_name

GUESTS, DEVELOPERS, ADMINISTRATORS = "guests", "developers", "administrators"
BUILTIN_GROUPS = {
    GUESTS: "Guests (anyone not signed in)",
    DEVELOPERS: "Developers (anyone signed in)",
    ADMINISTRATORS: "Administrators (superusers)",
}


class Group(models.Model):
    """Who may see a product. Built-in groups have implicit members; custom groups have
    members added in the admin or taken from the sign-in provider's groups claim."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    builtin = models.BooleanField(default=False, editable=False)
    # Values of OIDC_GROUPS_CLAIM (Entra ID group ids, Keycloak roles ...) that make a member.
    claim_values = models.JSONField(default=list, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="portal_groups", blank=True
    )

    class Meta:
        ordering = ["-builtin", "name"]
        # Beside Django's own (permissions) "Groups" in the admin index.
        verbose_name = "portal group"
        verbose_name_plural = "portal groups"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # `Administrators` beside `administrators`: a product offered to it reads as offered
        # to the administrators, while anyone the claim names is a member.
        if not self.builtin and self.slug.lower() in BUILTIN_GROUPS:
            raise ValidationError({"slug": f"{self.slug} is the slug of a built-in group."})
        values = self.claim_values
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            # A bare string would be read as its letters, each one a claim value.
            raise ValidationError(
                {"claim_values": 'A list of claim values, e.g. ["partner", "5d3c6a2e-..."].'}
            )


class Membership(models.Model):
    MANUAL, CLAIM = "manual", "claim"

    group = models.ForeignKey(Group, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # Claim memberships follow the provider at each sign-in; manual ones stay until removed.
    source = models.CharField(
        max_length=10, choices=[(MANUAL, "Added in the portal"), (CLAIM, "From the sign-in claim")],
        default=MANUAL,
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="products_membership_unique")
        ]


# As the config file (products/config-schema.json, "minimum": 1): a period of 0 divides by
# zero in the gateway's counters, and 0 calls would read as no limit at all.
AT_LEAST_ONE = MinValueValidator(1)


class Product(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(
        max_length=200,
        # The subject of every e-mail about its subscriptions (products/notify.py).
        validators=[validate_name],
    )
    description = models.TextField(blank=True, help_text="Markdown")
    apis = models.ManyToManyField(
        "apis.Api", related_name="products", blank=True, verbose_name="APIs"
    )
    # API slug -> the OAuth scopes of that API this product grants (a read-only Starter:
    # {"petstore": ["petstore.read"]}); an API not named here grants every scope its spec
    # defines. products/grants.py reads it for the provider and the gateway.
    api_scopes = models.JSONField(
        "API scopes",
        default=dict,
        blank=True,
        help_text='Per API, the scopes this product grants, e.g. {"petstore": '
        '["petstore.read"]}; an API not named grants all its scopes.',
    )
    published = models.BooleanField(default=False)
    subscription_required = models.BooleanField(default=True)
    approval_required = models.BooleanField(default=False)
    subscriptions_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[AT_LEAST_ONE],
        help_text="live subscriptions per developer; empty for no limit",
    )
    terms = models.TextField(blank=True, help_text="Markdown; accepted when subscribing")
    groups = models.ManyToManyField(Group, related_name="products", blank=True)
    # Per-subscription limits enforced by the gateway (empty: none).
    rate_limit_calls = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[AT_LEAST_ONE],
        help_text="Calls per rate-limit period, for each subscription; empty = no limit.",
    )
    rate_limit_period = models.PositiveIntegerField(
        default=60, help_text="Seconds: 60 a minute, 3600 an hour.", validators=[AT_LEAST_ONE]
    )
    quota_calls = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[AT_LEAST_ONE],
        help_text="Calls per quota period, for each subscription; empty = no quota.",
    )
    # Bandwidth, as APIM's quota-by-key `bandwidth`: request and response bodies together.
    quota_kilobytes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[AT_LEAST_ONE],
        help_text="Kilobytes of request and response bodies per quota period, for each "
        "subscription; empty = no limit.",
    )
    quota_period = models.PositiveIntegerField(
        default=86400,
        help_text="Seconds: 86400 a day, 604800 a week, 2592000 30 days.",
        validators=[AT_LEAST_ONE],
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:detail", args=[self.slug])

    def clean(self) -> None:
        value = self.api_scopes
        if not isinstance(value, dict) or not all(
            isinstance(slug, str)
            and isinstance(scopes, list)
            and all(isinstance(s, str) for s in scopes)
            for slug, scopes in value.items()
        ):
            raise ValidationError(
                {
                    "api_scopes": 'An object of API slug -> list of scopes, e.g. {"petstore": ["petstore.read"]}.'
                }
            )

    @property
    def terms_version(self) -> str:
        """Names the terms as written now: the subscribe form sends back the one it showed,
        so an acceptance of older terms is no acceptance of these."""
        return hashlib.sha256(self.terms.encode()).hexdigest()[:16] if self.terms else ""

    @property
    def limits(self) -> list[str]:
        """The gateway's limits per subscription in words, for the developer's pages."""
        out = []
        if self.rate_limit_calls:
            out.append(f"{self.rate_limit_calls:,} calls per {_period(self.rate_limit_period)}")
        quota = [f"{self.quota_calls:,} calls"] if self.quota_calls else []
        if self.quota_kilobytes:
            quota.append(_kilobytes(self.quota_kilobytes))
        if quota:
            out.append(f"quota: {' and '.join(quota)} per {_period(self.quota_period)}")
        return out


def _period(seconds: int) -> str:
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n:,} {unit}s"
    return f"{seconds:,} s"


def _kilobytes(kilobytes: int) -> str:
    """1,024-based, as the gateway counts: 2048 -> '2 MB'."""
    for size, unit in ((1024 * 1024, "GB"), (1024, "MB")):
        if kilobytes % size == 0:
            return f"{kilobytes // size:,} {unit}"
    return f"{kilobytes:,} KB"


class Subscription(models.Model):
    SUBMITTED, ACTIVE, REJECTED, SUSPENDED, CANCELLED = (
        "submitted", "active", "rejected", "suspended", "cancelled",
    )  # fmt: skip
    STATES = [
        (SUBMITTED, "Submitted"),
        (ACTIVE, "Active"),
        (REJECTED, "Rejected"),
        (SUSPENDED, "Suspended"),
        (CANCELLED, "Cancelled"),
    ]
    # States that count against a product's per-developer limit.
    LIVE = (SUBMITTED, ACTIVE, SUSPENDED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    # For one of the owner's applications, or (null) for the developer themselves. Deleting
    # the application cancels its subscriptions first (applications.flows.delete).
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    name = models.CharField(max_length=100, blank=True, validators=[validate_name])
    state = models.CharField(max_length=10, choices=STATES, default=SUBMITTED)
    primary_hash = models.CharField(max_length=64, unique=True, editable=False)
    primary_encrypted = models.TextField(editable=False)
    secondary_hash = models.CharField(max_length=64, unique=True, editable=False)
    secondary_encrypted = models.TextField(editable=False)
    terms_accepted = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        permissions = [("approve_subscription", "Can approve and reject subscriptions")]

    def __str__(self) -> str:
        return f"{self.product.name}: {self.name or self.owner}"

    @property
    def label(self) -> str:
        return self.name or self.product.name

    def get_absolute_url(self) -> str:
        return reverse("products:subscription", args=[self.uuid])


class SubscriptionEvent(models.Model):
    """One state change or key regeneration; kept for good (the admin cannot delete it)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}->{self.to_state}"


# Request headers the gateway (or the backend's framing) reads for something else than a key.
_TAKEN_HEADERS = frozenset(
    name.encode()
    for name in (
        "authorization", "proxy-authorization", "cookie", "host", "content-type",
        "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive",
        "te", "trailer", "upgrade", "expect", "origin",
    )
)  # fmt: skip


class ApiKeyNames(models.Model):
    """Where the gateway looks for an API's subscription key, when not APIM's defaults."""

    api = models.OneToOneField(
        "apis.Api", on_delete=models.CASCADE, related_name="key_names", verbose_name="API"
    )
    header = models.CharField(
        max_length=100,
        default="Ocp-Apim-Subscription-Key",
        validators=[RegexValidator(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", "A header name.")],
    )
    query = models.CharField(
        max_length=100,
        default="subscription-key",
        validators=[RegexValidator(r"^[A-Za-z0-9._~-]+$", "A query parameter name.")],
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "subscription key names of an API"
        verbose_name_plural = "subscription key names of APIs"

    def __str__(self) -> str:
        return f"{self.api}: {self.header} / ?{self.query}"

    def clean(self) -> None:
        # The gateway takes the key out of the call before anything else reads it: named
        # Authorization it took validate-jwt's token, Host or Content-Length the host check's
        # or the body's framing; an identity header or `_method` is refused or dropped anyway.
        errors = {}
        if self.header and (
            header_key(self.header.lower().encode("latin-1")) in _TAKEN_HEADERS
            or self.header.lower().startswith("access-control-")
            or never_forwarded(self.header)
        ):
            errors["header"] = f"{self.header} is a header the gateway reads for something else."
        if self.query and (
            param_key(self.query) in OVERRIDE_QUERY_PARAMS or self.query.lower() == "access_token"
        ):
            errors["query"] = f"{self.query} is a parameter the gateway reads for something else."
        if errors:
            raise ValidationError(errors)

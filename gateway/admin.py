from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from gateway.models import JwtPolicy, RequiredClaim, Route
from portal.audit import AuditedAdmin


class RequiredClaimForm(forms.ModelForm):
    # The separator is whitespace more often than not (" " for scope and scp): a form field
    # that strips it would save "" and every call would then fail the claim with 403.
    separator = forms.CharField(
        strip=False,
        required=False,
        max_length=5,
        widget=forms.TextInput(attrs={"size": 3}),
        help_text='" " for scope or scp; empty = the claim is not split.',
    )

    class Meta:
        model = RequiredClaim
        fields = "__all__"
        # A row of the policy's table: a values box of Django's default 10 rows by 40 pushed
        # Methods and Operation out of sight to the right at 1280 px.
        widgets = {
            "name": forms.TextInput(attrs={"size": 8}),
            "values": forms.Textarea(attrs={"rows": 2, "cols": 20}),
            "methods": forms.TextInput(attrs={"size": 16}),
            "operation": forms.TextInput(attrs={"size": 12}),
        }

    def clean_operation(self) -> str:
        """The operationId (or slug) as the operator writes it, stored as the operation's
        slug, which is what calls are matched against; an unknown operation is refused."""
        from gateway.config import operation_names

        wanted = str(self.cleaned_data.get("operation") or "").strip()
        if not wanted:
            return ""
        policy = getattr(self.instance, "policy", None)
        api = policy.route.api if policy is not None else None
        names = operation_names(api.default_version_id if api is not None else None)
        if wanted not in names:
            raise forms.ValidationError(
                "The API has no such operation (give its operationId)."
                if names
                else "This API has no spec, so no rule can be bound to an operation."
            )
        return names[wanted]


class JwtPolicyInline(admin.StackedInline):
    model = JwtPolicy
    extra = 0
    readonly_fields = ["required_claims"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "openid_config",
                    "issuers",
                    "audiences",
                    "issuer_signing_keys",
                    "required_claims",
                ]
            },
        ),
        (
            "Token location and answer",
            {
                "fields": [
                    "header_name",
                    "query_parameter_name",
                    "require_scheme",
                    "failed_validation_httpcode",
                    "failed_validation_error_message",
                ]
            },
        ),
        (
            "Checks",
            {
                "fields": [
                    "require_expiration_time",
                    "require_signed_tokens",
                    "clock_skew",
                    "algorithms",
                    "typ_exempt_issuers",
                    "require_rfc9068_claims",
                    "max_lifetime",
                    "max_token_bytes",
                    "strict_audience",
                    "require_subscribed_client",
                ]
            },
        ),
    ]

    @admin.display(description="required claims")
    def required_claims(self, policy: JwtPolicy) -> str:
        """The policy's claim rules (scopes per method or operation), kept on its own page."""
        if policy.pk is None:
            return "Save the route first; then add them on the policy's page."
        rules = [
            str(claim) + (f" ({' '.join(filter(None, [claim.methods, claim.operation]))})"
                          if claim.methods or claim.operation else "")
            for claim in policy.claims.all()
        ]  # fmt: skip
        return format_html(
            '{} <a href="{}#claims-group">Change them on the policy\'s page</a>.',
            "; ".join(rules) + "." if rules else "None: any valid token passes.",
            reverse("admin:gateway_jwtpolicy_change", args=[policy.pk]),
        )


@admin.register(Route)
class RouteAdmin(AuditedAdmin):
    list_display = ["suffix", "api", "backend", "upstream_url", "is_enabled"]
    list_filter = ["backend", "is_enabled"]
    search_fields = ["suffix", "api__slug", "api__name"]
    inlines = [JwtPolicyInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "api",
                    "suffix",
                    "is_enabled",
                    "backend",
                    "upstream_url",
                    "timeout",
                    "forward_claims",
                    "pass_through",
                ]
            },
        ),
        (
            "rate-limit-by-key",
            {
                "fields": [
                    "rate_limit_calls",
                    "rate_limit_period",
                    "rate_limit_key",
                    "rate_limit_on_store_unavailable",
                ]
            },
        ),
        (
            "CORS",
            {
                "fields": [
                    "cors_allowed_origins",
                    "cors_allowed_methods",
                    "cors_allowed_headers",
                    "cors_expose_headers",
                    "cors_allow_credentials",
                    "cors_max_age",
                ]
            },
        ),
    ]


class RequiredClaimInline(admin.TabularInline):
    model = RequiredClaim
    form = RequiredClaimForm
    extra = 0


@admin.register(JwtPolicy)
class JwtPolicyAdmin(AuditedAdmin):
    list_display = ["__str__", "strict_audience", "clock_skew"]
    inlines = [RequiredClaimInline]

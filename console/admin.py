from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from console import audit
from console.discovery import endpoints
from console.http import OutboundError
from console.models import (
    ApiAuthorizationServer,
    AuditEntry,
    AuthorizationServer,
    CallHistory,
)
from console.refusals import GrantError
from portal.audit import AuditedAdmin

URL_FIELDS = (
    "discovery_url", "authorize_url", "token_url", "refresh_url", "revoke_url", "registration_url",
)  # fmt: skip
WRITE_ONLY_FIELDS = ("client_secret", "initial_access_token")  # each with a clear_<name> box


class AuthorizationServerForm(forms.ModelForm):
    # Write-only: the saved secret is never rendered back into the page.
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the saved secret.",
    )
    clear_client_secret = forms.BooleanField(
        required=False, help_text="Remove the saved secret (public client)."
    )
    initial_access_token = forms.CharField(
        required=False,
        strip=True,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only (RFC 7591 initial access token). Leave blank to keep the saved one.",
    )
    clear_initial_access_token = forms.BooleanField(
        required=False, help_text="Remove the saved initial access token."
    )

    class Meta:
        model = AuthorizationServer
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in URL_FIELDS:
            value = data.get(name)
            try:
                parts = urlsplit(value) if value else None
                _ = parts.port if parts is not None else None  # past 65535: ValueError
            except ValueError:
                self.add_error(
                    name, "An http(s) URL: this one is not a valid URL (its host or port)."
                )
                continue
            # As the config file (console/applyconfig.py): URLField also takes ftp:// and
            # user:password@, which would make an endpoint look like one host and be another.
            if parts is not None and (parts.scheme not in ("http", "https") or "@" in parts.netloc):
                self.add_error(name, "An http(s) URL without user info.")
        if not data.get("discovery_url") and not (
            data.get("token_url") or data.get("authorize_url")
        ):
            raise forms.ValidationError("Give a discovery URL, or the endpoints explicitly.")
        for name in ("extra_authorize_params", "extra_token_params"):
            value = data.get(name)
            if value in (None, ""):
                data[name] = {}
            elif not isinstance(value, dict) or not all(
                isinstance(v, str | int | float) for v in value.values()
            ):
                self.add_error(name, 'An object of names to values, e.g. {"audience": "api://x"}.')
        return data

    def save(self, commit: bool = True) -> AuthorizationServer:
        server: AuthorizationServer = super().save(commit=False)
        for name in WRITE_ONLY_FIELDS:
            # Write-only: a blank field keeps the saved value, which the form never shows.
            given = self.cleaned_data.get(name) or ""
            if self.cleaned_data.get(f"clear_{name}"):
                setattr(server, name, "")
            elif given:
                setattr(server, name, given)
            elif server.pk:
                saved = AuthorizationServer.objects.filter(pk=server.pk)
                setattr(server, name, saved.values_list(name, flat=True).first() or "")
        if commit:
            server.save()
            self.save_m2m()
        return server


class ApiLinkInline(admin.TabularInline):
    model = ApiAuthorizationServer
    extra = 0
    fields = ["api", "scopes", "position"]


@admin.register(AuthorizationServer)
class AuthorizationServerAdmin(AuditedAdmin):
    form = AuthorizationServerForm
    list_display = [
        "name",
        "slug",
        "client_id",
        "grant_list",
        "use_in_console",
        "show_in_reference",
    ]
    search_fields = ["name", "slug", "client_id"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["metadata_fetched"]
    inlines = [ApiLinkInline]
    actions = ["refresh_discovery"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "use_in_console", "show_in_reference"]}),
        (
            "Endpoints",
            {
                "fields": [
                    "discovery_url",
                    "issuer",
                    "authorize_url",
                    "token_url",
                    "refresh_url",
                    "revoke_url",
                    "metadata_fetched",
                ]
            },
        ),
        (
            "Client",
            {
                "fields": ["client_id", "client_secret", "clear_client_secret", "client_auth"],
                # Issue 10: no shared console client may mint scopes a developer was not granted.
                "description": "Every developer who uses the console shares this client. When it "
                "is a client of the built-in provider, tick \u201cAPI scopes from the developer's "
                "subscriptions\u201d on its OAuth client (Built-in OpenID provider \u203a OAuth "
                "clients): its tokens then carry only what the signed-in developer's subscriptions "
                "grant, and the console offers no client credentials through it (developers get "
                "machine tokens as their own applications). Unticked, it gets every published "
                "API's scopes for anyone signed in.",
            },
        ),
        (
            "Developers' applications (RFC 7591)",
            {
                "fields": [
                    "developer_registration",
                    "registration_url",
                    "initial_access_token",
                    "clear_initial_access_token",
                ]
            },
        ),
        (
            "Grants",
            {
                "fields": [
                    "grant_authorization_code",
                    "grant_client_credentials",
                    "grant_implicit",
                    "grant_password",
                ],
                "description": "Implicit and resource owner password are legacy grants "
                "(RFC 9700 §2.1.2 and §2.4); enabling one is recorded in the audit log.",
            },
        ),
        (
            "Scopes and parameters",
            {"fields": ["default_scopes", "extra_authorize_params", "extra_token_params"]},
        ),
    ]

    @admin.display(description="grants")
    def grant_list(self, obj: AuthorizationServer) -> str:
        return ", ".join(obj.grants) or "none"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        redirect_uri = request.build_absolute_uri(reverse("console:callback"))
        form.base_fields[
            "client_id"
        ].help_text = f"Register this redirect URI with the authorization server: {redirect_uri}"
        return form

    def save_model(
        self, request: HttpRequest, obj: AuthorizationServer, form: Any, change: bool
    ) -> None:
        before = set(AuthorizationServer.objects.get(pk=obj.pk).grants) if obj.pk else set()
        super().save_model(request, obj, form, change)
        audit.record_grant_changes(obj, before, request.user.get_username() or "admin")

    @admin.action(description="Refresh discovery metadata")
    def refresh_discovery(
        self, request: HttpRequest, queryset: QuerySet[AuthorizationServer]
    ) -> None:
        for server in queryset:
            if not server.discovery_url:
                continue
            try:
                endpoints(server, refresh=True)
            except (GrantError, OutboundError) as exc:
                self.message_user(request, f"{server.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{server.name}: discovery refreshed.")


@admin.register(CallHistory)
class CallHistoryAdmin(admin.ModelAdmin):
    list_display = ["created", "user", "method", "url", "status", "elapsed_ms"]
    list_filter = ["status"]
    search_fields = ["url", "user__username"]
    readonly_fields = [f.name for f in CallHistory._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created", "actor", "server_name", "action"]
    readonly_fields = ["created", "actor", "server", "server_name", "action", "detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a trail an admin can prune is no trail

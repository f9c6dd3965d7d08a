"""Admin for signing keys, and django-oauth-toolkit's client admin with an audit trail."""

from __future__ import annotations

from django.contrib import admin
from oauth2_provider.admin import ApplicationAdmin

from identity.models import Client, SigningKey
from portal.audit import AuditedAdmin

# django-oauth-toolkit registered its own (oauth2_provider comes first in INSTALLED_APPS);
# this one records old and new values of every change, the secret masked.
admin.site.unregister(Client)


@admin.register(Client)
class ClientAdmin(AuditedAdmin, ApplicationAdmin):
    pass


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "created_at", "retired_at")
    fields = ("kid", "created_at", "retired_at")  # never show the private key
    readonly_fields = ("kid", "created_at")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # new keys come from `manage.py rotate_signing_key`

"""Admin for signing keys (clients are registered by django-oauth-toolkit's admin)."""

from __future__ import annotations

from django.contrib import admin

from identity.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "created_at", "retired_at")
    fields = ("kid", "created_at", "retired_at")  # never show the private key
    readonly_fields = ("kid", "created_at")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # new keys come from `manage.py rotate_signing_key`

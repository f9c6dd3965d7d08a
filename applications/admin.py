from __future__ import annotations

from django.contrib import admin

from applications.models import Application


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "kind", "client_id", "created"]
    list_filter = ["kind"]
    search_fields = ["name", "client_id", "owner__username"]
    readonly_fields = ["uuid", "client_id", "provider_client", "created", "updated"]

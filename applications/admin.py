from __future__ import annotations

from django.contrib import admin

from applications.models import Application


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "kind", "client_id", "server", "created"]
    list_filter = ["kind", "server"]
    search_fields = ["name", "client_id", "owner__username"]
    readonly_fields = [
        "uuid", "client_id", "provider_client", "server", "issuer", "registration_client_uri",
        "created", "updated",
    ]  # fmt: skip
    # Encrypted secrets (applications/secrets.py): never shown, never edited by hand.
    exclude = ["registration_token", "console_secret"]

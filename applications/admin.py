from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from applications import flows
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

    # Deleting goes through flows.delete, as the developer's own Delete does: the client at
    # the provider goes with it (its tokens revoked) and its live subscriptions are cancelled.
    # A plain row delete left the client behind, still getting tokens with its secret, and
    # with no application behind it the provider took it for a first-party client.

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            flows.delete(obj)
        except flows.FlowError as exc:
            messages.error(request, f"{obj.name}: {exc}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for app in list(queryset.select_related("provider_client", "server")):
            self.delete_model(request, app)

"""The admin for developers' applications: every change goes through applications/flows.py.

A row saved or deleted on its own left the provider's client behind: deleted, its id and
secret still got tokens (and, with no application behind it, every published API's scopes
as a first-party client); edited, the provider kept redirecting to the old URIs, and an
application moved to another developer kept its client and subscriptions with the first.
So the owner, kind and provider fields are read-only, an edit is flows.update (the rules of
the developer's own form, the client follows) and a delete flows.delete. Applications start
with flows.register (its client, its secret shown once), never here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from applications import flows
from applications.models import Application
from applications.redirects import MAX_URIS, RedirectUriError, check_redirect_uri
from portal.lib.names import name_problem


class ApplicationAdminForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ["name", "description", "redirect_uris"]

    def clean_name(self) -> str:
        name = str(self.cleaned_data.get("name") or "")
        if problem := name_problem(name):
            raise forms.ValidationError(problem)
        return name

    def clean_redirect_uris(self) -> list[str]:
        uris = self.cleaned_data.get("redirect_uris")
        if uris is None:
            uris = []
        if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
            raise forms.ValidationError('A JSON list of URIs: ["https://app.example/cb"].')
        uris = list(dict.fromkeys(uris))
        if len(uris) > MAX_URIS:
            raise forms.ValidationError(f"At most {MAX_URIS} redirect URIs.")
        try:
            for uri in uris:
                check_redirect_uri(uri)
        except RedirectUriError as exc:
            raise forms.ValidationError(str(exc)) from exc
        kind = self.instance.kind
        if kind == Application.MACHINE and uris:
            raise forms.ValidationError("A machine client signs in no one: leave this empty.")
        if kind != Application.MACHINE and not uris:
            raise forms.ValidationError("Give at least one redirect URI.")
        return uris


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    form = ApplicationAdminForm
    list_display = ["name", "owner", "kind", "client_id", "server", "created"]
    list_filter = ["kind", "server"]
    search_fields = ["name", "client_id", "owner__username"]
    fields = [
        "uuid", "name", "description", "owner", "kind", "redirect_uris", "client_id",
        "provider_client", "server", "issuer", "registration_client_uri", "created", "updated",
    ]  # fmt: skip
    # Encrypted secrets (applications/secrets.py) are never shown, never edited by hand.
    readonly_fields = [
        "uuid", "owner", "kind", "client_id", "provider_client", "server", "issuer",
        "registration_client_uri", "created", "updated",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # flows.register makes the client and its secret

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        current = Application.objects.select_related("provider_client", "server").get(pk=obj.pk)
        try:
            flows.update(
                current,
                name=obj.name,
                description=obj.description,
                redirect_uris=list(obj.redirect_uris),
            )
        except (flows.FlowError, ValueError) as exc:
            messages.error(request, f"{current.name}: {exc} Nothing was changed.")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            flows.delete(obj)
        except flows.FlowError as exc:
            messages.error(request, f"{obj.name}: {exc}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for app in list(queryset.select_related("provider_client", "server")):
            self.delete_model(request, app)

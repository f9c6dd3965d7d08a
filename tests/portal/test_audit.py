"""The admin's history of provider clients, authorization servers and gateway policies
names old and new values, secrets masked; audit entries cannot be deleted from the admin."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from apis.models import Api
from console.models import AuditEntry
from gateway.models import Route
from identity.clients import ensure_client
from identity.models import Client as OAuthClient
from tests.conftest import DEMO_SPECS

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = User(username="boss", is_staff=True, is_superuser=True)
    user.set_unusable_password()
    user.save()
    client = Client()
    client.force_login(user)
    return client


def current_form(admin_client: Client, url: str) -> dict[str, Any]:
    """What the change page would post back unchanged: the main form and every inline."""
    context = admin_client.get(url).context
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value

    add(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def last_change() -> str:
    return LogEntry.objects.latest("action_time").get_change_message()


def test_a_client_change_records_old_and_new_values_and_masks_the_secret(
    admin_client: Client,
) -> None:
    client = ensure_client(
        client_id="partner",
        secret="old-client-secret",
        name="Partner",
        grant=OAuthClient.GRANT_AUTHORIZATION_CODE,
        redirect_uris=["https://partner.example/cb"],
    )
    url = f"/admin/identity/client/{client.pk}/change/"
    data = current_form(admin_client, url)
    data.update(
        allow_password="on",
        redirect_uris="https://partner.example/new-cb",
        client_secret="new-client-secret",
        hash_client_secret="on",
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    message = last_change()
    assert "allow_password: 'False' -> 'True'" in message
    assert "'https://partner.example/cb' -> 'https://partner.example/new-cb'" in message
    assert "client_secret: '********' -> '********'" in message
    assert "new-client-secret" not in message and "old-client-secret" not in message


def test_a_gateway_policy_change_records_old_and_new_values(admin_client: Client) -> None:
    call_command("importspec", str(DEMO_SPECS / "echo.yaml"), slug="echo", publish=True,
                 stdout=io.StringIO())  # fmt: skip
    route = Route.objects.create(
        api=Api.objects.get(slug="echo"), suffix="echo", backend="echo", rate_limit_calls=10
    )
    url = f"/admin/gateway/route/{route.pk}/change/"
    data = current_form(admin_client, url)
    data["rate_limit_calls"] = 20
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert "rate_limit_calls: '10' -> '20'" in last_change()


def test_audit_entries_cannot_be_deleted_or_changed(admin_client: Client) -> None:
    entry = AuditEntry.objects.create(
        actor="boss", server_name="idp", action="enabled implicit", detail="x"
    )
    assert (
        admin_client.post(
            f"/admin/console/auditentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    admin_client.post(
        "/admin/console/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    page = admin_client.get(f"/admin/console/auditentry/{entry.pk}/change/")
    assert b'name="_save"' not in page.content

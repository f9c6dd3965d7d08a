"""My applications pages: owner, other developer, anonymous, wrong method, unknown id."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from applications import flows
from applications.models import Application
from identity.models import Client as OAuthClient
from products import flows as product_flows
from tests.applications.conftest import client_credentials

Register = Callable[..., flows.Registered]


def _secret_in(html: str) -> str:
    match = re.search(r'<code data-key="secret">([^<]+)</code>', html)
    return match.group(1) if match else ""


def test_list_shows_only_my_applications(
    ada_client: Client, ada: Any, bob: Any, register: Register
) -> None:
    mine = register(ada, "machine", name="Ada's batch job").application
    register(bob, "machine", name="Bob's secret tool")
    response = ada_client.get("/applications/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ada&#x27;s batch job" in html and mine.client_id in html
    assert "Bob" not in html
    assert 'href="/applications/new/"' in html


def test_list_names_each_kind_in_words(ada_client: Client, ada: Any, register: Register) -> None:
    # The Type column showed the stored codes ("spa", "machine") the developer never chose.
    register(ada, "machine", name="Batch")
    register(ada, "spa", name="Browser", redirect_uris=["https://app.example/cb"])
    cells = re.findall(r"<td>([^<]*)</td>", ada_client.get("/applications/").content.decode())
    assert "Machine client" in cells and "Single-page or native app" in cells
    assert "spa" not in cells and "machine" not in cells


def test_account_menu_links_my_applications(ada_client: Client) -> None:
    assert 'href="/applications/"' in ada_client.get("/").content.decode()


@pytest.mark.parametrize("path", ["/applications/", "/applications/new/"])
def test_anonymous_is_sent_to_sign_in(client: Client, db: None, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_refuses_post(ada_client: Client) -> None:
    assert ada_client.post("/applications/").status_code == 405


def test_create_form(ada_client: Client) -> None:
    html = ada_client.get("/applications/new/").content.decode()
    assert 'action="/applications/new/"' in html and "csrfmiddlewaretoken" in html
    assert 'value="machine"' in html and 'name="redirect_uris"' in html


def test_create_shows_the_secret_once(client: Client, ada_client: Client, ada: Any) -> None:
    response = ada_client.post(
        "/applications/new/",
        {"name": "Nightly sync", "kind": "machine", "description": "", "redirect_uris": ""},
    )
    app = Application.objects.get(owner=ada)
    # Post/Redirect/Get: the secret is on the page the POST leads to, never in its URL.
    assert response.status_code == 302 and response["Location"] == f"/applications/{app.uuid}/"
    shown = ada_client.get(response["Location"])
    assert "no-store" in shown["Cache-Control"]
    html = shown.content.decode()
    secret = _secret_in(html)
    assert app.client_id in html and secret and "shown only this once" in html
    assert "Nightly sync is registered." in html
    assert client_credentials(client, app.client_id, secret).status_code == 200
    # The detail page afterwards shows the client id, never the secret.
    later = ada_client.get(f"/applications/{app.uuid}/").content.decode()
    assert app.client_id in later and secret not in later and not _secret_in(later)


def test_reloading_the_registered_page_registers_nothing_more(ada_client: Client) -> None:
    form = {"name": "Reload test", "kind": "machine", "description": "", "redirect_uris": ""}
    page = ada_client.post("/applications/new/", form, follow=True)
    assert _secret_in(page.content.decode())
    # A reload repeats the GET the browser landed on, not the POST.
    again = ada_client.get(page.redirect_chain[-1][0])
    assert again.status_code == 200 and not _secret_in(again.content.decode())
    assert Application.objects.filter(name="Reload test").count() == 1


def test_a_secret_waits_for_its_own_application_page(
    ada_client: Client, ada: Any, register: Register
) -> None:
    other = register(ada, "machine", name="Older job").application
    response = ada_client.post("/applications/new/", {"name": "New job", "kind": "machine"})
    assert not _secret_in(ada_client.get(f"/applications/{other.uuid}/").content.decode())
    assert _secret_in(ada_client.get(response["Location"]).content.decode())


def test_create_spa_shows_no_secret(ada_client: Client, ada: Any) -> None:
    response = ada_client.post(
        "/applications/new/",
        {"name": "Web front", "kind": "spa", "redirect_uris": "https://front.example/cb"},
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200 and not _secret_in(html)
    assert "public client proves itself with PKCE" in html
    assert OAuthClient.objects.get().client_type == OAuthClient.CLIENT_PUBLIC


@pytest.mark.parametrize(
    ("uris", "says"),
    [
        ("https://*.example/cb", "wildcards are not allowed"),
        ("https://app.example/cb#top", "may not have a fragment"),
        ("https://me:pw@app.example/cb", "user name or password"),
        ("http://app.example/cb", "plain http is only allowed on loopback"),
        ("", "Give at least one redirect URI"),
    ],
)
def test_create_refuses_bad_redirect_uris_with_a_message(
    ada_client: Client, uris: str, says: str
) -> None:
    """SECURITY.md case 75."""
    response = ada_client.post(
        "/applications/new/", {"name": "Shop", "kind": "web", "redirect_uris": uris}
    )
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Application.objects.exists() and not OAuthClient.objects.exists()


def test_create_refuses_loopback_http_when_the_provider_would(ada_client: Client) -> None:
    """IDENTITY_LOOPBACK_HTTP off: refused here, not later at the authorization redirect."""
    response = ada_client.post(
        "/applications/new/",
        {"name": "Shop", "kind": "web", "redirect_uris": "http://127.0.0.1:8000/cb"},
    )
    assert response.status_code == 400
    assert "accepts only https redirect URIs" in response.content.decode()
    assert not Application.objects.exists() and not OAuthClient.objects.exists()


def test_create_rate_limit_is_shown(ada_client: Client, settings: Any) -> None:
    settings.APPLICATIONS_CREATE_PER_HOUR = 1
    form = {"name": "Job", "kind": "machine"}
    assert ada_client.post("/applications/new/", form).status_code == 302
    refused = ada_client.post("/applications/new/", form)
    assert refused.status_code == 400
    assert "the most allowed" in refused.content.decode()
    assert Application.objects.count() == 1


def test_create_refuses_put(ada_client: Client) -> None:
    assert ada_client.put("/applications/new/").status_code == 405


def test_detail_owner(ada_client: Client, ada: Any, register: Register) -> None:
    app = register(ada, "web", redirect_uris=["https://shop.example/cb"]).application
    response = ada_client.get(f"/applications/{app.uuid}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert app.client_id in html and "https://shop.example/cb" in html
    assert "Rotate secret" in html and "no-store" in response["Cache-Control"]


def test_a_machine_application_says_how_to_get_a_token_from_a_terminal(
    ada_client: Client, ada: Any, register: Register, settings: Any
) -> None:
    # A developer who registered a machine client (the 401 of /api/v1/ sends them here) got
    # its id and secret and no word on what to do with them from a terminal.
    settings.IDENTITY_ISSUER = ""
    machine = register(ada, "machine", name="Batch").application
    html = ada_client.get(f"/applications/{machine.uuid}/").content.decode()
    assert (
        f'curl -u "{machine.client_id}:$CLIENT_SECRET" -d grant_type=client_credentials '
        "-d scope=portal http://testserver/idp/token/"
    ) in html
    assert 'href="/api/v1/openapi.json"' in html
    web = register(ada, "web", redirect_uris=["https://shop.example/cb"]).application
    assert "grant_type=client_credentials" not in (
        ada_client.get(f"/applications/{web.uuid}/").content.decode()
    )


@pytest.mark.parametrize("action", ["", "delete/"])
def test_other_developers_application_is_404(
    ada_client: Client, bob: Any, register: Register, action: str
) -> None:
    """SECURITY.md case 68."""
    app = register(bob, "machine").application
    assert ada_client.get(f"/applications/{app.uuid}/{action}").status_code == 404


def test_other_developer_cannot_rotate_or_delete(
    client: Client, ada_client: Client, bob: Any, register: Register
) -> None:
    registered = register(bob, "machine")
    app = registered.application
    assert ada_client.post(f"/applications/{app.uuid}/rotate/").status_code == 404
    assert ada_client.post(f"/applications/{app.uuid}/delete/").status_code == 404
    assert Application.objects.filter(pk=app.pk).exists()
    assert client_credentials(client, app.client_id, registered.secret).status_code == 200


def test_unknown_id_is_404(ada_client: Client) -> None:
    assert ada_client.get(f"/applications/{uuid.uuid4()}/").status_code == 404
    assert ada_client.get("/applications/not-a-uuid/").status_code == 404


def test_anonymous_cannot_see_or_delete(client: Client, ada: Any, register: Register) -> None:
    app = register(ada, "machine").application
    assert client.get(f"/applications/{app.uuid}/").status_code == 302
    response = client.post(f"/applications/{app.uuid}/delete/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Application.objects.filter(pk=app.pk).exists()


def test_rotate_shows_a_new_secret(
    client: Client, ada_client: Client, ada: Any, register: Register
) -> None:
    registered = register(ada, "machine")
    app = registered.application
    response = ada_client.post(f"/applications/{app.uuid}/rotate/")
    assert response.status_code == 302 and response["Location"] == f"/applications/{app.uuid}/"
    shown = ada_client.get(response["Location"])
    new = _secret_in(shown.content.decode())
    assert new and new != registered.secret
    assert "no-store" in shown["Cache-Control"]
    assert client_credentials(client, app.client_id, registered.secret).status_code == 401
    assert client_credentials(client, app.client_id, new).status_code == 200
    # A reload of the page with the new secret hides it and does not rotate again.
    again = ada_client.get(response["Location"]).content.decode()
    assert not _secret_in(again)
    assert client_credentials(client, app.client_id, new).status_code == 200


def test_rotate_refuses_get(ada_client: Client, ada: Any, register: Register) -> None:
    app = register(ada, "machine").application
    assert ada_client.get(f"/applications/{app.uuid}/rotate/").status_code == 405


def test_rotate_spa_says_there_is_no_secret(
    ada_client: Client, ada: Any, register: Register
) -> None:
    app = register(ada, "spa").application
    response = ada_client.post(f"/applications/{app.uuid}/rotate/", follow=True)
    assert "has no secret to rotate" in response.content.decode()


def test_delete_asks_then_deletes(
    client: Client, ada_client: Client, ada: Any, register: Register
) -> None:
    registered = register(ada, "machine", name="Old job")
    app = registered.application
    confirm = ada_client.get(f"/applications/{app.uuid}/delete/").content.decode()
    assert "Delete Old job?" in confirm and f'action="/applications/{app.uuid}/delete/"' in confirm
    assert Application.objects.filter(pk=app.pk).exists()  # asking changes nothing
    response = ada_client.post(f"/applications/{app.uuid}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/applications/"
    assert "Old job is deleted" in response.content.decode()
    assert not Application.objects.exists()
    assert client_credentials(client, app.client_id, registered.secret).status_code == 401


def test_delete_refuses_put(ada_client: Client, ada: Any, register: Register) -> None:
    app = register(ada, "machine").application
    assert ada_client.put(f"/applications/{app.uuid}/delete/").status_code == 405


def test_rotate_with_a_grace_keeps_the_old_secret_and_says_until_when(
    client: Client, ada_client: Client, ada: Any, register: Register
) -> None:
    registered = register(ada, "machine")
    app = registered.application
    page = ada_client.get(f"/applications/{app.uuid}/").content.decode()
    assert 'name="keep_old_hours"' in page and "at most 168" in page
    response = ada_client.post(
        f"/applications/{app.uuid}/rotate/", {"keep_old_hours": "24"}, follow=True
    )
    new = _secret_in(response.content.decode())
    assert response.redirect_chain and new and new != registered.secret
    assert "the old one works until" in response.content.decode()
    assert client_credentials(client, app.client_id, registered.secret).status_code == 200
    assert client_credentials(client, app.client_id, new).status_code == 200
    again = ada_client.get(f"/applications/{app.uuid}/").content.decode()
    assert 'data-key="old-secret-until"' in again and registered.secret not in again


def test_rotate_beyond_the_limit_is_refused_and_changes_nothing(
    client: Client, ada_client: Client, ada: Any, register: Register
) -> None:
    registered = register(ada, "machine")
    app = registered.application
    response = ada_client.post(
        f"/applications/{app.uuid}/rotate/", {"keep_old_hours": "9999"}, follow=True
    )
    assert "less than or equal to 168" in response.content.decode()
    assert client_credentials(client, app.client_id, registered.secret).status_code == 200


@pytest.mark.parametrize("page", ["new", "edit"])
def test_each_fields_described_by_points_at_its_help_text(
    ada_client: Client, ada: Any, register: Register, page: str
) -> None:
    # Django marks a field aria-describedby="id_<name>_helptext"; the page printed the help
    # text with no id, so a screen reader read nothing for it.
    if page == "new":
        url = "/applications/new/"
    else:
        app = register(ada, "web", redirect_uris=["https://app.example/cb"]).application
        url = f"/applications/{app.uuid}/edit/"
    html = ada_client.get(url).content.decode()
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert described
    for ids in described:
        for ident in ids.split():
            assert f'id="{ident}"' in html, ident


def test_a_checkbox_comes_before_its_label(ada_client: Client) -> None:
    # "Keep the secret for the console: [ ]" put the box after a colon, far from its words.
    html = ada_client.get("/applications/new/").content.decode()
    box = html.index('<input type="checkbox" name="keep_for_console"')
    label = html.index('<label for="id_keep_for_console"')
    assert box < label
    assert "Keep the secret for the console:" not in html


def test_the_page_lists_the_applications_subscriptions_and_how_to_add_one(
    ada_client: Client, ada: Any, register: Register, make_product: Any
) -> None:
    # Registered, a machine client had no way on from its page: nothing said it needs a
    # subscription to call an API, nor where to get one.
    app = register(ada, "machine", name="Batch").application
    html = ada_client.get(f"/applications/{app.uuid}/").content.decode()
    assert 'id="subscriptions"' in html and 'data-empty="subscriptions"' in html
    assert 'href="/products/"' in html
    sub = product_flows.subscribe(ada, make_product("gold"), application=app, name="nightly")
    html = ada_client.get(f"/applications/{app.uuid}/").content.decode()
    assert f'href="/products/subscriptions/{sub.uuid}/"' in html and "nightly" in html
    assert 'data-empty="subscriptions"' not in html


def test_the_old_secrets_end_is_written_as_the_portals_other_times(
    ada_client: Client, ada: Any, register: Register
) -> None:
    # "works until Dec. 6, 2026, 7:46 a.m.." (a doubled full stop), where every other page
    # writes 2026-12-06 07:46.
    app = register(ada, "machine").application
    rotated = ada_client.post(
        f"/applications/{app.uuid}/rotate/", {"keep_old_hours": "24"}, follow=True
    ).content.decode()
    app.refresh_from_db()
    assert app.old_secret_until is not None
    when = app.old_secret_until.strftime("%Y-%m-%d %H:%M") + " UTC"
    assert f"the old one works until {when}." in rotated
    page = ada_client.get(f"/applications/{app.uuid}/").content.decode()
    assert f"The previous secret works until {when}." in page
    assert ".." not in page.replace("...", "")

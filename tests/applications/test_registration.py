"""Applications at an external authorization server: RFC 7591 registration, RFC 7592
management, against panva's oidc-provider (code we did not write) on loopback, and the
answers the portal refuses (SECURITY.md case 76) with a stand-in at the outbound boundary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from applications import flows, secrets
from applications.models import Application
from console.models import AuthorizationServer
from tests.applications.op import INITIAL_ACCESS_TOKEN, ExternalOP, running_op
from tests.console.conftest import FakeOutbound, response

REG = "https://as.example/register"


@pytest.fixture
def op(settings: Any) -> Iterator[ExternalOP]:
    with running_op() as running:
        settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = [running.host_port]
        yield running


def _server(issuer: str, **fields: Any) -> AuthorizationServer:
    fields.setdefault("initial_access_token", INITIAL_ACCESS_TOKEN)
    return AuthorizationServer.objects.create(
        slug="interop",
        name="Interop AS",
        discovery_url=f"{issuer}/.well-known/openid-configuration",
        client_id="portal-interop",
        developer_registration=True,
        grant_client_credentials=True,
        **fields,
    )


def _cc_token(op: ExternalOP, client_id: str, secret: str) -> requests.Response:
    return requests.post(
        f"{op.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )


@pytest.mark.django_db(transaction=True)
def test_round_trip_at_oidc_provider(op: ExternalOP, ada: Any) -> None:
    server = _server(op.issuer)
    registered = flows.register(
        ada, name="Ada's batch job", kind="machine", redirect_uris=[], server=server
    )
    app = registered.application
    assert app.server == server and app.issuer == op.issuer and app.provider_client is None
    assert registered.secret  # shown once; kept nowhere unless asked
    assert app.console_secret == ""
    # The RFC 7592 token is kept, encrypted, and the URI is the provider's.
    assert app.registration_client_uri.startswith(f"{op.issuer}/reg/")
    token = secrets.unseal(app.registration_token)
    assert token and token not in app.registration_token

    # The client exists there: its secret gets a token from the provider's token endpoint.
    assert _cc_token(op, app.client_id, registered.secret).status_code == 200
    from applications import registration

    read = registration.read(app.registration_client_uri, token)
    assert read["client_name"] == "Ada's batch job"
    assert read["grant_types"] == ["client_credentials"]

    flows.update(app, name="Ada's nightly job", description="", redirect_uris=[])
    app.refresh_from_db()
    rotated = secrets.unseal(app.registration_token)
    assert rotated != token  # the provider rotates it on update; the new one was kept
    assert registration.read(app.registration_client_uri, rotated)["client_name"] == (
        "Ada's nightly job"
    )

    uri = app.registration_client_uri
    flows.delete(app)
    assert not Application.objects.filter(client_id=app.client_id).exists()
    gone = requests.get(uri, headers={"Authorization": f"Bearer {rotated}"}, timeout=10)
    assert gone.status_code == 401
    refused = _cc_token(op, app.client_id, registered.secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


@pytest.mark.django_db(transaction=True)
def test_web_and_spa_clients_at_oidc_provider(op: ExternalOP, ada: Any) -> None:
    server = _server(op.issuer)
    web = flows.register(
        ada, name="Web", kind="web", redirect_uris=["https://ada.example/cb"], server=server,
        keep_for_console=True,
    )  # fmt: skip
    assert web.secret and flows.console_secret(web.application) == web.secret
    spa = flows.register(
        ada, name="SPA", kind="spa", redirect_uris=["https://ada.example/spa"], server=server
    )
    assert spa.secret == ""
    from applications import registration

    read = registration.read(
        spa.application.registration_client_uri,
        secrets.unseal(spa.application.registration_token),
    )
    assert read["token_endpoint_auth_method"] == "none"
    assert read["redirect_uris"] == ["https://ada.example/spa"]


@pytest.mark.django_db(transaction=True)
def test_wrong_initial_access_token_is_refused_and_nothing_stored(op: ExternalOP, ada: Any) -> None:
    server = _server(op.issuer, initial_access_token="not-the-token")
    with pytest.raises(flows.FlowError, match="refused the registration"):
        flows.register(ada, name="x", kind="machine", redirect_uris=[], server=server)
    assert not Application.objects.exists()


# --- SECURITY.md case 76, with a stand-in server at the outbound boundary -------------------


@pytest.fixture
def fake_as(db: None) -> AuthorizationServer:
    return AuthorizationServer.objects.create(
        slug="fake-as",
        name="Fake AS",
        issuer="https://as.example",
        token_url="https://as.example/token",
        registration_url=REG,
        client_id="portal",
        developer_registration=True,
        initial_access_token="iat-1",
    )


def _answer(fake: FakeOutbound, status: int, **kwargs: Any) -> None:
    fake.on("POST", REG, lambda sent: response(status, **kwargs))


def _dcr(user: Any, server: AuthorizationServer) -> flows.Registered:
    return flows.register(user, name="App", kind="machine", redirect_uris=[], server=server)


def test_case_76_client_id_of_another_developers_application_is_refused(
    fake_outbound: FakeOutbound,
    fake_as: AuthorizationServer,
    ada: Any,
    bob: Any,
    register: Callable[..., flows.Registered],
) -> None:
    bobs = register(bob, "machine").application
    _answer(
        fake_outbound, 201,
        value={"client_id": bobs.client_id, "client_secret": "s3cret-from-as"},
    )  # fmt: skip
    with pytest.raises(flows.FlowError, match="another application here already has"):
        _dcr(ada, fake_as)
    assert not Application.objects.filter(owner=ada).exists()
    assert Application.objects.get(client_id=bobs.client_id).owner == bob
    sent = fake_outbound.sent[0]
    assert sent.header("Authorization") == "Bearer iat-1"  # the initial access token


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"value": {"client_secret": "s"}}, "no client id"),
        ({"value": {"client_id": "", "client_secret": "s"}}, "no client id"),
        ({"value": {"client_id": 42, "client_secret": "s"}}, "no client id"),
        ({"body": b"<html>Registered!</html>", "headers": {"Content-Type": "text/html"}}, "not JSON"),
        ({"value": ["client_id", "x"]}, "not an object"),
        ({"value": {"client_id": "c-1"}}, "no secret"),
        (
            {"value": {"client_id": "c-1", "client_secret": "s", "registration_access_token": "t",
                       "registration_client_uri": "https://evil.example/c-1"}},
            "another origin",
        ),
    ],
)  # fmt: skip
def test_case_76_unusable_answers_are_refused_and_nothing_stored(
    fake_outbound: FakeOutbound,
    fake_as: AuthorizationServer,
    ada: Any,
    answer: dict[str, Any],
    message: str,
) -> None:
    _answer(fake_outbound, 201, **answer)
    with pytest.raises(flows.FlowError, match=message):
        _dcr(ada, fake_as)
    assert not Application.objects.exists()


def test_case_76_an_error_answer_is_shown_as_text(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    _answer(
        fake_outbound, 400,
        value={"error": "invalid_client_metadata", "error_description": "no <b>names</b>"},
    )  # fmt: skip
    with pytest.raises(flows.FlowError) as caught:
        _dcr(ada, fake_as)
    assert "invalid_client_metadata: no <b>names</b>" in str(caught.value)
    assert not Application.objects.exists()


def test_a_server_not_open_to_developers_is_refused(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    fake_as.developer_registration = False
    fake_as.save()
    with pytest.raises(flows.FlowError, match="does not take developers"):
        _dcr(ada, fake_as)
    assert fake_outbound.sent == []


def test_page_registers_at_the_external_server_and_shows_the_secret_once(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada_client: Any
) -> None:
    _answer(
        fake_outbound, 201,
        value={"client_id": "ext-client-1", "client_secret": "ext-secret-shown-once",
               "registration_access_token": "rat-1",
               "registration_client_uri": "https://as.example/register/ext-client-1"},
    )  # fmt: skip
    page = ada_client.post(
        "/applications/new/",
        {"name": "Ext", "kind": "machine", "redirect_uris": "", "server": "fake-as"},
        follow=True,
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "ext-client-1" in body and "ext-secret-shown-once" in body and "Fake AS" in body
    app = Application.objects.get(client_id="ext-client-1")
    assert secrets.unseal(app.registration_token) == "rat-1"
    assert "rat-1" not in app.registration_token
    detail = ada_client.get(app.get_absolute_url()).content.decode()
    assert "ext-secret-shown-once" not in detail and "Rotate secret" not in detail

    # Deleting goes to the server first (RFC 7592), with the registration access token.
    fake_outbound.on("DELETE", app.registration_client_uri, lambda sent: response(204))
    gone = ada_client.post(f"/applications/{app.uuid}/delete/")
    assert gone.status_code == 302 and not Application.objects.exists()
    assert fake_outbound.sent[-1].header("Authorization") == "Bearer rat-1"


def test_delete_refused_by_the_server_keeps_the_application(
    fake_outbound: FakeOutbound,
    fake_as: AuthorizationServer,
    ada: Any,
    ada_client: Any,
) -> None:
    _answer(
        fake_outbound, 201,
        value={"client_id": "ext-2", "client_secret": "s", "registration_access_token": "rat",
               "registration_client_uri": "https://as.example/register/ext-2"},
    )  # fmt: skip
    app = _dcr(ada, fake_as).application
    fake_outbound.on("DELETE", app.registration_client_uri, lambda sent: response(500))
    page = ada_client.post(f"/applications/{app.uuid}/delete/", follow=True)
    assert "The application was kept" in page.content.decode()
    assert Application.objects.filter(pk=app.pk).exists()


def test_case_76_client_id_of_the_consoles_own_client_is_refused(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    # The server answered with the client id the console itself uses there ("portal"): the
    # application, once subscribed, would have made every console token from that server
    # count as this developer's client at the gateway (require-subscribed-client, usage).
    _answer(fake_outbound, 201, value={"client_id": fake_as.client_id, "client_secret": "s"})
    with pytest.raises(flows.FlowError, match="another application here already has"):
        _dcr(ada, fake_as)
    assert not Application.objects.exists()


def _managed(client_id: str, **more: Any) -> dict[str, Any]:
    """An RFC 7591 answer that says how to manage (and so withdraw) the client."""
    return {
        "client_id": client_id,
        "registration_access_token": "rat-orphan",
        "registration_client_uri": f"{REG}/managed-1",
        **more,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (_managed("c-no-secret"), "no secret"),
        (_managed("c 1", client_secret="s"), "malformed client id"),
    ],
)
def test_case_76_a_refused_registration_is_withdrawn_at_the_server(
    fake_outbound: FakeOutbound,
    fake_as: AuthorizationServer,
    ada: Any,
    value: dict[str, Any],
    message: str,
) -> None:
    # The server created the client before the portal refused its answer: left there, it
    # would be a live client nobody here knows of. RFC 7592 lets the portal take it back.
    _answer(fake_outbound, 201, value=value)
    uri = value["registration_client_uri"]
    fake_outbound.on("DELETE", uri, lambda sent: response(204))
    with pytest.raises(flows.FlowError, match=message) as caught:
        _dcr(ada, fake_as)
    assert "withdrawn" in str(caught.value)
    deletes = [sent for sent in fake_outbound.sent if sent.method == "DELETE"]
    assert [(d.url, d.header("Authorization")) for d in deletes] == [(uri, "Bearer rat-orphan")]
    assert not Application.objects.exists()


def test_case_76_a_withdrawal_the_server_refuses_is_said(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    value = _managed("c-no-secret")
    _answer(fake_outbound, 201, value=value)
    fake_outbound.on("DELETE", value["registration_client_uri"], lambda sent: response(500))
    with pytest.raises(flows.FlowError) as caught:
        _dcr(ada, fake_as)
    assert "may still be registered" in str(caught.value)
    assert not Application.objects.exists()


def test_case_76_no_withdrawal_is_sent_to_another_origin(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    # The registration access token goes nowhere but the registration endpoint's origin.
    value = {
        **_managed("c-1", client_secret="s"),
        "registration_client_uri": "https://evil.example/c-1",
    }
    _answer(fake_outbound, 201, value=value)
    with pytest.raises(flows.FlowError, match="another origin"):
        _dcr(ada, fake_as)
    assert [sent.method for sent in fake_outbound.sent] == ["POST"]


def test_case_76_a_client_id_already_here_is_never_deleted_at_the_server(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    # The answer names the console's own client there: deleting "it" would delete that one.
    _answer(fake_outbound, 201, value=_managed(fake_as.client_id, client_secret="s"))
    with pytest.raises(flows.FlowError, match="another application here already has"):
        _dcr(ada, fake_as)
    assert [sent.method for sent in fake_outbound.sent] == ["POST"]


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"client_secret": "s\x00"}, "malformed client secret"),
        ({"client_secret": "s" * 5000}, "malformed client secret"),
        ({"client_secret": "s", "registration_access_token": "rat\x00"}, "malformed registration"),
        ({"client_secret": "s", "registration_access_token": "r" * 10_000}, "malformed registration"),
        ({"client_secret": "s", "registration_client_uri": f"{REG}/c\x00"}, "malformed management"),
        ({"client_secret": "s", "registration_client_uri": f"{REG}/{'c' * 1000}"}, "malformed management"),
        ({"client_secret": "s", "registration_client_uri": "https://as.example:99999/c"}, "malformed management"),
        ({"client_secret": "s", "registration_client_uri": "https://as.example/c d"}, "malformed management"),
    ],
)  # fmt: skip
def test_case_76_unstorable_values_are_refused_and_nothing_stored(
    fake_outbound: FakeOutbound,
    fake_as: AuthorizationServer,
    ada: Any,
    more: dict[str, Any],
    message: str,
) -> None:
    # A NUL is refused by PostgreSQL and a URI past its column's 1,000 characters too: stored
    # as given, each was a 500 after the server had created the client. A port past 65535
    # made the origin check itself raise.
    value = {"client_id": "c-1", "registration_access_token": "rat-1",
             "registration_client_uri": f"{REG}/c-1", **more}  # fmt: skip
    _answer(fake_outbound, 201, value=value)
    fake_outbound.on("DELETE", f"{REG}/c-1", lambda sent: response(204))
    with pytest.raises(flows.FlowError, match=message):
        _dcr(ada, fake_as)
    assert not Application.objects.exists()
    deletes = [sent.url for sent in fake_outbound.sent if sent.method == "DELETE"]
    assert all(url == f"{REG}/c-1" for url in deletes)  # never to a malformed address


@pytest.mark.parametrize(
    ("kind", "answered"),
    [
        ("machine", "none"),  # a confidential client made public: anyone may use its id
        ("machine", "private_key_jwt"),  # a secret the portal cannot use
        ("spa", "client_secret_basic"),  # a public client that would need a secret it lacks
    ],
)
def test_case_76_a_client_registered_with_another_auth_method_is_refused(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any, kind: str, answered: str
) -> None:
    # RFC 7591 3.2.1: the server may change the metadata it was sent. Stored, the
    # application's token requests fail there, or a "confidential" client needs no secret.
    uris = [] if kind == "machine" else ["https://app.example/cb"]
    value = {**_managed("c-1", client_secret="s"), "token_endpoint_auth_method": answered}
    _answer(fake_outbound, 201, value=value)
    fake_outbound.on("DELETE", value["registration_client_uri"], lambda sent: response(204))
    with pytest.raises(flows.FlowError, match="token_endpoint_auth_method") as caught:
        flows.register(ada, name="App", kind=kind, redirect_uris=uris, server=fake_as)
    assert "withdrawn" in str(caught.value)
    assert not Application.objects.exists()


def test_case_76_the_auth_method_asked_for_is_accepted(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    value = {"client_id": "c-1", "client_secret": "s",
             "token_endpoint_auth_method": "client_secret_basic"}  # fmt: skip
    _answer(fake_outbound, 201, value=value)
    assert _dcr(ada, fake_as).application.client_id == "c-1"


def _external_app(fake: FakeOutbound, server: AuthorizationServer, user: Any, **fields: Any) -> Any:
    value = {"client_id": "ext-9", "client_secret": "s-first"}
    value |= fields.pop("answer", {})
    _answer(fake, 201, value=value)
    return flows.register(
        user, name="App", kind="machine", redirect_uris=[], server=server, **fields
    ).application


def test_a_description_is_changed_here_without_the_servers_management(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    """The description is the portal's own (RFC 7591 metadata carries none): an edit of it
    alone was refused for a server without RFC 7592 ('change it there', where it is not),
    and sent to one with it."""
    app = _external_app(fake_outbound, fake_as, ada)
    assert flows.update(app, name="App", description="Nightly export", redirect_uris=[]) == [
        "description"
    ]
    assert Application.objects.get(pk=app.pk).description == "Nightly export"
    managed = AuthorizationServer.objects.create(
        slug="managed", name="Managed AS", issuer="https://as.example", registration_url=REG,
        token_url="https://as.example/token", client_id="portal-2", developer_registration=True,
    )  # fmt: skip
    other = _external_app(
        fake_outbound, managed, ada,
        answer={"client_id": "ext-10", "registration_access_token": "rat-1",
                "registration_client_uri": "https://as.example/register/ext-10"},
    )  # fmt: skip
    flows.update(other, name="App", description="Words", redirect_uris=[])
    assert [sent.method for sent in fake_outbound.sent] == ["POST", "POST"]  # no PUT


def test_a_secret_the_server_changes_in_an_update_is_the_one_the_console_keeps(
    fake_outbound: FakeOutbound, fake_as: AuthorizationServer, ada: Any
) -> None:
    """RFC 7592 section 2.2 lets the server answer an update with a new client secret; the
    console kept the old one, which no longer worked there."""
    uri = "https://as.example/register/ext-9"
    app = _external_app(
        fake_outbound, fake_as, ada, keep_for_console=True,
        answer={"registration_access_token": "rat-1", "registration_client_uri": uri},
    )  # fmt: skip
    fake_outbound.on(
        "PUT", uri,
        lambda sent: response(200, value={"client_id": "ext-9", "client_secret": "s-second",
                                          "registration_access_token": "rat-2"}),
    )  # fmt: skip
    flows.update(app, name="Renamed", description="", redirect_uris=[])
    app = Application.objects.get(pk=app.pk)
    assert flows.console_secret(app) == "s-second"
    assert secrets.unseal(app.registration_token) == "rat-2"

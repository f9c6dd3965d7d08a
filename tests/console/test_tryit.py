"""The try-it flow's effects a user sees beside the answer: the refreshed token's new expiry."""

from __future__ import annotations

import re
import time
from typing import Any

from django.test import Client

from console.tokens import Token, TokenStore
from tests.console.conftest import GATEWAY, IDP, access_token

HTMX = {"HX-Request": "true"}


def test_token_card_shows_the_new_expiry_after_an_automatic_refresh(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo, grants=["authorization_code"])
    old_expiry = time.time() + 1  # inside the refresh margin
    session = signed_in.session
    token = TokenStore(session).put(
        Token(server="idp", server_name="Example IdP", grant="authorization_code",
              scopes="echo.read", access_token=access_token(exp=int(old_expiry)),
              refresh_token="r1", expires_at=old_expiry)
    )  # fmt: skip
    session.save()
    fresh = access_token(exp=int(time.time()) + 3600, jti="j2")
    fake_outbound.json(
        "POST", f"{IDP}/token",
        {"access_token": fresh, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r2"},
    )  # fmt: skip
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"ok": True})
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "token": token.id}
    html = signed_in.post("/console/send/", data, headers=HTMX).content.decode()
    assert "the console refreshed it first" in html
    card = re.search(
        rf'<dd id="token-expiry-{token.id}" hx-swap-oob="true">.*?data-expires-at="([0-9.]+)"',
        html,
        re.S,
    )
    assert card, "the token card's expiry is swapped out of band"
    assert float(card.group(1)) > old_expiry + 3000
    assert re.search(r"(59 min \d\d s|1 h 00 min)</span>", html)  # the countdown, not "expired"


def test_a_nul_character_in_a_field_is_refused_before_the_call(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    """The console posts multipart (past the portal's NUL middleware); a NUL in a value went
    on into the call's history row, which PostgreSQL refuses (DataError, a 500)."""
    from console.models import CallHistory

    data = {
        "api": "echo",
        "version": "1.0.0",
        "operation": "echoGet",
        "param.query.message": "a\x00b",
    }
    answer = signed_in.post("/console/send/", data, headers=HTMX)
    assert answer.status_code == 422
    assert "NUL character" in answer.content.decode()
    assert fake_outbound.sent == [] and not CallHistory.objects.exists()


def test_a_token_for_another_apis_server_is_not_sent(
    signed_in: Client, echo: Any, petstore: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """The panel offers only the tokens of this API's authorization servers, its own pasted
    credentials and the developer's applications subscribed to it; a form naming another
    token (one from petstore's server, one pasted for petstore) sent it to echo's backend."""
    auth_server(petstore, slug="pet-idp", grants=["authorization_code"])
    session = signed_in.session
    store = TokenStore(session)
    from_server = store.put(
        Token(server="pet-idp", server_name="Example IdP", grant="authorization_code",
              scopes="petstore.read", access_token=access_token(aud="api://petstore"),
              expires_at=time.time() + 3600)
    )  # fmt: skip
    pasted = store.put(
        Token(server="pasted:petstore", server_name="Pasted token", grant="pasted",
              scopes="bearer", access_token="petstore-secret-token", expires_at=None)
    )  # fmt: skip
    session.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"ok": True})
    for token in (from_server, pasted):
        data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "token": token.id}
        html = signed_in.post("/console/send/", data, headers=HTMX).content.decode()
        assert fake_outbound.sent[-1].header("Authorization") == ""
        assert "not one for this API" in html


def test_a_token_of_this_apis_server_is_sent(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo, grants=["authorization_code"])
    session = signed_in.session
    value = access_token(aud="api://echo")
    token = TokenStore(session).put(
        Token(server="idp", server_name="Example IdP", grant="authorization_code",
              scopes="echo.read", access_token=value, expires_at=time.time() + 3600)
    )  # fmt: skip
    session.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"ok": True})
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "token": token.id}
    signed_in.post("/console/send/", data, headers=HTMX)
    assert fake_outbound.sent[-1].header("Authorization") == f"Bearer {value}"


def test_reveal_shows_only_a_token_this_api_could_be_sent(
    signed_in: Client, echo: Any, petstore: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """The snippets' reveal put any token of the session into a call to this API, one from
    another API's server too: the code to copy then sent it to this API's backend."""
    from console.models import CallHistory

    auth_server(echo, grants=["authorization_code"])
    auth_server(petstore, slug="pet-idp", grants=["authorization_code"])
    session = signed_in.session
    store = TokenStore(session)
    other = store.put(
        Token(server="pet-idp", server_name="Pet IdP", grant="authorization_code",
              scopes="petstore.read", access_token=access_token(aud="api://petstore", jti="p"),
              expires_at=time.time() + 3600)
    )  # fmt: skip
    own = store.put(
        Token(server="idp", server_name="Example IdP", grant="authorization_code",
              scopes="echo.read", access_token=access_token(aud="api://echo", jti="e"),
              expires_at=time.time() + 3600)
    )  # fmt: skip
    session.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"ok": True})
    signed_in.post("/console/send/", {"api": "echo", "version": "1.0.0", "operation": "echoGet"})
    entry = CallHistory.objects.get()
    url = f"/console/history/{entry.uuid}/snippets/"
    refused = signed_in.post(url, {"token": other.id}, headers=HTMX).content.decode()
    assert other.access_token not in refused
    shown = signed_in.post(url, {"token": own.id}, headers=HTMX).content.decode()
    assert own.access_token in shown

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


def _tab(session_key: str) -> Any:
    """A second browser tab: the same session, read before the other tab saves it."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    dict(store.items())  # read now
    return store


def _rotating_provider(fake_outbound: Any, fresh: str) -> list[str]:
    """A token endpoint that rotates refresh tokens with reuse detection, as the built-in
    provider does (REFRESH_TOKEN_REUSE_PROTECTION): r1 works once; used again it is refused."""
    used: list[str] = []

    def rotate(sent: Any) -> Any:
        from tests.console.conftest import response

        given = sent.form.get("refresh_token", "")
        used.append(given)
        if given != "r1" or used.count("r1") > 1:
            return response(400, {"error": "invalid_grant", "error_description": "reused"})
        return response(
            200,
            {"access_token": fresh, "token_type": "Bearer", "expires_in": 3600,
             "refresh_token": "r2"},
        )  # fmt: skip

    fake_outbound.on("POST", f"{IDP}/token", rotate)
    return used


def _expired_token(signed_in: Client) -> tuple[str, Token]:
    session = signed_in.session
    token = TokenStore(session).put(
        Token(server="idp", server_name="Example IdP", grant="authorization_code",
              scopes="echo.read", access_token=access_token(exp=int(time.time()) - 10),
              refresh_token="r1", expires_at=time.time() - 10)
    )  # fmt: skip
    session.save()
    assert session.session_key
    return session.session_key, token


def test_an_expired_tokens_card_and_note_do_not_say_it_was_refreshed_before_expiry(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """The console refreshes a token when a call is sent, not in the background: a card that
    had counted down to "expired" went on promising "refreshed automatically before expiry",
    and the call that then refreshed it said the token "was about to expire"."""
    auth_server(echo, grants=["authorization_code"])
    _key, token = _expired_token(signed_in)
    card = signed_in.get("/apis/echo/operations/echoGet/").content.decode()
    assert "expired</span> · refreshed when you send a call near or past its expiry" in card
    _rotating_provider(fake_outbound, access_token(exp=int(time.time()) + 3600, jti="j3"))
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"ok": True})
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "token": token.id}
    html = signed_in.post("/console/send/", data, headers=HTMX).content.decode()
    assert "The token had expired, so the console refreshed it first." in html


def test_two_tabs_sending_with_an_expired_token_refresh_it_once(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """Two tabs send at once with an expired token: each request read the session before the
    other saved it. Each refreshed with r1, and a provider that rotates refresh tokens with
    reuse detection refused the second use (the built-in one revokes the whole family, so the
    first tab's new token died too): the second tab said 'could not be refreshed'."""
    from console import tryit

    auth_server(echo, grants=["authorization_code"])
    key, token = _expired_token(signed_in)
    fresh = access_token(exp=int(time.time()) + 3600, jti="j2")
    used = _rotating_provider(fake_outbound, fresh)
    tab_a, tab_b = _tab(key), _tab(key)

    first, note_a = tryit.token_for_call(tab_a, token.id)
    tab_a.save()
    second, note_b = tryit.token_for_call(tab_b, token.id)
    tab_b.save()

    assert used == ["r1"], "the refresh token went to the provider once"
    assert "could not be refreshed" not in note_b
    assert first is not None and second is not None
    assert first.access_token == second.access_token == fresh
    assert second.refresh_token == "r2" and second.id == token.id


def test_a_refresh_under_way_in_another_request_is_waited_for_not_repeated(
    echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """The second tab asks while the first one's refresh is still at the provider."""
    import threading

    from console import grants
    from console.refusals import GrantError

    server = auth_server(echo, grants=["authorization_code"])
    token = Token(server="idp", server_name="Example IdP", grant="authorization_code",
                  scopes="echo.read", access_token="old", refresh_token="r1",
                  expires_at=time.time() - 10)  # fmt: skip
    fresh = access_token(exp=int(time.time()) + 3600, jti="j3")
    used = _rotating_provider(fake_outbound, fresh)
    rotate = fake_outbound.routes[("POST", f"{IDP}/token")]
    seen: dict[str, Any] = {}

    def other_tab() -> None:
        try:
            seen["b"] = grants.refresh(server, token)
        except GrantError as exc:
            seen["b"] = exc

    def slow_rotate(sent: Any) -> Any:
        if "thread" not in seen:
            waiting = threading.Thread(target=other_tab)
            seen["thread"] = waiting
            waiting.start()
            waiting.join(0.5)  # it waits for this refresh (or, slow to start, comes after it)
        return rotate(sent)

    fake_outbound.on("POST", f"{IDP}/token", slow_rotate)
    first = grants.refresh(server, token)
    seen["thread"].join()

    assert used == ["r1"]
    assert isinstance(seen["b"], Token), seen["b"]
    assert first.access_token == seen["b"].access_token == fresh


def test_a_token_whose_own_exp_is_past_is_refreshed_whatever_expires_in_said(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """The gateway reads the JWT's exp. A server whose clock is behind the portal's (or whose
    expires_in outlasts the token's exp) left a token the gateway refused as expired, which
    the console neither refreshed nor showed as expired: it counted down from expires_in."""
    from console import panel, tryit

    auth_server(echo, grants=["authorization_code"])
    session = signed_in.session
    now = time.time()
    token = TokenStore(session).put(
        Token(server="idp", server_name="Example IdP", grant="authorization_code",
              scopes="echo.read", access_token=access_token(exp=int(now) - 5),
              refresh_token="r1", expires_at=now + 3600)
    )  # fmt: skip
    session.save()
    assert panel.token_view(token).expired
    fresh = access_token(exp=int(now) + 3600, jti="j9")
    used = _rotating_provider(fake_outbound, fresh)

    chosen, note = tryit.token_for_call(_tab(session.session_key or ""), token.id)

    assert used == ["r1"] and chosen is not None and chosen.access_token == fresh
    assert "refreshed it first" in note


def test_a_refresh_token_the_server_refused_is_not_sent_again_on_every_call(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    """A revoked (or reused) refresh token answers invalid_grant. It stayed on the token,
    so every later send asked the server again and got the same refusal, and the card still
    promised a refresh."""
    from tests.console.conftest import response

    auth_server(echo, grants=["authorization_code"])
    key, token = _expired_token(signed_in)
    asked: list[str] = []

    def refuse(sent: Any) -> Any:
        asked.append(sent.form.get("refresh_token", ""))
        return response(400, {"error": "invalid_grant", "error_description": "revoked"})

    fake_outbound.on("POST", f"{IDP}/token", refuse)
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"ok": True})
    data = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "token": token.id}
    first = signed_in.post("/console/send/", data, headers=HTMX).content.decode()
    second = signed_in.post("/console/send/", data, headers=HTMX).content.decode()

    assert asked == ["r1"]
    assert "invalid_grant" in first
    kept = TokenStore(signed_in.session).get(token.id)
    assert kept is not None and kept.refresh_token == ""
    assert "refreshed when you send" not in second


def test_the_refresh_button_forgets_a_refresh_token_the_server_refused(
    signed_in: Client, echo: Any, auth_server: Any, fake_outbound: Any
) -> None:
    auth_server(echo, grants=["authorization_code"])
    _key, token = _expired_token(signed_in)
    fake_outbound.json("POST", f"{IDP}/token", {"error": "invalid_grant"}, status=400)
    answer = signed_in.post(f"/console/token/{token.id}/refresh/", {"next": "/apis/"})
    assert answer.status_code == 302
    kept = TokenStore(signed_in.session).get(token.id)
    assert kept is not None and kept.refresh_token == ""

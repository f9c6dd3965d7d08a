"""`{% console_panel %}` reads the session and never changes it; the operation view takes the
restored form out of the session, once."""

from __future__ import annotations

from typing import Any

from django.template import Context, Template
from django.test import Client, RequestFactory

from console.panel import RESTORE_KEY
from tests.console.conftest import op

PAGE = "/apis/echo/operations/echoGet/"
SAVED = {"api": "echo", "version": "1.0.0", "operation": "echoGet", "param.query.message": "kept"}


def test_the_template_tag_leaves_the_session_alone(signed_in: Client, user: Any, echo: Any) -> None:
    session = signed_in.session
    session[RESTORE_KEY] = dict(SAVED)
    session.save()
    request = RequestFactory().get(PAGE)
    request.user = user
    request.session = signed_in.session
    before = dict(request.session.items())
    operation = op(echo, "echoGet")
    html = Template("{% load console %}{% console_panel as c %}{{ c.signed_in }}").render(
        Context(
            {"request": request, "api": echo, "version": operation.version, "operation": operation}
        )
    )
    assert html == "True"
    assert dict(request.session.items()) == before
    assert not request.session.modified


def test_the_operation_view_restores_the_saved_form_once(signed_in: Client, echo: Any) -> None:
    session = signed_in.session
    session[RESTORE_KEY] = dict(SAVED)
    session.save()
    first = signed_in.get(PAGE).content.decode()
    assert 'name="param.query.message" value="kept"' in first
    again = signed_in.get(PAGE).content.decode()
    assert 'name="param.query.message" value=""' in again


def test_token_card_names_the_user_not_the_database_id(
    signed_in: Client, echo: Any, auth_server: Any
) -> None:
    from console.tokens import Token, TokenStore
    from tests.console.conftest import access_token

    auth_server(echo, grants=["authorization_code"])
    session = signed_in.session
    TokenStore(session).put(
        Token(server="idp", server_name="Example IdP", grant="authorization_code",
              scopes="echo.read", access_token=access_token(sub="42", preferred_username="ada"))
    )  # fmt: skip
    session.save()
    html = signed_in.get(PAGE).content.decode()
    assert "<dt>subject</dt><dd><code>ada</code></dd>" in html

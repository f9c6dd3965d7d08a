"""`manage.py applyconfig` with an `authorization_servers` section."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from console.models import ApiAuthorizationServer, AuditEntry, AuthorizationServer

CONFIG = """\
authorization_servers:
  - slug: corp
    name: Corporate sign-in
    issuer: https://login.example.com
    authorize: https://login.example.com/authorize
    token: https://login.example.com/token
    client-id: portal-console
    client-secret-env: CORP_SECRET
    client-auth: body
    grants: [authorization_code, client_credentials, password]
    default-scopes: echo.read
    token-params: {resource: api://echo}
    apis:
      - {slug: echo, scopes: echo.read echo.write}
"""


def apply(tmp_path: Path, text: str) -> str:
    path = tmp_path / "portal.yaml"
    path.write_text(text)
    out = io.StringIO()
    call_command("applyconfig", str(path), stdout=out)
    return out.getvalue()


def test_apply_twice_changes_nothing_the_second_time(
    echo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORP_SECRET", "from-the-env")
    first = apply(tmp_path, CONFIG)
    assert "authorization server corp: added" in first
    assert "authorization server corp: enabled password (audited)" in first
    assert "authorization server corp: offered on echo" in first
    server = AuthorizationServer.objects.get()
    assert server.client_secret == "from-the-env" and server.client_auth == "body"
    assert server.grants == ["authorization_code", "client_credentials", "password"]
    assert server.extra_token_params == {"resource": "api://echo"}
    assert ApiAuthorizationServer.objects.get().scopes == "echo.read echo.write"
    assert apply(tmp_path, CONFIG).strip() == "Nothing to change."
    assert AuditEntry.objects.count() == 1

    changed = apply(
        tmp_path,
        CONFIG.replace(", password]", "]").replace(
            "      - {slug: echo, scopes: echo.read echo.write}\n", "      - echo\n"
        ),
    )
    assert "disabled password (audited)" in changed
    assert "scopes for echo updated" in changed


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            ("grants: [authorization_code", "grants: [magic"),
            ":10: grants[] must be authorization_code, client_credentials, implicit or password, not 'magic'",
        ),
        (
            ("client-secret-env: CORP_SECRET", "client-secret-env: NOT_SET_ANYWHERE"),
            ":8: the environment variable NOT_SET_ANYWHERE is not set",
        ),
        (
            ("token: https://login.example.com/token", "token: ftp://x"),
            ":6: token must be an http(s) URL",
        ),
        (("client-auth: body", "client-auth: jwt"), ":9: client-auth must be basic or body"),
        (("    client-id: portal-console\n", ""), ":2: authorization_servers[] needs client-id"),
        (
            ("{slug: echo,", "{slug: nope,"),
            ":14: the API 'nope' does not exist; nothing was changed",
        ),
        (
            (
                "      - {slug: echo, scopes: echo.read echo.write}\n",
                "      - {slug: echo, scopes: echo.read echo.write}\n" + CONFIG.split("\n", 1)[1],
            ),
            ":15: the authorization server 'corp' is declared twice",
        ),
    ],
)
def test_bad_files_are_refused_with_the_line_and_change_nothing(
    echo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str], message: str
) -> None:
    monkeypatch.setenv("CORP_SECRET", "s")
    with pytest.raises(CommandError) as exc:
        apply(tmp_path, CONFIG.replace(*edit))
    assert message in str(exc.value)
    assert AuthorizationServer.objects.count() == 0


def test_developer_registration_from_the_file(
    echo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORP_SECRET", "from-the-env")
    monkeypatch.setenv("CORP_REG", "iat-from-the-env")
    text = CONFIG.replace(
        "    client-auth: body\n",
        "    client-auth: body\n    developer-registration: true\n"
        "    registration: https://login.example.com/register\n"
        "    initial-access-token-env: CORP_REG\n",
    )
    apply(tmp_path, text)
    server = AuthorizationServer.objects.get()
    assert server.developer_registration
    assert server.registration_url == "https://login.example.com/register"
    assert server.initial_access_token == "iat-from-the-env"
    assert apply(tmp_path, text).strip() == "Nothing to change."
    monkeypatch.delenv("CORP_REG")
    with pytest.raises(CommandError, match="CORP_REG is not set"):
        apply(tmp_path, text)


@pytest.mark.parametrize(
    "url",
    ["https://[login.example.com/token", "https://login.example.com:99999/token",
     "https://login.example.com:port/token", "https://login.example.com\\@evil/token"],
)  # fmt: skip
def test_an_endpoint_that_is_no_url_is_a_line_numbered_error(
    echo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """urlsplit raised ValueError on an unclosed [ (a traceback, not the file's line); a port
    of 99999 or of letters was kept and every token request then failed."""
    monkeypatch.setenv("CORP_SECRET", "s")
    text = CONFIG.replace("token: https://login.example.com/token", f"token: '{url}'")
    with pytest.raises(CommandError, match=r"portal.yaml:6: token "):
        apply(tmp_path, text)
    assert not AuthorizationServer.objects.exists()

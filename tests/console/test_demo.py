"""The demo seed: one authorization server for the built-in provider, every grant that acts
for the signed-in developer on."""

from __future__ import annotations

import io
from typing import Any

from console import demo
from console.models import ApiAuthorizationServer, AuditEntry, AuthorizationServer


def test_seed_is_idempotent_and_enables_the_developers_grants(echo: Any, settings: Any) -> None:
    settings.DEBUG = True
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"
    out = io.StringIO()
    demo.seed(out)
    demo.seed(out)

    server = AuthorizationServer.objects.get()
    # Client credentials go through the developer's own application, not the shared client.
    assert server.grants == ["authorization_code", "implicit", "password"]
    assert server.token_url == "http://127.0.0.1:8000/idp/token/"
    assert server.issuer == "http://127.0.0.1:8000/idp"
    link = ApiAuthorizationServer.objects.get()
    assert (link.api.slug, link.scopes) == ("echo", "echo.read echo.write")
    # Enabling the legacy grants was audited once, not on every start.
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == [
        "enabled implicit",
        "enabled password",
    ]
    assert "redirect URI:         http://127.0.0.1:8000/console/callback/" in out.getvalue()


def test_seed_refuses_without_debug(echo: Any, settings: Any) -> None:
    settings.DEBUG = False
    out = io.StringIO()
    demo.seed(out)
    assert AuthorizationServer.objects.count() == 0
    assert "DEBUG is off" in out.getvalue()


def test_a_second_seed_leaves_apis_imported_since_alone(
    echo: Any, settings: Any, import_spec: Any, tmp_path: Any
) -> None:
    # A second `make run` offered the demo sign-in server on every API published since (the
    # publisher's own imports and the onboarding API), with scopes they do not define.
    settings.DEBUG = True
    settings.IDENTITY_ISSUER = "http://127.0.0.1:8000/idp"
    demo.seed(io.StringIO())
    (tmp_path / "weather.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Weather, version: '1'}\npaths: {}\n"
    )
    import_spec(tmp_path / "weather.yaml", "weather")
    out = io.StringIO()
    demo.seed(out)
    assert list(ApiAuthorizationServer.objects.values_list("api__slug", flat=True)) == ["echo"]
    assert "offered on:           echo\n" in out.getvalue()

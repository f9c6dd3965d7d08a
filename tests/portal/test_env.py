"""portal/lib/env.py: secrets from NAME or from the file NAME_FILE names; bounded ints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.lib.env import env_int, env_secret


def test_a_secret_is_read_from_the_variable() -> None:
    assert env_secret("DB_PASSWORD", environ={"DB_PASSWORD": "s3cret"}) == "s3cret"


def test_a_secret_is_read_from_the_file_named_by_name_file(tmp_path: Path) -> None:
    path = tmp_path / "db_password"
    path.write_text("s3cret from a file\n")  # editors and `echo` add the newline
    assert env_secret("DB_PASSWORD", environ={"DB_PASSWORD_FILE": str(path)}) == (
        "s3cret from a file"
    )


def test_unset_gives_the_default() -> None:
    assert env_secret("DB_PASSWORD", "fallback", environ={}) == "fallback"


def test_both_forms_at_once_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("one")
    with pytest.raises(ImproperlyConfigured, match="DB_PASSWORD or DB_PASSWORD_FILE"):
        env_secret("DB_PASSWORD", environ={"DB_PASSWORD": "two", "DB_PASSWORD_FILE": str(path)})


def test_an_unreadable_file_names_the_variable(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ImproperlyConfigured, match="DB_PASSWORD_FILE=.*nope"):
        env_secret("DB_PASSWORD", environ={"DB_PASSWORD_FILE": str(missing)})


def test_an_int_below_its_minimum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBSCRIPTIONS_CREATE_PER_HOUR", "0")
    with pytest.raises(ImproperlyConfigured, match="SUBSCRIPTIONS_CREATE_PER_HOUR='0'.*at least 1"):
        env_int("SUBSCRIPTIONS_CREATE_PER_HOUR", 10, minimum=1)
    monkeypatch.setenv("SUBSCRIPTIONS_CREATE_PER_HOUR", "1")
    assert env_int("SUBSCRIPTIONS_CREATE_PER_HOUR", 10, minimum=1) == 1
    monkeypatch.delenv("SUBSCRIPTIONS_CREATE_PER_HOUR")
    assert env_int("SUBSCRIPTIONS_CREATE_PER_HOUR", 10, minimum=1) == 10


@pytest.mark.parametrize("blank", ["", " "])
def test_an_empty_value_is_the_default_as_if_unset(
    monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    # An env file copied from .env.example (systemd's EnvironmentFile, compose's env_file)
    # sets every variable it lists, the empty ones to "": SECURE_COOKIES= turned Secure
    # cookies off and IDENTITY_BUILTIN= the built-in provider, where the file says "default".
    from portal.lib.env import env_bool, env_list, env_str

    for name in ("SECURE_COOKIES", "SITE_NAME", "USAGE_PREFILL_ZONES", "DB_PASSWORD"):
        monkeypatch.setenv(name, blank)
    assert env_bool("SECURE_COOKIES", True) is True
    assert env_str("SITE_NAME", "API Portal") == "API Portal"
    assert env_list("USAGE_PREFILL_ZONES", ["UTC"]) == ["UTC"]
    assert env_secret("DB_PASSWORD", "fallback") == "fallback"
    assert env_secret("DB_PASSWORD", environ={"DB_PASSWORD": "x", "DB_PASSWORD_FILE": blank}) == "x"


_PROBE = """
from django.conf import settings as s
print(s.SESSION_COOKIE_SECURE, s.IDENTITY_BUILTIN, s.IDENTITY_PORTAL_PROVIDER_ID,
      s.DATABASES["default"]["ENGINE"], bool(s.CONSOLE_GATEWAY_URL), s.USAGE_PREFILL_ZONES,
      s.MAILERS["default"]["OPTIONS"].get("use_tls"))
"""


def test_the_env_example_used_as_an_env_file_gives_the_secure_defaults(tmp_path: Path) -> None:
    """Every line of .env.example set as written (empty values included), the secrets and
    an SMTP host filled in: the settings it describes, not weaker ones."""
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env.update(
        SECRET_KEY="example-" + "0123456789abcdef" * 4,
        IDENTITY_PORTAL_CLIENT_SECRET="example-client-secret",
        EMAIL_HOST="smtp.example.com",
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    probe = f"import django; django.setup()\n{_PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "True", "oidc", "django.db.backends.sqlite3", "True", "['UTC']", "True"
    ]  # fmt: skip


def test_a_kubernetes_service_link_in_a_port_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kubernetes gives every pod GATEWAY_PORT=tcp://10.96.0.12:8080 when a Service is named
    # gateway (enableServiceLinks, on by default): the gateway refused to start with "is not
    # an integer", a value the operator never wrote.
    monkeypatch.setenv("GATEWAY_PORT", "tcp://10.96.0.12:8080")
    with pytest.raises(ImproperlyConfigured) as refused:
        env_int("GATEWAY_PORT", 8080, minimum=0, maximum=65535)
    assert "Kubernetes" in str(refused.value) and "enableServiceLinks: false" in str(refused.value)


def test_a_text_setting_loses_the_blanks_around_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # An env file line 'IDENTITY_ISSUER=https://portal.example.com/idp ' (`docker run
    # --env-file` keeps the trailing blank) made the issuer end in a space: discovery and every token
    # said so, and each gateway comparing `iss` with the configured issuer refused them all.
    from portal.lib.env import env_str

    monkeypatch.setenv("IDENTITY_ISSUER", " https://portal.example.com/idp \t")
    assert env_str("IDENTITY_ISSUER") == "https://portal.example.com/idp"
    monkeypatch.setenv("LOG_FORMAT", "json ")
    assert env_str("LOG_FORMAT", "text") == "json"

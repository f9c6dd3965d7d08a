"""`manage.py check --deploy --fail-level WARNING` with production settings (case 52)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OIDC_", "IDENTITY_"))
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "portal.example.com",
            "SECURE_SSL_REDIRECT": "1",
            "SECURE_HSTS_PRELOAD": "1",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "IDENTITY_ISSUER": "https://portal.example.com/idp",
            "IDENTITY_PORTAL_CLIENT_SECRET": secrets.token_urlsafe(40),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
            "PRODUCTS_KEY_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_case52_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_with_an_external_provider_passes_too(tmp_path: Path) -> None:
    env = production_env(
        tmp_path,
        OIDC_ISSUER="https://login.example.com",
        OIDC_CLIENT_ID="portal",
        OIDC_CLIENT_SECRET="s3cret",
    )
    del env["IDENTITY_ISSUER"]
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "change, check_id",
    [
        ({"IDENTITY_ISSUER": ""}, "identity.E001"),
        ({"IDENTITY_PORTAL_CLIENT_SECRET": ""}, "identity.E003"),
        ({"IDENTITY_ISSUER": "http://portal.example.com/idp"}, "identity.W001"),
        # Sign-in redirects browsers there, and every request naming that host is a 400.
        ({"IDENTITY_ISSUER": "https://login.example.com/idp"}, "identity.W002"),
        ({"IDENTITY_LEGACY_GRANTS": "1"}, "oauth2_provider.W00"),
    ],
)
def test_production_mistakes_are_reported(
    tmp_path: Path, change: dict[str, str], check_id: str
) -> None:
    result = manage(
        production_env(tmp_path, **change), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode != 0
    assert check_id in result.stderr + result.stdout


def test_production_refuses_the_demo_credentials(tmp_path: Path) -> None:
    """The built-in provider with the demo seed's user and clients does not start (migrate
    runs the database checks) and `check --database` names them."""
    env = production_env(tmp_path)
    assert manage(env, "migrate", "-v", "0").returncode == 0
    seed = (
        "import io, django; django.setup();"
        "from django.test import override_settings;"
        "from identity.demo import seed;"
        "override_settings(DEBUG=True).enable(); seed(io.StringIO())"
    )
    subprocess.run(
        [sys.executable, "-c", seed],
        cwd=REPO_ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        check=True,
        timeout=120,
    )
    result = manage(env, "check", "--database", "default")
    assert result.returncode != 0
    assert "identity.E002" in result.stderr and "user demo" in result.stderr
    assert manage(env, "migrate", "-v", "0").returncode != 0

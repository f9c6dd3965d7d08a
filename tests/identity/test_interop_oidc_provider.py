"""Sign-in against an OpenID provider we did not write: panva's `oidc-provider` (npm, OpenID
Certified), pinned in tests/identity/op/package-lock.json and run with the machine's node on
loopback. The portal runs as a live server; nothing on either side is mocked."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount

from tests.identity.conftest import form_fields

pytestmark = pytest.mark.django_db(transaction=True)

OP_DIR = Path(__file__).parent / "op"
CLIENT_ID = "portal-interop"
CLIENT_SECRET = "interop-secret-for-tests-only"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def op_groups(tmp_path: Path) -> Path:
    """The provider's groups claim per account (JSON), read at each sign-in; `{}` for none."""
    path = tmp_path / "op-groups.json"
    path.write_text("{}")
    return path


@pytest.fixture
def oidc_provider(live_server: Any, settings: Any, op_groups: Path) -> Iterator[str]:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the interoperability test")
    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=OP_DIR, check=True, timeout=300)
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "OP_PORT": str(port),
        "OP_CLIENT_ID": CLIENT_ID,
        "OP_CLIENT_SECRET": CLIENT_SECRET,
        "OP_REDIRECT_URI": f"{live_server.url}/accounts/oidc/interop/login/callback/",
        "OP_POST_LOGOUT_REDIRECT_URI": f"{live_server.url}/",
        "OP_GROUPS_FILE": str(op_groups),
    }
    process = subprocess.Popen(
        [node, "server.mjs"],
        cwd=OP_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline and not line.startswith("ready"):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError("oidc-provider exited before it was ready")
        issuer = f"http://127.0.0.1:{port}"
        settings.IDENTITY_BUILTIN = False
        settings.SESSION_COOKIE_SECURE = False
        settings.CSRF_COOKIE_SECURE = False
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "interop",
                        "name": "Interop OP",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {"server_url": issuer, "expected_issuer": issuer},
                    }
                ],
            }
        }
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def sign_in(session: requests.Session, portal: str, issuer: str, login: str) -> requests.Response:
    """The whole authorization code flow from the catalog's Sign in button, at the provider's
    own login and consent pages; the page the portal lands on."""
    catalog = session.get(f"{portal}/apis/")
    action = re.search(r'<form method="post" action="([^"]+)" class="signin-form">', catalog.text)
    assert action
    start = session.post(
        urljoin(portal, action.group(1).replace("&amp;", "&")),
        data=form_fields(catalog.text, 'class="signin-form"'),
        allow_redirects=False,
    )
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{issuer}/auth?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]

    page = session.get(authorize)  # the provider's own login page (or consent, if signed in)
    submit = re.search(r'<form autocomplete="off" action="([^"]+)" method="post">', page.text)
    if submit:
        page = session.post(
            urljoin(page.url, submit.group(1)),
            data={"prompt": "login", "login": login, "password": "x"},
        )
    submit = re.search(
        r'action="([^"]+)" method="post">\s*<input type="hidden" name="prompt" value="consent"',
        page.text,
    )
    if submit is None:  # consent given before: the provider went straight back
        return page
    return session.post(urljoin(page.url, submit.group(1)), data={"prompt": "consent"})


def test_sign_in_and_out_against_oidc_provider(live_server: Any, oidc_provider: str) -> None:
    session = requests.Session()
    landed = sign_in(session, live_server.url, oidc_provider, "alice")

    assert landed.status_code == 200, landed.text[:500]
    assert landed.url == f"{live_server.url}/apis/"
    assert "data-account-name>Interop alice<" in landed.text
    account = SocialAccount.objects.get(provider="interop")
    assert account.uid == "alice"
    assert account.user.email == "alice@interop.example"
    assert account.extra_data["id_token"]["iss"] == oidc_provider

    profile = session.get(f"{live_server.url}/accounts/profile/")
    token = form_fields(profile.text, 'action="/accounts/logout/"')["csrfmiddlewaretoken"]
    out = session.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": token},
        allow_redirects=False,
    )
    end_session = out.headers["Location"]
    assert end_session.startswith(f"{oidc_provider}/session/end?id_token_hint=")
    confirm = session.get(end_session)
    assert confirm.status_code == 200  # the provider accepts the hint and asks to confirm
    assert "data-account-name" not in session.get(f"{live_server.url}/").text

"""The default run for real: `migrate`, `seed_demo` and `serve` (granian: Django, the built-in
provider and the gateway on one loopback port) in a subprocess with its own database.

Used by the console's integration tests and its browser journey. Nothing is mocked: tokens
come from the built-in provider over HTTP, calls go through the real gateway to the echo
backend.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.conftest import REPO_ROOT
from tests.portal.services import manage
from tests.services import stop_process

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
# Short-lived access tokens, so a test can watch one expire and be refreshed.
TOKEN_SECONDS = 12
REFRESH_MARGIN = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Portal:
    base: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path

    def manage(self, *args: str, **env: str) -> str:
        """`manage.py` against the running portal's database (e.g. importspec)."""
        return manage({**self.env, **env}, *args)

    def create_superuser(self, username: str, password: str) -> None:
        self.manage(
            "createsuperuser", "--no-input", "--username", username,
            "--email", f"{username}@example.com", DJANGO_SUPERUSER_PASSWORD=password,
        )  # fmt: skip


def _database_url(workdir: Path) -> str:
    """A database of its own: on the PostgreSQL pass of `make test` a new database on that
    server (tests/services.py), otherwise a SQLite file in `workdir`."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        from tests.services import create_database

        return create_database(url, f"live_{uuid.uuid4().hex[:12]}")
    return f"sqlite:///{workdir / 'portal.sqlite3'}"


_portals_started = itertools.count()


def _redis_url() -> dict[str, str]:
    """On the PostgreSQL + Redis pass, a Redis database of the portal's own, emptied first.

    The portals one test worker starts, one module after another, shared that worker's
    database: an aggregator beside a later portal read the usage stream entries an earlier
    portal's gateway left there, and counted them under the same subscription ids (its
    subscription showed 9 calls for 3). Databases 16 to 63 of tests/services.py's server: 8 a
    worker, in turn."""
    url = os.environ.get("REDIS_URL", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    if not url or not worker.isdigit():
        return {}
    import redis

    db = 16 + (int(worker) * 8 + next(_portals_started) % 8) % 48
    own = f"{url.rsplit('/', 1)[0]}/{db}"
    redis.Redis.from_url(own).flushdb()
    return {"REDIS_URL": own}


@contextmanager
def running_portal(workdir: Path) -> Iterator[Portal]:
    port = free_port()
    database_url = _database_url(workdir)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IDENTITY_", "CONSOLE_", "GATEWAY_", "OIDC_", "DATABASE_"))
    }
    env.update(
        {
            "DEBUG": "1",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "console-live-test-" + "x" * 40,
            "IDENTITY_ACCESS_TOKEN_SECONDS": str(TOKEN_SECONDS),
            "CONSOLE_REFRESH_MARGIN": str(REFRESH_MARGIN),
            "WORKERS": "1",
            # Its own collected static files: parallel test workers never share a folder.
            "STATIC_ROOT": str(workdir / "static"),
            **_redis_url(),
        }
    )
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "seed_demo")
    log = workdir / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/health/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield Portal(base=base, log=log, env=env)
    finally:
        stop_process(proc)


def hidden_fields(html: str, marker: str = "") -> dict[str, str]:
    start = html.find(marker) if marker else 0
    chunk = html[start : html.find("</form>", start)]
    return {
        name: value.replace("&amp;", "&")
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', chunk)
    }


def sign_in(
    session: requests.Session,
    portal: Portal,
    page: str,
    username: str = DEMO_USER,
    password: str = DEMO_PASSWORD,
) -> requests.Response:
    """The portal's own sign-in over HTTP: header button, provider login, back to `page`."""
    html = session.get(portal.url(page)).text
    action = re.search(r'<form method="post" action="([^"]+)" class="signin-form">', html)
    assert action, "no Sign in button in the header"
    started = session.post(
        urljoin(portal.base, action.group(1).replace("&amp;", "&")),
        data=hidden_fields(html, 'class="signin-form"'),
    )
    assert "/idp/login/" in started.url, started.url
    fields = hidden_fields(started.text, 'action="/idp/login/"')
    fields.update({"username": username, "password": password})
    landed = session.post(portal.url("/idp/login/"), data=fields, headers={"Referer": started.url})
    assert landed.status_code == 200, landed.text[:500]
    return landed


def consent_if_asked(session: requests.Session, portal: Portal, page: requests.Response) -> str:
    """Approve the provider's consent page when it shows one; the redirect's Location."""
    if page.status_code in (301, 302, 303):
        return page.headers["Location"]
    assert page.status_code == 200, page.text[:500]
    fields = hidden_fields(page.text, 'id="authorizationForm"')
    fields["allow"] = "Authorize"
    answer = session.post(page.url, data=fields, allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:500]
    return answer.headers["Location"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

"""Gateway processes as operators run them: a database migrated once per session, routes
written by `manage.py applyconfig`, and `python -m gateway` (N workers) on a free
loopback port. Used by the multi-process tests (policy reload, Redis, hosts, metrics).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_SPECS

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs: bound, never listening.
    A port only found free can be taken by a server started meanwhile, which then answers for
    the backend a test means to be down."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text() if log.exists() else "no log") from None
            time.sleep(0.1)


def wait_until_serving(
    port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60
) -> None:
    """Until a worker answers /-/live. The port accepts as soon as the supervisor binds it,
    before any worker has set Django up: on a loaded machine (eight workers starting at once)
    the first calls then waited past the 10 s a test call allows."""
    wait_for_port(port, proc, log, seconds)
    deadline = time.monotonic() + seconds
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/-/live")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text() if log.exists() else "no log")
        time.sleep(0.1)


def spawn_app(
    app: str,
    routes: list[dict[str, Any]],
    log: Path,
    port: int = 0,
    workers: int = 1,
    **extra_env: str,
) -> tuple[subprocess.Popen[bytes], int]:
    """`python -m gateway --app module:attribute` on a free (or the given) port: a gateway built
    in code by one of the tests' entry points, its routes in GW_TEST_ROUTES. Not yet waited for
    (see wait_for_port)."""
    port = port or free_port()
    env = {
        **os.environ,
        "GW_TEST_ROUTES": json.dumps(routes),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **extra_env,
    }
    command = [sys.executable, "-m", "gateway", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--app", app], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return proc, port


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once; each test works on a copy."""
    path = tmp_path_factory.mktemp("gwdb") / "template.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    return path


@dataclass
class Operator:
    """One deployment: a database file, its configuration file, and gateway processes."""

    root: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def apply(self, config: str) -> None:
        path = self.root / "portal.yaml"
        path.write_text(config)
        done = subprocess.run(
            [sys.executable, "manage.py", "applyconfig", str(path)],
            cwd=REPO,
            env=self.env,
            capture_output=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self, workers: int = 2, **extra_env: str) -> int:
        port = free_port()
        log = self.root / f"gateway-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "--port", str(port), "--workers", str(workers)],
                cwd=REPO,
                env={**self.env, **extra_env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        wait_until_serving(port, proc, log)
        return port

    def log_text(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.root.glob("gateway-*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def operator(migrated_db: Path, tmp_path: Path) -> Iterator[Operator]:
    db = tmp_path / "portal.sqlite3"
    shutil.copy(migrated_db, db)
    shutil.copy(DEMO_SPECS / "echo.yaml", tmp_path / "echo.yaml")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "GATEWAY_KEY_FETCH_PRIVATE_HOSTS": "127.0.0.1",
        "GATEWAY_ACCESS_LOG": "off",
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.pop("REDIS_URL", None)
    op = Operator(tmp_path, env)
    yield op
    op.stop()


def echo_config(backend_url: str, discovery_url: str, audience: str, extra: str = "") -> str:
    """The echo API (its spec's operations) routed to a recording backend, with validate-jwt."""
    return f"""\
apis:
  - slug: echo
    spec: echo.yaml
    published: true
    gateway:
      suffix: echo
      backend: {backend_url}
      validate-jwt:
        openid-config: {discovery_url}
        audiences: [{audience}]
{extra}"""


def call(
    port: int, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One call on a new connection (so calls spread over the workers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers={"Connection": "close", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def bearer(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class RedisServer:
    """redis-server on a fixed free port that a test can stop and start again."""

    port: int
    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, self.proc, self.root / "none")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis that is not running yet: call start()."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make redis)")
    server = RedisServer(free_port(), tmp_path)
    yield server
    server.stop()

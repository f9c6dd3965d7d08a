"""Real PostgreSQL and Redis servers on free loopback ports, for the production-settings tests.

Each runs from a temporary folder and is stopped (and can be restarted on the same port,
to test recovery) by the test. Skips when the server binaries are not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.services import stop_process

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


@dataclass
class Redis:
    port: int
    folder: Path
    proc: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.proc, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@contextmanager
def redis_server(folder: Path) -> Iterator[Redis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make redis)")
    server = Redis(free_port(), folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _postgres_user() -> dict[str, str]:
    # initdb and postgres refuse to run as root: as root, run them as the unprivileged
    # `postgres` account Debian's package creates.
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


@dataclass
class Postgres:
    port: int
    folder: Path
    max_connections: int
    proc: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"postgres://portal@127.0.0.1:{self.port}/portal"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.folder / "data"), "-p", str(self.port)]
            + ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}"]
            + ["-c", f"max_connections={self.max_connections}", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **_postgres_user(),  # type: ignore[call-overload]
        )
        _wait_for_port(self.port, self.proc, "postgres")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: SIGTERM waits for clients
            self.proc.wait(timeout=20)
            self.proc = None

    def connections(self) -> int:
        """Client connections open on the server now (psql, not counting itself)."""
        done = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "portal"]
            + ["-At", "-c", "SELECT count(*) - 1 FROM pg_stat_activity WHERE backend_type = "
               "'client backend'", "portal"],
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
        return int(done.stdout.strip())


@contextmanager
def postgres_server(max_connections: int = 20) -> Iterator[Postgres]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL is not installed in {PG_BIN}")
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as
    # the postgres account.
    folder = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-U", "portal"]
            + ["--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
            **_postgres_user(),  # type: ignore[call-overload]
        )
        server = Postgres(free_port(), folder, max_connections)
        server.start()
        try:
            subprocess.run(
                [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(server.port)]
                + ["-U", "portal", "portal"],
                check=True,
                capture_output=True,
            )
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production portal process (DEBUG off, secrets set); an empty
    value in `extra` removes the variable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "OIDC_", "IDENTITY_", "SECRET_KEY", "DATABASE_", "REDIS_", "TRUSTED_")
        )
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "production-test-" + "k" * 50,
            "IDENTITY_ISSUER": "https://portal.example.com/idp",
            "IDENTITY_PORTAL_CLIENT_SECRET": "production-test-client-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "0",
            "WORKERS": "1",
        }
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def manage(env: dict[str, str], *args: str, cwd: Path = REPO_ROOT) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Served:
    base: str
    log: Path
    proc: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serving(
    env: dict[str, str], log: Path, cwd: Path = REPO_ROOT, command: list[str] | None = None
) -> Iterator[Served]:
    """`manage.py serve` (or `command`) on a free port with `env`, until the block ends."""
    port = free_port()
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command or [sys.executable, "manage.py", "serve"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", log, proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.1)
        yield served
    finally:
        stop_process(proc)

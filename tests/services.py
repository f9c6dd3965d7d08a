"""PostgreSQL and Redis for the tests: started on free loopback ports in temporary folders,
stopped afterwards, the way the suite already starts Chromium and the OpenID provider.

    python -m tests.services -- pytest -n 2 --dist loadfile

runs the command with DATABASE_URL and REDIS_URL naming fresh servers (`make test`'s second
pass). The scale test (tests/topology/) starts its own with the same helpers. Nothing here
is product code: a deployment runs its own PostgreSQL and Redis (docs/deploy.md).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Enough for two pytest workers, two portal and two gateway processes with their threads.
PG_MAX_CONNECTIONS = 400
# PostgreSQL refuses to run as root; under root the cluster belongs to this user instead.
PG_RUN_AS = "nobody"


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `seconds`: a test's server goes
    either way, and its port and files with it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_for_port(port: int, what: str, log: Path | None = None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise ServiceError(f"{what} did not listen on 127.0.0.1:{port} within {seconds} s\n{tail}")


def postgres_bindir() -> Path | None:
    """Debian keeps the server binaries out of PATH (/usr/lib/postgresql/<major>/bin)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    return Path(found[-1]).parent if found else None


def _major(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def _as_owner(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", PG_RUN_AS, "--", *args]


def _chown_for_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user=PG_RUN_AS)


@dataclass
class PgCluster:
    """A running throwaway cluster; `stop()` and `start()` keep its data and port (outages)."""

    bindir: Path
    data: Path
    log: Path
    options: str
    url: str

    def start(self) -> None:
        _run(
            _as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                       "-o", self.options, "-w", "start"]),
            "pg_ctl start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run(
            _as_owner(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )


@contextmanager
def postgres_cluster(
    database: str = "portal", max_connections: int = PG_MAX_CONNECTIONS
) -> Iterator[PgCluster]:
    """A fresh PostgreSQL cluster on a free port (trust auth, loopback), with `database` in it.

    Its folder is its own (not pytest's tmp_path, which only root may enter when the tests run
    as root while the cluster belongs to PG_RUN_AS), removed when it stops.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise ServiceError("PostgreSQL is not installed (apt-get install postgresql)")
    workdir = Path(tempfile.mkdtemp(prefix="portal-postgres-"))
    workdir.chmod(0o755)
    data, sockets, log = workdir / "pgdata", workdir / "pgsock", workdir / "postgres.log"
    for folder in (data, sockets):
        folder.mkdir(mode=0o700)
        _chown_for_postgres(folder)
    log.touch()
    _chown_for_postgres(log)
    port = free_port()
    _run(
        _as_owner(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"]
        ),
        "initdb",
    )  # fmt: skip
    # Durability off: a throwaway cluster for tests, never a deployment's settings.
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 "
        f"-c max_connections={max_connections} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off"
    )
    cluster = PgCluster(
        bindir, data, log, options, f"postgres://postgres@127.0.0.1:{port}/{database}"
    )
    cluster.start()
    try:
        _run(
            _as_owner([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                       "-U", "postgres", database]),
            "createdb",
        )  # fmt: skip
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres(database: str = "portal", max_connections: int = PG_MAX_CONNECTIONS) -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free port; yields its DATABASE_URL."""
    with postgres_cluster(database, max_connections) as cluster:
        yield cluster.url


def create_database(url: str, name: str) -> str:
    """A new empty database on the server of `url`; returns its URL."""
    import psycopg

    base, _, _ = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@dataclass
class RedisServer:
    """A running throwaway Redis; `stop()` and `start()` keep its port (outages), not its data."""

    workdir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise ServiceError("Redis is not installed (apt-get install redis-server)")
        log = self.workdir / "redis.log"
        with log.open("a") as out:
            self.proc = subprocess.Popen(
                [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.workdir), "--databases", "64"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for_port(self.port, "redis-server", log)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    """A fresh Redis on a free port, nothing persisted."""
    workdir.mkdir(parents=True, exist_ok=True)
    server = RedisServer(workdir, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextmanager
def redis(workdir: Path) -> Iterator[str]:
    """A fresh Redis on a free port; yields its REDIS_URL (database 0)."""
    with redis_server(workdir) as server:
        yield server.url


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise ServiceError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@contextmanager
def services() -> Iterator[dict[str, str]]:
    """PostgreSQL and Redis together, in one temporary folder removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="portal-services-"))
    try:
        with postgres() as db_url, redis(workdir / "redis") as redis_url:
            yield {"DATABASE_URL": db_url, "REDIS_URL": redis_url}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    with services() as env:
        print(f"tests.services: {env['DATABASE_URL']} and {env['REDIS_URL']}", flush=True)
        return subprocess.run(argv, env={**os.environ, **env}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

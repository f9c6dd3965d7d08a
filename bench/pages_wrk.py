"""`wrk -t2 -c32 -d10s` on the catalog and on a Kubernetes operation page, served by
`manage.py serve --workers 2` with DEBUG off, on PostgreSQL (+ Redis) and on SQLite.

    python -m bench pages_wrk        (or: make bench)

Each run gets fresh servers (tests/services.py): PostgreSQL with its default
max_connections (100), as a stock installation has, and a new SQLite file. The Kubernetes spec
comes from the shared corpus (../shared/specs). Before each measured run a 3-second wrk warms
both workers (the first view of an operation renders and caches its schema tree). Figures are
for the issue notes and docs/deploy.md, never asserts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

from bench.django_setup import REPO

KUBERNETES = REPO.parent / "shared" / "specs" / "real-world" / "kubernetes.swagger.json"
WRK = ("-t2", "-c32", "-d10s")
WORKERS = 2


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def _serving(workdir: Path, backend: str) -> Iterator[tuple[str, str]]:
    """A migrated database with Kubernetes imported, served; yields (base URL, operation path)."""
    from tests.services import free_port, postgres, redis

    with ExitStack() as stack:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "REDIS_", "IDENTITY_", "CONSOLE_", "GATEWAY_"))
        }
        port = free_port()
        env.update(
            {
                "DEBUG": "0",
                "SECRET_KEY": "bench-" + "k" * 50,
                "ALLOWED_HOSTS": "127.0.0.1",
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "STATIC_ROOT": str(workdir / "static"),
                "LOG_LEVEL": "WARNING",
                "IDENTITY_ISSUER": f"http://127.0.0.1:{port}/idp",
                "IDENTITY_PORTAL_CLIENT_SECRET": "bench-" + "p" * 40,
            }
        )
        if backend == "postgres":
            env["DATABASE_URL"] = stack.enter_context(postgres(max_connections=100))
            env["REDIS_URL"] = stack.enter_context(redis(workdir / "redis"))
        else:
            env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "importspec", str(KUBERNETES), "--slug", "kubernetes", "--publish")
        op = (
            _manage(
                env,
                "shell",
                "-c",
                "from apis.models import Api, Operation; "
                "api = Api.objects.get(slug='kubernetes'); "
                "print(Operation.objects.filter(version_id=api.default_version_id)"
                ".order_by('slug').values_list('slug', flat=True)[0])",
            )
            .strip()
            .splitlines()[-1]
        )  # after the shell's own line about automatic imports
        log = (workdir / "serve.log").open("w")
        stack.callback(log.close)
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--workers", str(WORKERS)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop, proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/health/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            raise RuntimeError("serve did not start:\n" + (workdir / "serve.log").read_text())
        yield base, f"/apis/kubernetes/operations/{op}/"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url: str, *args: str) -> dict[str, object]:
    """One wrk run; its requests, requests a second and every kind of error it reports."""
    out = subprocess.run(
        ["wrk", *args, url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    total = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    return {
        "requests": int(total.group(1)) if total else 0,
        "req/s": float(rate.group(1)) if rate else 0.0,
        "non-2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
        "latency avg": latency.group(1) if latency else "",
    }


def _log_count(workdir: Path, text: str) -> int:
    return (workdir / "serve.log").read_text(errors="replace").count(text)


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        print("wrk is not installed (make bench-tools)")
        return []
    if not KUBERNETES.exists():
        print(f"the shared corpus is not at {KUBERNETES}")
        return []
    rows: list[dict] = []
    for backend in ("postgres", "sqlite"):
        with (
            tempfile.TemporaryDirectory(prefix=f"pages-wrk-{backend}-") as tmp,
            _serving(Path(tmp), backend) as (base, op_page),
        ):
            for name, path in (("catalog /apis/", "/apis/"), ("kubernetes op page", op_page)):
                wrk(base + path, "-t2", "-c32", "-d3s")  # warm both workers
                rows.append(
                    {
                        "database": backend,
                        "page": name,
                        **wrk(base + path, *WRK),
                        "too many clients (log)": _log_count(Path(tmp), "too many clients"),
                    }
                )
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

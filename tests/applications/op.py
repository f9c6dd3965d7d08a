"""panva's oidc-provider (tests/identity/op, pinned) as an external authorization server with
Dynamic Client Registration on, started on a free loopback port."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

OP_DIR = Path(__file__).resolve().parents[1] / "identity" / "op"
INITIAL_ACCESS_TOKEN = "iat-for-tests-only-4f1c2b"


@dataclass(frozen=True)
class ExternalOP:
    issuer: str
    port: int

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_op(resources: dict[str, str] | None = None) -> Iterator[ExternalOP]:
    """`resources`: RFC 8707 resource -> scopes the provider issues JWT access tokens for."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the interoperability test")
    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=OP_DIR, check=True, timeout=300)
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "OP_PORT": str(port),
        "OP_CLIENT_ID": "portal-interop",
        "OP_CLIENT_SECRET": "interop-secret-for-tests-only",
        "OP_REDIRECT_URI": "https://portal.example/callback",
        "OP_POST_LOGOUT_REDIRECT_URI": "https://portal.example/",
        "OP_INITIAL_ACCESS_TOKEN": INITIAL_ACCESS_TOKEN,
        "OP_RESOURCES": json.dumps(resources or {}),
    }
    process = subprocess.Popen(
        [node, "server.mjs"], cwd=OP_DIR, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline and not line.startswith("ready"):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError("oidc-provider exited before it was ready")
        yield ExternalOP(f"http://127.0.0.1:{port}", port)
    finally:
        process.terminate()
        process.wait(timeout=10)

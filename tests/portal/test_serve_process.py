"""`manage.py serve` as a process: its granian workers live no longer than it does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.portal.services import production_env
from tests.services import free_port, stop_process, wait_for_port


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _until[T](check: Callable[[], T], seconds: float = 20) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    return check()


def test_the_workers_stop_when_serve_is_killed(tmp_path: Path) -> None:
    # SIGKILL (the OOM killer, a supervisor's kill -9) gave serve no chance to stop its
    # granian workers: they kept the port and served the old code and settings for ever, and
    # the next start listened beside them.
    port = free_port()
    env = production_env(tmp_path, PORT=str(port), WORKERS="2")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO_ROOT, env=env, check=True,
        timeout=120,
    )  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve"], cwd=REPO_ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    workers: list[int] = []
    try:
        wait_for_port(port, "serve", log, seconds=60)
        workers = _until(lambda: _children(proc.pid) if len(_children(proc.pid)) == 2 else [])
        assert workers, log.read_text()
        proc.kill()
        proc.wait()
        left = _until(lambda: not any(_running(pid) for pid in workers))
        assert left, [pid for pid in workers if _running(pid)]
    finally:
        stop_process(proc)
        for pid in workers:
            if _running(pid):
                os.kill(pid, 9)

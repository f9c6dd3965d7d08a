"""`python -m gateway`'s supervisor (gateway/workers.py): a worker that dies is replaced, one
that cannot start stops the process with an error, and SIGTERM ends everything cleanly."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.gateway.processes import spawn_app, wait_for_port


def _start(tmp_path: Path, app: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    log = tmp_path / "gateway.log"
    proc, port = spawn_app(app, [{"suffix": "echo", "backend": "echo"}], log, workers=2)
    return proc, port, log


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    proc, port, log = _start(tmp_path, "tests.gateway.gw_entry:application")
    wait_for_port(port, proc, log)
    yield proc, port, log
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _workers(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _two_workers(pid: int) -> list[int]:
    """The supervisor's two workers, once both are there."""
    workers = _until(lambda: len(_workers(pid)) == 2)
    assert workers, _workers(pid)
    return _workers(pid)


def _echo_status(port: int) -> int:
    # Generous: a replacement worker's first answers wait for its start-up, which on a loaded
    # 2-core CI machine (PostgreSQL and other test workers beside it) took over 5 s once.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/echo/x")
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _until[T](check: Callable[[], T], seconds: float = 15) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    return check()


def test_a_worker_that_dies_is_replaced(
    gateway: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, _ = gateway
    first = _two_workers(proc.pid)
    os.kill(first[0], signal.SIGKILL)
    replaced = _until(lambda: first[0] not in _workers(proc.pid) and len(_workers(proc.pid)) == 2)
    assert replaced, _workers(proc.pid)
    assert all(_echo_status(port) == 200 for _ in range(20))
    assert proc.poll() is None


def test_sigterm_stops_the_workers_and_the_process(
    gateway: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, _ = gateway
    workers = _two_workers(proc.pid)
    assert _echo_status(port) == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its new parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_workers_stop_when_their_supervisor_is_killed(
    gateway: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    """SIGKILL (or the OOM killer) gives the supervisor no chance to stop its workers: they
    notice they were orphaned and stop themselves, so the port is free for the next start."""
    proc, port, log = gateway
    workers = _two_workers(proc.pid)
    proc.kill()
    proc.wait()
    gone = _until(lambda: not any(_running(pid) for pid in workers))
    assert gone, [pid for pid in workers if _running(pid)]
    assert "supervisor is gone" in log.read_text()
    again, _ = spawn_app(
        "tests.gateway.gw_entry:application",
        [{"suffix": "echo", "backend": "echo"}],
        log.with_name("again.log"),
        port=port,
        workers=1,
    )
    try:
        wait_for_port(port, again, log.with_name("again.log"))
        assert _echo_status(port) == 200
    finally:
        again.terminate()
        again.wait(15)


def test_a_worker_that_cannot_start_stops_the_process_with_an_error(tmp_path: Path) -> None:
    proc, _, log = _start(tmp_path, "tests.gateway.no_such_module:application")
    try:
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code != 0
    text = log.read_text()
    assert "no_such_module" in text and "failed to start" in text


def test_sighup_replaces_the_workers_without_stopping_the_gateway(
    gateway: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    """An operator's `kill -HUP`, the reload signal of nginx and gunicorn, killed the whole
    gateway (SIGHUP's default action). It now replaces the workers gracefully (they
    finish their answers; new ones load the code afresh) while the supervisor keeps the port,
    so no call is refused."""
    proc, port, log = gateway
    first = _two_workers(proc.pid)
    assert _echo_status(port) == 200
    proc.send_signal(signal.SIGHUP)
    replaced = _until(
        lambda: not set(first) & set(_workers(proc.pid)) and len(_workers(proc.pid)) == 2
    )
    assert replaced, (first, _workers(proc.pid), log.read_text()[-2000:])
    assert proc.poll() is None
    assert all(_echo_status(port) == 200 for _ in range(10))

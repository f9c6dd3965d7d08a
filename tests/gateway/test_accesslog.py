"""The access log written to a file (GATEWAY_ACCESS_LOG=<path>): a path the gateway cannot
write stops it at start with one line, and a file rotated away (logrotate's rename, or a
delete) is followed by a new file at the path, not written on in the dark."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from gateway.accesslog import AccessLog
from tests.gateway.processes import spawn_app


def test_a_path_that_cannot_be_written_is_refused_with_its_name(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "access.log"
    with pytest.raises(ImproperlyConfigured) as caught:
        AccessLog(str(target))
    assert "GATEWAY_ACCESS_LOG" in str(caught.value) and str(target) in str(caught.value)


def test_a_gateway_given_such_a_path_stops_with_a_configuration_error(tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    target = tmp_path / "missing" / "access.log"
    proc, _ = spawn_app(
        "tests.gateway.gw_entry:application",
        [{"suffix": "echo", "backend": "echo"}],
        log,
        GATEWAY_ACCESS_LOG=str(target),
    )
    try:
        code = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    text = log.read_text()
    assert code != 0
    assert "Configuration error" in text and str(target) in text
    assert "Traceback" not in text


def test_lines_follow_a_file_rotated_away(tmp_path: Path) -> None:
    target = tmp_path / "access.log"
    access = AccessLog(str(target))
    access.write("GET /a 200")
    access.flush()
    target.rename(tmp_path / "access.log.1")  # logrotate without copytruncate

    access.write("GET /b 200")
    access.flush()

    assert (tmp_path / "access.log.1").read_text() == "GET /a 200\n"
    assert target.read_text() == "GET /b 200\n"


def test_lines_follow_a_file_deleted(tmp_path: Path) -> None:
    target = tmp_path / "access.log"
    access = AccessLog(str(target))
    access.write("GET /a 200")
    access.flush()
    os.unlink(target)

    access.write("GET /b 200")
    access.flush()

    assert target.read_text() == "GET /b 200\n"


@pytest.mark.parametrize("target", ["-", "off", "logging"])
def test_the_other_targets_open_no_file(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    AccessLog(target).flush()
    assert list(tmp_path.iterdir()) == []

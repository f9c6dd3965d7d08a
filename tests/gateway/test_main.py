"""`python -m gateway`'s start-up: what it says before its workers serve."""

from __future__ import annotations

from typing import Any

import pytest

import gateway.__main__ as entry


@pytest.mark.parametrize(
    ("workers", "env", "warned"),
    [
        ("2", {}, True),
        ("1", {}, False),
        ("2", {"REDIS_URL": "redis://127.0.0.1:6379/0"}, False),
        ("2", {"GATEWAY_REDIS_URL": "redis://127.0.0.1:6379/0"}, False),
    ],
)
def test_the_gateway_says_when_its_workers_share_no_counters(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    workers: str,
    env: dict[str, str],
    warned: bool,
) -> None:
    # Without Redis each worker kept its own rate-limit counters: 2 workers let 200 calls a
    # minute through a limit of 100, round-robin, and nothing said so at start.
    for name in ("REDIS_URL", "REDIS_URL_FILE", "GATEWAY_REDIS_URL", "GATEWAY_REDIS_URL_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    served: list[Any] = []
    monkeypatch.setattr(entry, "_serve", served.append)
    entry.main(["--workers", workers, "--port", "0"])
    err = capsys.readouterr().err
    assert served
    assert ("REDIS_URL is not set" in err) == warned, err
    if warned:
        assert "each of the 2 workers" in err

"""`manage.py serve`'s start banner (what `make run` prints last)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from portal.management.commands.serve import banner


def test_the_banner_says_where_the_dev_runs_mails_go(settings: Any) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "portal.lib.mailfiles.EmailBackend",
            "OPTIONS": {"file_path": str(Path.cwd() / ".mail")},
        }
    }
    text = banner("http://127.0.0.1:8000")
    assert "API portal: http://127.0.0.1:8000/apis/" in text
    assert "E-mails:    written to .mail/" in text


@pytest.mark.parametrize("backend", ["smtp", "locmem"])
def test_the_banner_says_nothing_of_files_when_mails_are_sent(settings: Any, backend: str) -> None:
    settings.MAILERS = {"default": {"BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"}}
    assert "E-mails" not in banner("http://127.0.0.1:8000")


class _NoServer:
    """Stands in for granian: serve's checks run, nothing listens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def serve(self) -> None:
        pass


@pytest.mark.parametrize(
    ("workers", "redis", "warned"),
    [(2, "", True), (1, "", False), (2, "redis://127.0.0.1:6379/0", False)],
)
def test_serve_says_when_its_workers_share_no_counters(
    settings: Any, monkeypatch: pytest.MonkeyPatch, workers: int, redis: str, warned: bool
) -> None:
    # Without REDIS_URL each worker kept its own login limits and cache: 2 workers let 20
    # bad passwords through a limit of 10, round-robin, and nothing said so.
    import granian
    from django.core.management import call_command

    monkeypatch.setattr(granian, "Granian", _NoServer)
    settings.DEBUG = True  # the secrets a production start needs are not the point here
    settings.REDIS_URL = redis
    settings.GATEWAY_REDIS_URL = ""
    out, err = io.StringIO(), io.StringIO()
    call_command("serve", workers=workers, stdout=out, stderr=err)
    said = "REDIS_URL is not set" in err.getvalue()
    assert said == warned, err.getvalue()
    if warned:
        assert f"each of the {workers} workers" in err.getvalue()


def test_serve_names_a_variable_that_looks_like_a_setting_it_does_not_read(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DATABSE_URL=postgres://... was ignored without a word: the portal started on its
    # embedded SQLite file, and each replica on its own.
    import granian
    from django.core.management import call_command

    monkeypatch.setattr(granian, "Granian", _NoServer)
    settings.DEBUG = True
    monkeypatch.setenv("DATABSE_URL", "postgres://portal@db/portal")
    monkeypatch.setenv("REDIS_URI", "redis://cache:6379/0")
    monkeypatch.setenv("GATEWAY_SERVICE_HOST", "10.96.0.12")  # Kubernetes' own: not a typo
    monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")  # the gateway's, in a shared env file
    err = io.StringIO()
    call_command("serve", workers=1, stdout=io.StringIO(), stderr=err)
    said = err.getvalue()
    assert "DATABSE_URL is not a setting the portal reads: did you mean DATABASE_URL?" in said
    assert "REDIS_URI is not a setting the portal reads: did you mean REDIS_URL?" in said
    assert "GATEWAY_SERVICE_HOST" not in said and "GATEWAY_HOST" not in said
    assert "postgres://" not in said

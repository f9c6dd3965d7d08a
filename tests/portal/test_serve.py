"""`manage.py serve`'s start banner (what `make run` prints last)."""

from __future__ import annotations

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

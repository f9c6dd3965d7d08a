from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """docs/screenshots when UPDATE_SCREENSHOTS=1 (to refresh the README's), else a temp dir."""
    return SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def imported(transactional_db: None):  # type: ignore[no-untyped-def]
    def do_import(path: Path | str, slug: str, **options: object) -> None:
        call_command(
            "importspec", str(path), slug=slug, publish=True, stdout=io.StringIO(), **options
        )

    return do_import

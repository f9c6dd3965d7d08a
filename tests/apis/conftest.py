from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from apis.models import Api
from tests.conftest import DEMO_SPECS

ImportSpec = Callable[..., Api]


@pytest.fixture
def import_spec(db: None) -> ImportSpec:
    """Imports a spec file through the real `importspec` command and returns its API."""

    def do_import(path: Path | str, slug: str, *, publish: bool = True, **options: object) -> Api:
        call_command(
            "importspec", str(path), slug=slug, publish=publish, stdout=io.StringIO(), **options
        )
        return Api.objects.get(slug=slug)

    return do_import


@pytest.fixture
def petstore(import_spec: ImportSpec) -> Api:
    return import_spec(DEMO_SPECS / "petstore.yaml", "petstore")


@pytest.fixture
def echo(import_spec: ImportSpec) -> Api:
    return import_spec(DEMO_SPECS / "echo.yaml", "echo")


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write

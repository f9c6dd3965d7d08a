from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from apis.models import Api
from tests.conftest import DEMO_SPECS, ImportSpec


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


def found_by(api: Api, query: str) -> bool:
    """Whether the catalog's search (its index, as the page uses it) finds `api` for `query`."""
    from apis.search import matching_apis

    return matching_apis(Api.objects.all(), query).filter(pk=api.pk).exists()

"""The portal from a read-only code folder: static files collected at build time with
hashed, precompressed names and far-future caching; pages compressed when accepted."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO_ROOT
from tests.portal.services import Served, manage, production_env, serving

YEAR = 365 * 24 * 3600


def _copy_of_the_code(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file() and "node_modules" not in source.parts:
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def _read_only_mount_works(folder: Path) -> bool:
    probe = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} {folder}"
    done = subprocess.run(["unshare", "-m", "sh", "-c", probe], capture_output=True)
    return done.returncode == 0


@pytest.fixture(scope="module")
def read_only_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    code = _copy_of_the_code(tmp_path_factory.mktemp("code"))
    data = tmp_path_factory.mktemp("data")
    if shutil.which("unshare") is None or not _read_only_mount_works(code):
        pytest.skip("needs `unshare -m` and bind mounts (root) to make the code read-only")
    env = production_env(data, IDENTITY_BUILTIN="1")
    manage(env, "migrate", "--no-input", "-v", "0", cwd=code)
    manage(env, "collectstatic", "--no-input", "-v", "0", cwd=code)  # the build step
    before = sorted(p.relative_to(code) for p in code.rglob("*") if "__pycache__" not in p.parts)
    # The code folder is mounted read-only for the server process alone.
    serve = (
        f"mount --bind {code} {code} && mount -o remount,ro,bind {code} {code} && "
        f"exec {sys.executable} manage.py serve"
    )
    with serving(
        env, data / "serve.log", cwd=code, command=["unshare", "-m", "sh", "-c", serve]
    ) as served:
        yield served
    after = sorted(p.relative_to(code) for p in code.rglob("*") if "__pycache__" not in p.parts)
    assert after == before


def test_pages_link_hashed_static_files_cached_for_a_year(read_only_portal: Served) -> None:
    page = requests.get(read_only_portal.url("/apis/"), timeout=10)
    assert page.status_code == 200
    css = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page.text)
    assert css, "the stylesheet link carries no content hash"
    response = requests.get(read_only_portal.url(css.group(1)), timeout=10)
    assert response.status_code == 200
    assert f"max-age={10 * YEAR}" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]


def test_static_files_are_sent_precompressed(read_only_portal: Served) -> None:
    page = requests.get(read_only_portal.url("/apis/"), timeout=10)
    css = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page.text)
    assert css
    plain = requests.get(
        read_only_portal.url(css.group(1)), headers={"Accept-Encoding": "identity"}, timeout=10
    )
    gz = requests.get(
        read_only_portal.url(css.group(1)), headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert gz.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert gz.content == plain.content  # requests decodes the gzip body
    assert int(gz.headers["Content-Length"]) < len(plain.content)


@pytest.mark.parametrize("path", ["/apis/", "/idp/.well-known/openid-configuration"])
def test_html_and_json_are_compressed_when_accepted(read_only_portal: Served, path: str) -> None:
    gz = requests.get(read_only_portal.url(path), headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert gz.status_code == 200, gz.text[:500]
    assert gz.headers.get("Content-Encoding") == "gzip", (gz.headers, gz.text[:500])
    plain = requests.get(
        read_only_portal.url(path), headers={"Accept-Encoding": "identity"}, timeout=10
    )
    assert "Content-Encoding" not in plain.headers

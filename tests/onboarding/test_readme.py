"""The README's onboarding lines, run as written with curl and jq against a live portal: the
four that register and subscribe an application, then the two that call an API with it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from applications import flows
from applications.models import Application
from products.models import Subscription
from tests.conftest import REPO_ROOT

MARKER = "<!-- onboarding: tests/onboarding/test_readme.py runs these lines -->"
CALL_MARKER = "<!-- onboarding: tests/onboarding/test_readme.py runs these lines too -->"


def readme_lines(marker: str = MARKER) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    found = re.search(re.escape(marker) + r"\s*```sh\n(.*?)```", text, re.S)
    assert found, "the README's onboarding block is missing"
    return found.group(1)


def test_readme_has_four_lines() -> None:
    assert len(readme_lines().strip().splitlines()) == 4


@pytest.mark.django_db(transaction=True)
def test_readme_onboarding_lines_work(
    live_server: Any, tmp_path: Path, ada: Any, echo: Any, make_product: Any
) -> None:
    if shutil.which("curl") is None or shutil.which("jq") is None:
        pytest.skip("curl and jq are needed to run the README's lines")
    make_product("starter", echo)
    cli = flows.register(ada, name="My CLI", kind="machine", redirect_uris=[])
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "PORTAL": live_server.url,
        "CLIENT_ID": cli.application.client_id,
        "CLIENT_SECRET": cli.secret,
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_lines()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["starter", "active"]
    made = json.loads((tmp_path / "app.json").read_text())
    assert made["name"] == "Nightly export" and made["client_secret"]
    app = Application.objects.get(uuid=made["id"], owner=ada)
    sub = Subscription.objects.get(application=app)
    assert sub.state == Subscription.ACTIVE and sub.product.slug == "starter"


MACHINE_APP = """
from django.contrib.auth.models import User
from applications import flows
made = flows.register(User.objects.get(username="demo"), name="CLI", kind="machine", redirect_uris=[])
print(made.application.client_id, made.secret)
"""


def test_readme_lines_onboard_then_call_the_echo_api_under_make_run(tmp_path: Path) -> None:
    """What a newcomer runs after `make run`: the four lines, then the two that call an API as
    the new application (the README stopped at subscribing, with no word of the call)."""
    if shutil.which("curl") is None or shutil.which("jq") is None:
        pytest.skip("curl and jq are needed to run the README's lines")
    from tests.console.live import running_portal

    (tmp_path / "portal").mkdir()
    with running_portal(tmp_path / "portal") as portal:
        client_id, secret = portal.manage("shell", "-c", MACHINE_APP).split()[-2:]
        env = {
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "PORTAL": portal.base,
            "CLIENT_ID": client_id,
            "CLIENT_SECRET": secret,
        }
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_lines() + readme_lines(CALL_MARKER)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["starter", "unlimited", "active", "/anything"]

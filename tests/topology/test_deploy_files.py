"""The container files stay what the scale test runs: the Dockerfile passes hadolint, and
compose uses the scale test's commands and fills in every name of its nginx template."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.topology.cluster import NGINX_TEMPLATE

COMPOSE = REPO_ROOT / "deploy" / "compose.yaml"
# The commands tests/topology/cluster.py starts (after `python`/sys.executable).
SCALE_TEST_COMMANDS = {
    ("manage.py", "migrate", "--no-input"),
    ("manage.py", "serve"),
    ("-m", "gateway", "--host", "127.0.0.1", "--port", "<port>"),
}


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    done = subprocess.run(
        [str(hadolint), str(REPO_ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_runs_as_a_numeric_non_root_user_with_static_files_built_in() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.13-slim AS build$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    assert "collectstatic" in text and '\nCMD ["python", "manage.py", "serve"]' in text


def test_compose_runs_the_scale_test_commands() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    commands = set()
    for name, service in services.items():
        if service.get("image", "").startswith("api-portal"):
            command = service["command"]
            assert command[0] == "python", name
            commands.add(tuple("<port>" if a.isdigit() else a for a in command[1:]))
            assert service.get("read_only") is True, f"{name} must run read-only"
    assert commands == SCALE_TEST_COMMANDS
    assert sum(1 for s in services if s.startswith("portal-")) == 2
    assert sum(1 for s in services if s.startswith("gateway-")) == 2


def test_compose_fills_in_every_name_of_the_nginx_template() -> None:
    names = set(re.findall(r"\$\{(\w+)\}", NGINX_TEMPLATE.read_text()))
    nginx = yaml.safe_load(COMPOSE.read_text())["services"]["nginx"]
    assert names == set(nginx["environment"])
    assert any(v.endswith("/etc/nginx/templates/portal.conf.template:ro") for v in nginx["volumes"])


def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore's patterns (last match wins, `!` re-includes) keep `path` out of
    the build context; a pattern also covers everything under a folder it matches."""
    from fnmatch import fnmatchcase

    ignored = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(fnmatchcase(prefix, pattern) for prefix in prefixes):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        # compose's own instructions: `cp deploy/portal.env.example deploy/portal.env`, fill in
        # the secrets, `docker compose up --build` with the repository as the build context.
        "deploy/portal.env",
        ".env",
        ".secret_key",
        ".mail/20261201-120000-subscription.eml",  # the dev run's mails
        "db.sqlite3",
        "db.sqlite3-wal",
        "db.sqlite3-shm",
    ],
)
def test_local_secrets_and_data_stay_out_of_the_image(path: str) -> None:
    """`COPY . /app` copies whatever .dockerignore does not exclude into a layer of the
    image, which is pushed to a registry: the filled-in compose env file went with it."""
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert _docker_ignored(path, patterns), path


def test_the_balancer_waits_as_long_as_a_gateway_route_may() -> None:
    """A route's backend may take up to its `timeout` (at most 600 s, the configuration's
    schema); nginx's own default of 60 s cut a slower answer with its 504, whatever the route
    said. The gateway enforces each route's timeout itself."""
    import json

    schema = json.loads((REPO_ROOT / "gateway" / "config-schema.json").read_text())

    def timeouts(node: object) -> list[int]:
        found = []
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "timeout" and isinstance(value, dict) and "maximum" in value:
                    found.append(int(value["maximum"]))
                found += timeouts(value)
        elif isinstance(node, list):
            for value in node:
                found += timeouts(value)
        return found

    longest = max(timeouts(schema))
    gateway_site = NGINX_TEMPLATE.read_text().split("listen ${GATEWAY_LISTEN};")[1]
    for directive in ("proxy_read_timeout", "proxy_send_timeout"):
        found = re.search(rf"{directive} (\d+)s;", gateway_site)
        assert found and int(found.group(1)) >= longest, (directive, longest)

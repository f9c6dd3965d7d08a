"""The production topology on loopback: PostgreSQL, Redis, two portal processes, two gateway
processes and nginx in front, each started with the command its container runs (Dockerfile).

Set up the way docs/deploy.md tells an operator to: `migrate`, `collectstatic`,
`setup_portal_client`, `applyconfig` for the API, its gateway route and the console's
authorization server, then the processes with DEBUG off. No demo seed: production refuses
its well-known credentials (identity.E002).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import requests

from tests.conftest import DEMO_SPECS, REPO_ROOT
from tests.services import (
    PgCluster,
    RedisServer,
    ServiceError,
    free_port,
    postgres_cluster,
    redis_server,
    wait_for_port,
)

NGINX_TEMPLATE = REPO_ROOT / "deploy" / "nginx" / "portal.conf.template"
USERNAME = "ada"
PASSWORD = "topology-test-password-1"
CONSOLE_CLIENT_ID = "topology-console"
CONSOLE_CLIENT_SECRET = "topology-console-secret-" + "s" * 24
# A first-party machine client an operator sets up for scripts and probes (as the demo's
# service client): tokens straight from the provider, for the gateway checks.
SERVICE_CLIENT_ID = "topology-service"
SERVICE_CLIENT_SECRET = "topology-service-secret-" + "s" * 24
# Variables of the developer's own environment that must not leak into the processes.
_DROPPED = ("IDENTITY_", "CONSOLE_", "GATEWAY_", "OIDC_", "DATABASE_", "REDIS_", "SECURE_")


@dataclass
class Process:
    """One server process and its log; `stop()` is a graceful SIGTERM, as an orchestrator does."""

    name: str
    args: list[str]
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args, cwd=REPO_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self, path: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            try:
                if requests.get(self.base + path, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise ServiceError(f"{self.name} did not answer {path}:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class Topology:
    workdir: Path
    env: dict[str, str]
    portal_base: str  # nginx's portal site: the public origin
    gateway_base: str  # nginx's gateway site: the gateway's public origin
    postgres: PgCluster
    redis: RedisServer
    portals: list[Process] = field(default_factory=list)
    gateways: list[Process] = field(default_factory=list)
    nginx: Process | None = None

    def url(self, path: str) -> str:
        return self.portal_base + path

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise ServiceError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def apply(self, config: str) -> str:
        """`manage.py applyconfig` with this YAML (the echo spec sits beside it)."""
        path = self.workdir / "portal.yaml"
        path.write_text(config)
        return self.manage("applyconfig", str(path))

    def add_gateway(self, name: str) -> Process:
        """One more gateway process on a free port, started and answering its health path."""
        port = free_port()
        args = [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", str(port)]
        proc = Process(name, args, port, self.env, self.workdir / f"{name}.log")
        self.gateways.append(proc)
        proc.start()
        proc.wait_ready("/-/health")
        return proc

    def stop_gateways(self) -> None:
        for gateway in self.gateways:
            gateway.stop()

    def logs(self) -> str:
        procs = [*self.portals, *self.gateways, *([self.nginx] if self.nginx else [])]
        return "\n".join(f"--- {p.name}\n{p.tail(1500)}" for p in procs)


def production_env(workdir: Path, database_url: str, redis_url: str, portal_port: int,
                   gateway_port: int) -> dict[str, str]:  # fmt: skip
    """What docs/deploy.md's environment table sets, with loopback http instead of TLS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env.update(
        {
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "SECRET_KEY": "topology-test-secret-key-" + "k" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "IDENTITY_ISSUER": f"http://127.0.0.1:{portal_port}/idp",
            "IDENTITY_PORTAL_CLIENT_SECRET": "topology-portal-signin-secret-" + "p" * 20,
            # Plain http on loopback stands in for the TLS a real load balancer ends.
            # (and oauthlib's switch for the console's token requests to the provider, which
            # with DEBUG off otherwise insist on https, as they should in production).
            "SECURE_COOKIES": "0",
            "IDENTITY_LOOPBACK_HTTP": "1",
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "CONSOLE_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
            "GATEWAY_PUBLIC_HOST": f"127.0.0.1:{gateway_port}",
            # The provider's token endpoint is a private (loopback) target too.
            "OUTBOUND_ALLOWED_PRIVATE_HOSTS": f"127.0.0.1:{portal_port}",
            "TOPOLOGY_CONSOLE_SECRET": CONSOLE_CLIENT_SECRET,
            "STATIC_ROOT": str(workdir / "static"),
            "WORKERS": "1",
            "LOG_LEVEL": "WARNING",
            # nginx, as docs/deploy.md says to set it: its X-Forwarded-* and X-Request-ID
            # are believed, nobody else's.
            "TRUSTED_PROXIES": "127.0.0.1/32",
        }
    )
    return env


def api_config(
    *, scope: str = "echo.read", rate_limit: int = 1000, period: int = 60, key: str = "subject"
) -> str:
    """The echo API, its gateway route and the console's authorization server, as YAML."""
    return f"""\
apis:
  - slug: echo
    spec: echo.yaml
    published: true
    gateway:
      suffix: echo
      backend: echo
      validate-jwt:
        openid-config: ${{ISSUER}}/.well-known/openid-configuration
        audiences: [api://echo]
        required-claims:
          - {{name: scope, match: any, separator: " ", values: [{scope}], methods: [GET]}}
      rate-limit-by-key: {{calls: {rate_limit}, renewal-period: {period}, counter-key: {key}}}
authorization_servers:
  - slug: builtin
    name: Built-in provider
    issuer: ${{ISSUER}}
    authorize: ${{ISSUER}}/authorize/
    token: ${{ISSUER}}/token/
    client-id: {CONSOLE_CLIENT_ID}
    client-secret-env: TOPOLOGY_CONSOLE_SECRET
    grants: [authorization_code]
    console: true
    reference: true
    apis:
      - {{slug: echo, scopes: echo.read echo.write}}
"""


# Users and provider clients have no applyconfig section: an operator creates them in the
# admin; the test does the same with the models.
_CREATE_USER_AND_CLIENT = f"""
from django.contrib.auth import get_user_model
from identity.clients import ensure_client
from identity.models import Client
user, _ = get_user_model().objects.get_or_create(username={USERNAME!r})
user.first_name, user.last_name, user.email = "Ada", "Lovelace", "ada@example.com"
user.set_password({PASSWORD!r})
user.save()
# The console's client: every developer shares it, so no client credentials (issue 10).
ensure_client(
    client_id={CONSOLE_CLIENT_ID!r}, secret={CONSOLE_CLIENT_SECRET!r}, name="API console",
    grant=Client.GRANT_AUTHORIZATION_CODE, redirect_uris=[{{origin}} + "/console/callback/"],
)
ensure_client(
    client_id={SERVICE_CLIENT_ID!r}, secret={SERVICE_CLIENT_SECRET!r}, name="Probes",
    grant=Client.GRANT_CLIENT_CREDENTIALS, redirect_uris=[],
)
"""


def nginx_config(workdir: Path, values: dict[str, str]) -> Path:
    """nginx's main file around the shared site template: foreground, temp dirs of its own."""
    site = workdir / "portal.conf"
    site.write_text(Template(NGINX_TEMPLATE.read_text()).safe_substitute(values))
    temp = workdir / "nginx-temp"
    temp.mkdir()
    main = workdir / "nginx.conf"
    # As root, nginx's workers would drop to `nobody`, who cannot enter pytest's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/nginx-error.log warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n  access_log {workdir}/nginx-access.log;\n"
        f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
        f"  scgi_temp_path {temp}/scgi;\n  include {site};\n}}\n"
    )
    return main


@contextmanager
def running_topology(workdir: Path) -> Iterator[Topology]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise ServiceError("nginx is not installed (make bench-tools: apt-get install nginx-light)")
    with ExitStack() as stack:
        pg = stack.enter_context(postgres_cluster())
        cache = stack.enter_context(redis_server(workdir / "redis"))
        portal_port, gateway_port = free_port(), free_port()
        env = production_env(workdir, pg.url, cache.url, portal_port, gateway_port)
        top = Topology(
            workdir=workdir,
            env=env,
            portal_base=f"http://127.0.0.1:{portal_port}",
            gateway_base=f"http://127.0.0.1:{gateway_port}",
            postgres=pg,
            redis=cache,
        )
        shutil.copy(DEMO_SPECS / "echo.yaml", workdir / "echo.yaml")
        # The release step, then the one-time set-up.
        top.manage("migrate", "--no-input", "-v", "0")
        top.manage("collectstatic", "--no-input", "-v", "0")
        top.manage("setup_portal_client")
        top.manage(
            "shell", "-c", _CREATE_USER_AND_CLIENT.replace("{origin}", repr(top.portal_base))
        )
        top.apply(api_config().replace("${ISSUER}", env["IDENTITY_ISSUER"]))

        for i in (1, 2):
            port = free_port()
            top.portals.append(
                Process(f"portal-{i}", [sys.executable, "manage.py", "serve"], port,
                        {**env, "HOST": "127.0.0.1", "PORT": str(port)},
                        workdir / f"portal-{i}.log")
            )  # fmt: skip
            port = free_port()
            top.gateways.append(
                Process(f"gateway-{i}",
                        [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", str(port)],
                        port, env, workdir / f"gateway-{i}.log")
            )  # fmt: skip
        main = nginx_config(
            workdir,
            {
                "PORTAL_1": f"127.0.0.1:{top.portals[0].port}",
                "PORTAL_2": f"127.0.0.1:{top.portals[1].port}",
                "GATEWAY_1": f"127.0.0.1:{top.gateways[0].port}",
                "GATEWAY_2": f"127.0.0.1:{top.gateways[1].port}",
                "PORTAL_LISTEN": f"127.0.0.1:{portal_port}",
                "GATEWAY_LISTEN": f"127.0.0.1:{gateway_port}",
            },
        )
        top.nginx = Process(
            "nginx", [nginx, "-c", str(main), "-p", str(workdir), "-e", "stderr"],
            portal_port, env, workdir / "nginx.log",
        )  # fmt: skip
        for proc in [*top.portals, *top.gateways, top.nginx]:
            stack.callback(proc.stop)
            proc.start()
        for proc in top.portals:
            proc.wait_ready("/health/")
        for proc in top.gateways:
            proc.wait_ready("/-/health")
        wait_for_port(portal_port, "nginx", workdir / "nginx.log")
        top.nginx.wait_ready("/health/")
        # Gateways a test adds (add_gateway) stop with the others.
        stack.callback(top.stop_gateways)
        yield top

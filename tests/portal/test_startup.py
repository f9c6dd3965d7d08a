"""With DEBUG off, serving refuses to start without the secrets every replica must share
(SECURITY.md case 82), and each can come from a file (NAME_FILE)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.portal.services import production_env


def start(env: dict[str, str], module: str = "portal.wsgi") -> subprocess.CompletedProcess[str]:
    """Imports a serving entry point the way an application server does."""
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("module", ["portal.wsgi", "portal.asgi"])
def test_production_starts_with_its_secrets(tmp_path: Path, module: str) -> None:
    result = start(production_env(tmp_path), module)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", ["portal.wsgi", "portal.asgi"])
def test_case82_a_missing_secret_key_stops_start_up_and_is_named(
    tmp_path: Path, module: str
) -> None:
    result = start(production_env(tmp_path, SECRET_KEY=""), module)
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE)" in result.stderr
    assert "IDENTITY_PORTAL_CLIENT_SECRET" not in result.stderr


def test_a_missing_identity_secret_stops_start_up_when_the_provider_is_built_in(
    tmp_path: Path,
) -> None:
    result = start(production_env(tmp_path, IDENTITY_PORTAL_CLIENT_SECRET=""))
    assert result.returncode != 0
    assert "IDENTITY_PORTAL_CLIENT_SECRET (or IDENTITY_PORTAL_CLIENT_SECRET_FILE)" in result.stderr


@pytest.mark.parametrize("module", ["portal.wsgi", "portal.asgi"])
def test_a_missing_issuer_stops_start_up_when_the_provider_is_built_in(
    tmp_path: Path, module: str
) -> None:
    # Unset, the issuer was taken from each request's Host: with ALLOWED_HOSTS=* (or a
    # wildcard) anyone chose it (discovery said http://evil.example/idp and the portal's own
    # sign-in fetched its keys and sent its client secret there), and with two allowed names
    # tokens from one were refused under the other. Only `check --deploy` said so.
    result = start(production_env(tmp_path, IDENTITY_ISSUER="", ALLOWED_HOSTS="*"), module)
    assert result.returncode != 0
    assert "IDENTITY_ISSUER" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr.split("ImproperlyConfigured")[-1]


def test_an_external_provider_alone_needs_no_issuer(tmp_path: Path) -> None:
    result = start(
        production_env(
            tmp_path,
            IDENTITY_ISSUER="",
            IDENTITY_BUILTIN="0",
            IDENTITY_PORTAL_CLIENT_SECRET="",
            OIDC_ISSUER="https://login.example.com",
            OIDC_CLIENT_ID="portal",
            OIDC_CLIENT_SECRET="s" * 40,
        )
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["APPLICATIONS_CREATE_PER_HOUR", "SUBSCRIPTIONS_CREATE_PER_HOUR"])
def test_a_creation_limit_below_one_stops_start_up_and_is_named(tmp_path: Path, name: str) -> None:
    # 0 would refuse every new application (or subscription) with a message about a limit
    # the developer never reached; a mistake in the environment, said at start-up.
    result = start(production_env(tmp_path, **{name: "0"}))
    assert result.returncode != 0
    assert f"{name}='0'" in result.stderr and "at least 1" in result.stderr


def test_serve_refuses_before_listening(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "serve"],
        cwd=REPO_ROOT,
        env=production_env(tmp_path, SECRET_KEY="", PORT="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY (or SECRET_KEY_FILE)" in result.stderr


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    key, client_secret = tmp_path / "secret_key", tmp_path / "client_secret"
    key.write_text("k" * 30 + "abcdefghij" * 3 + "\n")
    client_secret.write_text("from-a-file\n")
    env = production_env(
        tmp_path,
        SECRET_KEY="",
        IDENTITY_PORTAL_CLIENT_SECRET="",
        SECRET_KEY_FILE=str(key),
        IDENTITY_PORTAL_CLIENT_SECRET_FILE=str(client_secret),
    )
    probe = (
        "import portal.wsgi; from django.conf import settings;"
        "print(settings.SECRET_KEY == 'k' * 30 + 'abcdefghij' * 3, settings.IDENTITY_PORTAL_CLIENT_SECRET)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "from-a-file"]


def test_every_secret_can_come_from_a_file(tmp_path: Path) -> None:
    # The subscription keys' encryption keys, the SMTP password and the metrics token are
    # secrets too: given as NAME_FILE (a container secret) they were ignored, so the keys were
    # quietly derived from SECRET_KEY, mail failed at its first send and /-/metrics said 401.
    from cryptography.fernet import Fernet

    fernet = Fernet.generate_key().decode()
    files = {
        "PRODUCTS_KEY_ENCRYPTION_KEYS": f"{fernet}\n{Fernet.generate_key().decode()}\n",
        "EMAIL_HOST_PASSWORD": "smtp-pass\n",
        "GATEWAY_METRICS_TOKEN": "metrics-token\n",
    }
    env = production_env(tmp_path, EMAIL_HOST="smtp.example.com")
    for name, value in files.items():
        (tmp_path / name).write_text(value)
        env[f"{name}_FILE"] = str(tmp_path / name)
    probe = (
        "import portal.wsgi; from django.conf import settings;"
        "print(len(settings.PRODUCTS_KEY_ENCRYPTION_KEYS), settings.PRODUCTS_KEY_ENCRYPTION_KEYS[0],"
        " settings.MAILERS['default']['OPTIONS']['password'], settings.GATEWAY_METRICS_TOKEN)"
    )
    result = start(env, probe.removeprefix("import "))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", fernet, "smtp-pass", "metrics-token"]
    both = start(
        production_env(tmp_path, GATEWAY_METRICS_TOKEN="t", GATEWAY_METRICS_TOKEN_FILE="/x")
    )
    assert "Set GATEWAY_METRICS_TOKEN or GATEWAY_METRICS_TOKEN_FILE, not both" in both.stderr


@pytest.mark.parametrize("module", ["portal.wsgi", "portal.asgi", "gateway.asgi"])
def test_start_up_objects_are_out_of_the_collectors_reach(tmp_path: Path, module: str) -> None:
    """A full garbage collection while serving no longer walks the ~100,000 objects made at
    start-up (16-20 ms a collection on the reference machine, on whichever request it lands):
    the collector sees only what was made after them."""
    probe = f"import {module}, gc; print(gc.get_freeze_count(), len(gc.get_objects()))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    frozen, walked = map(int, result.stdout.split())
    assert frozen > 50_000
    assert walked < frozen // 10


def test_no_source_file_makes_python_warn_at_start() -> None:
    # gateway/paths.py's docstring held "`\`", an invalid escape: the first `make run` and
    # every fresh deploy printed a SyntaxWarning before serving.
    import warnings

    files = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    noisy = []
    for name in files.stdout.split():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                compile((REPO_ROOT / name).read_text(), name, "exec")
            except SyntaxError as exc:
                noisy.append(f"{name}: {exc}")
    assert noisy == []


_FIRST_REQUEST = """
import io, sys
import portal.wsgi
from django.template.base import Template

compiled = []
compile_nodelist = Template.compile_nodelist
def spy(self):
    compiled.append(self.origin.template_name)
    return compile_nodelist(self)
Template.compile_nodelist = spy
ours = ("apis", "accounts", "applications", "console", "identity", "onboarding", "products",
        "usage", "portal", "gateway")
before = {m for m in sys.modules if m.split(".")[0] in ours}
for path in ("/", "/apis/"):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(),
               "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
    statuses = []
    b"".join(portal.wsgi.application(environ, lambda status, headers: statuses.append(status)))
    print(path, statuses[0])
print("compiled", sorted(set(compiled)))
print("imported", sorted({m for m in sys.modules if m.split(".")[0] in ours} - before))
"""


def test_the_first_request_of_a_worker_compiles_and_imports_nothing(tmp_path: Path) -> None:
    """The first page a fresh worker served took 0.4-0.6 s: it imported every view (through
    the URLconf), built the URL resolver's reverse map and compiled each template it used,
    where a page takes 10-30 ms afterwards. Starting the worker does that now."""
    env = production_env(tmp_path)
    migrate = [sys.executable, "manage.py", "migrate", "-v0"]
    subprocess.run(migrate, cwd=REPO_ROOT, env=env, check=True, timeout=120)
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_REQUEST],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["/ 200 OK", "/apis/ 200 OK"], result.stdout
    assert lines[2:] == ["compiled []", "imported []"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        # No database name: the portal started, then answered 500 to every request.
        ("postgres://portal:pw-s3cret@127.0.0.1:5432/", "names no database"),
        ("postgress://portal:pw-s3cret@127.0.0.1:5432/portal", "scheme 'postgress' is unknown"),
        ("postgres://portal:pw-s3cret@127.0.0.1:port/portal", "cannot be read"),
        # A "/" in a password not percent-encoded: host "pw-s3", database "cret@127.0.0.1/x".
        ("postgres://portal:pw-s3/cret@127.0.0.1:5432/portal", "cannot be read"),
        # A query option libpq does not know: psycopg refused it at each connection, so the
        # portal started and answered 500 to every request (migrate a traceback).
        ("postgres://portal:pw-s3cret@127.0.0.1/portal?conn_max_age=60", "'conn_max_age'"),
        ("postgres://portal:pw-s3cret@127.0.0.1/portal?ssl_mode=require", "'ssl_mode'"),
        ("postgres://portal:pw-s3cret@127.0.0.1/portal?sslmode=required", "sslmode='required'"),
        # An in-memory database: each connection its own empty one ("no such table").
        ("sqlite://", "in memory"),
        ("sqlite:///:memory:", "in memory"),
    ],
)
def test_a_database_url_that_cannot_work_stops_start_up_and_is_named(
    tmp_path: Path, url: str, said: str
) -> None:
    result = start(production_env(tmp_path, DATABASE_URL=url), "portal.asgi")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr and said in result.stderr, result.stderr
    assert "pw-s3cret" not in result.stderr


def test_a_database_url_with_libpq_options_and_a_socket_is_taken(tmp_path: Path) -> None:
    # The trailing blank an env file keeps named the database "portal " (500 on every page).
    url = (
        " postgres://portal:p%40ss%3Aw%2Fd@%2Fvar%2Frun%2Fpostgresql/portal"
        "?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem&target_session_attrs=read-write"
        "&application_name=portal&options=-c%20statement_timeout%3D5000 "
    )
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['HOST'], d['PASSWORD'], d['OPTIONS']['sslmode'], repr(d['OPTIONS']['options']))"
    )
    result = start(production_env(tmp_path, DATABASE_URL=url), "django; django.setup(); " + code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "/var/run/postgresql", "p@ss:w/d", "verify-full", "'-c", "statement_timeout=5000'"
    ]  # fmt: skip


def _serve(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command) or [sys.executable, "manage.py", "serve"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"WORKERS": "two"}, "WORKERS='two' is not an integer"),
        ({"PORT": "eighty"}, "PORT='eighty' is not an integer"),
        ({"PORT": "70000"}, "PORT='70000' must be at most 65535"),
        ({"DEBUG": "flase"}, "DEBUG='flase' is not a boolean"),
        ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"),
        (
            {"OIDC_ISSUER": "https://login.example.com"},
            "OIDC_CLIENT_ID is required when OIDC_ISSUER is set",
        ),
        ({"OIDC_EXTRA_PROVIDERS": "okta"}, "OIDC_OKTA_ISSUER is required for provider 'okta'"),
        # Found only once granian's worker had started (a traceback after "Listening at").
        ({"REDIS_URL": "cache.internal:6379"}, "REDIS_URL is not a Redis URL"),
    ],
)
def test_serve_names_a_bad_setting_in_one_message_before_listening(
    tmp_path: Path, extra: dict[str, str], said: str
) -> None:
    result = _serve(production_env(tmp_path, **{"PORT": "1", **extra}))
    assert result.returncode != 0
    assert said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Listening" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"GATEWAY_PORT": "http"}, "GATEWAY_PORT='http' is not an integer"),
        ({"GATEWAY_WORKERS": "auto"}, "GATEWAY_WORKERS='auto' is not an integer"),
        ({"GATEWAY_PORT": "70000"}, "GATEWAY_PORT='70000' must be at most 65535"),
        # Read by each worker as it starts: a traceback per worker.
        ({"DEBUG": "flase"}, "Configuration error: DEBUG='flase' is not a boolean"),
        # Every call through the gateway's public name was 400 'check: host', nothing said.
        (
            {"GATEWAY_HOSTS": "https://gw.example.com"},
            "Configuration error: GATEWAY_HOSTS: 'https://gw.example.com' can never match",
        ),
        ({"REDIS_URL": "cache.internal:6379"}, "Configuration error: REDIS_URL is not a Redis URL"),
    ],
)
def test_the_gateway_names_a_bad_setting_in_one_message(
    tmp_path: Path, extra: dict[str, str], said: str
) -> None:
    env = production_env(tmp_path, **extra)
    result = _serve(env, sys.executable, "-m", "gateway", "--port", "0")
    assert result.returncode != 0
    assert said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"SECRET_KEY": "changeme"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 4}, "SECRET_KEY is too weak"),
        # Long, but one character (or a few) repeated: no secret at all, taken as given.
        ({"SECRET_KEY": "x" * 64}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "abab" * 20}, "SECRET_KEY is too weak"),
        # The dev run's public default, which anyone can read in settings.py.
        (
            {"IDENTITY_PORTAL_CLIENT_SECRET": "portal-signin-demo-secret"},
            "IDENTITY_PORTAL_CLIENT_SECRET is too weak",
        ),
    ],
)
def test_a_weak_secret_stops_start_up_and_is_named(
    tmp_path: Path, extra: dict[str, str], said: str
) -> None:
    # A placeholder key signed every session and derived the subscription keys' encryption
    # key, with nothing said but `check --deploy`'s warning.
    result = start(production_env(tmp_path, **extra), "portal.asgi")
    assert result.returncode != 0
    assert said in result.stderr, result.stderr
    assert "changeme" not in result.stderr and "demo-secret" not in result.stderr


@pytest.mark.parametrize(
    "hosts", ["https://portal.example.com", "portal.example.com:443", "portal.example.com/"]
)
def test_an_allowed_host_that_can_never_match_stops_serve(tmp_path: Path, hosts: str) -> None:
    # Django compares the Host header's name without its port against each entry: these
    # never matched, and every page answered 400 with nothing said at start.
    result = _serve(production_env(tmp_path, PORT="1", ALLOWED_HOSTS=f"127.0.0.1,{hosts}"))
    assert result.returncode != 0
    assert f"ALLOWED_HOSTS: {hosts!r} can never match" in result.stderr, result.stderr
    assert "Listening" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        # psycopg_pool refused the pool at the first request: every page a 500.
        (
            {"DATABASE_POOL_MIN_SIZE": "10"},
            "DATABASE_POOL_MIN_SIZE='10' is above DATABASE_POOL_MAX_SIZE",
        ),
        ({"DATABASE_POOL_MAX_SIZE": "0"}, "DATABASE_POOL_MAX_SIZE='0' must be at least 1"),
        # libpq reads 0 as "wait for ever": the fail-fast answer while PostgreSQL is down went.
        ({"DATABASE_CONNECT_TIMEOUT": "0"}, "DATABASE_CONNECT_TIMEOUT='0' must be at least 1"),
        ({"REDIS_TIMEOUT": "0"}, "REDIS_TIMEOUT='0' must be at least 1"),
        # Every session ended on its next request: nobody stayed signed in.
        ({"SESSION_IDLE_TIMEOUT": "0"}, "SESSION_IDLE_TIMEOUT='0' must be at least 60"),
        ({"SESSION_COOKIE_AGE": "-1"}, "SESSION_COOKIE_AGE='-1' must be at least 60"),
        # The catalog divided by it: every catalog page a 500 (ZeroDivisionError).
        ({"APIS_PAGE_SIZE": "0"}, "APIS_PAGE_SIZE='0' must be at least 1"),
        # Every gateway process would re-read its configuration in a busy loop.
        ({"GATEWAY_CONFIG_REFRESH": "0"}, "GATEWAY_CONFIG_REFRESH='0' must be at least 1"),
        ({"OIDC_TIMEOUT": "-5"}, "OIDC_TIMEOUT='-5' must be at least 1"),
        ({"CONSOLE_READ_TIMEOUT": "0"}, "CONSOLE_READ_TIMEOUT='0' must be at least 1"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS='-1' must be at least 0"),
        ({"EMAIL_PORT": "70000"}, "EMAIL_PORT='70000' must be at most 65535"),
    ],
)
def test_a_number_that_cannot_work_stops_start_up_and_is_named(
    tmp_path: Path, extra: dict[str, str], said: str
) -> None:
    env = production_env(tmp_path, DATABASE_URL="postgres://portal@127.0.0.1:1/portal", **extra)
    result = start(env, "portal.asgi")
    assert result.returncode != 0
    assert said in result.stderr, result.stderr[-1500:]


def test_log_level_is_read_in_any_case_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    # logging knows only upper-case names: LOG_LEVEL=info stopped every process with a
    # ValueError traceback from logging's configuration, as did a misspelt level.
    assert start(production_env(tmp_path, LOG_LEVEL="info"), "portal.asgi").returncode == 0
    result = start(production_env(tmp_path, LOG_LEVEL="verbose"), "portal.asgi")
    assert result.returncode != 0
    assert "LOG_LEVEL='verbose'" in result.stderr and "DEBUG, INFO, WARNING" in result.stderr


@pytest.mark.parametrize(
    "origin", ["https://portal.example.com/", "https://portal.example.com/portal"]
)
def test_a_trusted_origin_that_can_never_match_stops_serve(tmp_path: Path, origin: str) -> None:
    # A browser's Origin header has no path: Django compares it with each entry as written,
    # so an entry with one (a trailing slash) never matched, and behind a TLS proxy every
    # sign-out, console send and admin save was a 403 CSRF failure.
    env = production_env(tmp_path, PORT="1", CSRF_TRUSTED_ORIGINS=origin)
    result = _serve(env)
    assert result.returncode != 0
    assert f"CSRF_TRUSTED_ORIGINS: {origin!r} can never match" in result.stderr, result.stderr
    assert "Listening" not in result.stdout + result.stderr


def test_serve_says_when_allowed_hosts_is_left_to_its_loopback_default(tmp_path: Path) -> None:
    # Unset with DEBUG off, the portal answered only 127.0.0.1, localhost and [::1]: behind a
    # balancer every page naming the public host was a 400, and nothing said why.
    def run(*args: str, **env: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT, env=production_env(tmp_path, **env), capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        return result.stdout + result.stderr

    deploy = run("check", "--deploy", ALLOWED_HOSTS="")
    assert "portal.W003" in deploy and "ALLOWED_HOSTS is not set" in deploy
    assert "portal.W003" not in run("check", "--deploy")
    # serve says it before anything else (here it then stops on a port it cannot read).
    assert "ALLOWED_HOSTS is not set" in run("serve", ALLOWED_HOSTS="", PORT="eighty")
    # Not on every other command of a developer's machine, where it was noise.
    assert "ALLOWED_HOSTS" not in run("check", ALLOWED_HOSTS="")


@pytest.mark.parametrize(
    "url",
    [
        "portal.example.com",
        "//portal.example.com",
        "ftp://portal.example.com",
        "https://x.example?a=1",
    ],
)
def test_a_site_url_that_is_no_web_address_stops_serve(tmp_path: Path, url: str) -> None:
    # SITE_URL begins every link in a mail: without a scheme and host they read
    # 'portal.example.com/products/subscriptions/...', which no mail client opens, with
    # nothing said at start.
    result = _serve(production_env(tmp_path, PORT="1", SITE_URL=url))
    assert result.returncode != 0
    assert f"SITE_URL: {url!r} is not" in result.stderr, result.stderr
    assert "Listening" not in result.stdout + result.stderr


def test_a_site_url_with_a_path_is_taken(tmp_path: Path) -> None:
    result = _serve(production_env(tmp_path, PORT="eighty", SITE_URL="https://example.com/portal/"))
    assert "SITE_URL" not in result.stderr and "PORT='eighty'" in result.stderr


def test_an_ssl_redirect_that_believes_no_proxy_stops_serve(tmp_path: Path) -> None:
    # serve speaks plain HTTP only: with SECURE_SSL_REDIRECT=1 and no X-Forwarded-Proto
    # believed (TRUSTED_PROXIES unset, BEHIND_TLS_PROXY off), every request, the balancer's
    # https ones included, was redirected to https: a redirect loop on every page.
    result = _serve(production_env(tmp_path, PORT="eighty", SECURE_SSL_REDIRECT="1"))
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT=1 would redirect every request" in result.stderr, result.stderr
    assert "PORT" not in result.stderr
    for proxy in ({"TRUSTED_PROXIES": "10.0.0.0/8"}, {"BEHIND_TLS_PROXY": "1"}):
        env = production_env(tmp_path, PORT="eighty", SECURE_SSL_REDIRECT="1", **proxy)
        result = _serve(env)
        assert "SECURE_SSL_REDIRECT" not in result.stderr and "PORT='eighty'" in result.stderr


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        # Implicit TLS (SMTPS, port 465), which many providers give: EMAIL_USE_SSL was not read,
        # so the portal spoke plain SMTP then STARTTLS to it and every mail timed out.
        ({"EMAIL_USE_SSL": "1"}, "465 True False"),
        ({"EMAIL_PORT": "465"}, "465 True False"),
        ({"EMAIL_PORT": "587"}, "587 False True"),
        ({}, "587 False True"),
    ],
)
def test_smtp_over_implicit_tls_is_configurable(
    tmp_path: Path, extra: dict[str, str], said: str
) -> None:
    env = production_env(tmp_path, EMAIL_HOST="smtp.example.com", **extra)
    code = (
        "from django.conf import settings; o = settings.MAILERS['default']['OPTIONS']; "
        "print(o['port'], o.get('use_ssl', False), o['use_tls'])"
    )
    result = start(env, "django; django.setup(); " + code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == said


def test_smtp_with_both_tls_modes_stops_start_up(tmp_path: Path) -> None:
    env = production_env(
        tmp_path, EMAIL_HOST="smtp.example.com", EMAIL_USE_SSL="1", EMAIL_USE_TLS="1"
    )
    result = start(env)
    assert result.returncode != 0
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL" in result.stderr, result.stderr


@pytest.mark.parametrize("value", ["0.0.0.0/0", "10.0.0.0/8,::/0", "0.0.0.0/0.0.0.0"])
def test_trusting_every_address_as_a_proxy_stops_start_up(tmp_path: Path, value: str) -> None:
    # With every address a trusted proxy, the walk of X-Forwarded-For never stops at the real
    # client: the leftmost entry, which the client writes, became its address, so anyone
    # chose the address the login limits and the gateway's per-address keys count.
    result = start(production_env(tmp_path, TRUSTED_PROXIES=value))
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr and "trusts every address" in result.stderr
    assert "Traceback" not in result.stderr.split("ImproperlyConfigured")[-1]


def test_serve_says_when_the_issuer_is_a_host_the_portal_refuses(tmp_path: Path) -> None:
    # The built-in provider is the portal itself: an issuer on a host ALLOWED_HOSTS lacks
    # sent every sign-in to a 400 page, and only `check --deploy` said why.
    env = production_env(
        tmp_path, PORT="eighty", ALLOWED_HOSTS="portal.example.com",
        IDENTITY_ISSUER="https://portal.example.org/idp",
    )  # fmt: skip
    said = _serve(env).stderr
    assert "IDENTITY_ISSUER's host 'portal.example.org' is not in ALLOWED_HOSTS" in said, said
    env["IDENTITY_ISSUER"] = "https://portal.example.com/idp"
    assert "IDENTITY_ISSUER" not in _serve(env).stderr


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("::", "http://[::1]:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::1", "http://[::1]:8000"),
    ],
)
def test_the_addresses_derived_from_host_are_urls(tmp_path: Path, host: str, origin: str) -> None:
    # HOST=:: (listen on IPv6) made the console's default gateway URL 'http://:::8000/gateway'
    # and serve refused to start over a variable the operator never set; HOST=0.0.0.0 (the
    # image's) sent the console's calls to 0.0.0.0, an address the outbound checks refuse.
    env = production_env(tmp_path, HOST=host, DEBUG="1")
    code = (
        "from django.conf import settings; "
        "print(settings.CONSOLE_GATEWAY_URL, settings.SITE_URL, settings.IDENTITY_ISSUER)"
    )
    env.pop("IDENTITY_ISSUER")
    result = start(env, "django; django.setup(); " + code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"{origin}/gateway", origin, f"{origin}/idp"]
    check = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO_ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr

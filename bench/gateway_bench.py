"""Gateway throughput and latency beside nginx and Apache + mod_auth_openidc, in one run.

    python -m bench gateway_bench        (or: python bench/gateway_bench.py)

Starts everything on free loopback ports in a temporary directory and stops it afterwards:

- a trivial backend: nginx answering a fixed JSON body; the same nginx also serves the
  test provider's discovery document and JWKS over http, and the JWKS over https with a
  self-signed certificate (mod_auth_openidc fetches a JWKS only over https);
- (a) wrk straight at the backend; (b) nginx proxying to it with keep-alive upstreams;
- (c) Apache httpd (mpm_event) with mod_auth_openidc validating the RS256 token locally from
  the JWKS (AuthType oauth20, Require claim aud) and proxying to the backend;
- (d) the gateway as operators run it: `python -m gateway` (its own server, BENCH_GATEWAY_WORKERS
  workers) with its route written to a SQLite database by `manage.py applyconfig`: a spec with
  one operation, validate-jwt (discovery, audience, RFC 9068 checks, a required scope) in
  front of the same backend; every check on (path, host, operation match, override headers,
  the per-second configuration check), access log on, usage recording on. With
  BENCH_TOPOLOGY=redis (the default, production's) the gateways have a Redis (REDIS_URL): the
  configuration check reads its version key, the gateway's summed usage cells go to its
  stream. With BENCH_TOPOLOGY=embedded there is no Redis: the configuration check queries the
  database's fingerprint every second and the gateway writes its cells' rollups into the
  database itself (or to a Redis stream with BENCH_USAGE_SINK=redis); `calls_stored` is the
  calls found in the minute rollups after the run, against the calls sent.
  BENCH_USAGE_RAW_EVENTS=1 runs the recording gateway with USAGE_RAW_EVENTS (one raw event
  per call, the path before the gateway summed calls itself);
- (e) the same gateway with usage recording off (USAGE_RECORDING=0), so one run shows what
  recording costs: `usage_cost_ms` on row (d) is its p50 minus (e)'s, and `record_us` is the
  recorder's own work per call on the event loop (usage.recorder's counting + record and the
  flusher's share, CPU time in this process over 200,000 calls; `record_raw_us` the same
  with USAGE_RAW_EVENTS).
- (f) the recording gateway on a second route that also needs a subscription key (an API
  in a product with subscription-required; the key made by `products.flows.subscribe`): the
  key check and validate-jwt both on every call, as issue 9 measures it.
- (g) the gateway of (e), recording off, on the keyed route: `key_cost_ms` is its p50 minus
  (e)'s, the key check's cost with nothing else different (same process, no recording whose
  store grows while the rows run).

Every gateway row also gets `cpu_us`: the CPU time (user + system, from /proc) its gateway
process and its workers spent per call during that row's wrk run. On a shared machine this is
the steadier yardstick: req/s moves with other people's load, CPU per call much less.
BENCH_AB_REPO=<another checkout> adds (h): the gateway of (e) run from that tree's code (same
database, route, backend and settings), in the same interleaved rounds, for an A/B of two builds.

Then the paced rounds: every target again, each wrk connection pausing a random 0 to 2 x
BENCH_PACED_MS (4) ms between calls (about 7,000 calls a second, a third of the gateway's
saturation): `paced_p50_ms` is each call's own time rather than queueing behind 31 others.
`usage_cost_paced_ms` and `key_cost_paced_ms` are the two costs above from these medians, each
the median over rounds of the two rows' difference in the same round: what recording and the
key check add to a call at a steady load. With BENCH_AB_REPO, row (h)'s `vs_e_paced_ms` is
the same difference against (e). BENCH_PACED_MS=0 skips the paced rounds.

Each target gets the same valid token and `wrk -t2 -c32 -d10s --latency` after a short
warm-up, in BENCH_ROUNDS (3) interleaved rounds, every other round in reverse order so no row
always runs last; each row is the median round (errors summed over all rounds), with every
round's req/s beside it (and `cpu_us` for gateway rows, above). BENCH_PYSPY=<folder> also profiles each gateway row once with py-spy
under wrk (collapsed stacks; `python bench/pyspy_top.py <folder>/d.txt` lists the hot spots). Needs the Debian packages nginx-light, apache2, libapache2-mod-auth-openidc and wrk.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
# Two workers: Apache runs several processes too, and on a shared machine the scheduler
# gives each busy process its share.
GATEWAY_WORKERS = int(os.environ.get("BENCH_GATEWAY_WORKERS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
APACHE_MODULES = Path("/usr/lib/apache2/modules")
# Where the recording gateway (d) writes usage: "database" (the rollups, or with raw events the
# raw table, as in the embedded default) or "redis" (a Redis stream, as in production).
USAGE_SINK = os.environ.get("BENCH_USAGE_SINK", "database")
# "redis": the gateways share a Redis, as in production; "embedded": no Redis at all.
TOPOLOGY = os.environ.get("BENCH_TOPOLOGY", "redis")
if TOPOLOGY == "redis":
    USAGE_SINK = "redis"
# A folder: profile each gateway row with py-spy under wrk once after the warm-up.
PYSPY = os.environ.get("BENCH_PYSPY", "")
# The paced rounds' pause between a connection's calls, in ms (0: no paced rounds).
PACED_MS = int(os.environ.get("BENCH_PACED_MS", "4"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None and proc.returncode != 0:
                raise RuntimeError(f"{proc.args!r} exited: {log.read_text()[-2000:]}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {port} never opened: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _material(tmp: Path, issuer: str) -> str:
    """Keys, JWKS, discovery and TLS files in `tmp`; returns a valid access token."""
    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "bench-1", "use": "sig", "alg": "RS256"})
    (tmp / "www").mkdir()
    (tmp / "www" / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    (tmp / "www" / "openid-configuration").write_text(
        json.dumps({"issuer": issuer, "jwks_uri": issuer + "/jwks.json"})
    )
    tls_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(tls_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(tls_key, hashes.SHA256())
    )
    (tmp / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "tls.key").write_bytes(
        tls_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    t = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "bench-user",
        "aud": "api://bench",
        "client_id": "bench-client",
        "scope": "bench.read",
        "iat": t,
        "exp": t + 3600,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench-1", "typ": "at+jwt"})


def _nginx_conf(tmp: Path, name: str, workers: int, servers: str) -> Path:
    conf = tmp / f"{name}.conf"
    conf.write_text(
        f"""
worker_processes {workers};
pid {tmp}/{name}.pid;
error_log {tmp}/{name}.error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/{name}-body;
    proxy_temp_path {tmp}/{name}-proxy;
    fastcgi_temp_path {tmp}/{name}-fcgi;
    uwsgi_temp_path {tmp}/{name}-uwsgi;
    scgi_temp_path {tmp}/{name}-scgi;
    keepalive_requests 1000000;
    {servers}
}}
"""
    )
    return conf


def _apache_conf(tmp: Path, port: int, jwks_https: str, backend: int) -> Path:
    conf = tmp / "apache.conf"
    run_user = "www-data" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
    conf.write_text(
        f"""
ServerRoot {tmp}
ServerName 127.0.0.1
LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so
LoadModule authn_core_module {APACHE_MODULES}/mod_authn_core.so
LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so
LoadModule auth_openidc_module {APACHE_MODULES}/mod_auth_openidc.so
LoadModule proxy_module {APACHE_MODULES}/mod_proxy.so
LoadModule proxy_http_module {APACHE_MODULES}/mod_proxy_http.so
User {run_user}
Group {run_user}
Listen 127.0.0.1:{port}
PidFile {tmp}/apache.pid
ErrorLog {tmp}/apache.error.log
LogLevel warn
Mutex file:{tmp} default
DefaultRuntimeDir {tmp}
KeepAlive On
MaxKeepAliveRequests 0
OIDCCryptoPassphrase {uuid.uuid4().hex}
OIDCOAuthVerifyJwksUri {jwks_https}
OIDCOAuthSSLValidateServer Off
OIDCOAuthRemoteUserClaim sub
<Location />
    AuthType oauth20
    Require claim aud:api://bench
</Location>
ProxyPass / http://127.0.0.1:{backend}/ keepalive=On
"""
    )
    return conf


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(
    url: str, token: str, duration: int, key: str | None = None, script: Path | None = None
) -> dict[str, Any]:
    cmd = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{duration}s",
        "--latency",
        *(["-s", str(script)] if script else []),
        "-H",
        f"Authorization: Bearer {token}",
        *(["-H", f"Ocp-Apim-Subscription-Key: {key}"] if key else []),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if sock:
        errors += sum(int(x) for x in sock.groups())
    return {
        "req_s": round(float(rps.group(1))) if rps else 0,
        "p50_ms": round(_ms(p50.group(1)), 2) if p50 else None,
        "p99_ms": round(_ms(p99.group(1)), 2) if p99 else None,
        "requests": int(total.group(1)) if total else 0,
        "errors": errors,
    }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants (the gateway's workers)."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


def _profile(pid: int, name: str, url: str, token: str, key: str | None) -> None:
    """py-spy under wrk: the gateway's workers sampled while wrk drives one row, written as
    collapsed stacks to BENCH_PYSPY/<row>.txt (read them with bench/pyspy_top.py)."""
    out = Path(PYSPY) / f"{name}.txt"
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
         "--subprocesses", "--nonblocking", "--format", "raw", "--rate", "500",
         "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1)  # py-spy attached to the workers
    _wrk(url, token, DURATION, key)
    spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    spy.wait(30)


def _paced_rounds(
    tmp: Path, chosen: list[tuple[str, str]], token: str, keys: dict[str, str | None]
) -> dict[str, list[dict[str, Any]]]:
    """Every target again at a steady rate well below any row's saturation: each connection
    pauses a random 0 to 2 x PACED_MS between calls (wrk's delay(), not counted in the
    latency), so about CONNECTIONS / PACED_MS calls a ms. At saturation a median is mostly queueing (32
    connections wait on 2 workers: p50 is about 32 / req/s), so a few µs of CPU a call, or
    another process's burst, moves it by tenths of a ms; here it is each call's own time."""
    script = tmp / "paced.lua"
    # A random pause (mean PACED_MS): with a fixed one the connections keep in step and
    # arrive as bursts of 32, which queue as at saturation.
    script.write_text(f"function delay()\n  return math.random(0, {2 * PACED_MS})\nend\n")
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in chosen}
    for round_ in range(ROUNDS):
        for label, url in chosen if round_ % 2 == 0 else reversed(chosen):
            runs[label].append(_wrk(url, token, DURATION, keys[label], script))
    return runs


def _paired_cost(
    paced: dict[str, list[dict[str, Any]]], row: dict[str, Any], base: dict[str, Any]
) -> float:
    """The median over paced rounds of `row`'s p50 minus `base`'s in the same round: the two
    ran back to back, so a round where the whole machine was slower cancels out."""
    pairs = zip(paced[row["target"]], paced[base["target"]], strict=True)
    costs = sorted(a["p50_ms"] - b["p50_ms"] for a, b in pairs)
    return round(costs[len(costs) // 2], 3)


def _check(url: str, token: str, key: str | None = None) -> None:
    """One request with the token (and key), and one without each: proves the target checks."""
    import urllib.error
    import urllib.request

    def status(headers: dict[str, str]) -> int:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5):
                return 200
        except urllib.error.HTTPError as exc:
            return exc.code

    auth = {"Authorization": f"Bearer {token}"}
    keyed = {"Ocp-Apim-Subscription-Key": key} if key else {}
    assert status({**auth, **keyed}) == 200
    assert status(keyed) == 401, f"{url} let a call without a token through"
    if key:
        assert status(auth) == 401, f"{url} let a call without a subscription key through"


_BENCH_SPEC = """\
openapi: 3.0.3
info: {title: Bench, version: "1"}
paths:
  /x:
    get:
      operationId: getX
      responses: {"200": {description: ok}}
"""
_BENCH_CONFIG = """\
apis:
  - slug: bench
    spec: bench.yaml
    published: true
    gateway:
      suffix: bench
      backend: {backend}
      timeout: 30
      forward-claims: true
      validate-jwt:
        openid-config: {discovery}
        audiences: [api://bench]
        required-claims:
          - {{name: scope, match: any, separator: " ", values: [bench.read]}}
  - slug: bench-keyed
    spec: bench.yaml
    published: true
    gateway:
      suffix: keyed
      backend: {backend}
      timeout: 30
      forward-claims: true
      validate-jwt:
        openid-config: {discovery}
        audiences: [api://bench]
        required-claims:
          - {{name: scope, match: any, separator: " ", values: [bench.read]}}
products:
  - slug: bench
    name: Bench
    published: true
    groups: [developers]
    apis: [bench-keyed]
"""
# Prints a subscription key for the bench product (an active subscription of a new user).
_BENCH_KEY = (
    "from django.contrib.auth import get_user_model; from products import flows; "
    "from products.models import Product; "
    "user = get_user_model().objects.create_user('bench', 'bench@example.com'); "
    "print(flows.shown_key(flows.subscribe(user, Product.objects.get(slug='bench')), 'primary'))"
)


def _record_cost_us(calls: int = 200_000, raw: bool = False) -> float:
    """Microseconds the recorder costs the event loop per call: wrapping send and receive,
    the wrapped send of a response (head and body), record(), and the flusher's share on the
    loop: by default the cells taken and JSON-encoded as for the Redis stream every 500 calls
    (a busy worker writes once a second, so this overstates it); with `raw`
    (USAGE_RAW_EVENTS) each event built and JSON-encoded. Only the store's I/O is left out:
    it runs in a worker thread."""
    import asyncio

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.test import override_settings

    from gateway.config import OperationMatch, RouteConfig
    from usage import cells
    from usage.events import encode
    from usage.recorder import Recorder

    route = RouteConfig(api_slug="b", suffix="b", backend="echo", timeout=5,
                        forward_claims=False, api_id=1)  # fmt: skip
    op = OperationMatch("get", "/x", "getX", {})
    with override_settings(USAGE_RAW_EVENTS=raw, USAGE_RECORDING=True):
        recorder = Recorder(lambda: None)  # type: ignore[arg-type,return-value]
    recorder._task = object()  # type: ignore[assignment]  # no flusher: measure the loop side
    scope = {"type": "http", "client": ("127.0.0.1", 1), "headers": []}
    start = {"type": "http.response.start", "status": 200, "headers": []}
    body = {"type": "http.response.body", "body": b'{"ok":true}'}

    async def send(message: Any) -> None:
        return None

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def loop(n: int, measured: bool) -> float:
        # CPU time of this thread: what a loaded machine's waiting for a core leaves out.
        cpu0, t0 = time.thread_time(), time.perf_counter()
        for i in range(n):
            state: dict[str, Any] = {"status": 200, "api": "b", "sub": "-", "client": "c"}
            if measured:
                s, r = recorder.counting(state, send, receive)
                await r()
            else:
                s = send
                await receive()
            state["route"], state["op"], state["b0"] = route, op, t0
            await s(start)
            await s(body)
            if measured:
                recorder.record(scope, state, t0, 0.001)
                if i % 500 == 499:
                    if raw:
                        encode(recorder._take(500))
                    else:
                        cells.encode(recorder._take_cells()[0])
        return time.thread_time() - cpu0

    async def both() -> float:
        base = min([await loop(calls, False) for _ in range(3)])
        with_recording = min([await loop(calls, True) for _ in range(3)])
        return (with_recording - base) / calls * 1e6

    return round(asyncio.run(both()), 2)


def _stored_calls(env: dict[str, str]) -> int | None:
    """Calls the recording gateway counted into the rollups (minute level; the gateway writes
    them itself without Redis), or with USAGE_RAW_EVENTS the rows of its raw table: proof the
    writes happened."""
    code = (
        "from django.db.models import F, Sum; from usage.models import ApiRollup, UsageEvent; "
        "raw = UsageEvent.objects.count(); "
        "print(raw or ApiRollup.objects.filter(level=1).aggregate("
        "n=Sum(F('success') + F('blocked') + F('failed') + F('other')))['n'] or 0)"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    last = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    return int(last[0]) if last and last[0].isdigit() else None


def run() -> list[dict[str, Any]]:
    for tool in ("nginx", "apache2", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return [{"target": "skipped", "note": f"{tool} is not installed"}]
    tmp = Path(tempfile.mkdtemp(prefix="gwbench-"))
    tmp.chmod(0o755)
    procs: list[subprocess.Popen[bytes]] = []
    ports = {
        n: _free_port()
        for n in (
            "backend",
            "idp",
            "tls",
            "nginx",
            "apache",
            "gateway",
            "gateway_off",
            "redis",
            "ab",
        )
    }
    issuer = f"http://127.0.0.1:{ports['idp']}"
    token = _material(tmp, issuer)
    for path in tmp.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)

    def start(
        cmd: list[str],
        name: str,
        port: int,
        env: dict[str, str] | None = None,
        cwd: Path = REPO,
    ) -> subprocess.Popen[bytes]:
        log = tmp / f"{name}.out"
        proc = subprocess.Popen(
            cmd,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        procs.append(proc)
        _wait_port(port, proc, log)
        return proc

    try:
        www = tmp / "www"
        backend_conf = _nginx_conf(
            tmp,
            "backend",
            1,
            backend_servers(ports["backend"], ports["idp"], www)
            + f"""
    server {{
        listen 127.0.0.1:{ports["tls"]} ssl;
        ssl_certificate {tmp}/tls.crt;
        ssl_certificate_key {tmp}/tls.key;
        location = /jwks.json {{ default_type application/json; alias {www}/jwks.json; }}
    }}""",
        )
        start(["nginx", "-c", str(backend_conf)], "backend", ports["backend"])
        proxy_conf = _nginx_conf(
            tmp,
            "proxy",
            2,
            f"""
    upstream backend {{ server 127.0.0.1:{ports["backend"]}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{ports["nginx"]};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}""",
        )
        start(["nginx", "-c", str(proxy_conf)], "proxy", ports["nginx"])
        apache_conf = _apache_conf(
            tmp, ports["apache"], f"https://127.0.0.1:{ports['tls']}/jwks.json", ports["backend"]
        )
        start(["apache2", "-DFOREGROUND", "-f", str(apache_conf)], "apache", ports["apache"])
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            # Only the nginx site that serves the provider's discovery document and JWKS.
            "GATEWAY_KEY_FETCH_PRIVATE_HOSTS": f"127.0.0.1:{ports['idp']}",
        }
        env.pop("REDIS_URL", None)
        # As operators run it: a database, the route written by applyconfig, python -m gateway.
        env["DATABASE_URL"] = f"sqlite:///{tmp}/gateway.sqlite3"
        env["GATEWAY_ACCESS_LOG"] = str(tmp / "access.log")  # on, as in production
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True
        )
        (tmp / "bench.yaml").write_text(_BENCH_SPEC)
        (tmp / "portal.yaml").write_text(
            _BENCH_CONFIG.format(
                backend=f"http://127.0.0.1:{ports['backend']}",
                discovery=issuer + "/.well-known/openid-configuration",
            )
        )
        subprocess.run(
            [sys.executable, "manage.py", "applyconfig", str(tmp / "portal.yaml")],
            cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        recording_env = dict(env)
        recording_env["USAGE_RAW_EVENTS"] = os.environ.get("BENCH_USAGE_RAW_EVENTS", "0")
        if TOPOLOGY == "redis" or USAGE_SINK == "redis":
            # Events to a Redis stream instead of the raw table (the recording gateway only).
            start(["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                  "redis", ports["redis"])  # fmt: skip
            recording_env["GATEWAY_REDIS_URL"] = f"redis://127.0.0.1:{ports['redis']}/0"
            if TOPOLOGY == "redis":
                # Both gateways: the configuration version key, metrics, counters, events.
                env["REDIS_URL"] = recording_env["REDIS_URL"] = recording_env["GATEWAY_REDIS_URL"]
        key = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", _BENCH_KEY],
            cwd=REPO, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        recording = start(
            [
                sys.executable, "-m", "gateway", "--host", "127.0.0.1",
                "--port", str(ports["gateway"]), "--workers", str(GATEWAY_WORKERS),
            ],
            "gateway",
            ports["gateway"],
            recording_env,
        )  # fmt: skip
        unrecorded_proc = start(
            [
                sys.executable, "-m", "gateway", "--host", "127.0.0.1",
                "--port", str(ports["gateway_off"]), "--workers", str(GATEWAY_WORKERS),
            ],
            "gateway_off",
            ports["gateway_off"],
            {**env, "USAGE_RECORDING": "0", "GATEWAY_ACCESS_LOG": str(tmp / "access-off.log")},
        )  # fmt: skip
        gateways = {"d": recording, "e": unrecorded_proc, "f": recording, "g": unrecorded_proc}
        ab_repo = os.environ.get("BENCH_AB_REPO", "")
        if ab_repo:
            ab_env = {
                **env,
                "USAGE_RECORDING": "0",
                "GATEWAY_ACCESS_LOG": str(tmp / "access-ab.log"),
            }
            ab_env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [ab_repo, os.environ.get("PYTHONPATH")])
            )
            gateways["h"] = start(
                [
                    sys.executable, "-m", "gateway", "--host", "127.0.0.1",
                    "--port", str(ports["ab"]), "--workers", str(GATEWAY_WORKERS),
                ],
                "gateway_ab",
                ports["ab"],
                ab_env,
                cwd=Path(ab_repo),
            )  # fmt: skip
        targets = [
            ("(a) backend direct (nginx, fixed JSON)", f"http://127.0.0.1:{ports['backend']}/x"),
            ("(b) nginx proxy", f"http://127.0.0.1:{ports['nginx']}/x"),
            ("(c) Apache + mod_auth_openidc", f"http://127.0.0.1:{ports['apache']}/x"),
            ("(d) gateway (validate-jwt + proxy)", f"http://127.0.0.1:{ports['gateway']}/bench/x"),
            (
                "(e) gateway, usage recording off",
                f"http://127.0.0.1:{ports['gateway_off']}/bench/x",
            ),
            (
                "(f) gateway (subscription key + validate-jwt + proxy)",
                f"http://127.0.0.1:{ports['gateway']}/keyed/x",
            ),
            (
                "(g) gateway, usage recording off, subscription key",
                f"http://127.0.0.1:{ports['gateway_off']}/keyed/x",
            ),
        ]
        if ab_repo:
            targets.append(
                (f"(h) gateway of (e) from {ab_repo}", f"http://127.0.0.1:{ports['ab']}/bench/x")
            )
        keys = {label: key if label.startswith(("(f)", "(g)")) else None for label, _ in targets}
        for label, url in targets[2:]:
            _check(url, token, keys[label])
        only = os.environ.get("BENCH_TARGETS", "abcdefg") + ("h" if ab_repo else "")
        chosen = [(label, url) for label, url in targets if label[1] in only]
        # warm-up: keys fetched, pools filled, caches hot
        warmed = {label: _wrk(url, token, 2, keys[label]) for label, url in chosen}
        if PYSPY:
            for label, url in chosen:
                if label[1] in gateways:
                    _profile(gateways[label[1]].pid, label[1], url, token, keys[label])
        # The machine is shared: run the targets in ROUNDS interleaved rounds and report the
        # round with the median throughput of each, so a burst of outside load hits all alike.
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in chosen}
        for round_ in range(ROUNDS):
            # Every other round backwards: no row always runs last (after the others' load).
            for label, url in chosen if round_ % 2 == 0 else reversed(chosen):
                proc = gateways.get(label[1])
                cpu = _cpu_seconds(proc.pid) if proc else 0.0
                result = _wrk(url, token, DURATION, keys[label])
                if proc and result["requests"]:
                    spent = _cpu_seconds(proc.pid) - cpu
                    result["cpu_us"] = round(spent / result["requests"] * 1e6, 1)
                runs[label].append(result)
        paced = _paced_rounds(tmp, chosen, token, keys) if PACED_MS else {}
        rows: list[dict[str, Any]] = []
        for label, _ in chosen:
            ordered = sorted(runs[label], key=lambda r: r["req_s"])
            median = ordered[len(ordered) // 2]
            rows.append(
                {
                    "target": label,
                    **median,
                    "errors": sum(r["errors"] for r in (*runs[label], *paced.get(label, []))),
                    "rounds_req_s": "/".join(str(r["req_s"]) for r in runs[label]),
                }
            )
            cpus = sorted(r["cpu_us"] for r in runs[label] if "cpu_us" in r)
            if cpus:
                # The median over rounds (steadier than the median round's own), every round's.
                rows[-1]["cpu_us"] = cpus[len(cpus) // 2]
                rows[-1]["rounds_cpu_us"] = "/".join(str(r.get("cpu_us", "")) for r in runs[label])
            if paced:
                p50s = sorted(r["p50_ms"] for r in paced[label])
                rows[-1]["paced_req_s"] = sorted(r["req_s"] for r in paced[label])[len(p50s) // 2]
                rows[-1]["paced_p50_ms"] = p50s[len(p50s) // 2]
                rows[-1]["rounds_paced_p50_ms"] = "/".join(str(r["p50_ms"]) for r in paced[label])
        apache = next((r for r in rows if r["target"].startswith("(c)")), None)
        gateway = next((r for r in rows if r["target"].startswith("(d)")), None)
        if apache and gateway and apache["req_s"]:
            gateway["vs_apache"] = f"{gateway['req_s'] / apache['req_s']:.2f}x"
        unrecorded = next((r for r in rows if r["target"].startswith("(e)")), None)
        if gateway and unrecorded and gateway["p50_ms"] is not None and unrecorded["p50_ms"]:
            gateway["usage_cost_ms"] = round(gateway["p50_ms"] - unrecorded["p50_ms"], 3)
            if paced:
                gateway["usage_cost_paced_ms"] = _paired_cost(paced, gateway, unrecorded)
            gateway["record_us"] = _record_cost_us()
            gateway["record_raw_us"] = _record_cost_us(raw=True)
            if apache and apache["req_s"]:
                unrecorded["vs_apache"] = f"{unrecorded['req_s'] / apache['req_s']:.2f}x"
        time.sleep(2)  # the recorder writes every second
        stored = _stored_calls(env) if USAGE_SINK == "database" else None
        if gateway is not None and stored is not None:
            label = gateway["target"]
            recorded = [lbl for lbl in runs if lbl.startswith(("(d)", "(f)"))]  # one process
            calls = sum(
                warmed[lbl]["requests"] + sum(r["requests"] for r in runs[lbl]) + 2
                for lbl in recorded
            )
            gateway["calls_stored"] = f"{stored}/{calls}"
            failures = re.findall(
                r"usage store unavailable \((\w+)", (tmp / "gateway.out").read_text()
            )
            if failures:
                gateway["store_failures"] = ",".join(sorted(set(failures)))
        ab_row = next((r for r in rows if r["target"].startswith("(h)")), None)
        if paced and ab_row and unrecorded:
            ab_row["vs_e_paced_ms"] = _paired_cost(paced, ab_row, unrecorded)
        keyed = next((r for r in rows if r["target"].startswith("(f)")), None)
        if apache and keyed and apache["req_s"]:
            keyed["vs_apache"] = f"{keyed['req_s'] / apache['req_s']:.2f}x"
        keyed_off = next((r for r in rows if r["target"].startswith("(g)")), None)
        if keyed_off and unrecorded and keyed_off["p50_ms"] and unrecorded["p50_ms"]:
            # The key check's cost: the same process, route and backend, without recording.
            keyed_off["key_cost_ms"] = round(keyed_off["p50_ms"] - unrecorded["p50_ms"], 3)
            if paced:
                keyed_off["key_cost_paced_ms"] = _paired_cost(paced, keyed_off, unrecorded)
            if apache and apache["req_s"]:
                keyed_off["vs_apache"] = f"{keyed_off['req_s'] / apache['req_s']:.2f}x"
        return rows
    finally:
        stop(procs, tmp)


def backend_servers(backend: int, idp: int, www: Path) -> str:
    """nginx servers for the trivial backend (a fixed JSON body) and the test provider's
    discovery document and JWKS over http, from `www`."""
    return f"""
    server {{
        listen 127.0.0.1:{backend};
        location / {{ default_type application/json; return 200 '{{"ok":true}}'; }}
    }}
    server {{
        listen 127.0.0.1:{idp};
        location = /.well-known/openid-configuration {{
            default_type application/json; alias {www}/openid-configuration;
        }}
        location = /jwks.json {{ default_type application/json; alias {www}/jwks.json; }}
    }}"""


def stop(procs: list[subprocess.Popen[bytes]], tmp: Path) -> None:
    """Stops what a run started (each in its own process group), newest first, and removes
    its temporary directory."""
    for proc in reversed(procs):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    from bench.__main__ import print_table

    print_table(run())

"""CPU time the gateway spends per proxied call: a steady yardstick for the gateway's own work.

    python -m bench gateway_cpu        (or: python bench/gateway_cpu.py)

Why not req/s: on a shared machine throughput moves with other people's load. This sends
calls one at a time on one keep-alive connection, so every call costs the gateway the same
work (one read, one backend exchange, one write: no batching that varies with load), and
reads the CPU time of the gateway's process tree from /proc/<pid>/task/*/schedstat (ns, user +
system, threads included) around each round. `cpu_us` is the median round's CPU per call;
`user_us` and `sys_us` split all rounds' time between the process and the kernel (its socket
calls), from /proc/<pid>/stat.

The gateway is set up as bench/gateway_bench.py sets up its row (d), with its helpers: `python
-m gateway` with GWCPU_WORKERS (1) worker, the route written by `manage.py applyconfig` (a
one-operation spec, validate-jwt with discovery, audience, RFC 9068 checks and a required
scope, forward-claims), access log on, usage recording on, a Redis (REDIS_URL) as in
production when redis-server is installed (GWCPU_TOPOLOGY=embedded: none), the same nginx
backend. Two rows: `jwt` (/bench/x, a valid RS256 token) and `jwt+key` (/keyed/x, the token
and a subscription key of an active subscription). Every answer must be a 200.

GWCPU_CALLS (20000) calls a round, GWCPU_ROUNDS (5) rounds a row after 3000 warm-up calls.
GWCPU_PYSPY=<folder> also records each row once with py-spy (`python bench/pyspy_top.py
<folder>/jwt.txt` lists the hot spots).

GWCPU_CPROFILE=<file> serves the gateway wrapped in cProfile (`profiled` below), its stats
written to <file> when the worker stops (`python -m pstats <file>`): calls per function.

GWCPU_CALLGRIND=1 runs the gateway under `valgrind --tool=callgrind` instead (Debian package
valgrind; about 50 times slower, so GWCPU_CALLS defaults to 2000 and one round): `instr_k` is
the thousands of instructions the worker executed per call, user space only. Unlike CPU time
it hardly moves with other load on the machine, so it tells a 1 % saving from noise. The work
the gateway does once a second (the configuration check, the usage flush) is left out: at
valgrind's pace it would weigh 50 times more per call than at full speed, so those intervals
are set to an hour (`_CALLGRIND_ENV`); the access log's flush every 512 lines stays in. The
profile of the measured calls stays in GWCPU_CALLGRIND_OUT (callgrind_annotate reads it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway_bench import (
    _BENCH_CONFIG,
    _BENCH_KEY,
    _BENCH_SPEC,
    _free_port,
    _material,
    _nginx_conf,
    _wait_port,
    backend_servers,
    stop,
)

REPO = Path(__file__).resolve().parent.parent
CALLGRIND = os.environ.get("GWCPU_CALLGRIND", "") == "1"
CALLS = int(os.environ.get("GWCPU_CALLS", "2000" if CALLGRIND else "20000"))
ROUNDS = int(os.environ.get("GWCPU_ROUNDS", "1" if CALLGRIND else "5"))
WARMUP = 300 if CALLGRIND else 3000
CALLGRIND_OUT = os.environ.get("GWCPU_CALLGRIND_OUT", "")
WORKERS = int(os.environ.get("GWCPU_WORKERS", "1"))
TOPOLOGY = os.environ.get("GWCPU_TOPOLOGY", "redis" if shutil.which("redis-server") else "")
PYSPY = os.environ.get("GWCPU_PYSPY", "")
CPROFILE = os.environ.get("GWCPU_CPROFILE", "")


async def profiled(scope: Any, receive: Any, send: Any) -> None:
    """The gateway's ASGI application under cProfile (the worker's whole event loop thread
    from its first call), stats written to GWCPU_CPROFILE at the lifespan shutdown."""
    import cProfile

    from gateway.asgi import application

    global _profile
    if scope["type"] == "lifespan":

        async def dumping() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and _profile is not None:
                _profile.disable()
                _profile.dump_stats(CPROFILE)
            return message

        await application(scope, dumping, send)
        return
    if _profile is None:
        _profile = cProfile.Profile()
        _profile.enable()
    await application(scope, receive, send)


_profile: Any = None

# Under callgrind: no configuration check or usage flush during the measured calls.
_CALLGRIND_ENV = {"GATEWAY_CONFIG_REFRESH": "3600", "USAGE_FLUSH_MS": "3600000"}


def _tree(pid: int) -> list[int]:
    """The process and its descendants (the supervisor and its forked workers)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _cpu_ns(pids: list[int]) -> int:
    """On-CPU nanoseconds of every thread of `pids` (schedstat's first field)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
    return total


def _user_system(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of `pids` (/proc/<pid>/stat, in clock ticks)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            user += int(fields[11]) / tick
            system += int(fields[12]) / tick
    return user, system


class NotOk(RuntimeError):
    pass


class _Client:
    """One keep-alive connection sending the same request and reading each 200 in full."""

    def __init__(self, port: int, request: bytes) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = request
        self.buffer = b""

    def ready(self, timeout: float = 20) -> None:
        """Calls until one is a 200: the first ones wait for the issuer's keys (503)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call()
                return
            except NotOk:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def call(self) -> None:
        self.sock.sendall(self.request)
        data = self.buffer
        while b"\r\n\r\n" not in data:
            data += self._read()
        head, _, data = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        while len(data) < length:
            data += self._read()
        self.buffer = data[length:]
        if not head.startswith(b"HTTP/1.1 200 "):
            raise NotOk(f"not a 200: {head[:300]!r}")

    def _read(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("the gateway closed the connection")
        return chunk


def _rounds(client: _Client, pids: list[int], dumps: Path, name: str) -> list[float]:
    client.ready(timeout=120 if CALLGRIND else 20)
    for _ in range(WARMUP):
        client.call()
    if CALLGRIND:
        return [_instructions(client, pids[-1], dumps, name)]
    per_call = []
    user0, system0 = _user_system(pids)
    for _ in range(ROUNDS):
        before = _cpu_ns(pids)
        for _ in range(CALLS):
            client.call()
        per_call.append((_cpu_ns(pids) - before) / CALLS / 1000)
    user, system = _user_system(pids)
    # All rounds together: the kernel's share (the socket calls) against the process's own.
    _split[name] = (
        (user - user0) / ROUNDS / CALLS * 1e6,
        (system - system0) / ROUNDS / CALLS * 1e6,
    )
    return per_call


_split: dict[str, tuple[float, float]] = {}


def _instructions(client: _Client, worker: int, folder: Path, name: str) -> float:
    """Thousands of instructions per call in `worker` (callgrind, instrumentation switched on
    for the measured calls only)."""

    def calls() -> None:
        for _ in range(CALLS):
            client.call()

    return _dump(worker, folder, name, calls) / CALLS / 1000


def _dump(worker: int, folder: Path, name: str, work: Callable[[], object]) -> int:
    """The instructions `worker` ran during `work()`."""
    control = ["callgrind_control"]
    subprocess.run([*control, "--instr=on", str(worker)], check=True, capture_output=True)
    work()
    subprocess.run([*control, "--dump=measured", str(worker)], check=True, capture_output=True)
    subprocess.run([*control, "--instr=off", str(worker)], check=True, capture_output=True)
    # One file per thread (--separate-threads): the event loop's is `-01`.
    dumps = sorted(folder.glob(f"cg.{worker}.*"))
    total = 0
    for dump in dumps:
        text = dump.read_text(errors="replace")
        # `totals:`, not `summary:`: after the first dump callgrind's summary can wrap around.
        totals = next(line for line in text.splitlines() if line.startswith("totals:"))
        total += int(totals.split()[1])
        if CALLGRIND_OUT and name:
            shutil.copy(dump, f"{CALLGRIND_OUT}.{name}{dump.name.rpartition('.')[2][1:]}")
        dump.unlink()
    return total


def _pyspy(pid: int, out: Path, client: _Client) -> None:
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
         "--subprocesses", "--nonblocking", "--format", "raw", "--rate", "1000",
         "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1)
    for _ in range(CALLS):
        client.call()
    spy.send_signal(signal.SIGINT)
    spy.wait(30)


def run() -> list[dict[str, Any]]:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return [{"target": "skipped", "note": "nginx is not installed"}]
    tmp = Path(tempfile.mkdtemp(prefix="gwcpu-"))
    procs: list[subprocess.Popen[bytes]] = []
    ports = {n: _free_port() for n in ("backend", "idp", "tls", "gateway", "redis")}
    issuer = f"http://127.0.0.1:{ports['idp']}"
    token = _material(tmp, issuer)
    # nginx's workers (another user when run as root) read the JWKS and discovery files.
    tmp.chmod(0o755)
    for path in tmp.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)

    def start(cmd: list[str], name: str, port: int, env: dict[str, str] | None = None) -> Any:
        log = tmp / f"{name}.out"
        proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                env=env, cwd=REPO, start_new_session=True)  # fmt: skip
        procs.append(proc)
        _wait_port(port, proc, log, timeout=300 if CALLGRIND else 30)
        return proc

    try:
        www = tmp / "www"
        backend_conf = _nginx_conf(
            tmp, "backend", 1, backend_servers(ports["backend"], ports["idp"], www)
        )
        start(["nginx", "-c", str(backend_conf)], "backend", ports["backend"])
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "GATEWAY_KEY_FETCH_PRIVATE_HOSTS": f"127.0.0.1:{ports['idp']}",
            "DATABASE_URL": f"sqlite:///{tmp}/gateway.sqlite3",
            "GATEWAY_ACCESS_LOG": str(tmp / "access.log"),
        }
        env.pop("REDIS_URL", None)
        if TOPOLOGY == "redis":
            start(["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                  "redis", ports["redis"])  # fmt: skip
            env["REDIS_URL"] = env["GATEWAY_REDIS_URL"] = f"redis://127.0.0.1:{ports['redis']}/0"
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=REPO, env=env, check=True)
        (tmp / "bench.yaml").write_text(_BENCH_SPEC)
        (tmp / "portal.yaml").write_text(
            _BENCH_CONFIG.format(
                backend=f"http://127.0.0.1:{ports['backend']}",
                discovery=issuer + "/.well-known/openid-configuration",
            )
        )
        subprocess.run([*manage, "applyconfig", str(tmp / "portal.yaml")], cwd=REPO, env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        key = subprocess.run([*manage, "shell", "-c", _BENCH_KEY], cwd=REPO, env=env,
                             check=True, capture_output=True, text=True)  # fmt: skip
        subscription_key = key.stdout.strip().splitlines()[-1]
        command = [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port",
                   str(ports["gateway"]), "--workers", str(WORKERS)]  # fmt: skip
        if CPROFILE:
            command += ["--app", "bench.gateway_cpu:profiled"]
        if CALLGRIND:
            env.update(_CALLGRIND_ENV)
            command = ["valgrind", "--tool=callgrind", "--trace-children=yes",
                       "--instr-atstart=no", "--separate-threads=yes", f"--callgrind-out-file={tmp}/cg.%p", *command]  # fmt: skip
        gateway = start(command, "gateway", ports["gateway"], env)
        host = f"127.0.0.1:{ports['gateway']}"
        auth = f"Host: {host}\r\nAuthorization: Bearer {token}\r\n"
        rows = []
        for name, target, headers in (
            ("jwt", "/bench/x", auth),
            ("jwt+key", "/keyed/x", auth + f"Ocp-Apim-Subscription-Key: {subscription_key}\r\n"),
        ):
            request = f"GET {target} HTTP/1.1\r\n{headers}\r\n".encode()
            client = _Client(ports["gateway"], request)
            pids = _tree(gateway.pid)
            per_call = sorted(_rounds(client, pids, tmp, name))
            rows.append(
                {
                    "target": name,
                    ("instr_k" if CALLGRIND else "cpu_us"): round(per_call[len(per_call) // 2], 1),
                    "min_us": round(per_call[0], 1),
                    "rounds_us": "/".join(f"{x:.1f}" for x in per_call),
                    **(
                        {}
                        if CALLGRIND
                        else {
                            "user_us": round(_split[name][0], 1),
                            "sys_us": round(_split[name][1], 1),
                        }
                    ),
                    "calls": CALLS,
                    "topology": TOPOLOGY or "embedded",
                }
            )
            if PYSPY:
                Path(PYSPY).mkdir(parents=True, exist_ok=True)
                _pyspy(gateway.pid, Path(PYSPY) / f"{name}.txt", client)
            client.sock.close()
        return rows
    finally:
        stop(procs, tmp)


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())

"""Ready time and DOM size of the Kubernetes API page in Chromium, beside Swagger UI and a
static floor (issue 12), measured by ../shared/bench-render/compare.sh in one run.

Either against a portal you started (the page must list Kubernetes' 1,123 operations):

    .venv/bin/python -m bench.render_bench http://127.0.0.1:8000/apis/kubernetes/

or, with no URL (`python -m bench render_bench`), it imports Kubernetes into its own SQLite
database in bench/results/, serves it with `manage.py serve` (DEBUG=1, as `make run`) on a
free loopback port, measures, and stops that server. RUNS (default 3) sets runs per page.
Needs node, npm and /usr/bin/chromium; compare.sh works in $BENCH_RENDER_DIR (default a temp dir).

BENCH_RENDER_COOP=1 then also times compare.sh's static floor twice more in one run of its
measure.mjs: served plain, and served with the response headers the portal's page carries
(Cross-Origin-Opener-Policy among them, which SECURITY.md case 59 requires on every HTML
response), so the floor-to-portal ratio can be split into what the header costs in this
harness and what the page itself costs (quiet, 2026-12-02: 116 ms with the headers against
103 ms plain, the portal's page 214 ms).

BENCH_RENDER_HEADERS=1 then also times the portal's page itself replayed from memory, byte for
byte, by a plain loopback server, three ways in one run of measure.mjs: with every header the
portal sent (gzip, CSP with its nonce, COOP, the CSRF cookie...), the same without
Content-Security-Policy and Cross-Origin-Opener-Policy, and bare (uncompressed, only its type
and length). What separates the first from the portal is the server's time; the first from
the second, the two headers SECURITY.md case 59 requires; the third from the floor, the page.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.django_setup import REPO, RESULTS

COMPARE = REPO.parent / "shared" / "bench-render" / "compare.sh"
SPEC = REPO.parent / "shared" / "specs" / "real-world" / "kubernetes.swagger.json"
OPERATIONS = 1123


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def _start_portal() -> tuple[subprocess.Popen[bytes], str]:
    """A portal serving Kubernetes from bench/results/render.sqlite3, on a free port."""
    RESULTS.mkdir(exist_ok=True)
    db = RESULTS / "render.sqlite3"
    db.unlink(missing_ok=True)
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{db}",
        "DEBUG": "1",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "STATIC_ROOT": str(RESULTS / "render-static"),
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run(
        [*manage, "importspec", str(SPEC), "--slug", "kubernetes", "--publish"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [*manage, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/apis/kubernetes/"
    try:
        _wait_for(url)
    except BaseException:
        server.terminate()
        raise
    return server, url


def _latest_result(directory: Path, since: float) -> dict:
    files = [p for p in directory.glob("render-*.json") if p.stat().st_mtime >= since]
    if not files:
        raise RuntimeError(f"compare.sh wrote no result in {directory}")
    return dict(json.loads(max(files, key=lambda p: p.stat().st_mtime).read_text()))


def measure(url: str) -> list[dict]:
    """Runs compare.sh on `url`, prints its table and returns one row per page."""
    work = _work()
    started = time.time()
    env = os.environ | {"BENCH_RENDER_DIR": str(work), "RUNS": os.environ.get("RUNS", "3")}
    subprocess.run(["bash", str(COMPARE), url, str(OPERATIONS)], env=env, check=True)
    result = _latest_result(work / "results", started)
    ready = {}
    rows = []
    for row in result["rows"]:
        stat = row.get("ready") or {}
        ready[row["viewer"]] = stat.get("median")
        rows.append(
            {
                "page": row["viewer"],
                "ok runs": f"{row['ok']}/{row['n']}"
                + (f", {row['noisy']} noisy" if row["noisy"] else ""),
                "ready median ms": f"{stat['median']:.0f}" if stat else "-",
                "ready min-max ms": f"{stat['min']:.0f}-{stat['max']:.0f}" if stat else "-",
                "DOM nodes": f"{row['domNodes']['median']:.0f}" if row.get("domNodes") else "-",
            }
        )
    portal, floor, swagger = ready.get("portal"), ready.get("floor"), ready.get("swagger-ui")
    for row in rows:
        if row["page"] == "portal" and portal and floor and swagger:
            row["x floor"] = f"{portal / floor:.2f}"
            row["x sooner than Swagger UI"] = f"{swagger / portal:.1f}"
    return rows


def _work() -> Path:
    """compare.sh's working folder (its floor, measure.mjs and results)."""
    return Path(os.environ.get("BENCH_RENDER_DIR") or "/tmp/bench-render-portal")


def _serve(handler: Any) -> tuple[Any, str]:
    """`handler` on a free loopback port, in a thread: the server and its base URL."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _serve_floor(folder: Path, headers: list[tuple[str, str]]) -> tuple[Any, str]:
    """compare.sh's floor folder on a free loopback port, with `headers` on every answer."""
    import functools
    import http.server

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            for name, value in headers:
                self.send_header(name, value)
            super().end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server, base = _serve(functools.partial(Handler, directory=str(folder)))
    return server, f"{base}/apis/floor/"


def _serve_raw(raw: bytes) -> tuple[Any, str]:
    """A loopback server answering every GET with one raw HTTP response (and 404 for the
    favicon, alike for every variant)."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.startswith("/static/"):
                self.send_error(404)
                return
            self.wfile.write(raw)
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    return _serve(Handler)


def _measure_pages(pages: dict[str, str], servers: list[Any]) -> list[dict]:
    """Every page of `pages` (name -> URL) timed in one run of measure.mjs, ready when its
    Kubernetes operation links are all painted; `servers` are shut down after. Its rows."""
    work = _work()
    css = 'a[href*="/operations/"]'
    targets = [
        arg
        for name, url in pages.items()
        for arg in ("--target", f"{name}={url}|{css}|{OPERATIONS}")
    ]
    started = time.time()
    try:
        subprocess.run(
            [
                "node", "measure.mjs", "--runs", os.environ.get("RUNS", "3"), "--warmup", "1",
                "--no-specs", "--out", str(work / "results"), *targets,
            ],
            cwd=work, check=True,
        )  # fmt: skip
    finally:
        for server in servers:
            server.shutdown()
    return list(_latest_result(work / "results", started)["rows"])


def _ready(row: dict) -> dict[str, str]:
    stat = row.get("ready")
    return {
        "ready median ms": f"{stat['median']:.0f}" if stat else "-",
        "ready min-max ms": f"{stat['min']:.0f}-{stat['max']:.0f}" if stat else "-",
    }


def coop_floor(url: str) -> list[dict]:
    """The static floor served plain and with the portal page's security headers, in one
    run of measure.mjs (see the module's docstring)."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        names = ("cross-origin-opener-policy", "referrer-policy", "x-content-type-options")
        headers = [(n, v) for n, v in response.headers.items() if n.lower() in names]
    plain, plain_url = _serve_floor(_work() / "floor", [])
    guarded, guarded_url = _serve_floor(_work() / "floor", headers)
    pages = {"floor": plain_url, "floor-with-headers": guarded_url}
    sent = ", ".join(f"{n}: {v}" for n, v in headers)
    return [
        {
            "page": row["viewer"],
            "headers": sent if row["viewer"] == "floor-with-headers" else "-",
            **_ready(row),
        }
        for row in _measure_pages(pages, [plain, guarded])
    ]


def _raw_response(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"HTTP/1.1 200 OK\r\n{head}\r\n".encode("latin-1") + body


def header_split(url: str) -> list[dict]:
    """The portal's page replayed with all its headers, without CSP and COOP, and bare, beside
    the plain floor, in one run of measure.mjs (see the module's docstring)."""
    import gzip

    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        headers = [(n, v) for n, v in response.headers.items() if n.lower() != "connection"]
        body = response.read()
    guards = ("content-security-policy", "cross-origin-opener-policy")
    plain = gzip.decompress(body) if response.headers.get("content-encoding") == "gzip" else body
    variants = {
        "page-all-headers": _raw_response(headers, body),
        "page-without-csp-coop": _raw_response(
            [(n, v) for n, v in headers if n.lower() not in guards], body
        ),
        "page-bare": _raw_response(
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(plain)))],
            plain,
        ),
    }
    path = urllib.parse.urlsplit(url).path
    servers, pages = [], {}
    for name, raw in variants.items():
        server, base = _serve_raw(raw)
        servers.append(server)
        pages[name] = base + path
    floor, pages["floor"] = _serve_floor(_work() / "floor", [])
    return [
        {"page": row["viewer"], **_ready(row)} for row in _measure_pages(pages, [*servers, floor])
    ]


def measure_all(url: str) -> list[dict]:
    """`measure`, then the splits BENCH_RENDER_COOP and BENCH_RENDER_HEADERS ask for."""
    rows = measure(url)
    if os.environ.get("BENCH_RENDER_COOP"):
        rows += coop_floor(url)
    if os.environ.get("BENCH_RENDER_HEADERS"):
        rows += header_split(url)
    return rows


def run() -> list[dict]:
    server, url = _start_portal()
    try:
        return measure_all(url)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(measure_all(sys.argv[1]) if len(sys.argv) > 1 else run())

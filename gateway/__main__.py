"""Run the gateway as its own process (production scales this out apart from the portal):

    python -m gateway [--host 0.0.0.0] [--port 8080] [--workers 2]

Serves gateway.asgi:application with the gateway's own HTTP/1.1 server (gateway/server.py, on
uvloop and httptools) in N forked workers (gateway/workers.py). Routes and policies come
from the database named by DATABASE_URL; keys and rate-limit counters are shared through
REDIS_URL when several processes run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile


def _port(text: str) -> int:
    """--port: a TCP port, said plainly (70000 was an OverflowError traceback from bind())."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return value


def main(argv: list[str] | None = None) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from portal.lib.env import env_int, env_secret, env_str
    from portal.startup import unshared_counters_warning

    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__.split("\n")[0])
    try:  # a value that is not a number: one line naming it, not a traceback
        port = env_int("GATEWAY_PORT", 8080, minimum=0, maximum=65535)
        workers = env_int("GATEWAY_WORKERS", 1, minimum=1)
    except ImproperlyConfigured as exc:
        parser.error(str(exc))
    parser.add_argument("--host", default=env_str("GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=_port, default=port)
    parser.add_argument("--workers", type=int, default=workers)
    parser.add_argument(
        "--app",
        default="gateway.asgi:application",
        help="module:attribute of the ASGI application (tests serve gateways built in code)",
    )
    args = parser.parse_args(argv)
    try:
        redis_urls = [env_secret("REDIS_URL"), env_secret("GATEWAY_REDIS_URL")]
    except ImproperlyConfigured as exc:
        parser.error(str(exc))
    counters = "rate-limit counters, key-failure counts and key cache"
    if warning := unshared_counters_warning(args.workers, redis_urls, counters):
        print(warning, file=sys.stderr, flush=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

    # Without Redis, the workers sum their metrics through snapshot files in a folder of
    # this process's own (gateway/metrics.py); it goes when the process ends.
    folder = tempfile.mkdtemp(prefix="gateway-metrics-")
    os.environ["GATEWAY_METRICS_DIR"] = folder
    try:
        _serve(args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(args: argparse.Namespace) -> None:
    from gateway.workers import serve

    code = serve(args.host, args.port, args.workers, args.app)
    if code:
        raise SystemExit(code)


if __name__ == "__main__":
    main()

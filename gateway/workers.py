"""`python -m gateway`'s processes: a supervisor that binds the port once and forks workers.

Each worker sets Django up after the fork (no database connection crosses a fork), runs the
gateway on its own uvloop event loop (gateway/server.py) and accepts from the shared socket.
SIGTERM or SIGINT stops the workers gracefully: they stop accepting, finish the answers in
flight within `grace` seconds, then run the application's lifespan shutdown, which writes the
buffered usage and access log. A worker that dies later is replaced; one that dies while
starting (a missing setting, no database driver) stops the whole process with its exit code,
so a broken deployment fails loudly instead of restarting forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import sys
import time

log = logging.getLogger("gateway.workers")

STARTING = 10.0  # a worker that exits sooner than this after its start failed to start


def serve(
    host: str, port: int, workers: int, app: str = "gateway.asgi:application", grace: float = 10.0
) -> int:
    """Serve until SIGTERM or SIGINT; the exit code of the process."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.setblocking(False)
    children: dict[int, float] = {}
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(max(1, workers)):
        children[_spawn(sock, app, grace)] = time.monotonic()
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        started = children.pop(pid, None)
        if started is None or stopping:
            continue
        code = os.waitstatus_to_exitcode(status)
        if time.monotonic() - started < STARTING:
            log.error("a gateway worker exited while starting (code %s): stopping", code)
            stop(signal.SIGTERM, None)
            code = code or 1
            continue
        log.warning("a gateway worker exited (code %s): starting another", code)
        code = 0
        children[_spawn(sock, app, grace)] = time.monotonic()
    sock.close()
    return code if code > 0 else 0


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _spawn(sock: socket.socket, app: str, grace: float) -> int:
    pid = os.fork()
    if pid:
        return pid
    # The worker: never return into the supervisor's code (its finally blocks are not ours).
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        import uvloop

        uvloop.run(_work(sock, app, grace))
        code = 0
    except BaseException:
        logging.getLogger("gateway.workers").exception("gateway worker failed")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


async def _work(sock: socket.socket, app: str, grace: float) -> None:
    from gateway.server import Lifespan, Server

    module, _, attribute = app.partition(":")
    application = getattr(importlib.import_module(module), attribute)  # sets Django up here

    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[None] = loop.create_future()

    def stop() -> None:
        if not stopped.done():
            stopped.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    server = Server(application, loop)
    lifespan = Lifespan(application)
    await lifespan.startup()
    listener = await loop.create_server(server.protocol, sock=sock)
    server.start_sweeping()
    await stopped
    listener.close()
    await server.stop(grace)
    await lifespan.shutdown()

"""`python -m gateway`'s processes: a supervisor that binds the port once and forks workers.

Each worker sets Django up after the fork (no database connection crosses a fork), runs the
gateway on its own uvloop event loop (gateway/server.py) and accepts from the shared socket.
SIGTERM or SIGINT stops the workers gracefully: they stop accepting, finish the answers in
flight within `grace` seconds, then run the application's lifespan shutdown, which writes the
buffered usage and access log. A worker that dies is replaced, unless it failed before it
began serving (a missing setting, an unreachable module): then the whole process stops with its
exit code, so a broken deployment fails loudly instead of restarting forever. A worker whose
supervisor is gone (killed with SIGKILL, by the OOM killer) stops the same graceful way within
a second or two, instead of serving on unseen and keeping the port from the next start. SIGHUP
replaces the workers: each stops the graceful way and a new one, which imports the code
afresh, takes its place, while the supervisor keeps the port (calls wait, none is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import resource
import signal
import socket
import sys

from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger("gateway.workers")

_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
_HANDLED = _STOP_SIGNALS | {signal.SIGHUP}


def serve(
    host: str, port: int, workers: int, app: str = "gateway.asgi:application", grace: float = 10.0
) -> int:
    """Serve until SIGTERM or SIGINT; the exit code of the process."""
    # Each connection is a descriptor: allow as many as the hard limit does (up to what the
    # workers' MAX_CONNECTIONS need), not the usual soft 1,024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.setblocking(False)
    children: dict[int, int] = {}  # pid -> the read end of its "serving" pipe
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    def replace(signum: int, frame: object) -> None:
        # SIGHUP, the reload signal of nginx and gunicorn (its default action would end the
        # gateway at once): each worker stops gracefully and the loop below starts another,
        # which loads the code afresh; the port stays bound, so calls wait, none is refused.
        if not stopping:
            log.warning("SIGHUP: replacing the workers")
            for pid in children:
                _signal(pid, signal.SIGTERM)

    for signum in _STOP_SIGNALS:
        signal.signal(signum, stop)
    signal.signal(signal.SIGHUP, replace)
    for _ in range(max(1, workers)):
        pid, serving = _spawn(sock, app, grace)
        children[pid] = serving
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        serving = children.pop(pid, -1)
        if serving < 0:
            continue
        was_serving = _read_flag(serving)
        if stopping:
            continue
        exit_code = os.waitstatus_to_exitcode(status)
        if not was_serving and exit_code > 0:
            log.error("a gateway worker failed to start (exit code %s): stopping", exit_code)
            code = exit_code if exit_code > 0 else 1
            stop(signal.SIGTERM, None)
            continue
        log.warning("a gateway worker exited (code %s): starting another", exit_code)
        pid, serving = _spawn(sock, app, grace)
        children[pid] = serving
    sock.close()
    return code


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _read_flag(fd: int) -> bool:
    """Whether the worker wrote its byte: it was serving when it ended."""
    try:
        return os.read(fd, 1) == b"1"
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _spawn(sock: socket.socket, app: str, grace: float) -> tuple[int, int]:
    """A forked worker: its pid and the read end of the pipe it writes once it serves."""
    serving, told = os.pipe()
    os.set_blocking(serving, False)
    # Signals wait until the worker has dropped the supervisor's handlers.
    signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
    supervisor = os.getpid()
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
        os.close(told)
        return pid, serving
    os.close(serving)
    # The worker: never return into the supervisor's code (its finally blocks are not ours).
    code = 1
    try:
        for signum in _STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        # A hangup sent to the whole group (a closed terminal) is the supervisor's to act on.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
        import uvloop

        uvloop.run(_work(sock, app, grace, told, supervisor))
        code = 0
    except ImproperlyConfigured as exc:
        # A setting that cannot work: one line naming it (the supervisor then stops).
        sys.stderr.write(f"Configuration error: {exc}\n")
    except BaseException:
        logging.getLogger("gateway.workers").exception("gateway worker failed")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


async def _work(sock: socket.socket, app: str, grace: float, told: int, supervisor: int) -> None:
    from gateway.server import Lifespan, Server

    module, _, attribute = app.partition(":")
    application = getattr(importlib.import_module(module), attribute)  # sets Django up here

    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[None] = loop.create_future()

    def stop() -> None:
        if not stopped.done():
            stopped.set_result(None)

    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, stop)
    orphaned = loop.create_task(_until_orphaned(supervisor))
    orphaned.add_done_callback(lambda _: stop())
    server = Server(application, loop)
    lifespan = Lifespan(application)
    await lifespan.startup()
    from portal.startup import freeze_startup_objects

    freeze_startup_objects()  # the routes and keys loaded at start-up too
    listener = await loop.create_server(server.protocol, sock=sock)
    server.start_sweeping()
    try:
        os.write(told, b"1")
    except BrokenPipeError:  # the supervisor died while this worker started
        stop()
    finally:
        os.close(told)
    await stopped
    if os.getppid() != supervisor:
        log.warning("the gateway's supervisor is gone: this worker stops")
    orphaned.cancel()
    listener.close()
    await server.stop(grace)
    await lifespan.shutdown()


async def _until_orphaned(supervisor: int) -> None:
    """Returns once this worker's parent is no longer `supervisor` (it was reparented)."""
    while os.getppid() == supervisor:
        await asyncio.sleep(1.0)

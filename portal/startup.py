"""What the serving entry points do before the first request.

Refuse to serve in production without the secrets every replica must share.

settings.py lets tooling (tests, migrate, collectstatic at build time) run without them;
the serving entry points (portal/asgi.py, portal/wsgi.py, `manage.py serve`) call
`require_production_secrets()` first, so a missing secret stops start-up with its name
instead of a per-machine stand-in that logs users out whenever a request changes replica.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def missing_secrets() -> list[str]:
    if settings.DEBUG:
        return []
    missing = []
    if not getattr(settings, "SECRET_KEY_FROM_ENV", True):
        missing.append("SECRET_KEY")
    if settings.IDENTITY_BUILTIN and not settings.IDENTITY_PORTAL_CLIENT_SECRET:
        missing.append("IDENTITY_PORTAL_CLIENT_SECRET")
    return missing


# Shortest SECRET_KEY accepted with DEBUG off: it signs every session and derives the
# subscription keys' fallback encryption key. Django's own deploy check (security.W009) only
# warns, and `manage.py serve` does not run it.
MIN_SECRET_KEY_LENGTH = 32
# Fewest distinct characters in it, as Django's own check (security.W009) counts.
MIN_SECRET_KEY_CHARACTERS = 5
# The dev run's IDENTITY_PORTAL_CLIENT_SECRET (settings.py), public to anyone who reads it.
DEMO_CLIENT_SECRET = "portal-signin-demo-secret"


def weak_secrets() -> list[str]:
    """The secrets set with DEBUG off to a value anyone could guess, one sentence each,
    never quoting the value."""
    if settings.DEBUG:
        return []
    weak = []
    key = str(settings.SECRET_KEY)
    if getattr(settings, "SECRET_KEY_FROM_ENV", True) and (
        len(key.strip()) < MIN_SECRET_KEY_LENGTH
        or key.startswith("django-insecure-")
        or len(set(key)) < MIN_SECRET_KEY_CHARACTERS  # "xxxx...": long, and no secret
    ):
        weak.append(
            f"SECRET_KEY is too weak: give at least {MIN_SECRET_KEY_LENGTH} random characters, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if settings.IDENTITY_BUILTIN and settings.IDENTITY_PORTAL_CLIENT_SECRET == DEMO_CLIENT_SECRET:
        weak.append(
            "IDENTITY_PORTAL_CLIENT_SECRET is too weak: it is the dev run's public default; give "
            "a long random value and run `manage.py setup_portal_client`"
        )
    return weak


def require_production_secrets() -> None:
    missing = missing_secrets()
    if missing:
        names = ", ".join(f"{name} (or {name}_FILE)" for name in missing)
        raise ImproperlyConfigured(
            f"Not set with DEBUG off: {names}. Every portal process must be given the same "
            "value; see .env.example."
        )
    if weak := weak_secrets():
        raise ImproperlyConfigured(". ".join(weak) + ".")
    if not settings.DEBUG and settings.IDENTITY_BUILTIN and not settings.IDENTITY_ISSUER:
        # Unset, the issuer would follow each request's Host: any name ALLOWED_HOSTS lets in
        # (all of them with "*") would be the provider's discovery, key set and token
        # endpoint, for browsers and for the portal's own sign-in.
        raise ImproperlyConfigured(
            "Not set with DEBUG off while the built-in OpenID provider is on: IDENTITY_ISSUER, "
            "the provider's public URL (https://portal.example.com/idp), the same for every "
            "portal process; see .env.example."
        )


def unshared_counters_warning(workers: int, redis_urls: list[str], counters: str) -> str:
    """What a start says when several workers share no Redis ('' when they do, or run alone):
    each keeps its own `counters`, so a limit lets through as many times more as there are
    workers when a balancer or the kernel spreads the calls."""
    if workers < 2 or any(redis_urls):
        return ""
    return (
        f"Warning: REDIS_URL is not set: each of the {workers} workers keeps its own {counters}, "
        f"so a limit lets up to {workers} times its calls through. Set REDIS_URL to share them "
        "(and across processes and machines)."
    )


# Set by `manage.py serve` to its own pid for the granian workers it starts.
SUPERVISOR_VARIABLE = "PORTAL_SERVE_SUPERVISOR"


def stop_with_supervisor() -> None:
    """In a worker of `manage.py serve`: end this process when serve is gone.

    SIGKILL (the OOM killer, a supervisor's kill -9) gives serve no chance to stop its
    workers; they kept the port and served the old code for ever. A thread notices the new
    parent, then ends the worker as serve would (SIGTERM), or at once if that has not ended
    it within 10 s. Outside serve (another ASGI server, an import) nothing is started.
    """
    import os
    import signal
    import threading
    import time

    supervisor = os.environ.get(SUPERVISOR_VARIABLE, "")
    if not supervisor.isdigit() or os.getppid() != int(supervisor):
        return

    def watch() -> None:
        while os.getppid() == int(supervisor):
            time.sleep(1)
        logging.getLogger("portal").warning(
            "serve (pid %s) is gone: worker %s stops", supervisor, os.getpid()
        )
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, name="serve-supervisor", daemon=True).start()


def warm_up() -> None:
    """Imports every view (through the URLconf), builds the URL resolver's reverse map, makes
    the static files' storage and compiles the portal's own templates, so the first request
    of each worker does not: it took 0.4-0.6 s, where a page takes 10-30 ms afterwards.
    Called by every serving entry point, before `freeze_startup_objects()` takes what this
    makes out of the collector's reach."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.template import engines
    from django.template.backends.django import DjangoTemplates
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - the property imports the views
    resolver.reverse_dict  # noqa: B018 - and this one builds what reverse() reads
    staticfiles_storage.exists  # noqa: B018 - makes the storage, which reads its manifest
    backend = engines["django"]
    assert isinstance(backend, DjangoTemplates)
    backend.engine.template_context_processors  # noqa: B018 - imports the context processors
    for folder in backend.dirs:
        root = Path(folder)
        for path in sorted(root.rglob("*.html")):
            backend.get_template(path.relative_to(root).as_posix())


def freeze_startup_objects() -> None:
    """Moves everything made while starting (modules, settings, URL patterns, templates: about
    100,000 objects) out of the garbage collector's reach. They live as long as the process, yet
    every full collection walked them all: 16-20 ms each on the reference machine, up to
    130 ms under load, landing on whichever request was being served. Called last by every
    serving entry point; objects made later are collected as before."""
    gc.collect()
    gc.freeze()

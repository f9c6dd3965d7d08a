"""Typed readers for settings taken from the environment.

Each helper fails loudly on a malformed value instead of guessing, so a typo in a
deployment surfaces at start-up, not as odd behaviour later.

An empty (or blank) value is the same as unset: an env file copied from .env.example
(systemd's EnvironmentFile, compose's env_file) sets every variable it lists, most of them
to "", and each must keep its documented default (`SECURE_COOKIES=` once meant off).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

# Every variable a helper was asked for (NAME_FILE too), for `unread_lookalikes`; to begin
# with, those only `python -m gateway` reads, since it often shares the portal's env file.
READ: set[str] = {"GATEWAY_HOST", "GATEWAY_PORT", "GATEWAY_WORKERS"}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _given(value: str | None) -> str | None:
    """The value, or None when it is unset, empty or blank."""
    return value if value is not None and value.strip() else None


def env_str(name: str, default: str = "") -> str:
    """The value without the blanks around it (an env file's trailing space, which
    `docker run --env-file` keeps, made IDENTITY_ISSUER end in one)."""
    READ.add(name)
    value = _given(os.environ.get(name))
    return default if value is None else value.strip()


def env_secret(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    """A secret from NAME, or read from the file that NAME_FILE names (container secrets).

    Setting both is refused: a deployment that means one and gets the other is a silent
    misconfiguration. A trailing newline in the file (most editors add one) is dropped.
    """
    environ = os.environ if environ is None else environ
    READ.update((name, f"{name}_FILE"))
    value = _given(environ.get(name))
    path = _given(environ.get(f"{name}_FILE"))
    if path:
        if value:
            raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
        try:
            with open(path, encoding="utf-8") as file:
                return file.read().rstrip("\r\n")
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE={path!r} cannot be read: {exc.strerror}"
            ) from None
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    READ.add(name)
    raw = _given(os.environ.get(name))
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    READ.add(name)
    raw = _given(os.environ.get(name))
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        if raw.startswith(("tcp://", "udp://")) and name.endswith("_PORT"):
            service = name.removesuffix("_PORT").lower().replace("_", "-")
            raise ImproperlyConfigured(
                f"{name}={raw!r} is not an integer: Kubernetes sets it for a Service named "
                f"{service!r} in the namespace. Set enableServiceLinks: false in the pod spec, "
                f"or give {name} yourself"
            ) from None
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at most {maximum}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    READ.add(name)
    raw = _given(os.environ.get(name))
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def unread_lookalikes(environ: Mapping[str, str]) -> list[str]:
    """Variables set in `environ` that no helper read but that nearly spell one that was
    (DATABSE_URL, REDIS_URI), one sentence each naming both, never a value. OIDC_<ID>_*
    names are the providers' own, read without these helpers."""
    import difflib

    said = []
    for name in sorted(environ):
        if name in READ or not name.isupper() or name.startswith("OIDC_"):
            continue
        match = difflib.get_close_matches(name, READ, n=1, cutoff=0.85)
        if match:
            said.append(f"{name} is not a setting the portal reads: did you mean {match[0]}?")
    return said

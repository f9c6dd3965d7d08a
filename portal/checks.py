"""System checks for configuration mistakes that Django's own checks do not see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_secret_key_from_environment(app_configs: Any, **kwargs: Any) -> list[Error]:
    if getattr(settings, "SECRET_KEY_FROM_ENV", True):
        return []
    return [
        Error(
            "SECRET_KEY is not set in the environment.",
            hint="The generated development key in .secret_key is not for production; "
            "set SECRET_KEY to a long random value.",
            id="portal.E001",
        )
    ]


def private_hosts_problems(name: str, prefix: str) -> list[Error | Warning]:
    """Entries of a private-hosts allowance (`host:port` each) that cannot be read, or that
    name a bare host and so open every port of it (deprecated)."""
    from portal.lib import addresses

    entries = list(getattr(settings, name, []) or [])
    problems: list[Error | Warning] = []
    for entry in addresses.unreadable_entries(entries):
        problems.append(
            Error(
                f"{name}: cannot read {entry!r}.",
                hint="Give host:port, [IPv6]:port or an origin such as http://127.0.0.1:8000.",
                id=f"{prefix}.E010",
            )
        )
    bare = addresses.bare_entries(entries)
    if bare:
        problems.append(
            Warning(
                f"{name} names hosts without a port ({', '.join(bare)}): every port of them "
                "may be called, a database or Redis on the same host included.",
                hint="Write host:port (e.g. 127.0.0.1:8000); bare hosts are deprecated.",
                id=f"{prefix}.W010",
            )
        )
    return problems


@register()
def check_outbound_private_hosts(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    return private_hosts_problems("OUTBOUND_ALLOWED_PRIVATE_HOSTS", "portal")


def never_matching_hosts(entries: list[str]) -> list[str]:
    """Entries of a host list (ALLOWED_HOSTS syntax) that no Host header can match: Django
    compares the header's name, without its port, so a scheme, a path or a port never
    matches (a bracketed IPv6 address keeps its colons)."""
    bad = []
    for entry in entries:
        bracketed = entry.startswith("[") and entry.endswith("]")
        if "/" in entry or "@" in entry or (":" in entry and not bracketed):
            bad.append(entry)
    return bad


@register()
def check_host_lists(app_configs: Any, **kwargs: Any) -> list[Error]:
    return [
        Error(
            f"{name}: {entry!r} can never match a request's host, so every request naming "
            "it is refused (400).",
            hint="Give host names only, without scheme, port or path: portal.example.com, "
            ".example.com for its subdomains, [2001:db8::1] for an IPv6 address.",
            id="portal.E002",
        )
        for name in ("ALLOWED_HOSTS", "GATEWAY_HOSTS")
        for entry in never_matching_hosts(list(getattr(settings, name, []) or []))
    ]


@register()
def check_trusted_origins(app_configs: Any, **kwargs: Any) -> list[Error]:
    """CSRF_TRUSTED_ORIGINS entries with a path, query or fragment: a browser's Origin header
    is scheme://host[:port] only, and Django compares it with each entry as written."""
    from urllib.parse import urlsplit

    problems = []
    for origin in list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []) or []):
        parts = urlsplit(origin)
        if "://" in origin and (parts.path or parts.query or parts.fragment):
            problems.append(
                Error(
                    f"CSRF_TRUSTED_ORIGINS: {origin!r} can never match a browser's Origin, so "
                    "the forms it should allow are refused (403).",
                    hint="Give origins only, scheme://host[:port] without a path or trailing "
                    f"slash: {parts.scheme}://{parts.netloc}",
                    id="portal.E003",
                )
            )
    return problems


@register()
def check_site_url(app_configs: Any, **kwargs: Any) -> list[Error]:
    """SITE_URL begins every link in a mail: an http(s) address with a host, a path at most."""
    from urllib.parse import urlsplit

    url = str(getattr(settings, "SITE_URL", "") or "")
    if not url:
        return []
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname and not (parts.query or parts.fragment):
        return []
    return [
        Error(
            f"SITE_URL: {url!r} is not a web address, so the links in mails cannot be opened.",
            hint="Give the portal's public address with its scheme: https://portal.example.com "
            "(a path is allowed, no query or fragment).",
            id="portal.E004",
        )
    ]


@register(Tags.security, deploy=True)
def check_allowed_hosts_set(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """A deployment check (`check --deploy`, and `serve` says it too): on every management
    command of a developer's machine it was noise."""
    if settings.DEBUG or getattr(settings, "ALLOWED_HOSTS_FROM_ENV", True):
        return []
    return [
        Warning(
            "ALLOWED_HOSTS is not set: the portal answers only "
            f"{', '.join(settings.ALLOWED_HOSTS)}; any other host name is refused (400).",
            hint="Set ALLOWED_HOSTS to the portal's public host name(s), e.g. portal.example.com.",
            id="portal.W003",
        )
    ]

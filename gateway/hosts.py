"""Which Host header values the gateway answers (SECURITY.md case 64).

GATEWAY_HOSTS (Django ALLOWED_HOSTS syntax: exact names, `.example.com` for a domain and its
subdomains, `*` for any) defaults to the portal's ALLOWED_HOSTS; the address the gateway
listens on (the ASGI `server`) is always allowed, so `python -m gateway --host 10.0.0.5`
answers at its own address. An HTTP/1.1 request with no Host (RFC 9112 requires one), or with
two Host headers, is refused: a proxy in front may route by one and the backend by the other.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from django.http.request import split_domain_port, validate_host

from gateway.knobs import setting


class HostCheck:
    """Host header -> allowed, memoised per configured list (bounded)."""

    def __init__(self) -> None:
        self._configured: Sequence[str] | None = None
        self._verdicts: dict[bytes, bool] = {}

    def refusal(
        self, scope: MutableMapping[str, Any], host: bytes | None, repeated: bool
    ) -> str | None:
        """Why the call's Host is refused, or None when it is served. `repeated`: some header
        came more than once (then the raw list is searched for a second Host)."""
        if repeated and sum(1 for name, _ in scope["headers"] if name == b"host") > 1:
            return "Two Host headers."
        if host is None:
            # HTTP/1.0 may name no host: the server's own address. HTTP/1.1 must (RFC 9112
            # section 3.2): a proxy in front may have routed it by a name the gateway never saw.
            if scope.get("http_version", "1.1") == "1.0":
                return None
            return "An HTTP/1.1 request must have a Host header."
        configured = setting("GATEWAY_HOSTS", None) or setting("ALLOWED_HOSTS", [])
        if configured is not self._configured:
            self._configured, self._verdicts = configured, {}
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = self._allowed(host, configured, scope.get("server"))
            if len(self._verdicts) < 1000:
                self._verdicts[host] = verdict
        return None if verdict else "The gateway does not serve this host."

    @staticmethod
    def _allowed(host: bytes, configured: Sequence[str], server: Any) -> bool:
        try:
            text = host.decode("ascii")
        except UnicodeDecodeError:
            return False
        domain, _ = split_domain_port(text)
        if not domain:
            return False
        allowed = list(configured)
        if server:
            allowed.append(str(server[0]))
        return validate_host(domain, allowed)

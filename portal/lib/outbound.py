"""The one door to the network: every outbound HTTP call of the portal goes through here.

Spec import by URL, the console and anything later use `request()`. It:

- resolves the host once, checks every address it gets with the rules of
  `portal.lib.addresses` (shared with the gateway's key fetches) and connects to the checked
  address, so DNS rebinding cannot swap the target after the check; TLS still uses the real
  host name for SNI and certificate verification;
- allows loopback and private addresses only for the host and port the configuration
  (`OUTBOUND_ALLOWED_PRIVATE_HOSTS`) or the caller names;
- never uses proxies from the environment (urllib3 reads none; nothing here reads os.environ);
- has mandatory timeouts (connect 3 s, read 10 s) and a total deadline for the whole call
  (connect + read unless the caller gives one): a server that trickles its headers or body a
  byte at a time never resets a per-read timeout, so a watchdog closes the socket at the
  deadline; a size cap (2 MiB unless the caller raises it), a User-Agent, a header allowlist
  with CR/LF refused;
- follows no redirect to another host; same-host redirects (when asked for) are re-checked.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from portal.lib import addresses
from portal.lib.headers import OVERRIDE_HEADERS, never_forwarded

log = logging.getLogger(__name__)

USER_AGENT = "api-portal/0.1 (outbound)"
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024

# Request headers a caller may set. Custom `X-` headers are allowed except those that carry
# identity or routing meaning for proxies and backends (portal/lib/headers.py, the gateway's
# lists).
ALLOWED_HEADERS = frozenset(
    {
        "accept",
        "accept-language",
        "authorization",
        "cache-control",
        "content-type",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "idempotency-key",
        "ocp-apim-subscription-key",
        "prefer",
        "range",
        "user-agent",
    }
)
# Never sent from a caller, even one that lists them in `allow_headers`: the wrapper sets the
# framing and the Host itself, and proxies' headers have no business here.
# The message's framing and Host: what the HTTP client writes for the body and the URL.
FRAMING_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
    }
)
NEVER_SENT = (
    FRAMING_HEADERS
    | frozenset({"proxy-authorization", "proxy-connection", "forwarded"})
    | OVERRIDE_HEADERS
)  # method and URL overrides (case 62): shared with the gateway
DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie", "set-cookie2"})
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token; fullmatch it


class OutboundError(Exception):
    """A call refused or failed; `kind` says why (blocked, too-large, timeout, ...)."""

    def __init__(self, message: str, kind: str = "error", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status  # the answer's status, for kind "status"


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    elapsed: float  # seconds
    url: str
    address: str = ""
    redirects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), "")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-case, IPv6 without brackets
    port: int
    path: str  # path and query, never empty

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _allowance(extra: Iterable[str]) -> addresses.Allowance:
    """Hosts and ports allowed to be private, from settings and the caller."""
    return addresses.allowance([*getattr(settings, "OUTBOUND_ALLOWED_PRIVATE_HOSTS", []), *extra])


def parse_target(url: str) -> Target:
    """Check the URL's shape (before any DNS): http(s), a host, no userinfo, sane port."""
    if not isinstance(url, str) or any(c in url for c in "\r\n\t\x00 "):
        raise OutboundError("the URL contains spaces or control characters", "bad-url")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundError(
            f"only http and https URLs are allowed, not {scheme or 'none'!r}", "bad-url"
        )
    if "@" in parts.netloc:
        raise OutboundError("URLs with a user name or password are not allowed", "bad-url")
    try:
        port = parts.port
    except ValueError:
        raise OutboundError("the URL has an invalid port", "bad-url") from None
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise OutboundError("the URL has no host", "bad-url")
    try:
        # One ASCII form for DNS, the Host header, SNI and the allowlists.
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise OutboundError("the URL's host name is not valid", "bad-url") from None
    problem = addresses.name_problem(host)
    if problem:
        raise OutboundError(problem, "blocked")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def check_url(url: str, allowed_private: Iterable[str] = ()) -> Target:
    """The URL's shape, and for literal IP hosts the address rule, with no DNS lookup."""
    target = parse_target(url)
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        return target
    _check_address(ip, target.host, _allowance(allowed_private).allows(target.host, target.port))
    return target


def _check_address(
    ip: addresses.IPAddress, host: str, private_ok: bool, *, looked_up: bool = False
) -> None:
    """`looked_up`: `ip` is a DNS answer, not what the caller typed. The message then keeps
    it out (it reaches the person who gave the URL: the answers would map the internal
    network's names to addresses); the log has it."""
    problem = addresses.address_problem(ip, private_ok)
    if problem is None:
        return
    hint = (
        ""
        if "never" in problem
        else (" (allow its host:port in OUTBOUND_ALLOWED_PRIVATE_HOSTS if it is yours)")
    )
    if looked_up:
        log.warning("outbound: %s resolves to %s, %s; refused", host, ip, problem)
        raise OutboundError(f"{host} resolves to {problem}{hint}", "blocked")
    raise OutboundError(f"{host} is {problem}{hint}", "blocked")


def resolve(target: Target, allowed_private: Iterable[str] = ()) -> str:
    """Resolve once, check every address, return the one to connect to."""
    private_ok = _allowance(allowed_private).allows(target.host, target.port)
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"cannot resolve {target.host}: {exc}", "dns") from None
    try:
        literal = bool(ipaddress.ip_address(target.host))
    except ValueError:
        literal = False
    addresses = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]
        ip = ipaddress.ip_address(raw)
        _check_address(ip, target.host, private_ok, looked_up=not literal)
        addresses.append(str(ip))
    if not addresses:
        raise OutboundError(f"cannot resolve {target.host}", "dns")
    return addresses[0]


def is_latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _clean_headers(headers: Mapping[str, str], allow: Iterable[str]) -> dict[str, str]:
    extra = {h.lower() for h in allow}
    out = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    for name, value in headers.items():
        lowered = str(name).lower()
        if not HEADER_NAME.fullmatch(str(name)):
            raise OutboundError(f"invalid header name {name!r}", "bad-header")
        if any(c in str(value) for c in "\r\n\x00"):
            raise OutboundError(f"the {name} header contains a line break", "bad-header")
        if not is_latin1(str(value)):
            # HTTP/1.1 carries header values as bytes; http.client would fail mid-request.
            raise OutboundError(
                f"the {name} header contains characters HTTP headers cannot carry", "bad-header"
            )
        # Identity and override headers are refused even when allowed by name; the one sent is
        # the portal's own request id, which the console passes on for the logs.
        identity = lowered != "x-request-id" and never_forwarded(lowered)
        custom = lowered.startswith("x-")
        if (
            lowered in NEVER_SENT
            or identity
            or (lowered not in ALLOWED_HEADERS and lowered not in extra and not custom)
        ):
            raise OutboundError(f"the {name} header may not be sent", "bad-header")
        if lowered == "user-agent":
            out.pop("User-Agent", None)
        out[str(name)] = str(value)
    return out


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    max_bytes: int = MAX_BYTES,
    allowed_private: Iterable[str] = (),
    allow_headers: Iterable[str] = (),
    follow_redirects: bool = False,
    total_timeout: float | None = None,
) -> Response:
    """Send one request (following same-host redirects only if asked); see the module doc.

    `total_timeout` bounds the whole call, redirects included (connect + read by default)."""
    if not re.match(r"^[A-Z]{1,16}$", method.upper()):
        raise OutboundError(f"invalid method {method!r}", "bad-method")
    allowed_private = list(allowed_private)
    clean = _clean_headers(headers or {}, allow_headers)
    started = time.monotonic()
    deadline = started + (total_timeout or connect_timeout + read_timeout)
    first = parse_target(url)
    redirects: list[str] = []
    current = url
    while True:
        target = parse_target(current)
        if (target.scheme, target.host, target.port) != (first.scheme, first.host, first.port):
            raise OutboundError(
                f"redirect to another host ({target.host_header}) refused", "redirect"
            )
        response = _send(
            method.upper(),
            target,
            clean,
            body,
            connect_timeout,
            read_timeout,
            max_bytes,
            allowed_private,
            deadline,
        )
        response.url = current
        location = response.header("location")
        if not (follow_redirects and 300 <= response.status < 400 and location):
            response.elapsed = time.monotonic() - started
            response.redirects = redirects
            return response
        if len(redirects) >= MAX_REDIRECTS:
            raise OutboundError("too many redirects", "redirect")
        current = urljoin(current, location)
        redirects.append(current)
        if response.status in (301, 302, 303) and method.upper() != "HEAD":
            method, body = "GET", b""


def _send(
    method: str,
    target: Target,
    headers: dict[str, str],
    body: bytes,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    allowed_private: list[str],
    deadline: float,
) -> Response:
    address = resolve(target, allowed_private)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundError("the call took too long; aborted", "timeout")
    timeout = urllib3.Timeout(
        connect=min(connect_timeout, remaining), read=min(read_timeout, remaining)
    )
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = _WatchedHTTPSPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ssl_context=ssl.create_default_context(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = _WatchedHTTPPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
    watchdog = threading.Timer(remaining, _cut, args=(pool,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return _exchange(pool, method, target, headers, body, max_bytes, deadline, address)
    except OutboundError:
        raise
    except (Urllib3Error, OSError) as exc:
        # A socket the watchdog shut down fails with whatever error was in progress.
        if getattr(pool, "cut", False) or isinstance(exc, Urllib3Timeout | TimeoutError):
            raise OutboundError(
                f"{target.host_header} did not answer in time; aborted", "timeout"
            ) from None
        raise OutboundError(f"cannot reach {target.host_header}: {exc}", "connect") from None
    finally:
        watchdog.cancel()
        pool.close()


class _Watched:
    """A pool that remembers its connections, so the watchdog can shut their sockets."""

    watched: list[urllib3.connection.HTTPConnection]
    cut = False

    def _new_conn(self) -> Any:
        conn = super()._new_conn()  # type: ignore[misc]
        self.__dict__.setdefault("watched", []).append(conn)
        return conn


class _WatchedHTTPPool(_Watched, urllib3.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, urllib3.HTTPSConnectionPool):
    pass


def _cut(pool: urllib3.HTTPConnectionPool) -> None:
    """The deadline passed: shut the socket down so a blocked read returns at once."""
    pool.cut = True  # type: ignore[attr-defined]
    for conn in getattr(pool, "watched", []):
        sock = getattr(conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _exchange(
    pool: urllib3.HTTPConnectionPool,
    method: str,
    target: Target,
    headers: dict[str, str],
    body: bytes,
    max_bytes: int,
    deadline: float,
    address: str,
) -> Response:
    sent = {**headers, "Host": target.host_header}
    started = time.monotonic()
    raw = pool.urlopen(
        method,
        target.path,
        body=body or None,
        headers=sent,
        redirect=False,
        retries=False,
        preload_content=False,
        decode_content=False,
        assert_same_host=False,
    )
    try:
        declared = (raw.headers.get("content-length") or "").strip().lstrip("0")
        # ASCII digits only ("²" passes isdigit(), not int()); past 18 digits it is over any
        # limit, and int() refuses thousands of them. Anything else: the stream cap decides.
        if declared.isascii() and declared.isdigit():
            if len(declared) > 18:
                raise OutboundError(
                    f"the response declares more than {max_bytes:,} bytes", "too-large"
                )
            if int(declared) > max_bytes:
                raise OutboundError(
                    f"the response is {int(declared):,} bytes, over the limit of {max_bytes:,}",
                    "too-large",
                )
        chunks = []
        size = 0
        while True:
            chunk = raw.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise OutboundError(
                    f"the response is over the limit of {max_bytes:,} bytes; aborted",
                    "too-large",
                )
            chunks.append(chunk)
        # A socket cut by the watchdog can read as a clean end of the body: never return
        # a truncated body as if it were whole.
        if getattr(pool, "cut", False) or time.monotonic() > deadline:
            raise OutboundError("the response took too long; aborted", "timeout")
    finally:
        raw.release_conn()
        raw.close()
    return Response(
        status=raw.status,
        reason=raw.reason or "",
        headers=[
            (k, v) for k, v in raw.headers.iteritems() if k.lower() not in DROPPED_RESPONSE_HEADERS
        ],
        body=b"".join(chunks),
        elapsed=time.monotonic() - started,
        url="",
        address=address,
    )


def fetch(url: str, *, max_bytes: int = MAX_BYTES, allowed_private: Iterable[str] = ()) -> Response:
    """GET a document (spec import): same-host redirects followed, non-2xx is an error."""
    response = request(
        "GET",
        url,
        headers={"Accept": "application/json, application/yaml, text/yaml, */*"},
        max_bytes=max_bytes,
        allowed_private=allowed_private,
        follow_redirects=True,
    )
    if not 200 <= response.status < 300:
        raise OutboundError(
            f"{url} answered {response.status} {response.reason}", "status", response.status
        )
    return response

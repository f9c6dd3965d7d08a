"""Request headers that never travel from a client to a backend, shared by the gateway's
proxy and the console's outbound calls so the two cannot drift apart.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

# C0 and C1 controls and DEL: what no header value the gateway makes may carry (a claim with
# one is refused, gateway/jwt.py; any left are removed, gateway/proxy.py).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Method and URL override headers (SECURITY.md case 62). A backend or framework that honours
# them runs another method or path than the one the gateway matched and checked: a read-only
# token would trigger a DELETE.
OVERRIDE_HEADERS = frozenset(
    {
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
        "x-original-url",
        "x-rewrite-url",
        "x-host",
        "x-original-host",
        # The same by other names (Microsoft's, and some Java frameworks').
        "x-http-verb",
        "x-method",
    }
)

OVERRIDE_HEADERS_BYTES = frozenset(name.encode("ascii") for name in OVERRIDE_HEADERS)

# More of the same kind, beyond case 62's list: URLs and hosts that proxies and frameworks put
# in place of the request's own (Envoy, IIS ARR, the usual "403 bypass" headers).
REWRITE_HEADERS = frozenset(
    {
        b"x-override-url",
        b"x-http-destinationurl",
        b"x-proxy-url",
        b"x-http-host-override",
        b"x-envoy-original-path",
    }
)

# The same override as a query parameter: Express's method-override('_method') and Laravel run
# `POST /pets/1?_method=DELETE` as a DELETE; ASP.NET MVC 5 and Web Pages (System.Web's
# GetHttpMethodOverride) run a POST as the method an `X-HTTP-Method-Override` form field or
# query parameter names (any case), when no header of that name does.
OVERRIDE_QUERY_PARAMS = frozenset({"_method", "x-http-method-override"})


def _spellings(name: str) -> bytes:
    """A regex for the lower-cased bytes of a pair's start whose name `param_key` reads as
    `name`: spaces (` `, `+`, `%20`), then each character as itself, any %-escape of it or
    IIS's %u00XX (an underscore also as `.`, which PHP reads as one)."""
    parts = [rb"(?:\x20|\+|%20)*"]
    for char in name:
        forms = {char.lower(), char.upper()}
        if char == "_":
            forms.add(".")
        spelled = [re.escape(f.encode()) for f in sorted(forms) if f.islower() or not f.isalpha()]
        spelled += [b"%%%02x" % ord(f) for f in sorted(forms)]
        spelled += [b"%%u%04x" % ord(f) for f in sorted(forms)]  # IIS's, read by System.Web
        parts.append(b"(?:" + b"|".join(spelled) + b")")
    return b"".join(parts)


# A C-speed first look (parse_qsl is about 4 us a pair): text in which no pair can spell an
# override is not split into pairs at all. A pair starts the text or follows `&` or `;`
# (a leading character class, not `(?:^|...)`: the engine then skips to each separator).
_OVERRIDE_NAME = b"(?:" + b"|".join(_spellings(n) for n in sorted(OVERRIDE_QUERY_PARAMS)) + b")"
_OVERRIDE_FIRST = re.compile(_OVERRIDE_NAME)
_OVERRIDE_LATER = re.compile(b"[&;]" + _OVERRIDE_NAME)


def overrides_method(query: bytes) -> bool:
    """Whether a query string (or a form body) names a method override parameter, in any
    case or encoding, as a list (`_method[]`), or as PHP reads names (`.method`, ` _method`:
    leading spaces dropped, dots and spaces made underscores), with pairs split at `;` as
    well as `&` (Rack, behind Rails, reads both as separators)."""
    # find(), not `in`: a bytes `in` first tries its operand as an integer and formats a
    # TypeError for it (about 3,000 instructions each).
    if query.find(b"_") < 0 and query.find(b".") < 0 and query.find(b"%") < 0:
        # No name can spell `_method` (nor `.method`): three scans, no copy. Nor, unless the
        # word is there in some case, X-HTTP-Method-Override (a copy only for a query that
        # could hold its dashes and letters, and then one scan).
        if query.find(b"-") < 0:
            return False
        lowered = query.lower()
        if lowered.find(b"override") < 0:
            return False
    else:
        lowered = query.lower()
    if _OVERRIDE_FIRST.match(lowered) is None and _OVERRIDE_LATER.search(lowered) is None:
        return False
    pairs = parse_qsl(query.decode("latin-1").replace(";", "&"), keep_blank_values=True)
    return any(param_key(name) in OVERRIDE_QUERY_PARAMS for name, _ in pairs)


# IIS's %uXXXX escape, which System.Web's UrlDecode reads in queries and form fields.
IIS_ESCAPE = re.compile(r"%[uU]([0-9A-Fa-f]{4})")


def iis_unescape(text: str) -> str:
    """`text` with IIS's %uXXXX escapes decoded, as System.Web's UrlDecode reads them."""
    if text.find("%") < 0:
        return text
    return IIS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def param_key(name: str) -> str:
    """A decoded query or form parameter name as the frameworks behind a gateway read it:
    any case, a list's `[...]` dropped, PHP's leading spaces dropped and `.` and ` ` read as
    `_`, and cut at a NUL (PHP's php_register_variable_ex reads the name as a C string, so
    `_method%00x` is `_method`). An IIS escape left by the %XX decoding (`%u005Fmethod`) is
    decoded, as System.Web's UrlDecode reads it in a query or form field."""
    name = iis_unescape(name).split("\0", 1)[0]
    return name.lstrip(" ").split("[", 1)[0].replace(".", "_").replace(" ", "_").lower()


# Headers that tell a backend who the client is, or which address it came from (case 31):
# only the gateway sets them (X-Forwarded-*, X-User-*, X-Request-Id), or a backend behind some
# proxy trusts them for the caller's address or user. A client's own copy never goes on.
IDENTITY_HEADER_PREFIXES = (
    b"x-forwarded",  # -for, -host, -proto, -client-cert... and the bare `X-Forwarded`
    b"forwarded-",
    b"x-user-",
    b"x-gateway-",
    b"x-original-",
    # Who the caller is, as the proxies that sign people in tell their backends, and client
    # certificates as TLS-terminating proxies pass them on: a backend behind one of these
    # trusts them. Azure App Service (X-MS-CLIENT-PRINCIPAL*, X-ARR-ClientCert), AWS ALB,
    # Google IAP, Cloudflare Access, oauth2-proxy, Grafana's auth proxy, Kong; nginx, HAProxy.
    b"x-ms-client-",
    b"x-arr-",
    b"x-amzn-oidc-",
    b"x-goog-authenticated-",
    b"x-goog-iap-",
    b"cf-access-",
    b"x-auth-request-",
    b"x-webauth-",
    b"x-authenticated-",
    b"x-consumer-",
    b"x-client-cert",
    b"x-client-verify",
    b"x-client-dn",
    b"x-ssl-",
    b"ssl-client-",
    # More of the same: Authelia's (beside Remote-User), Kubernetes' and OpenShift's
    # request-header authentication, Kong 3's credential and anonymous consumer, Google Cloud
    # Endpoints' and API Gateway's user info, WSO2's backend JWT, Pomerium, authentik, Vouch
    # Proxy, Apache mod_auth_openidc (OIDC_CLAIM_*, OIDC_access_token) and App Service's tokens.
    b"remote-group",
    b"remote-email",
    b"remote-name",
    b"x-remote-group",
    b"x-remote-extra-",
    b"x-credential-",
    b"x-anonymous-",
    b"x-endpoint-api-userinfo",
    b"x-apigateway-api-userinfo",
    b"x-jwt-assertion",
    b"x-pomerium-",
    b"x-authentik-",
    b"x-vouch-",
    b"oidc-claim-",
    b"oidc-access-token",
    b"oidc-id-token",
    b"x-ms-token-",
    # App Engine's user and address, CloudFront's viewer, Tailscale serve's user.
    b"x-appengine-user-",
    b"cloudfront-viewer-",
    b"tailscale-user-",
)
IDENTITY_HEADERS = frozenset(
    {
        b"forwarded",
        b"via",
        b"x-request-id",
        b"x-real-ip",
        b"x-client-ip",
        b"true-client-ip",
        b"cf-connecting-ip",
        b"fastly-client-ip",
        b"x-cluster-client-ip",
        b"remote-user",
        b"x-remote-user",
        b"x-remote-addr",
        b"x-authenticated-user",
        b"x-originating-ip",
        b"x-remote-ip",
        b"x-proxyuser-ip",
        b"x-custom-ip-authorization",
        b"x-envoy-external-address",
        b"x-azure-clientip",
        b"x-azure-socketip",
        b"client-ip",
        # The caller's address by other platforms' and proxies' names (WebLogic's and Java's
        # IpUtils, Fly.io, Cloudflare's pseudo IPv4, DigitalOcean, Imperva), and IpUtils'
        # CGI-style names sent as headers (HTTP_CLIENT_IP reads as http-client-ip).
        b"proxy-client-ip",
        b"wl-proxy-client-ip",
        b"http-client-ip",
        b"http-x-forwarded-for",
        b"fly-client-ip",
        b"cf-pseudo-ipv4",
        b"do-connecting-ip",
        b"incap-client-ip",
        # Who the caller is by Kong's OIDC plugin and the generic names of small proxies.
        b"x-userinfo",
        b"x-user",
        b"x-auth-user",
        b"x-roles",
        # The scheme by other names than X-Forwarded-Proto: CodeIgniter and phpMyAdmin take
        # `Front-End-Https: on`, Pyramid and Paste `X-Url-Scheme`, Tornado `X-Scheme`.
        b"front-end-https",
        b"x-url-scheme",
        b"x-scheme",
        # Set by Next.js for its own subrequests, which skip its middleware (the sign-in
        # check of most Next.js apps): a client's copy did the same (CVE-2025-29927).
        b"x-middleware-subrequest",
    }
)


def header_key(name: bytes) -> bytes:
    """A lower-case header name as WSGI and CGI backends see it: `X_User_Sub` arrives in
    Django, Flask or PHP as HTTP_X_USER_SUB, the same variable as `X-User-Sub`, so a name is
    compared with its underscores read as dashes."""
    return name.replace(b"_", b"-") if name.find(b"_") >= 0 else name


def never_forwarded(name: str) -> bool:
    """Whether a header of this name is one a client may never send on to a backend (an
    override or an identity header), in any case and with underscores read as dashes: the
    console's and the outbound wrapper's check, the same lists as the gateway's proxy."""
    key = header_key(name.lower().encode("latin-1"))
    return (
        key in OVERRIDE_HEADERS_BYTES
        or key in REWRITE_HEADERS
        or key in IDENTITY_HEADERS
        or key.startswith(IDENTITY_HEADER_PREFIXES)
    )

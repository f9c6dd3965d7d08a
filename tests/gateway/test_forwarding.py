"""What the backend receives: SECURITY.md case 62 (method and URL override headers never
reach a backend) against the recording backend, through the proxy and the echo backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portal.lib.headers import never_forwarded
from tests.gateway.conftest import Harness, LoopbackServer, Provider, claims, make_route, mint
from tests.portal.test_headers import CASE_62

Build = Callable[..., Harness]


def read_only(provider: Provider) -> str:
    return mint(provider.keys[0], claims(provider, scope="orders.read"))


@pytest.mark.parametrize("name", CASE_62)
def test_case62_override_headers_never_reach_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer, name: str
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    overrides = {
        name: "DELETE" if "method" in name.lower() else "/admin/delete-everything",
        name.lower(): "DELETE",
    }
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers=overrides)
    assert resp.status == 200
    [seen] = backend.recorder.requests
    assert seen["method"] == "GET" and seen["path"] == "/items/1"
    sent = {k for k, _ in seen["headers"]}
    assert name.lower() not in sent, seen["headers"]
    assert "x-request-id" in sent  # the recorder does see the gateway's own headers


def test_case62_echo_shows_no_override_headers(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    gw = harness_for(make_route(provider, None, backend="echo"))
    headers = dict.fromkeys(CASE_62, "DELETE")
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers=headers)
    assert resp.status == 200
    shown = {k.lower() for k in resp.json()["headers"]}
    assert not shown & {n.lower() for n in CASE_62}
    assert resp.json()["method"] == "GET"


@pytest.mark.parametrize(
    ("header_name", "scheme"), [("Authorization", "Bearer"), ("X-Api-Token", ""), ("X-Jwt", "JWT")]
)
def test_echo_shortens_the_token_in_whatever_header_the_policy_reads(
    harness_for: Build, provider: Provider, header_name: str, scheme: str
) -> None:
    # The echo answer lands in the console's history and wherever responses are kept: the
    # token was shortened only in Authorization, and shown whole from a policy's own header.
    route = make_route(provider, None, backend="echo", header_name=header_name,
                       require_scheme=scheme)  # fmt: skip
    token = read_only(provider)
    value = f"{scheme} {token}" if scheme else token
    resp = harness_for(route).request("GET", "/orders/items/1", headers={header_name: value})
    assert resp.status == 200, resp.body
    assert token not in resp.body.decode()
    assert token.split(".")[2] not in resp.body.decode()
    shown = {k.lower(): v for k, v in resp.json()["headers"].items()}
    assert shown[header_name.lower()].endswith(f"[{len(token)} characters]")


# WSGI and CGI backends (Django, Flask, PHP) read `X_User_Sub` as HTTP_X_USER_SUB, the same
# variable as `X-User-Sub`: an underscore spelling of a stripped header is the same header.
# The last three carry a client address or user that backends behind other proxies trust.
SPOOFED = [
    "X_HTTP_Method_Override",
    "X_Original_URL",
    "X_User_Sub",
    "X_User_Issuer",
    "X_Forwarded_For",
    "X_Gateway_Claims",
    "X_Real_IP",
    "x_forwarded-host",
    "CF-Connecting-IP",
    "Remote-User",
    "X-Original-Forwarded-For",
]


@pytest.mark.parametrize("name", SPOOFED)
def test_underscore_spellings_and_other_identity_headers_never_reach_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer, name: str
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers={name: "root"})
    assert resp.status == 200
    [seen] = backend.recorder.requests
    sent = {k.replace("_", "-") for k, _ in seen["headers"]}
    assert name.lower() not in {k for k, _ in seen["headers"]}, seen["headers"]
    assert ("x-user-sub", "alice") in seen["headers"]
    assert "root" not in {v for _, v in seen["headers"]}
    assert "x-forwarded-for" in sent


def test_the_subject_goes_with_its_issuer(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    # A sub is unique within its issuer only: on a route trusting two issuers, their users
    # with one sub looked alike to the backend, which got X-User-Sub alone.
    gw = harness_for(make_route(provider, backend.url))
    spoof = {"X-User-Issuer": "https://other.example", "x-user-issuer": "https://x.example"}
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers=spoof)
    assert resp.status == 200
    [seen] = backend.recorder.requests
    issuers = [v for k, v in seen["headers"] if k.lower().replace("_", "-") == "x-user-issuer"]
    assert issuers == [provider.issuer]
    assert ("x-user-sub", "alice") in seen["headers"]


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", "ad\x00min"), ("sub", "admin\r\nX-Role: root"), ("sub", ""), ("client_id", "")],
)
def test_subject_or_client_with_control_characters_or_empty_is_401(
    harness_for: Build, provider: Provider, backend: LoopbackServer, claim: str, value: str
) -> None:
    # Stripped for the header, "ad\x00min" would reach the backend as X-User-Sub: admin.
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read", **{claim: value}))
    assert gw.request("GET", "/orders/items/1", token=token).status == 401
    assert backend.recorder.count() == 0


def test_forwarded_claims_keep_non_ascii_and_drop_scopes_with_control_characters(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    payload = claims(provider, sub="admin\u00e9", scope="orders.read a\nb")
    assert gw.request("GET", "/orders/items/1", token=mint(provider.keys[0], payload)).status == 200
    seen = dict(backend.recorder.requests[0]["headers"])
    # The UTF-8 bytes as sent (the recorder reads header bytes as Latin-1): not "admin".
    assert seen["x-user-sub"].encode("latin-1").decode("utf-8") == "admin\u00e9"
    assert seen["x-user-scopes"] == "orders.read"


@pytest.mark.parametrize(
    "odd",
    [
        "x\u00a0orders.write",  # no-break space: split by str.split(), /\\s+/ and strings.Fields
        "x\u2005orders.write",  # its UTF-8 bytes hold 0x85, NEL, which str.split() splits at
        "x\u3000orders.write",  # ideographic space
        "x,orders.write",  # the list separator of HTTP fields
    ],
)
def test_forwarded_scopes_hold_no_scope_a_backend_splits_in_two(
    harness_for: Build, provider: Provider, backend: LoopbackServer, odd: str
) -> None:
    """The gateway splits `scope` at spaces only (RFC 9068), so `x<NBSP>orders.write` is one
    scope, not orders.write, to its rules; sent on in X-User-Scopes, a backend that splits at
    any white space or at commas (Python's str.split(), JavaScript's /\\s+/, an HTTP list
    parser) read orders.write, which the gateway had found missing. Such a scope is left out,
    as one with a control character is; RFC 6749's scope tokens are visible ASCII anyway."""
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope=f"orders.read {odd}"))
    assert gw.request("GET", "/orders/items/1", token=token).status == 200
    seen = dict(backend.recorder.requests[0]["headers"])
    assert seen["x-user-scopes"] == "orders.read"


@pytest.mark.parametrize(
    "query",
    [
        "_method=DELETE",
        "a=1&_method=delete",
        "%5Fmethod=DELETE",
        "_method[]=DELETE",  # Rails and PHP read the first of a list
        "_method%5B0%5D=DELETE",
        ".method=DELETE",  # PHP reads a dot in a name as an underscore
        "+_method=DELETE",  # and drops leading spaces
        "a=1;_method=DELETE",  # Rack (Rails) and older servers split pairs at `;` too
        "_method%00=DELETE",  # PHP reads a name as a C string: it ends at the NUL
        "_method%00x[]=DELETE",
    ],
)
def test_case62_method_override_query_parameter_is_refused(
    harness_for: Build, provider: Provider, backend: LoopbackServer, query: str
) -> None:
    # Express's method-override('_method') and Laravel run a POST ?_method=DELETE as a DELETE:
    # the scope checked would be POST's.
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    resp = gw.request("POST", "/orders/items/1", token=token, query=query, body=b"")
    assert resp.status == 400 and resp.json()["check"] == "method"
    assert backend.recorder.count() == 0
    assert gw.request("POST", "/orders/items/1", token=token, query="method=x").status == 200


# Beyond case 62's list: other URL and host overrides that proxies and frameworks honour
# (Envoy, IIS ARR, the usual "403 bypass" headers), and client addresses that backends
# behind other proxies trust (Azure Front Door, Envoy, the usual spoofing headers).
MORE_OVERRIDES = [
    "X-Override-URL",
    "X-HTTP-DestinationURL",
    "X-Proxy-URL",
    "X-HTTP-Host-Override",
    "X-Envoy-Original-Path",
    "X-Originating-IP",
    "X-Remote-IP",
    "X-ProxyUser-IP",
    "X-Custom-IP-Authorization",
    "X-Envoy-External-Address",
    "X-Azure-ClientIP",
    "X-Azure-SocketIP",
    "Client-IP",
    # Method overrides by other names (Microsoft's and some Java frameworks').
    "X-HTTP-Verb",
    "X-Method",
    # Who the caller is, as the proxies that sign people in tell their backends: a backend
    # behind one of them trusts these (Azure App Service, AWS ALB, Google IAP, Cloudflare
    # Access, oauth2-proxy, Grafana's auth proxy, Kong) and client certificates.
    "X-MS-CLIENT-PRINCIPAL",
    "X-MS-CLIENT-PRINCIPAL-NAME",
    "X-MS-CLIENT-PRINCIPAL-ID",
    "X-ARR-ClientCert",
    "X-Client-Cert",
    "X-SSL-Client-Verify",
    "X-SSL-Client-S-DN",
    "Ssl-Client-Subject-Dn",
    "X-Amzn-Oidc-Identity",
    "X-Amzn-Oidc-Data",
    "X-Goog-Authenticated-User-Email",
    "X-Goog-IAP-JWT-Assertion",
    "Cf-Access-Authenticated-User-Email",
    "Cf-Access-Jwt-Assertion",
    "X-Auth-Request-User",
    "X-Auth-Request-Email",
    "X-WEBAUTH-USER",
    "X-Authenticated-Userid",
    "X-Consumer-Username",
    "X-Consumer-ID",
    "X-Forwarded",
    "Forwarded-For",
]


def test_case62_more_override_and_address_headers_never_reach_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    headers = {name: "/admin" if "url" in name.lower() else "127.0.0.1" for name in MORE_OVERRIDES}
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers=headers)
    assert resp.status == 200
    sent = {k for k, _ in backend.recorder.requests[0]["headers"]}
    assert not sent & {n.lower() for n in MORE_OVERRIDES}, sent
    for name in MORE_OVERRIDES:  # nor does the console send them
        assert never_forwarded(name), name


# The scheme by other names than X-Forwarded-Proto (which is stripped): CodeIgniter and
# phpMyAdmin take `Front-End-Https: on`, Pyramid and Paste apps `X-Url-Scheme`, Tornado
# (xheaders) `X-Scheme`, so a client's own copy makes a plain-HTTP call look like HTTPS to
# them (secure-only cookies, HTTPS-only checks, the links they build). Next.js skips its
# middleware, its usual sign-in check, for a request with `X-Middleware-Subrequest`
# (CVE-2025-29927): only Next.js itself sets it.
SCHEME_AND_INTERNAL = ["Front-End-Https", "X-Url-Scheme", "X-Scheme", "X-Middleware-Subrequest"]


@pytest.mark.parametrize("name", SCHEME_AND_INTERNAL)
def test_case62_scheme_and_framework_internal_headers_never_reach_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer, name: str
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    for spelling in (name, name.upper(), name.replace("-", "_")):
        headers = {spelling: "middleware" if "Middleware" in name else "https"}
        resp = gw.request("GET", "/orders/items/1", token=read_only(provider), headers=headers)
        assert resp.status == 200
    for seen in backend.recorder.requests:
        names = {k.replace("_", "-") for k, _ in seen["headers"]}
        assert name.lower() not in names, seen["headers"]
    assert never_forwarded(name) and never_forwarded(name.replace("-", "_"))


# Who the caller is, as more of the proxies that sign people in tell their backends (a backend
# behind one trusts them, and a client's own copy named anyone): Authelia (Remote-User's
# siblings), Kubernetes' and OpenShift's request-header authentication, Kong 3 (credential
# and anonymous consumer), Google Cloud Endpoints and API Gateway, WSO2 API Manager's backend
# JWT, Pomerium, authentik, Vouch Proxy, Apache mod_auth_openidc (OIDC_CLAIM_*, which reaches a
# WSGI backend as the same variable as OIDC-CLAIM-*) and Azure App Service's token store.
SIGN_IN_PROXY_HEADERS = [
    "Remote-Groups",
    "Remote-Email",
    "Remote-Name",
    "X-Remote-Group",
    "X-Remote-Extra-Scopes",
    "X-Credential-Identifier",
    "X-Credential-Username",
    "X-Anonymous-Consumer",
    "X-Anonymous-Groups",
    "X-Endpoint-API-UserInfo",
    "X-Apigateway-Api-Userinfo",
    "X-JWT-Assertion",
    "X-Pomerium-Jwt-Assertion",
    "X-Pomerium-Claim-Email",
    "X-authentik-username",
    "X-authentik-groups",
    "X-Vouch-User",
    "X-Vouch-Idp-Claims-Groups",
    "OIDC_CLAIM_sub",
    "OIDC-Claim-Email",
    "OIDC_access_token",
    "X-MS-TOKEN-AAD-ACCESS-TOKEN",
    # The caller's address as more platforms and proxies tell it (WebLogic's and Java's
    # IpUtils, App Engine, CloudFront, Fly.io, Cloudflare's pseudo IPv4, DigitalOcean,
    # Imperva), the same variables written as CGI names, and who the caller is by Tailscale's
    # serve, Kong's OIDC plugin and the generic names of small sign-in proxies.
    "Proxy-Client-IP",
    "WL-Proxy-Client-IP",
    "HTTP_CLIENT_IP",
    "HTTP_X_FORWARDED_FOR",
    "X-Appengine-User-Ip",
    "X-Appengine-User-Email",
    "CloudFront-Viewer-Address",
    "Fly-Client-IP",
    "Cf-Pseudo-IPv4",
    "DO-Connecting-IP",
    "Incap-Client-IP",
    "Tailscale-User-Login",
    "X-Userinfo",
    "X-User",
    "X-Auth-User",
    "X-Roles",
]


@pytest.mark.parametrize("name", SIGN_IN_PROXY_HEADERS)
def test_case31_sign_in_proxies_identity_headers_never_reach_the_backend(
    harness_for: Build, provider: Provider, backend: LoopbackServer, name: str
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    for spelling in (name, name.upper(), name.replace("-", "_")):
        resp = gw.request(
            "GET", "/orders/items/1", token=read_only(provider), headers={spelling: "admin"}
        )
        assert resp.status == 200
    for seen in backend.recorder.requests:
        names = {k.lower().replace("_", "-") for k, _ in seen["headers"]}
        assert name.lower().replace("_", "-") not in names, seen["headers"]
    assert never_forwarded(name) and never_forwarded(name.replace("-", "_"))


@pytest.mark.parametrize(
    "body",
    [
        b"_method=DELETE",
        b"a=1&_method=delete",
        b"%5Fmethod=PUT",
        b"_method[]=DELETE",
        b"_method%00=DELETE",  # PHP: the name ends at the NUL
    ],
)
def test_case62_method_override_in_a_form_body_is_refused(
    harness_for: Build, provider: Provider, backend: LoopbackServer, body: bytes
) -> None:
    # Rails, Laravel and Symfony read `_method` from a form body as from the query string.
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    form = {"content-type": "application/x-www-form-urlencoded"}
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=form)
    assert resp.status == 400 and resp.json()["check"] == "method"
    assert backend.recorder.count() == 0
    plain = gw.request("POST", "/orders/items/1", token=token, body=b"a=1&method=x", headers=form)
    assert plain.status == 200
    assert backend.recorder.requests[0]["body"] == b"a=1&method=x"  # forwarded whole


@pytest.mark.parametrize("content_type", [None, ""], ids=["none", "empty"])
@pytest.mark.parametrize(
    "chunks",
    [
        [b"_method=DELETE"],
        [b"a=1&%5Fmethod=PUT"],
        [b"a=" + b"x" * (2 << 20) + b"&_met", b"hod=DELETE"],  # late, cut by a chunk boundary
    ],
    ids=["plain", "encoded", "late-and-split"],
)
def test_case62_method_override_in_an_untyped_post_body_is_refused(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    content_type: str | None,
    chunks: list[bytes],
) -> None:
    # Rack (Rails) reads a POST body without a Content-Type as a form (Rack::Request#form_data?)
    # and Rack::MethodOverride runs its _method: the DELETE went past POST's rules.
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    headers = {} if content_type is None else {"content-type": content_type}
    resp = gw.request("POST", "/orders/items/1", token=token, chunks=chunks, headers=headers)
    assert resp.status == 400 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("text/plain", "content-type"),
        ("application/json", "Content-Type"),
        ("application/octet-stream", "keep-alive, content-type"),
    ],
)
def test_case62_connection_cannot_take_the_content_type_the_body_was_checked_by(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    content_type: str,
    named: str,
) -> None:
    # A header named in Connection is hop-by-hop and not forwarded; naming Content-Type made
    # the backend get an untyped POST, which Rack reads as a form and whose _method it runs,
    # while the gateway had checked the body as the type it saw (text/plain: not at all).
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    headers = {"content-type": content_type, "connection": named}
    resp = gw.request(
        "POST", "/orders/items/1", token=token, body=b"_method=DELETE", headers=headers
    )
    if resp.status == 200:
        [seen] = backend.recorder.requests
        assert ("content-type", content_type) in seen["headers"], seen["headers"]
    else:
        assert resp.status == 400 and backend.recorder.count() == 0


_PART = b'--X\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--X--\r\n'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # PHP and Rack cut a type at the first `,` (and PHP a boundary): multipart to them,
        # a urlencoded form to the gateway, which scanned the body for pairs only.
        ("multipart/form-data; boundary=X, application/x-www-form-urlencoded", _PART),
        ("Multipart/Form-Data;boundary=X,application/x-www-form-urlencoded", _PART),
        # Laravel's isJson() finds /json anywhere: a JSON body's _method, behind a form type.
        ("application/x-www-form-urlencoded, application/json", b'{"_method": "DELETE"}'),
        ("multipart/form-data; boundary=X, application/json", b'{"_method": "DELETE"}'),
    ],
)
def test_case62_a_content_type_naming_two_kinds_of_body_is_refused(
    harness_for: Build, provider: Provider, backend: LoopbackServer, content_type: str, body: bytes
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    headers = {"content-type": content_type}
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=headers)
    assert resp.status in (400, 415), resp.body
    assert backend.recorder.count() == 0


def test_case62_an_untyped_post_body_streams_on_unread(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    # Scanned as it streams, not read whole: an untyped upload past the form limit goes on.
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    chunks = [b"%" + bytes(range(256)) * 4096 for _ in range(3)]  # 3 MiB of binary
    resp = gw.request("POST", "/orders/items/1", token=token, chunks=chunks)
    assert resp.status == 200, resp.body
    assert backend.recorder.requests[0]["body"] == b"".join(chunks)


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
def test_case62_a_body_of_pairs_naming_no_override_is_not_parsed_pair_by_pair(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    content_type: str | None,
) -> None:
    # parse_qsl cost about 4 us a pair: a megabyte of `_m&` (350,000 pairs) was 1.4 s of a
    # worker's CPU, and an untyped upload is scanned however long it is. A body whose text
    # cannot spell the override in any pair's name is never split into pairs.
    from portal.lib import headers as lib

    parsed: list[int] = []
    real = lib.parse_qsl

    def counted(text: str, **kwargs: Any) -> Any:
        parsed.append(len(text))
        return real(text, **kwargs)

    monkeypatch.setattr(lib, "parse_qsl", counted)
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    body = b"_m=%41&payment_method=x&a.method=1&" * 20_000
    headers = {} if content_type is None else {"content-type": content_type}
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=headers)
    assert resp.status == 200, resp.body
    assert parsed == []
    refused = gw.request(
        "POST", "/orders/items/1", token=token, body=body + b"+%2E%4Dethod=DELETE", headers=headers
    )
    assert refused.status == 400 and refused.json()["check"] == "method"


def test_case62_a_form_body_past_the_limit_is_refused_not_cut(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    # The body is read whole to look for `_method`: past the limit it is refused, never
    # forwarded in part.
    from gateway.formbody import FORM_LIMIT

    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    form = {"content-type": "application/x-www-form-urlencoded"}
    big = b"a=" + b"x" * FORM_LIMIT
    resp = gw.request("POST", "/orders/items/1", token=token, body=big, headers=form)
    assert resp.status == 413 and resp.json()["check"] == "request"
    assert "form body larger than" in resp.json()["detail"]
    assert backend.recorder.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"_method": "DELETE"}',
        b'{"name": "x", "_METHOD": "delete"}',
        b'{"\\u005fmethod": "DELETE"}',  # an escaped letter spells the same key
        b'{"_m\\u0065thod": "DELETE"}',
        b'{"\\u005F\\u006D\\u0065\\u0074\\u0068\\u006F\\u0064" : "DELETE"}',
        b'{"pad": "' + b"x" * (1 << 20) + b'", "_method": "DELETE"}',  # late, past a megabyte
    ],
)
def test_case62_method_override_in_a_json_body_is_refused(
    harness_for: Build, provider: Provider, backend: LoopbackServer, body: bytes
) -> None:
    """Laravel reads a JSON body as its request parameters and Symfony's getMethod() takes
    `_method` from them: a POST with `{"_method": "DELETE"}` ran as a DELETE behind a policy
    that checked POST's rules."""
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    json_type = {"content-type": "application/json"}
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=json_type)
    assert resp.status == 400 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0
    # Keys that only end in `_method` are everyday JSON (Stripe's payment_method, RFC 7591's
    # token_endpoint_auth_method), as are escaped letters in text and the word in a value.
    ok = (
        b'{"method": "card", "payment_method": "pm_1", "token_endpoint_auth_method": "none",'
        b' "note": "set _method to override", "name": "caf\\u00e9 \\u0041BC"}'
    )
    plain = gw.request("POST", "/orders/items/1", token=token, body=ok, headers=json_type)
    assert plain.status == 200, plain.body
    assert backend.recorder.requests[0]["body"] == ok  # forwarded whole


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("application/x-www-form-urlencoded", "gzip"),
        ("application/x-www-form-urlencoded", "deflate"),
        ("application/x-www-form-urlencoded", "GZIP"),
        ("application/x-www-form-urlencoded", "identity, gzip"),
        ("application/json", "gzip"),
        ("multipart/form-data; boundary=b0undary", "x-gzip"),
        ("application/x-www-form-urlencoded", "br"),
    ],
)
def test_case62_a_compressed_body_that_would_be_scanned_for_method_is_refused(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    content_type: str,
    encoding: str,
) -> None:
    """Express's body-parser inflates gzip and deflate request bodies before method-override
    reads `_method` from them, as do ASP.NET Core's request decompression and Apache's
    `SetInputFilter DEFLATE` before PHP: a compressed `_method=DELETE` went past the scan,
    which read only the compressed bytes, and ran as a DELETE behind POST's rules."""
    import gzip
    import zlib

    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    plain = _multipart("_method") if content_type.startswith("multipart") else b"_method=DELETE"
    if content_type == "application/json":
        plain = b'{"_method": "DELETE"}'
    body = zlib.compress(plain) if encoding == "deflate" else gzip.compress(plain)
    headers = {"content-type": content_type, "content-encoding": encoding}
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=headers)
    assert resp.status == 415 and resp.json()["check"] == "method", resp.body
    assert resp.header("accept-encoding") == "identity"
    assert backend.recorder.count() == 0
    # Bodies the gateway reads as they are pass: compressed uploads of other types, and
    # `identity`, which is no coding at all.
    other = {"content-type": "application/octet-stream", "content-encoding": "gzip"}
    assert (
        gw.request("POST", "/orders/items/1", token=token, body=body, headers=other).status == 200
    )
    same = {"content-type": "application/x-www-form-urlencoded", "content-encoding": "identity"}
    assert (
        gw.request("POST", "/orders/items/1", token=token, body=b"a=1", headers=same).status == 200
    )
    assert backend.recorder.count() == 2


def _in_utf16(name: str) -> bytes:
    """`name=DELETE` as System.Web reads a form in UTF-16: it splits the bytes at `=` and `&`
    byte by byte, then decodes each name and value in the request's charset."""
    return name.encode("utf-16-le") + b"=" + "DELETE".encode("utf-16-le")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # ASP.NET MVC 5 (System.Web) decodes a form in the charset its Content-Type names
        # and runs a POST as the method its X-HTTP-Method-Override field names.
        (
            "application/x-www-form-urlencoded; charset=utf-16",
            _in_utf16("X-HTTP-Method-Override"),
        ),
        ('application/x-www-form-urlencoded; Charset="UTF-16LE"', _in_utf16("_method")),
        # ... and the part headers of a multipart body.
        (
            "multipart/form-data; boundary=b0undary; charset=utf-16le",
            b"--b0undary\r\n"
            + 'Content-Disposition: form-data; name="_method"\r\n\r\n'.encode("utf-16-le")
            + b"DELETE\r\n--b0undary--\r\n",
        ),
        # Express's body-parser decodes JSON in any utf-* charset (iconv-lite), UTF-7 too,
        # before a method-override getter reads req.body._method.
        ("application/json; charset=utf-16le", '{"_method": "DELETE"}'.encode("utf-16-le")),
        ("application/json; charset=utf-7", b'{"+AF8-method": "DELETE"}'),
        ("application/json; charset=utf-32", '{"_method": "DELETE"}'.encode("utf-32")),
        # ISO-2022-JP: an escape back to ASCII inside the name, which the decoder drops.
        ("application/json; charset=iso-2022-jp", b'{"_me\x1b(Bthod": "DELETE"}'),
    ],
)
def test_case62_a_body_in_a_charset_the_scan_cannot_read_is_refused(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    content_type: str,
    body: bytes,
) -> None:
    """The override scans read the body's bytes as ASCII; a backend that decodes the body in
    the charset its Content-Type names first (System.Web's forms, body-parser's JSON) read
    `_method` or X-HTTP-Method-Override where the scan saw none, and ran the POST as the
    DELETE it named, past POST's rules. Such a body gets 415, as a compressed one does."""
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    headers = {"content-type": content_type}
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=headers)
    assert resp.status == 415 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0
    # Charsets in which every ASCII character is its own byte pass, as does one on a type
    # the scans never read.
    for passing in (
        "application/json; charset=UTF-8",
        'application/x-www-form-urlencoded; charset="utf-8"',
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
        "text/plain; charset=utf-16",
    ):
        sent = gw.request(
            "POST", "/orders/items/1", token=token, body=b"{}", headers={"content-type": passing}
        )
        assert sent.status == 200, (passing, sent.body)
    assert backend.recorder.count() == 4


@pytest.mark.parametrize(
    ("charset", "query"),
    [
        # "+AFg-" is X in UTF-7; %2B is the `+`, which a query would read as a space.
        ("utf-7", "%2BAFg--HTTP-Method-Override=DELETE"),
        ("utf-16be", "%00X%00-%00H%00T%00T%00P%00-%00M%00e%00t%00h%00o%00d%00-%00O%00v%00e%00r"
         "%00r%00i%00d%00e=%00D%00E%00L%00E%00T%00E"),
        ("iso-2022-jp", "_me%1B(Bthod=DELETE"),
    ],
)  # fmt: skip
def test_case62_a_post_in_a_charset_the_query_scan_cannot_read_is_refused(
    harness_for: Build, provider: Provider, backend: LoopbackServer, charset: str, query: str
) -> None:
    """System.Web decodes the query string in the charset of the body's Content-Type too
    (HttpRequest.QueryStringEncoding: any but UTF-16LE), whatever the type, and ASP.NET MVC 5
    runs a POST as the method its X-HTTP-Method-Override query parameter names: the scan,
    reading the escapes' bytes as ASCII, saw no such name."""
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    headers = {"content-type": f"text/plain; charset={charset}"}
    resp = gw.request(
        "POST", "/orders/items/1", token=token, query=query, body=b"x", headers=headers
    )
    assert resp.status == 415 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0
    # Such a body with a query that escapes nothing, or with none, goes on.
    for plain in ("page=2", ""):
        sent = gw.request(
            "POST", "/orders/items/1", token=token, query=plain, body=b"x", headers=headers
        )
        assert sent.status == 200, sent.body
    assert backend.recorder.count() == 2


def _multipart(name: str, value: str = "DELETE", *, quote: str = '"') -> bytes:
    return (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        b"--b0undary\r\n"
        + f"Content-Disposition: form-data; name={quote}{name}{quote}\r\n\r\n{value}\r\n".encode()
        + b"--b0undary--\r\n"
    )


MULTIPART = {"content-type": "multipart/form-data; boundary=b0undary"}


@pytest.mark.parametrize(
    ("name", "quote"),
    [("_method", '"'), ("_METHOD", '"'), ("_method[]", '"'), (".method", '"'), ("_method", "")],
)
def test_case62_method_override_in_a_multipart_body_is_refused(
    harness_for: Build, provider: Provider, backend: LoopbackServer, name: str, quote: str
) -> None:
    """PHP (Laravel, Symfony) and Rack read `_method` from multipart fields as from an
    urlencoded form: a POST with that field ran as a DELETE behind a policy that checked
    POST's rules."""
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    body = _multipart(name, quote=quote)
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=MULTIPART)
    assert resp.status == 400 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0
    ok = _multipart("method")
    plain = gw.request("POST", "/orders/items/1", token=token, body=ok, headers=MULTIPART)
    assert plain.status == 200
    assert backend.recorder.requests[0]["body"] == ok  # forwarded whole


@pytest.mark.parametrize(
    "disposition",
    [
        # PHP's multipart_buffer_headers (main/rfc1867.c) adds a line that starts with white
        # space, or has no ':', to the header before it; Rack's name pattern spans lines too.
        b'Content-Disposition: form-data;\r\n name="_method"',
        b'Content-Disposition: form-data;\r\n\tname="_method"',
        b'Content-Disposition: form-data;\r\nname="_method"',
        b"Content-Disposition: form-data;\r\n filename=x;\r\n name=_method",
        b"Content-Disposition:\r\n form-data; name=_method",
        # PHP reads a part header line as a C string: it ends at a NUL, quote or no quote.
        b'Content-Disposition: form-data; name="_method\x00junk"',
        b"Content-Disposition: form-data; name=_method\x00junk",
        # PHP keeps the last name parameter.
        b'Content-Disposition: form-data; name="note"; name="_method"',
        # Rack 2 (`Content-Disposition:.*\s+name=`): past a NUL, on the next line whatever
        # follows, and inside another header's value.
        b"Content-Disposition: form-data\x00; name=_method",
        b"Content-Disposition: form-data\r\nname=_method: x",
        b"X-Note: Content-Disposition: form-data; name=_method",
    ],
    ids=[
        "space",
        "tab",
        "no-colon",
        "two-lines",
        "value-on-next-line",
        "nul-in-quotes",
        "nul-bare",
        "second-name",
        "after-a-nul",
        "name-line-with-colon",
        "inside-another-header",
    ],
)
@pytest.mark.parametrize("split", [False, True], ids=["one-chunk", "split-at-the-fold"])
def test_case62_method_override_in_a_part_header_as_php_or_rack_reads_it_is_refused(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    disposition: bytes,
    split: bool,
) -> None:
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    body = b"--b0undary\r\n" + disposition + b"\r\n\r\nDELETE\r\n--b0undary--\r\n"
    at = body.index(b"\r\n", body.index(b"Content-Disposition")) + 2
    chunks = [body[:at], body[at:]] if split else [body]
    resp = gw.request("POST", "/orders/items/1", token=token, chunks=chunks, headers=MULTIPART)
    assert resp.status == 400 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0


def test_case62_the_part_header_scan_unfolds_only_part_headers(
    harness_for: Build,
    provider: Provider,
    backend: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Unfolding a whole chunk of many short lines (a text file named method.txt) joined each
    # line onto the one before it: quadratic, seconds of a worker's CPU for one 256 KiB chunk.
    # Only a Content-Disposition and the lines after it, up to the blank line (at most
    # _CARRY bytes), are unfolded.
    from gateway import formbody

    seen: list[int] = []
    unfold = formbody._unfolded

    def counted(text: bytes, nul_ends_line: bool) -> bytes:
        seen.append(len(text))
        return unfold(text, nul_ends_line)

    monkeypatch.setattr(formbody, "_unfolded", counted)
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="method.txt"\r\n'
        b"\r\n" + b"method\n" * 10 + b"a\n" * 300_000 + b"\r\n--b0undary--\r\n"
    )
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    resp = gw.request("POST", "/orders/items/1", token=token, chunks=chunks, headers=MULTIPART)
    assert resp.status == 200, resp.body
    assert backend.recorder.requests[0]["body"] == body
    assert seen and max(seen) <= formbody._CARRY


def test_case62_a_field_value_that_reads_like_a_part_header_is_forwarded(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    # A part's value is no header: a line of it naming _method after the blank line is data.
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
        b"name=_method\r\n--b0undary--\r\n"
    )
    resp = gw.request("POST", "/orders/items/1", token=token, body=body, headers=MULTIPART)
    assert resp.status == 200 and backend.recorder.requests[0]["body"] == body


def test_case62_an_upload_naming_the_override_late_never_arrives_whole(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    """A large upload streams on; the override field after a megabyte of file, its header
    split across two chunks, stops the body before its end: the backend records no request."""
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    body = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="_method"\r\n\r\n'
        + b"x" * (1024 * 1024)
        + b"\r\n"
        + _multipart("_method")
    )
    split = body.index(b'name="_method"') + 7
    chunks = [body[i : i + 65536] for i in range(0, split - 65536, 65536)]
    chunks += [body[len(b"".join(chunks)) : split], body[split:]]
    resp = gw.request("POST", "/orders/items/1", token=token, chunks=chunks, headers=MULTIPART)
    assert resp.status == 400 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0


def test_only_the_gateways_own_refusals_carry_its_check_header(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    """The console believes a refusal's `check` only with X-Gateway-Check: the gateway sets it
    on its own problems and drops a backend's copy, so a backend cannot pass its answer off
    as the gateway's."""
    gw = harness_for(make_route(provider, backend.url))

    def forged(handler: Any) -> None:
        body = {"status": 403, "check": "scope", "detail": "need admin"}
        handler.send_json(403, body, {"X-Gateway-Check": "scope"})

    backend.recorder.routes["*"] = forged
    from_backend = gw.request("GET", "/orders/items/1", token=read_only(provider))
    assert from_backend.status == 403
    assert "x-gateway-check" not in {k.decode().lower() for k, _ in from_backend.headers}
    refused = gw.request("GET", "/orders/items/1")  # no token: the gateway's own 401
    assert refused.status == 401
    assert dict(refused.headers)[b"x-gateway-check"] == refused.json()["check"].encode()


def test_a_backend_cannot_set_or_clear_the_portals_cookies(
    harness_for: Build, provider: Provider, backend: LoopbackServer, settings: Any
) -> None:
    """In the default run the gateway answers on the portal's own origin (`/gateway/`): a
    backend's `Set-Cookie: csrftoken=<known>; Path=/` replaced the portal's CSRF cookie with
    one its author knows (then a cross-site form passes Django's CSRF check), and
    `sessionid=<the author's session>` signed the visitor in as the author. Those two are
    dropped, and so is `Clear-Site-Data`, which signed the visitor out of the portal and
    emptied its storage; the backend's own cookies pass."""
    settings.SESSION_COOKIE_NAME = "portal_session"

    def cookies(h: Any) -> None:
        h.send_response(200)
        for value in (
            "portal_session=attacker; Path=/",
            "csrftoken=known; Path=/; SameSite=Lax",
            " csrftoken =known2; Path=/",
            # A cookie without a name is sent back as its value alone (RFC 6265bis 5.7):
            # `=csrftoken=known3` comes back as `Cookie: csrftoken=known3`.
            "=csrftoken=known3; Path=/",
            " = portal_session=attacker2; Path=/",
            "theirs=1; Path=/gateway/orders",
        ):
            h.send_header("Set-Cookie", value)
        h.send_header("Clear-Site-Data", '"cookies", "storage"')
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"{}")

    backend.recorder.routes["*"] = cookies
    gw = harness_for(make_route(provider, backend.url))
    resp = gw.request("GET", "/orders/items/1", token=read_only(provider))
    assert resp.status == 200
    set_cookies = [v for n, v in resp.headers if n.lower() == b"set-cookie"]
    assert set_cookies == [b"theirs=1; Path=/gateway/orders"]
    assert resp.header("clear-site-data") is None


class _BodyBlindHandler(BaseHTTPRequestHandler):
    """A backend that reads no body on GET, DELETE or OPTIONS (Python's http.server, many
    hand-written servers): on a kept-alive connection, a body left unread is its next
    request."""

    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_DELETE = do_OPTIONS = _answer


class _Recording(ThreadingHTTPServer):
    seen: list[tuple[str, str]]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen = []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_case61_variant_a_body_on_a_bodiless_method_never_becomes_the_backends_next_request(
    harness_for: Build, provider: Provider, method: str
) -> None:
    """Elasticsearch reads a GET's body, so the gateway forwards it; a backend that does not
    read it took the bytes for a second request on the same connection, past every check
    the gateway made (here a DELETE a read-only token may not send). The gateway now closes
    such a connection after the call, saying so to the backend."""
    httpd = _Recording(("127.0.0.1", 0), _BodyBlindHandler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        gw = harness_for(make_route(provider, url))
        smuggled = (
            b"DELETE /admin/everything HTTP/1.1\r\nHost: backend\r\nContent-Length: 0\r\n\r\n"
        )
        token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
        resp = gw.request(method, "/orders/items/1", token=token, body=smuggled)
        assert resp.status == 200
        gw.request("GET", "/orders/items/2", token=token)  # the pool's next call
        time.sleep(0.2)
        assert ("DELETE", "/admin/everything") not in httpd.seen, httpd.seen
        assert (method, "/items/1") in httpd.seen and ("GET", "/items/2") in httpd.seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_second_token_under_an_underscore_spelling_of_the_token_header_never_goes_on(
    harness_for: Build, provider: Provider, backend: LoopbackServer
) -> None:
    # X_Api_Token is X-Api-Token to a WSGI backend (Werkzeug keeps the last of the two): the
    # gateway checked one token and the backend read another, which no rule had looked at.
    route = make_route(provider, backend.url, header_name="X-Api-Token", require_scheme="")
    gw = harness_for(route)
    other = mint(provider.keys[0], claims(provider, sub="mallory", scope="orders.write"))
    headers = {"X-Api-Token": read_only(provider), "X_Api_Token": other}
    assert gw.request("GET", "/orders/items/1", headers=headers).status == 200
    [seen] = backend.recorder.requests
    assert other not in repr(seen)


@pytest.mark.parametrize(
    ("where", "name"),
    [
        ("query", "X-HTTP-Method-Override"),
        ("query", "x-http-method-override"),
        ("query", "X-HTTP-Method-%4Fverride"),
        # System.Web's UrlDecode reads IIS's %uXXXX escapes too, in a query or form field.
        ("query", "%u0058-HTTP-Method-Override"),
        ("query", "X-HTTP-Method-Overrid%U0065"),
        ("query", "%u005Fmethod"),
        ("form", "X-HTTP-Method-Override"),
        ("form", "X-HTTP-%u004Dethod-Override"),
        ("form", "%u005fmethod"),
        ("multipart", "X-HTTP-Method-Override"),
    ],
)
def test_case62_aspnet_method_override_field_in_the_query_or_body_is_refused(
    harness_for: Build, provider: Provider, backend: LoopbackServer, where: str, name: str
) -> None:
    """ASP.NET MVC 5 and Web Pages (System.Web's GetHttpMethodOverride) run a POST as the
    method named by X-HTTP-Method-Override in the header, or else in a form field or query
    parameter of that name, any case: `POST /items/1?X-HTTP-Method-Override=DELETE` went
    past POST's rules and ran as a DELETE."""
    gw = harness_for(make_route(provider, backend.url))
    token = mint(provider.keys[0], claims(provider, scope="orders.read orders.write"))
    query, body, headers = "", b"", {}
    if where == "query":
        query = f"a=1&{name}=DELETE"
    elif where == "form":
        body, headers = (
            f"{name}=DELETE".encode(),
            {"content-type": "application/x-www-form-urlencoded"},
        )
    else:
        body, headers = _multipart(name), MULTIPART
    resp = gw.request(
        "POST", "/orders/items/1", token=token, query=query, body=body, headers=headers
    )
    assert resp.status == 400 and resp.json()["check"] == "method", resp.body
    assert backend.recorder.count() == 0
    plain = gw.request("POST", "/orders/items/1", token=token, query="x-http-method=1&override=2")
    assert plain.status == 200


def test_a_down_backend_is_logged_once_per_interval_not_once_per_call(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    """Each 502 wrote a warning with the OS's text: a backend down under load wrote one line
    per call, as the Redis warnings did before they were throttled (gateway issue). One line
    per route and interval says it, with the count of calls since."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    harness = Harness({"orders": make_route(provider, f"http://127.0.0.1:{port}")})
    token = mint(provider.keys[0], claims(provider))
    with caplog.at_level("WARNING", logger="gateway"):
        answers = [harness.request("GET", "/orders/x", token=token) for _ in range(5)]
    assert [a.status for a in answers] == [502] * 5
    assert all("127.0.0.1" not in a.json()["detail"] for a in answers)
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failed) == 1, [r.getMessage() for r in failed]
    assert str(port) in failed[0].getMessage()  # the operator's log names the address

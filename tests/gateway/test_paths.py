"""One path, one policy (SECURITY.md case 61): the gateway chooses the route, the operation
and the policy from exactly the path it forwards, and refuses spellings a backend could read
differently. An operation-bound rule (`petstore.admin` on deletePet only) and a token without
that scope: every spelling of `DELETE /pets/1` is refused and the recording backend sees none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from gateway.config import OperationMatch, RouteConfig
from gateway.jwt import ClaimRule, Policy
from gateway.paths import PathRefused, decode_path
from gateway.upstream import parse_origin
from tests.gateway.conftest import AUDIENCE, Harness, LoopbackServer, Provider, claims, mint

Build = Callable[..., Harness]

OPERATIONS = [
    ("get", "/pets", "listPets"),
    ("get", "/pets/{id}", "getPet"),
    ("delete", "/pets/{id}", "deletePet"),
    ("get", "/stores/", "listStores"),  # the spec writes this one with a trailing slash
]


def petstore(provider: Provider, backend_url: str, **extra: Any) -> RouteConfig:
    policy = Policy(
        openid_config=(provider.discovery_url,),
        audiences=(AUDIENCE,),
        required_claims=(
            ClaimRule("scope", ("petstore.admin",), "all", " ", operation="deletePet"),
        ),
    )
    route = RouteConfig(
        api_slug="petstore",
        suffix="petstore",
        backend="upstream",
        timeout=5.0,
        forward_claims=False,
        policy=policy,
        **extra,
    )
    route.origin, route.base_path = parse_origin(backend_url + "/v1")
    for method, template, slug in OPERATIONS:
        route.operations.append(OperationMatch(method, template, slug, {}))
    return route


@pytest.fixture
def gw(provider: Provider, backend: LoopbackServer, harness_for: Build) -> Harness:
    return harness_for(petstore(provider, backend.url))


def reader(provider: Provider) -> str:
    return mint(provider.keys[0], claims(provider, scope="petstore.read"))


def admin(provider: Provider) -> str:
    return mint(provider.keys[0], claims(provider, scope="petstore.read petstore.admin"))


def refused(resp: Any, backend: LoopbackServer, statuses: tuple[int, ...] = (400, 404)) -> None:
    assert resp.status in statuses, (resp.status, resp.body)
    assert resp.header("content-type") == "application/problem+json"
    assert resp.json()["status"] == resp.status
    assert backend.recorder.count() == 0, backend.recorder.requests


def test_plain_path_applies_the_operation_rule(
    gw: Harness, provider: Provider, backend: LoopbackServer
) -> None:
    resp = gw.request("DELETE", "/petstore/pets/1", token=reader(provider))
    assert resp.status == 403 and backend.recorder.count() == 0
    assert gw.request("GET", "/petstore/pets/1", token=reader(provider)).status == 200
    assert gw.request("DELETE", "/petstore/pets/1", token=admin(provider)).status == 200
    assert [(r["method"], r["target"]) for r in backend.recorder.requests] == [
        ("GET", "/v1/pets/1"),
        ("DELETE", "/v1/pets/1"),
    ]


# SECURITY.md case 61, spelling by spelling (paths below /gateway).
CASE_61 = {
    "%2F in the route suffix": "/petstore%2Fzz/pets/1",
    "%2f in the route suffix": "/petstore%2fzz/pets/1",
    "leading //": "/petstore//pets/1",
    "upper case": "/petstore/PETS/1",
    "trailing slash": "/petstore/pets/1/",
    "encoded digit": "/petstore/pets/%31",
    "./": "/petstore/./pets/1",
    "../": "/petstore/pets/../pets/1",
    "// inside": "/petstore/pets//1",
    "NUL": "/petstore/pets/1%00",
}


@pytest.mark.parametrize("path", CASE_61.values(), ids=CASE_61.keys())
def test_case61_spellings_are_refused(
    gw: Harness, provider: Provider, backend: LoopbackServer, path: str
) -> None:
    refused(gw.request("DELETE", path, token=reader(provider)), backend)
    # Not even a token that holds the scope gets these spellings through.
    refused(gw.request("DELETE", path, token=admin(provider)), backend)


# The whole class: every spelling whose meaning depends on the reader -> 400.
AMBIGUOUS = [
    "/petstore/pets%2F1",
    "/petstore/pets%2f1",
    "/petstore/pets%5C1",
    "/petstore/pets%5c1",
    "/petstore/pets\\1",
    "/petstore\\pets/1",
    "/petstore/%2e/pets/1",
    "/petstore/%2E/pets/1",
    "/petstore/pets/%2e%2e/pets/1",
    "/petstore/pets/%2E%2e/pets/1",
    "/petstore/pets/.%2e/pets/1",
    "/petstore/pets/%2e./pets/1",
    "/petstore/pets/..",
    "/petstore/pets/.",
    "//petstore/pets/1",
    "/petstore/pets/1%00",
    "/petstore/pets/%001",
    "/petstore/pets/1%0a",
    "/petstore/pets/1%0D%0A",
    "/petstore/pets/1%09",
    "/petstore/pets/1%7f",
    "/petstore/pets/1%C2%85",
    "/petstore/pets/1\x00",
    "/petstore/pets/1\x7f",
    "/petstore/pets/1\t",
    "/petstore/pets%C0%AF1",
    "/petstore/pets%c0%af1",
    "/petstore/pets%E0%80%AF1",
    "/petstore/pets%C1%9C1",
    "/petstore/pets/%C0%AE%C0%AE/pets/1",
    "/petstore/pets/1%ff",
    "/petstore/pets/1%zz",
    "/petstore/pets/1%4",
    "/petstore/pets/1%",
    "/petstore/pets/%70",
    "/petstore/p%65ts/1",
    "/%70etstore/pets/1",
    # Path parameters: Tomcat, Jetty and Spring drop `;...` from a segment, others keep it.
    "/petstore/pets/1;x=1",
    "/petstore/pets/1;",
    "/petstore/pets;x=1/1",
    # A fragment is no part of a request target; some servers cut the path at `#`.
    "/petstore/pets/1#x",
    "/petstore/pets/1#",
    # Encoded twice: a backend (or a proxy before it) that decodes again reads `/`, `..`.
    "/petstore/pets%252F1",
    "/petstore/pets/%252e%252e/pets/1",
    "/petstore/pets/%255c1",
    "/petstore/pets/1%2500",
    # Compatibility forms that NFKC-normalising backends turn into `/`, `\` or `.`.
    "/petstore/pets%EF%BC%8F1",  # fullwidth solidus
    "/petstore/pets%EF%BC%BC1",  # fullwidth reverse solidus
    "/petstore/pets/%EF%BC%8E%EF%BC%8E/pets/1",  # fullwidth full stops
    "/petstore/pets/%E2%80%A4%EF%B9%92/pets/1",  # one dot leader, small full stop
]


@pytest.mark.parametrize("path", AMBIGUOUS)
def test_case61_ambiguous_paths_are_400_before_any_policy(
    gw: Harness, provider: Provider, backend: LoopbackServer, path: str
) -> None:
    resp = gw.request("DELETE", path, token=admin(provider))
    refused(resp, backend, (400,))
    assert resp.json()["check"] == "path"
    # Refused before validate-jwt: no token at all gets the same answer, not a 401.
    assert gw.request("GET", path).status == 400


NO_OPERATION = [
    ("DELETE", "/petstore/PETS/1"),
    ("DELETE", "/petstore/Pets/1"),
    ("DELETE", "/petstore/pets/1/"),
    ("DELETE", "/petstore/pets/1/extra"),  # {id} never spans '/'
    ("DELETE", "/petstore/pets"),
    ("DELETE", "/petstore/pets/"),
    ("POST", "/petstore/pets/1"),
    ("GET", "/petstore/stores"),  # the spec writes /stores/ with its slash
    ("GET", "/petstore/nothing"),
    ("GET", "/petstore"),
]


@pytest.mark.parametrize(("method", "path"), NO_OPERATION)
def test_calls_matching_no_operation_get_404(
    gw: Harness, provider: Provider, backend: LoopbackServer, method: str, path: str
) -> None:
    resp = gw.request(method, path, token=admin(provider))
    refused(resp, backend, (404,))
    assert resp.json()["check"] == "operation"


@pytest.mark.parametrize("pass_through", [False, True])
def test_a_404_for_a_long_path_echoes_only_its_beginning(
    provider: Provider, backend: LoopbackServer, harness_for: Build, pass_through: bool
) -> None:
    """The 404 problem named the whole path it matched no operation for: a 60 KB path came
    back as a 60 KB `detail` (and into the console's panel and any log of answers), each call
    costing the gateway what the client sent. The detail names the path's beginning."""
    gw = harness_for(petstore(provider, backend.url, pass_through=pass_through))
    # No operation (or, passed through, another spelling of listPets: `/PETS...`).
    path = ("/petstore/PETS." if pass_through else "/petstore/nothing/") + "a" * 60_000
    resp = gw.request("GET", path, token=admin(provider))
    refused(resp, backend, (404,))
    detail = resp.json()["detail"]
    assert len(detail) < 500, len(detail)
    assert detail.count("a" * 100) == 1 and "…" in detail


def test_exact_matches_reach_the_backend_with_the_bytes_that_were_matched(
    gw: Harness, provider: Provider, backend: LoopbackServer
) -> None:
    token = admin(provider)
    assert gw.request("GET", "/petstore/stores/", token=token).status == 200
    assert gw.request("HEAD", "/petstore/pets/7", token=token).status == 200
    assert gw.request("DELETE", "/petstore/pets/caf%C3%A9%20x", token=token).status == 200
    assert gw.request("GET", "/petstore/pets/a%3Bb", token=token).status == 200
    targets = [r["target"] for r in backend.recorder.requests]
    assert targets == ["/v1/stores/", "/v1/pets/7", "/v1/pets/caf%C3%A9%20x", "/v1/pets/a%3Bb"]


def test_pass_through_route_forwards_unmatched_calls_but_not_ambiguous_ones(
    provider: Provider, backend: LoopbackServer, harness_for: Build
) -> None:
    gw = harness_for(petstore(provider, backend.url, pass_through=True))
    token = reader(provider)
    assert gw.request("GET", "/petstore/other/thing", token=token).status == 200
    assert backend.recorder.requests[-1]["target"] == "/v1/other/thing"
    # A dot makes no operation's path of one that has none: `/other/a.b.c` is forwarded.
    assert gw.request("GET", "/petstore/other/" + "a." * 5000, token=token).status == 200
    assert gw.request("GET", "/petstore/pets/1/x.json", token=token).status == 200
    # The operation-bound rule still binds its own operation.
    assert gw.request("DELETE", "/petstore/pets/1", token=token).status == 403
    for path in ("/petstore/pets%2F1", "/petstore//pets/1", "/petstore/pets/%31"):
        assert gw.request("DELETE", path, token=token).status == 400
    assert backend.recorder.count() == 3


@pytest.mark.parametrize(
    "method, path",
    [
        ("DELETE", "/petstore/pets/1/"),  # Express, Rails, Spring 5 ignore a trailing slash
        ("DELETE", "/petstore/PETS/1"),  # Express and ASP.NET Core route without case
        ("DELETE", "/petstore/Pets/1/"),
        ("HEAD", "/petstore/STORES"),
        # Rails routes `/stores.json` to `/stores` (its optional format), as Spring did by
        # default before 5.3; a trailing dot is dropped by Windows' path handling.
        ("GET", "/petstore/stores.json"),
        ("GET", "/petstore/pets.xml/"),
        ("HEAD", "/petstore/Stores."),
        # Rails' `(.:format)` takes any extension, not only the usual formats, and Spring's
        # suffix pattern (`/pets.*`, the default before 5.3) any text after a dot:
        # `GET /pets.foo` is listPets to both.
        ("GET", "/petstore/pets.foo"),
        ("GET", "/petstore/pets.php"),
        ("GET", "/petstore/stores.json.bak"),
        ("GET", "/petstore/stores.x/"),
        ("HEAD", "/petstore/Pets.1"),
        # Letters that other case mappings make ASCII: Java's equalsIgnoreCase (Spring's
        # case-insensitive match) and .NET's OrdinalIgnoreCase take `ſ` (long s) for `s` and
        # `ı` (dotless i) for `i`; a backend that applies NFKC reads fullwidth `ｐ` as `p`.
        ("DELETE", "/petstore/pet%C5%BF/1"),
        ("GET", "/petstore/%C5%BFtores/"),
        ("DELETE", "/petstore/%EF%BD%90ets/1"),
        ("DELETE", "/petstore/PET%C5%BF/1/"),
    ],
)
def test_case61_pass_through_does_not_forward_an_operations_path_in_another_spelling(
    provider: Provider, backend: LoopbackServer, harness_for: Build, method: str, path: str
) -> None:
    """A pass-through route forwarded what matched no operation exactly: `/pets/1/` and
    `/PETS/1` are deletePet to many backends, so the rule bound to deletePet was skipped and
    a reader's token deleted the pet. A path that differs from an operation's only in letter
    case, a trailing slash or a format suffix is refused, as on a route without pass-through."""
    gw = harness_for(petstore(provider, backend.url, pass_through=True))
    refused(gw.request(method, path, token=reader(provider)), backend)
    assert gw.request("GET", "/petstore/other/Thing/", token=reader(provider)).status == 200


@pytest.mark.parametrize("pass_through", [False, True])
@pytest.mark.parametrize(
    "path", ["/petstore/pets/MINE", "/petstore/pets/mine.json", "/petstore/pets/Mine."]
)
def test_case61_a_param_does_not_take_a_spelling_of_a_more_specific_sibling(
    provider: Provider, backend: LoopbackServer, harness_for: Build, pass_through: bool, path: str
) -> None:
    """`DELETE /pets/mine` (its own rule) beside `DELETE /pets/{id}`: `/pets/MINE` and
    `/pets/mine.json` matched `{id}` exactly, so deletePet's rule (which the caller met) was
    checked and the call forwarded, while ASP.NET Core (any case), Rails and older Spring (a
    format suffix) and Windows (a trailing dot) run it as deleteMine, past deleteMine's rule."""
    route = petstore(provider, backend.url, pass_through=pass_through)
    route.operations.append(OperationMatch("delete", "/pets/mine", "deleteMine", {}))
    assert route.policy is not None
    route.policy = replace(
        route.policy,
        required_claims=(
            ClaimRule("scope", ("petstore.read",), "all", " ", operation="deletePet"),
            ClaimRule("scope", ("petstore.admin",), "all", " ", operation="deleteMine"),
        ),
    )
    gw = harness_for(route)
    refused(gw.request("DELETE", path, token=reader(provider)), backend, (404,))
    # Spellings that are no other operation's still match `{id}`; the sibling's own path is
    # its own operation.
    assert gw.request("DELETE", "/petstore/pets/7", token=reader(provider)).status == 200
    assert gw.request("DELETE", "/petstore/pets/minx", token=reader(provider)).status == 200
    assert gw.request("DELETE", "/petstore/pets/mine", token=reader(provider)).status == 403
    assert gw.request("DELETE", "/petstore/pets/mine", token=admin(provider)).status == 200


def test_routes_without_a_spec_still_refuse_ambiguous_paths(
    provider: Provider, backend: LoopbackServer, harness_for: Build
) -> None:
    route = petstore(provider, backend.url)
    route.operations.clear()
    gw = harness_for(route)
    token = reader(provider)
    assert gw.request("GET", "/petstore/anything/at/all", token=token).status == 200
    assert gw.request("GET", "/petstore/a%2Fb", token=token).status == 400
    assert backend.recorder.count() == 1


@pytest.mark.parametrize("raw", [b"/a", b"/.well-known/x", b"/a/", b"/", b"/caf%C3%A9", b"/a%3Bb"])
def test_plain_spellings_decode_once(raw: bytes) -> None:
    assert decode_path(raw) == raw.decode().replace("%C3%A9", "é").replace("%3B", ";")


@pytest.mark.parametrize("raw", [b"a/b", b"/a%2Fb", b"/a//b", b"/%2e%2e", b"/a%C0%AF"])
def test_ambiguous_spellings_raise(raw: bytes) -> None:
    with pytest.raises(PathRefused):
        decode_path(raw)

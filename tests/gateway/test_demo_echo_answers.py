"""The demo's echo.yaml documents the answers the gateway in front of it gives: a developer
reading echoGet's reference page sees the statuses, media type and headers the gateway
sends when it refuses a call (it listed only 200 and 401, and the gateway answers 403 and
429 too)."""

from __future__ import annotations

from typing import Any

import yaml

from gateway.config import RateLimit
from tests.conftest import DEMO_SPECS
from tests.gateway.conftest import Harness, LoopbackServer, Provider, claims, make_route, mint


def documented(operation: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The operation's responses by status, their $refs resolved."""
    responses = {}
    for status, response in operation["responses"].items():
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        responses[str(status)] = response
    return responses


def test_echo_get_documents_each_refusal_as_the_gateway_sends_it(
    harness_for: Any, provider: Provider, backend: LoopbackServer
) -> None:
    spec = yaml.safe_load((DEMO_SPECS / "echo.yaml").read_text())
    responses = documented(spec["paths"]["/anything"]["get"], spec)
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    route = make_route(provider, backend.url)
    route.rate_limit = RateLimit(1, 60, "subject")
    gw: Harness = harness_for(route)
    no_scope = mint(provider.keys[0], claims(provider, scope="orders.write"))
    allowed = mint(provider.keys[0], claims(provider, sub="bob"))
    assert gw.request("GET", "/orders/anything", token=allowed).status == 200
    answers = {
        "no token": gw.request("GET", "/orders/anything"),
        "no scope": gw.request("GET", "/orders/anything", token=no_scope),
        "rate limit": gw.request("GET", "/orders/anything", token=allowed),
    }
    assert [a.status for a in answers.values()] == [401, 403, 429]
    for why, answer in answers.items():
        response = responses.get(str(answer.status))
        assert response is not None, f"{why}: {answer.status} is not documented"
        assert answer.header("content-type") in response["content"], why
        assert set(answer.json()) <= set(problem), why
        for name, header in response.get("headers", {}).items():
            if header.get("required"):
                assert answer.header(name) is not None, f"{why}: no {name}"
        for name in ("www-authenticate", "retry-after", "x-gateway-check"):
            if answer.header(name) is not None:
                assert name in {h.lower() for h in response.get("headers", {})}, (why, name)

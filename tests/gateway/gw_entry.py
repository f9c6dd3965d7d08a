"""Entry point for integration tests: the real Gateway under `python -m gateway --app`, routes
from the env.

GW_TEST_ROUTES is JSON: [{"suffix", "backend", "url", "timeout", "discovery", "audience"}].
"""

from __future__ import annotations

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from gateway.app import Gateway  # noqa: E402
from gateway.config import RouteConfig  # noqa: E402
from gateway.jwt import ClaimRule, Policy  # noqa: E402
from gateway.upstream import parse_origin  # noqa: E402


def _routes() -> dict[str, RouteConfig]:
    routes: dict[str, RouteConfig] = {}
    for item in json.loads(os.environ["GW_TEST_ROUTES"]):
        policy = None
        if item.get("discovery"):
            policy = Policy(
                openid_config=(item["discovery"],),
                audiences=(item["audience"],),
                required_claims=(ClaimRule("scope", ("orders.read",), "any", " "),),
            )
        route = RouteConfig(
            api_slug=item["suffix"],
            suffix=item["suffix"],
            backend=item.get("backend", "upstream"),
            timeout=float(item.get("timeout", 5)),
            forward_claims=True,
            policy=policy,
        )
        if item.get("url"):
            route.origin, route.base_path = parse_origin(item["url"])
        routes[route.suffix] = route
    return routes


application = Gateway(_routes())

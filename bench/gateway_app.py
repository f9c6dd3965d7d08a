"""The gateway for bench/gateway_bench.py: the product's Gateway class with one route built
from BENCH_GATEWAY_ROUTE (no database needed), validate-jwt as a deployment would set it."""

from __future__ import annotations

import json
import logging
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from gateway.app import Gateway  # noqa: E402
from gateway.config import RouteConfig  # noqa: E402
from gateway.jwt import ClaimRule, Policy  # noqa: E402
from gateway.upstream import parse_origin  # noqa: E402

_spec = json.loads(os.environ["BENCH_GATEWAY_ROUTE"])
_route = RouteConfig(
    api_slug="bench",
    suffix="bench",
    backend="upstream",
    timeout=30.0,
    forward_claims=True,
    policy=Policy(
        openid_config=(_spec["discovery"],),
        audiences=("api://bench",),
        required_claims=(ClaimRule("scope", ("bench.read",), "any", " "),),
    ),
)
_route.origin, _route.base_path = parse_origin(_spec["backend"])
if os.environ.get("BENCH_GATEWAY_NO_POLICY"):  # to measure the proxy alone
    _route.policy = None
# The access log stays on, as in production; it goes to a file the bench discards.
logging.getLogger("gateway.access").setLevel(logging.INFO)
application = Gateway({"bench": _route})

"""Entry point for the revoked-token and subscribed-client process tests: routes from
GW_TEST_ROUTES (see gw_entry; an item with "subscribed_client": true has
require-subscribed-client on and no scope rule), revoked tokens and subscriptions from the
database named by DATABASE_URL, as a deployed gateway loads them."""

from __future__ import annotations

import json
import os
from dataclasses import replace

from gateway.app import Gateway
from gateway.clients import SubscribedClients
from gateway.revocations import Revocations
from tests.gateway.gw_entry import _routes

routes = _routes()
for item in json.loads(os.environ["GW_TEST_ROUTES"]):
    route = routes[item["suffix"]]
    if item.get("subscribed_client") and route.policy is not None:
        route.policy = replace(route.policy, require_subscribed_client=True, required_claims=())

application = Gateway(routes, revocations=Revocations(), clients=SubscribedClients())

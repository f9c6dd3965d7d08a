"""Entry point for the revocation test: routes from GW_TEST_ROUTES (see gw_entry), subscription
keys from the database named by DATABASE_URL, as a deployed gateway loads them."""

from __future__ import annotations

from gateway.app import Gateway
from gateway.subscriptions import Subscriptions
from tests.gateway.gw_entry import _routes

application = Gateway(_routes(), subscriptions=Subscriptions())

"""The key check inside the gateway's call pipeline, against a recording backend: the key is
removed before forwarding, and a key and validate-jwt must both pass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.subscriptions import MISSING, Subscriptions
from products import flows
from products.models import Product
from tests.gateway.conftest import (
    Harness,
    LoopbackServer,
    Provider,
    claims,
    echo_in_starter,
    make_route,
    mint,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(settings: Any) -> str:
    settings.GATEWAY_CONFIG_REFRESH = 0
    product, ada = echo_in_starter()
    return flows.shown_key(flows.subscribe(ada, product), "primary")


@pytest.fixture
def gateway(
    harness_for: Callable[..., Harness], provider: Provider, backend: LoopbackServer
) -> Harness:
    harness = harness_for(make_route(provider, backend.url))
    harness.app.subscriptions = Subscriptions()
    return harness


def test_key_and_token_pass_and_the_key_never_reaches_the_backend(
    gateway: Harness, provider: Provider, backend: LoopbackServer, key: str
) -> None:
    token = mint(provider.keys[0], claims(provider))
    by_header = gateway.request(
        "GET", "/orders/items", token=token, headers={"Ocp-Apim-Subscription-Key": key}
    )
    assert by_header.status == 200
    by_query = gateway.request(
        "GET", "/orders/items", token=token, query=f"subscription-key={key}&page=2"
    )
    assert by_query.status == 200
    sent = backend.recorder.requests
    assert len(sent) == 2
    assert all("ocp-apim-subscription-key" not in dict(r["headers"]) for r in sent)
    assert sent[1]["target"] == "/items?page=2"
    assert all(key not in repr(r) for r in sent)


def test_case69_no_key_is_refused_before_the_backend(
    gateway: Harness, provider: Provider, backend: LoopbackServer, key: str
) -> None:
    token = mint(provider.keys[0], claims(provider))
    response = gateway.request("GET", "/orders/items", token=token)
    assert response.status == 401
    assert response.json()["detail"] == MISSING and response.json()["check"] == "subscription-key"
    assert backend.recorder.requests == []


def test_a_good_key_without_a_token_is_still_refused(
    gateway: Harness, backend: LoopbackServer, key: str
) -> None:
    response = gateway.request("GET", "/orders/items", headers={"Ocp-Apim-Subscription-Key": key})
    assert response.status == 401 and response.header("www-authenticate") is not None
    assert backend.recorder.requests == []


def test_calls_refused_by_the_token_check_use_no_call_of_the_quota_or_rate_limit(
    gateway: Harness, provider: Provider, backend: LoopbackServer, key: str
) -> None:
    """A call with a good key and no (or a bad) token was counted against the subscription's
    quota and rate limit before validate-jwt refused it: a developer's usage page counts
    such calls as blocked, not as quota used, and read "1 of 2 calls" while the gateway
    answered 403 for the quota. A quota counts the calls the checks let through."""
    Product.objects.filter(slug="starter").update(
        quota_calls=2, quota_period=3600, rate_limit_calls=2, rate_limit_period=60
    )
    for _ in range(3):
        refused = gateway.request(
            "GET", "/orders/items", headers={"Ocp-Apim-Subscription-Key": key}
        )
        assert refused.status == 401
    token = mint(provider.keys[0], claims(provider))
    for _ in range(2):
        served = gateway.request(
            "GET", "/orders/items", token=token, headers={"Ocp-Apim-Subscription-Key": key}
        )
        assert served.status == 200, served.body
    over = gateway.request(
        "GET", "/orders/items", token=token, headers={"Ocp-Apim-Subscription-Key": key}
    )
    assert over.status in (403, 429)  # the third served call is past both


def _kilobyte_quota(kilobytes: int) -> None:
    Product.objects.filter(slug="starter").update(quota_kilobytes=kilobytes, quota_period=3600)


def test_the_kilobyte_quota_counts_bodies_both_ways_and_then_answers_403(
    gateway: Harness, provider: Provider, backend: LoopbackServer, key: str
) -> None:
    _kilobyte_quota(2)  # 2,048 bytes of request and response bodies an hour
    token = mint(provider.keys[0], claims(provider))
    sent = {"token": token, "headers": {"Ocp-Apim-Subscription-Key": key}}
    first = gateway.request("POST", "/orders/items", body=b"x" * 1500, **sent)  # type: ignore[arg-type]
    assert first.status == 200  # 1,500 bytes up + the answer: under 2,048 before the call
    second = gateway.request("POST", "/orders/items", body=b"x" * 600, **sent)  # type: ignore[arg-type]
    assert second.status == 200  # served (it crosses the line: a size is known after the call)
    third = gateway.request("GET", "/orders/items", **sent)  # type: ignore[arg-type]
    assert third.status == 403
    problem = third.json()
    assert problem["check"] == "quota" and "Quota of 2 KB per 3600 s exceeded" in problem["detail"]
    assert int(third.header("retry-after") or 0) >= 1
    assert third.header("ratelimit-policy") == '"kb";q=2048;qu="content-bytes";w=3600'
    assert (third.header("ratelimit") or "").startswith('"kb";r=0;')
    assert len(backend.recorder.requests) == 2  # the refused call never reached the backend


def test_a_product_without_a_kilobyte_quota_is_not_metered(
    gateway: Harness, provider: Provider, backend: LoopbackServer, key: str
) -> None:
    token = mint(provider.keys[0], claims(provider))
    sent = {"token": token, "headers": {"Ocp-Apim-Subscription-Key": key}}
    for _ in range(3):
        response = gateway.request("POST", "/orders/items", body=b"x" * 5000, **sent)  # type: ignore[arg-type]
        assert response.status == 200 and response.header("ratelimit-policy") is None


def test_the_kilobyte_quota_is_shared_by_gateway_processes_through_redis(
    harness_for: Callable[..., Harness],
    provider: Provider,
    backend: LoopbackServer,
    key: str,
    redis_server: Any,
) -> None:
    from gateway.ratelimit import RedisCounters

    redis_server.start()
    _kilobyte_quota(1)
    gateways = []
    for _ in range(2):  # two gateways, as two processes: only Redis in common
        harness = harness_for(make_route(provider, backend.url))
        harness.app.subscriptions = Subscriptions()
        harness.app.counters = RedisCounters(redis_server.url)
        gateways.append(harness)
    token = mint(provider.keys[0], claims(provider))
    sent = {"token": token, "headers": {"Ocp-Apim-Subscription-Key": key}}
    assert gateways[0].request("POST", "/orders/x", body=b"x" * 1100, **sent).status == 200  # type: ignore[arg-type]
    refused = gateways[1].request("GET", "/orders/x", **sent)  # type: ignore[arg-type]
    assert refused.status == 403 and refused.json()["check"] == "quota"


def test_a_call_refused_after_the_key_and_token_checks_spends_no_kilobyte(
    gateway: Harness, provider: Provider, backend: LoopbackServer, key: str
) -> None:
    """The kilobyte quota metered from the moment both checks passed: a call the route's rate
    limit refused next (429) had its problem answer's bytes counted, as if served; a client
    retrying a rate-limited call used up its product's kilobytes without reaching the API."""
    from gateway.config import RateLimit
    from products.models import Subscription

    _kilobyte_quota(1)
    assert gateway.app.routes is not None
    gateway.app.routes["orders"].rate_limit = RateLimit(1, 3600, "subject")
    sub = str(Subscription.objects.get().uuid)
    token = mint(provider.keys[0], claims(provider))
    sent = {"token": token, "headers": {"Ocp-Apim-Subscription-Key": key}}

    def used() -> int:
        assert gateway.app.counters is not None
        add = gateway.app.counters.add(f"sub|{sub}|kb", 0, 3600)
        return int(gateway.loop.run_until_complete(add)[0])

    assert gateway.request("GET", "/orders/items", **sent).status == 200  # type: ignore[arg-type]
    served = used()
    assert served > 0
    for _ in range(3):
        assert gateway.request("GET", "/orders/items", **sent).status == 429  # type: ignore[arg-type]
    assert used() == served


def _passes_without_the_key(
    gateway: Any, backend: Any, token: str, key: str, sent: dict[str, str], query: str
) -> None:
    """The call is answered 200, and the backend saw no trace of `key` in its request."""
    response = gateway.request(
        "GET", "/orders/items", token=token, headers=sent, query=query.format(key=key)
    )
    assert response.status == 200, response.body
    [seen] = backend.recorder.requests
    assert key not in repr(seen)
    assert seen["target"] == "/items?page=2"


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        # Header names in any case are one header; repeated, the copies are one joined value.
        ({"OCP-APIM-SUBSCRIPTION-KEY": "{key}"}, "page=2"),
        # WSGI and CGI backends (Django, Flask, PHP) read an underscore as a dash:
        # Ocp_Apim_Subscription_Key is HTTP_OCP_APIM_SUBSCRIPTION_KEY, the key header.
        ({"Ocp-Apim-Subscription-Key": "{key}", "Ocp_Apim_Subscription_Key": "{key}"}, "page=2"),
        ({"Ocp-Apim-Subscription-Key": "{key}", "ocp-apim_subscription-KEY": "{key}"}, "page=2"),
        # The parameter repeated, spelt with escapes (either case), as PHP's and Rack's list,
        # and with PHP's C-string end: each is the key's parameter to some backend.
        ({}, "subscription-key={key}&page=2&subscription-key={key}"),
        ({}, "subscription%2Dkey={key}&page=2&subscription%2dkey={key}"),
        ({"Ocp-Apim-Subscription-Key": "{key}"}, "subscription-key[]={key}&page=2"),
        ({}, "subscription-key[0]={key}&page=2"),
        ({"Ocp-Apim-Subscription-Key": "{key}"}, "subscription-key%00x={key}&page=2"),
        # IIS's %uXXXX escape, which System.Web's UrlDecode reads in a query.
        ({}, "subscription%u002Dkey={key}&page=2"),
        ({"Ocp-Apim-Subscription-Key": "{key}"}, "%u0073ubscription-key={key}&page=2"),
    ],
)
def test_the_key_never_reaches_the_backend_in_any_spelling(
    gateway: Harness,
    provider: Provider,
    backend: LoopbackServer,
    key: str,
    headers: dict[str, str],
    query: str,
) -> None:
    token = mint(provider.keys[0], claims(provider))
    sent = {name: value.format(key=key) for name, value in headers.items()}
    _passes_without_the_key(gateway, backend, token, key, sent, query)


def test_unpublishing_the_only_product_closes_its_api_instead_of_opening_it(
    gateway: Harness, provider: Provider, backend: LoopbackServer, key: str
) -> None:
    """An administrator unpublishes the only product of an API to stop it. The API used to
    become public: a call without a key went through to the backend, and the product's keys
    were refused while calls without one passed. Now both are refused (within the reload:
    every call here, GATEWAY_CONFIG_REFRESH is 0) and the backend sees nothing."""
    token = mint(provider.keys[0], claims(provider))
    with_key = {"Ocp-Apim-Subscription-Key": key}
    assert gateway.request("GET", "/orders/items", token=token, headers=with_key).status == 200
    Product.objects.filter(slug="starter").update(published=False)
    product = Product.objects.get(slug="starter")
    product.save()  # `updated` moves: the key map's fingerprint changes
    no_key = gateway.request("GET", "/orders/items", token=token)
    assert no_key.status == 401 and no_key.json()["check"] == "subscription-key"
    assert no_key.header("content-type") == "application/problem+json"
    old_key = gateway.request("GET", "/orders/items", token=token, headers=with_key)
    assert old_key.status == 401 and "not published" in old_key.json()["detail"]
    assert len(backend.recorder.requests) == 1  # only the call before the unpublish


@pytest.mark.parametrize("required", [True, False])
@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Ocp-Apim-Subscription-Key": "{key}"}, "page=2"),
        ({"Ocp_Apim_Subscription_Key": "{key}"}, "page=2"),
        ({}, "subscription-key={key}&page=2"),
        ({}, "subscription%2Dkey={key}&page=2"),
    ],
)
def test_a_key_in_the_default_names_never_reaches_the_backend_of_an_api_that_renamed_them(
    gateway: Harness,
    provider: Provider,
    backend: LoopbackServer,
    key: str,
    required: bool,
    headers: dict[str, str],
    query: str,
) -> None:
    """An API whose key is read from `X-Api-Key` and `?apikey=`: a key sent in APIM's default
    header or parameter (the one the portal's other APIs use) went on to the backend, with
    its log and anyone it forwards to, whether or not the product asks for a key."""
    from apis.models import Api
    from products.models import ApiKeyNames

    ApiKeyNames.objects.create(
        api=Api.objects.get(slug="orders"), header="X-Api-Key", query="apikey"
    )
    Product.objects.filter(slug="starter").update(subscription_required=required)
    Product.objects.get(slug="starter").save()  # the key map's fingerprint moves
    token = mint(provider.keys[0], claims(provider))
    sent = {name: value.format(key=key) for name, value in headers.items()}
    if required:
        sent["X-Api-Key"] = key
    _passes_without_the_key(gateway, backend, token, key, sent, query)

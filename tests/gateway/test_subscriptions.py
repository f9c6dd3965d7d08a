"""The gateway's subscription-key check (gateway/subscriptions.py) against the real tables:
SECURITY.md cases 69-71, per-product rate limit and quota."""

from __future__ import annotations

import asyncio
import io
import types
from typing import Any

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apis.models import Api
from gateway import ratelimit
from gateway.ratelimit import MemoryCounters
from gateway.subscriptions import MISSING, Subscriptions
from products import flows
from products.models import Group, Product, Subscription
from tests.conftest import DEMO_SPECS
from tests.gateway.processes import Operator, call

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _refresh_every_call(settings: Any) -> None:
    settings.GATEWAY_CONFIG_REFRESH = 0
    settings.GATEWAY_KEY_FAILURES = 3


def _api(slug: str, spec: str) -> Api:
    call_command(
        "importspec", str(DEMO_SPECS / spec), slug=slug, publish=True, stdout=io.StringIO()
    )
    return Api.objects.get(slug=slug)


@pytest.fixture
def world() -> dict[str, Any]:
    echo, petstore = _api("echo", "echo.yaml"), _api("petstore", "petstore.yaml")
    starter = Product.objects.create(
        slug="starter", name="Starter", published=True, rate_limit_calls=2, rate_limit_period=60
    )
    starter.apis.set([echo])
    starter.groups.set(Group.objects.filter(slug="developers"))
    pets = Product.objects.create(
        slug="pets", name="Pets", published=True, quota_calls=1, quota_period=3600
    )
    pets.apis.set([petstore])
    pets.groups.set(Group.objects.filter(slug="developers"))
    ada = get_user_model().objects.create_user("ada", "ada@example.com", "pw-ada-1")
    sub = flows.subscribe(ada, starter)
    return {"sub": sub, "ada": ada, "starter": starter, "pets": pets,
            "primary": flows.shown_key(sub, "primary"), "secondary": flows.shown_key(sub, "secondary")}  # fmt: skip


class Check:
    def __init__(self) -> None:
        self.subs = Subscriptions()
        self.counters = MemoryCounters()

    def __call__(
        self, api: str, key: str | None = None, *, query: bytes = b"", client: str = "10.0.0.1"
    ) -> dict[str, Any]:
        headers = {b"accept": b"*/*"}
        if key is not None:
            headers[b"ocp-apim-subscription-key"] = key.encode()
        extra: list[tuple[bytes, bytes]] = []
        answer, entry, left = asyncio.run(
            self.subs.check(api, headers, query, client, self.counters, extra)
        )
        out: dict[str, Any] = {
            "headers": headers,
            "query": left,
            "extra": dict(extra),
            "entry": entry,
        }
        if answer is not None:
            out["status"], out["answer_headers"] = answer[0], dict(answer[1])
            out["body"] = orjson.loads(answer[2])
        else:
            out["status"] = None
        return out


def test_case69_no_key_is_401_in_apims_words(world: dict[str, Any]) -> None:
    result = Check()("echo")
    assert result["status"] == 401
    assert result["body"]["detail"] == MISSING and result["body"]["check"] == "subscription-key"
    assert result["answer_headers"][b"content-type"] == b"application/problem+json"


def test_case69_a_valid_key_passes_and_is_removed_before_forwarding(world: dict[str, Any]) -> None:
    check = Check()
    result = check("echo", world["primary"])
    assert result["status"] is None and b"ocp-apim-subscription-key" not in result["headers"]
    assert result["entry"].product == "starter"
    by_query = check("echo", query=f"a=1&subscription-key={world['secondary']}".encode())
    assert by_query["status"] is None and by_query["query"] == b"a=1"
    # The name spelled with escapes is the same name to the backend: read and removed too.
    spelled = Check()("echo", query=f"a=1&subscription%2Dkey={world['secondary']}".encode())
    assert spelled["status"] is None and spelled["query"] == b"a=1"


def test_the_rest_of_the_query_reaches_the_backend_as_the_caller_wrote_it(
    world: dict[str, Any],
) -> None:
    """Only the key's parameter is taken out: re-encoding the rest turned `flag` into `flag=`,
    `ids=1,2` into `ids=1%2C2`, `a/b` into `a%2Fb`, and a raw UTF-8 byte into mojibake, so
    the backend read other values than the caller sent (and than the policy matched)."""
    rest = b"flag&ids=1,2&path=a/b&x=1;y=2&t=%7E&q=caf\xc3\xa9&&z=a+b%20c"
    for key_first in (True, False):
        key = f"subscription-key={world['secondary']}".encode()
        query = key + b"&" + rest if key_first else rest + b"&" + key
        result = Check()("echo", query=query)
        assert result["status"] is None and result["query"] == rest


def test_an_api_in_no_key_product_needs_no_key(world: dict[str, Any]) -> None:
    world["pets"].subscription_required = False
    world["pets"].save()
    assert Check()("petstore")["status"] is None


def test_an_api_also_in_an_open_product_takes_calls_without_a_key(
    world: dict[str, Any],
) -> None:
    """As in APIM, a call without a key is accepted through an open product (no subscription
    required) offering the API, even when a protected product offers it too; an open product
    takes no subscription, so its developers had no key to send."""
    from products.console import needs_key

    echo = Api.objects.get(slug="echo")
    assert Check()("echo")["status"] == 401 and needs_key(echo)
    open_ = Product.objects.create(slug="open", name="Open", published=True,
                                   subscription_required=False)  # fmt: skip
    open_.apis.set([echo])
    assert Check()("echo")["status"] is None and not needs_key(echo)
    open_.published = False
    open_.save()
    assert Check()("echo")["status"] == 401 and needs_key(echo)


def test_case69_a_key_for_another_product_is_403(world: dict[str, Any]) -> None:
    result = Check()("petstore", world["primary"])
    assert result["status"] == 403 and result["body"]["check"] == "subscription-scope"


def test_case69_unknown_keys_are_401_then_429_from_the_same_address(world: dict[str, Any]) -> None:
    check = Check()
    statuses = [check("echo", f"guess-{i}")["status"] for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert check("echo", "guess-x", client="10.0.0.2")["status"] == 401  # another address
    assert check("echo", world["primary"])["status"] is None  # the real key still works


def test_case_71_a_thousand_guessed_keys_from_one_address_get_429_after_the_count(
    world: dict[str, Any], settings: Any
) -> None:
    """SECURITY.md case 71: 1,000 guessed keys from one address -> 429 after the configured
    count (GATEWAY_KEY_FAILURES), with Retry-After; the real key from elsewhere still works."""
    settings.GATEWAY_KEY_FAILURES = 20
    settings.GATEWAY_CONFIG_REFRESH = 3600  # the key map is loaded once
    check = Check()
    answers = [check("echo", f"guess-{i:04d}") for i in range(1000)]
    statuses = [a["status"] for a in answers]
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429] * 980
    assert answers[-1]["answer_headers"][b"retry-after"] == b"60"
    assert check("echo", world["primary"], client="10.0.0.9")["status"] is None


def test_case_71_an_operator_sets_the_count_and_period_of_guessed_keys_in_the_environment(
    operator: Operator,
) -> None:
    """GATEWAY_KEY_FAILURES and GATEWAY_KEY_FAILURE_PERIOD were read from settings that no
    environment variable set: a deployed gateway allowed 20 guesses a minute whatever its
    operator wrote, where the products issue asks for a configurable count."""
    operator.apply(
        "apis:\n  - slug: echo\n    spec: echo.yaml\n    published: true\n"
        "    gateway: {suffix: echo, backend: echo}\n"
        "products:\n  - slug: starter\n    name: Starter\n    published: true\n"
        "    apis: [echo]\n"
    )
    port = operator.start(workers=1, GATEWAY_KEY_FAILURES="3", GATEWAY_KEY_FAILURE_PERIOD="120")
    answers = [
        call(port, "GET", "/echo/anything", {"Ocp-Apim-Subscription-Key": f"guess-{i}"})
        for i in range(5)
    ]
    assert [status for status, _, _ in answers] == [401, 401, 401, 429, 429]
    assert answers[-1][1]["retry-after"] == "120"


def test_case_71_guessed_keys_from_one_ipv6_network_count_together(world: dict[str, Any]) -> None:
    """A host is given a whole IPv6 /64 (a home line, a cloud VM) and may send from any of its
    2^64 addresses: counted per address, each guess came from a fresh one and the count of
    unknown keys never reached 429."""
    check = Check()
    statuses = [
        check("echo", f"guess-{i}", client=f"2001:db8:5:6::{i + 1:x}")["status"] for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
    assert check("echo", "guess-x", client="2001:db8:5:7::1")["status"] == 401  # another /64
    # An IPv4 client on a dual-stack socket is its IPv4 address, not the mapped /64 of all.
    mapped = [check("echo", f"v4-{i}", client=f"::ffff:10.0.0.{i + 1}")["status"] for i in range(4)]
    assert mapped == [401, 401, 401, 401]
    assert check("echo", "v4-x", client="10.0.0.1")["status"] == 401
    assert check("echo", world["primary"], client="2001:db8:5:6::99")["status"] is None


@pytest.mark.parametrize("action", ["suspend", "cancel"])
def test_case69_a_suspended_or_cancelled_subscription_is_refused_on_the_next_call(
    world: dict[str, Any], action: str
) -> None:
    check = Check()
    assert check("echo", world["primary"])["status"] is None
    flows.change_state(world["sub"], action, None)
    result = check("echo", world["primary"])
    assert result["status"] == 401
    if action == "suspend":
        assert "suspended" in result["body"]["detail"]


def test_a_deactivated_developers_keys_are_refused_on_the_next_check(
    world: dict[str, Any],
) -> None:
    """An administrator who unticks "active" shuts the developer out of the portal; their keys
    kept calling the APIs (APIM: a blocked user calls no API). Ticked again, they work."""
    from gateway.subscriptions import keys_fingerprint

    check = Check()
    assert check("echo", world["primary"])["status"] is None
    before = keys_fingerprint()
    ada = world["ada"]
    ada.is_active = False
    ada.save()
    assert keys_fingerprint() != before  # every gateway process reloads its keys
    refused = check("echo", world["primary"])
    assert refused["status"] == 401 and "blocked" in refused["body"]["detail"]
    assert refused["body"]["check"] == "subscription-state"
    ada.is_active = True
    ada.save()
    assert check("echo", world["secondary"])["status"] is None


def test_a_submitted_subscription_is_refused(world: dict[str, Any]) -> None:
    gold = Product.objects.create(slug="gold", name="Gold", published=True, approval_required=True)
    gold.apis.set(Api.objects.filter(slug="echo"))
    gold.groups.set(Group.objects.filter(slug="developers"))
    sub = flows.subscribe(world["ada"], gold)
    assert sub.state == Subscription.SUBMITTED
    assert Check()("echo", flows.shown_key(sub, "primary"))["status"] == 401


def test_regenerating_the_secondary_key_refuses_the_old_one(world: dict[str, Any]) -> None:
    check = Check()
    old = world["secondary"]
    assert check("echo", old)["status"] is None
    sub = flows.regenerate(world["sub"], "secondary", world["ada"])
    assert check("echo", old)["status"] == 401
    assert check("echo", flows.shown_key(sub, "secondary"))["status"] is None
    assert Check()("echo", world["primary"])["status"] is None  # the primary kept working


def test_rate_limit_per_subscription_is_429_with_ratelimit_fields(world: dict[str, Any]) -> None:
    check = Check()
    first = check("echo", world["primary"])
    assert first["extra"][b"ratelimit-policy"] == b'"sub";q=2;w=60'
    assert first["extra"][b"ratelimit"].startswith(b'"sub";r=1;')
    assert check("echo", world["secondary"])["status"] is None  # same subscription, 2nd call
    third = check("echo", world["primary"])
    assert third["status"] == 429 and third["body"]["check"] == "rate-limit"
    assert int(third["answer_headers"][b"retry-after"]) >= 1
    assert third["answer_headers"][b"ratelimit"].startswith(b'"sub";r=0;')


def test_quota_is_403(world: dict[str, Any]) -> None:
    sub = flows.subscribe(world["ada"], world["pets"])
    check, key = Check(), flows.shown_key(sub, "primary")
    assert check("petstore", key)["status"] is None
    result = check("petstore", key)
    assert result["status"] == 403 and result["body"]["check"] == "quota"
    assert b"retry-after" in result["answer_headers"]


def test_the_call_quota_renews_when_its_fixed_window_ends(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """products[].quota.period: fixed windows from the Unix epoch, as APIM's quota renews. The
    call quota was a sliding window log instead: used up just before a window ended it stayed
    used up for a whole period more (Retry-After 3600 where the docs promise 10), and it kept
    one entry per call: a quota of ten million calls a month held ten million entries in
    Redis, and in each worker without Redis, per subscription."""
    clock = [3600 * 500_000 - 10.0]  # ten seconds before an hour's window ends
    fake = types.SimpleNamespace(time=lambda: clock[0], monotonic=lambda: clock[0])
    monkeypatch.setattr(ratelimit, "time", fake)
    sub = flows.subscribe(world["ada"], world["pets"])  # a quota of 1 call per 3600 s
    check, key = Check(), flows.shown_key(sub, "primary")
    assert check("petstore", key)["status"] is None
    refused = check("petstore", key)
    assert refused["status"] == 403 and refused["body"]["check"] == "quota"
    assert refused["answer_headers"][b"retry-after"] == b"10"
    clock[0] += 11  # the next window
    assert check("petstore", key)["status"] is None
    assert check("petstore", key)["status"] == 403


def test_key_names_can_be_changed_per_api(world: dict[str, Any]) -> None:
    from products.models import ApiKeyNames

    ApiKeyNames.objects.create(api=Api.objects.get(slug="echo"), header="X-Api-Key", query="key")
    subs, counters = Subscriptions(), MemoryCounters()

    def status(headers: dict[bytes, bytes], query: bytes = b"") -> int | None:
        answer, _, _ = asyncio.run(subs.check("echo", headers, query, "10.0.0.1", counters, []))
        return None if answer is None else answer[0]

    key = world["primary"].encode()
    assert status({b"x-api-key": key}) is None
    assert status({}, b"key=" + key) is None
    assert status({b"ocp-apim-subscription-key": key}) == 401  # the default name no longer


def test_a_call_refused_for_its_kilobytes_uses_no_call_of_the_quota(world: dict[str, Any]) -> None:
    from gateway.subscriptions import Meter

    Product.objects.filter(pk=world["pets"].pk).update(quota_calls=2, quota_kilobytes=1)
    key = flows.shown_key(flows.subscribe(world["ada"], world["pets"]), "primary")
    check = Check()
    first = check("petstore", key)
    assert first["status"] is None  # call 1 of 2
    meter = Meter(first["entry"], None, None)
    meter.size = 1024  # the call's bodies: the whole kilobyte quota
    asyncio.run(check.subs.spend(meter, check.counters))
    for _ in range(2):
        refused = check("petstore", key)
        assert refused["status"] == 403 and "1 KB" in refused["body"]["detail"]
    # The kilobyte period renews; the call quota's has not.
    check.counters._totals = {
        k: v for k, v in check.counters._totals.items() if not k.endswith("|kb")
    }
    assert check("petstore", key)["status"] is None  # call 2 of 2 is still there
    assert check("petstore", key)["body"]["detail"].startswith("Quota of 2 calls")


def test_an_api_taken_out_of_every_product_from_its_own_side_is_seen_at_the_next_check(
    world: dict[str, Any],
) -> None:
    """`api.products.clear()` sends post_clear without naming the products: their `updated`
    stayed, the key map's fingerprint did not change, and the gateway kept asking a key for
    an API that no product offers any more."""
    check = Check()
    assert check("echo")["status"] == 401  # Starter requires a key for it
    Api.objects.get(slug="echo").products.clear()
    assert check("echo")["status"] is None  # no product, no key required


def test_the_admins_unpublish_action_changes_the_key_maps_fingerprint(
    world: dict[str, Any],
) -> None:
    """The admin's publish actions write with update(), which moves no `updated`: the key map
    (which APIs are public, which need a key) never saw an unpublished API."""
    from django.test import Client

    from gateway.subscriptions import keys_fingerprint

    before = keys_fingerprint()
    boss = get_user_model().objects.create(username="boss", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(boss)
    echo = Api.objects.get(slug="echo")
    admin.post("/admin/apis/api/", {"action": "unpublish", "_selected_action": [echo.pk]})
    assert not Api.objects.get(slug="echo").is_published
    assert keys_fingerprint() != before


def test_keys_that_never_loaded_refuse_calls_instead_of_requiring_no_key() -> None:
    # The routes may load while the key map does not (a locked table, a failing query): an
    # empty map would mean "no API needs a key" and let every keyed call through.
    def broken() -> Any:
        raise RuntimeError("database table is locked")

    check = Check()
    check.subs = Subscriptions(loader=broken, fingerprint=lambda: 1)
    result = check("echo", "not-a-key")
    assert result["status"] == 503
    assert result["answer_headers"][b"retry-after"] == b"5"
    assert b"ocp-apim-subscription-key" not in result["headers"]


def test_an_api_whose_products_are_all_unpublished_needs_a_key_nobody_holds(
    world: dict[str, Any],
) -> None:
    """Unpublishing Starter (echo's only product) made echo need no key at all: every call
    went through. Now a call without a key gets 401, and Starter's own keys are refused."""
    from products.console import needs_key

    check = Check()
    assert check("echo", world["primary"])["status"] is None
    world["starter"].published = False
    world["starter"].save()
    assert check("echo")["status"] == 401 and needs_key(Api.objects.get(slug="echo"))
    refused = check("echo", world["primary"])
    assert refused["status"] == 401 and refused["body"]["check"] == "subscription-state"
    assert "not published" in refused["body"]["detail"]
    # An unpublished open product opens nothing either.
    free = Product.objects.create(slug="free", name="Free", subscription_required=False)
    free.apis.set(Api.objects.filter(slug="echo"))
    assert check("echo")["status"] == 401
    free.published = True
    free.save()
    assert check("echo")["status"] is None  # a published open product does
    world["starter"].published = True
    world["starter"].save()
    assert check("echo", world["primary"])["status"] is None  # published again: keys work

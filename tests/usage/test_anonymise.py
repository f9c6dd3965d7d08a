from __future__ import annotations

from typing import Any

import pytest

from tests.usage.conftest import event
from usage.aggregate import aggregate_events
from usage.models import DAY, ApiRollup, ConsumerOperationRollup, ConsumerRollup, UsageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_developers(django_user_model: Any) -> tuple[Any, Any]:
    from applications.models import Application
    from products.models import Product, Subscription

    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    product = Product.objects.create(slug="p", name="P")
    sub = Subscription.objects.create(owner=alice, product=product, primary_hash="a",
                                      secondary_hash="b")  # fmt: skip
    Application.objects.create(owner=alice, name="A", kind="machine", client_id="alice-app")
    aggregate_events(
        [event(subscription_id=sub.pk, client_id="alice-app")] * 3
        + [event(user_id=bob.pk)] * 2
        + [event()]  # anonymous already: alice's rows merge into it
    )
    UsageEvent.objects.create(ts="2026-03-04T10:00:00Z", subscription_id=sub.pk, status=200,
                              outcome="success", total_ms=1, client_net="10.0.0.0/24")  # fmt: skip
    return alice, bob


def by_user(model: Any) -> dict[int, int]:
    return {r.user_id: r.success for r in model.objects.filter(level=DAY)}


def test_deleting_a_developer_anonymises_their_usage_by_default(two_developers: Any) -> None:
    alice, bob = two_developers
    alice.delete()
    assert by_user(ConsumerRollup) == {0: 4, bob.pk: 2}
    assert by_user(ConsumerOperationRollup) == {0: 4, bob.pk: 2}
    anonymous = ConsumerRollup.objects.get(level=DAY, user_id=0)
    assert (anonymous.subscription_id, anonymous.client_id) == (0, "")
    assert ApiRollup.objects.get(level=DAY).success == 6
    raw = UsageEvent.objects.get()
    assert (raw.subscription_id, raw.client_net) == (None, "")


def test_deleting_a_developer_deletes_their_usage_when_configured(
    two_developers: Any, settings: Any
) -> None:
    settings.USAGE_ON_USER_DELETE = "delete"
    alice, bob = two_developers
    alice.delete()
    assert by_user(ConsumerRollup) == {0: 1, bob.pk: 2}
    assert not UsageEvent.objects.exists()
    # The API totals name nobody and keep the calls.
    assert ApiRollup.objects.get(level=DAY).success == 6


def test_a_wrong_mode_is_a_system_check_error(settings: Any) -> None:
    from usage.checks import check_settings

    settings.USAGE_ON_USER_DELETE = "keep"
    assert [e.id for e in check_settings()] == ["usage.E001"]


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_calls_in_flight_when_a_developer_is_deleted_name_nobody_once_aggregated(
    two_developers: Any, settings: Any, mode: str
) -> None:
    """Calls a gateway summed, or the stream held, when the developer was deleted carry their
    developer, subscription and application ids (the gateway's key map names the owner).
    Aggregated afterwards, they were written under those ids again: the deleted developer's
    usage came back, under "(deleted)" labels, whatever USAGE_ON_USER_DELETE said."""
    from products.models import Subscription
    from usage.aggregate import Batch, write_rollups
    from usage.cells import empty, encode

    settings.USAGE_ON_USER_DELETE = mode
    alice, bob = two_developers
    sub_id = Subscription.objects.get(owner=alice).pk
    ids = (alice.pk, sub_id)
    alice.delete()
    # A gateway's cells (the default path), and raw events (USAGE_RAW_EVENTS), both in flight.
    minute = int(event()["ts"]) // 60 * 60
    vec = empty()
    vec[0] = 5
    batch = Batch()
    batch.add_cells(encode({(minute, sub_id, "alice-app", alice.pk, 1, "get-pet", 2): vec}))
    batch.fill_users()
    write_rollups(batch.cells)
    aggregate_events([event(subscription_id=sub_id, client_id="alice-app", user_id=ids[0])] * 2)
    aggregate_events([event(subscription_id=sub_id)])  # the subscription's owner is gone
    aggregate_events([event(client_id="alice-app")])  # a token of her application's
    for model in (ConsumerRollup, ConsumerOperationRollup):
        rows = model.objects.all()
        assert not rows.filter(user_id=ids[0]).exists()
        assert not rows.filter(subscription_id=ids[1]).exists()
        assert not rows.filter(client_id="alice-app").exists()
        assert by_user(model)[bob.pk] == 2
    assert ApiRollup.objects.get(level=DAY).success == 6 + 5 + 2 + 1 + 1
    # Someone else's calls and ids are untouched, and so is an id no one ever deleted.
    aggregate_events([event(subscription_id=12345, user_id=bob.pk, client_id="bob-app")])
    assert ConsumerRollup.objects.filter(subscription_id=12345, client_id="bob-app").exists()


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_raw_events_written_after_a_developer_was_deleted_name_nobody_once_aggregated(
    two_developers: Any, settings: Any, mode: str
) -> None:
    """USAGE_RAW_EVENTS without Redis: a gateway's buffer written after the deletion holds
    rows with the developer's subscription, application and network; they stayed (2 days)
    after the deletion had anonymised or deleted every other row of theirs."""
    from datetime import UTC, datetime

    from products.models import Subscription
    from usage.aggregate import aggregate_pending

    settings.USAGE_ON_USER_DELETE = mode
    alice, bob = two_developers
    sub_id = Subscription.objects.get(owner=alice).pk
    alice_id = alice.pk
    alice.delete()
    UsageEvent.objects.all().delete()
    now = datetime.now(UTC)
    for fields in (
        {"subscription_id": sub_id, "user_id": alice_id, "client_id": "alice-app"},
        {"client_id": "alice-app"},
        {"user_id": bob.pk, "client_id": "bob-app"},
    ):
        UsageEvent.objects.create(ts=now, status=200, outcome="success", total_ms=1,
                                  client_net="10.0.0.0/24", **fields)  # fmt: skip
    assert aggregate_pending() == 3
    rows = list(UsageEvent.objects.values_list("subscription_id", "user_id", "client_id",
                                               "client_net"))  # fmt: skip
    bobs = (None, bob.pk, "bob-app", "10.0.0.0/24")
    if mode == "delete":
        assert rows == [bobs]
    else:
        assert sorted(rows, key=str) == sorted([(None, None, "", "")] * 2 + [bobs], key=str)
    assert not ConsumerRollup.objects.filter(client_id="alice-app").exists()


def test_ids_a_deleted_developer_had_count_for_whoever_has_them_now(
    two_developers: Any, django_user_model: Any
) -> None:
    """A deleted row's id can be handed out again: SQLite's sequence becomes the largest id
    left once a migration rebuilds a table, and an external authorization server may issue
    a client id again. The deletion's record of the ids (kept 30 days) made the new
    subscription's and application's calls name nobody; the deleted developer's calls
    still in flight name nobody still."""
    import time

    from applications.models import Application
    from products.models import Product, Subscription

    alice, bob = two_developers
    sub_id = Subscription.objects.get(owner=alice).pk
    alice.delete()
    carol = django_user_model.objects.create_user("carol")
    Subscription.objects.create(pk=sub_id, owner=carol, product=Product.objects.get(slug="p"),
                                primary_hash="c", secondary_hash="d")  # fmt: skip
    Application.objects.create(owner=carol, name="C", kind="machine", client_id="alice-app")
    now = time.time()
    aggregate_events([event(ts=now, subscription_id=sub_id, client_id="alice-app")] * 4)
    aggregate_events([event(ts=now, client_id="alice-app")])  # a token call: no key
    # Alice's calls from before her deletion, aggregated late, still name nobody.
    aggregate_events([event(subscription_id=sub_id, client_id="alice-app", user_id=alice.pk)])
    for model in (ConsumerRollup, ConsumerOperationRollup):
        rows = model.objects.filter(level=DAY)
        assert {
            (r.subscription_id, r.client_id, r.user_id): r.success
            for r in rows.filter(user_id=carol.pk)
        } == {  # fmt: skip
            (sub_id, "alice-app", carol.pk): 4,
            (0, "alice-app", carol.pk): 1,
        }
        assert not rows.filter(user_id=alice.pk).exists()

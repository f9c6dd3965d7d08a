"""Subscription flows: states, limits, audit trail, e-mails and keys."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from apis.models import Api
from products import flows, keys
from products.models import Subscription, SubscriptionEvent
from tests.products.conftest import MakeProduct
from tests.products.realdb import in_thread, on_a_database_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(make_user: Any) -> Any:
    return make_user("root", is_superuser=True, is_staff=True)


def test_subscribe_without_approval_is_active_with_two_distinct_keys(
    ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo), name=" staging ")
    assert sub.state == Subscription.ACTIVE and sub.name == "staging"
    primary, secondary = flows.shown_key(sub, "primary"), flows.shown_key(sub, "secondary")
    assert primary != secondary and len(primary) >= 43  # 32 random bytes, base64url
    assert sub.primary_hash == keys.key_hash(primary)
    assert primary not in sub.primary_encrypted  # stored encrypted, not in clear
    assert [e.action for e in sub.events.all()] == ["subscribe"]


def test_subscribe_with_approval_is_submitted_and_mails_the_administrators(
    settings: Any,
    ada: Any,
    admin_user: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SITE_URL = "https://developer.example.com"
    product = make_product("gold", echo, approval_required=True)
    with django_capture_on_commit_callbacks(execute=True):
        sub = flows.subscribe(ada, product)
    assert sub.state == Subscription.SUBMITTED
    assert [m.to for m in mail.outbox] == [["root@example.com"]]
    assert "ada asked to subscribe to Gold" in mail.outbox[0].body
    assert "https://developer.example.com/products/approvals/\n" in mail.outbox[0].body


def test_the_request_mail_names_the_application_it_is_for(
    ada: Any,
    admin_user: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # As the approval queue does: whose client gets the product's scopes once approved.
    from applications import flows as app_flows

    app = app_flows.register(ada, name="Nightly sync", kind="machine", redirect_uris=[])
    product = make_product("gold", echo, approval_required=True)
    with django_capture_on_commit_callbacks(execute=True):
        flows.subscribe(ada, product, application=app.application, name="prod")
    assert "ada asked to subscribe to Gold (prod) for the application Nightly sync." in (
        mail.outbox[0].body
    )


def test_without_a_site_url_the_request_mail_gives_the_queues_path(
    settings: Any,
    ada: Any,
    admin_user: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SITE_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        flows.subscribe(ada, make_product("gold", echo, approval_required=True))
    assert "on the approval queue: /products/approvals/\n" in mail.outbox[0].body


def test_approve_and_reject_mail_the_developer_with_the_reason(
    ada: Any,
    admin_user: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    product = make_product("gold", echo, approval_required=True)
    first, second = flows.subscribe(ada, product), flows.subscribe(ada, product)
    with django_capture_on_commit_callbacks(execute=True):
        flows.change_state(first, "approve", admin_user)
        flows.change_state(second, "reject", admin_user, "No production use yet")
    assert [m.to for m in mail.outbox] == [["ada@example.com"], ["ada@example.com"]]
    assert "was approved" in mail.outbox[0].subject
    assert "Reason: No production use yet" in mail.outbox[1].body
    event = SubscriptionEvent.objects.get(subscription=second, action="reject")
    assert (event.from_state, event.to_state, event.actor) == ("submitted", "rejected", admin_user)


def test_the_developers_mails_link_to_the_subscription(
    settings: Any,
    ada: Any,
    admin_user: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The mails "approved" or "is active" told the developer nothing of where the keys are; the mail
    to administrators always had its link."""
    settings.SITE_URL = "https://developer.example.com"
    gold = make_product("gold", echo, approval_required=True)
    with django_capture_on_commit_callbacks(execute=True):
        instant = flows.subscribe(ada, make_product("starter", echo))
        asked = flows.subscribe(ada, gold)
        flows.change_state(asked, "approve", admin_user)
    bodies = {m.subject: m.body for m in mail.outbox if m.to == ["ada@example.com"]}
    active, approved = (
        bodies["[API Portal] Your subscription to Starter is active"],
        bodies["[API Portal] Your subscription to Gold was approved"],
    )
    assert f"https://developer.example.com/products/subscriptions/{instant.uuid}/\n" in active
    assert f"https://developer.example.com/products/subscriptions/{asked.uuid}/\n" in approved


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["suspend", "reactivate", "cancel"], None),
        (["cancel", "reactivate"], 1),
        (["approve"], 0),  # an active subscription needs no approval
        (["suspend", "suspend"], 1),
    ],
)
def test_state_changes_follow_the_rules(
    ada: Any,
    admin_user: Any,
    echo: Api,
    make_product: MakeProduct,
    path: list[str],
    refused: int | None,
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    for index, action in enumerate(path):
        if index == refused:
            with pytest.raises(flows.FlowError):
                flows.change_state(sub, action, admin_user)
        else:
            sub = flows.change_state(sub, action, admin_user)
    assert sub.events.count() == 1 + len(path) - (0 if refused is None else 1)


def test_the_developer_cancels_only_their_own(
    ada: Any, bob: Any, echo: Api, make_product: MakeProduct
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    with pytest.raises(flows.FlowError):
        flows.cancel_by_owner(sub, bob)
    assert flows.cancel_by_owner(sub, ada).state == Subscription.CANCELLED


def test_regenerating_one_key_keeps_the_other(
    ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    sub = flows.subscribe(ada, make_product("starter", echo))
    old_primary, old_secondary = sub.primary_hash, sub.secondary_hash
    sub = flows.regenerate(sub, "secondary", ada)
    assert sub.primary_hash == old_primary and sub.secondary_hash != old_secondary
    assert keys.key_hash(flows.shown_key(sub, "secondary")) == sub.secondary_hash


def test_regenerating_is_limited_per_developer_and_hour(
    settings: Any, client: Any, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    """Each regeneration makes every gateway process reload its whole key map: a script
    regenerating in a loop kept them all reloading. Past the hourly count the keys stay."""
    settings.SUBSCRIPTION_KEYS_REGENERATED_PER_HOUR = 2
    sub = flows.subscribe(ada, make_product("starter", echo))
    for _ in range(2):
        sub = flows.regenerate(sub, "secondary", ada)
    kept = sub.secondary_hash
    with pytest.raises(flows.CreationLimited, match="2 keys in the last hour"):
        flows.regenerate(sub, "primary", ada)
    client.force_login(ada)
    page = client.post(
        f"/products/subscriptions/{sub.uuid}/regenerate/", {"which": "secondary"}, follow=True
    )
    assert "2 keys in the last hour" in page.content.decode()
    sub.refresh_from_db()
    assert sub.secondary_hash == kept


def test_terms_must_be_accepted(ada: Any, echo: Api, make_product: MakeProduct) -> None:
    product = make_product("legal", echo, terms="Be nice.")
    with pytest.raises(flows.FlowError, match="terms"):
        flows.subscribe(ada, product)
    assert flows.subscribe(ada, product, accept_terms=True).terms_accepted is not None


def test_a_product_not_offered_to_the_user_cannot_be_subscribed(
    ada: Any, echo: Api, make_product: MakeProduct, make_group: Any
) -> None:
    make_group("partners")
    with pytest.raises(flows.FlowError):
        flows.subscribe(ada, make_product("deal", echo, groups=("partners",)))
    with pytest.raises(flows.FlowError):
        flows.subscribe(ada, make_product("draft", echo, published=False))
    assert not Subscription.objects.exists()


def test_a_product_that_needs_no_key_cannot_be_subscribed(
    client: Any, ada: Any, echo: Api, make_product: MakeProduct
) -> None:
    """Its page offers no Subscribe (its APIs are called without a key); a forged POST, or
    the terminal's API, made one anyway, with keys the gateway never reads."""
    product = make_product("open", echo, subscription_required=False)
    with pytest.raises(flows.FlowError, match="needs no subscription"):
        flows.subscribe(ada, product)
    client.force_login(ada)
    response = client.post("/products/open/subscribe/", {"name": "forged"}, follow=True)
    assert "needs no subscription" in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_limit_counts_live_subscriptions(
    ada: Any, admin_user: Any, echo: Api, make_product: MakeProduct
) -> None:
    product = make_product("one", echo, subscriptions_limit=1)
    first = flows.subscribe(ada, product)
    with pytest.raises(flows.FlowError, match="the most it allows"):
        flows.subscribe(ada, product)
    flows.cancel_by_owner(first, ada)
    assert flows.subscribe(ada, product).state == Subscription.ACTIVE


def test_creation_is_rate_limited_per_user(
    settings: Any, ada: Any, bob: Any, echo: Api, make_product: MakeProduct
) -> None:
    """A product without a per-developer limit: a script still cannot make any number."""
    settings.SUBSCRIPTIONS_CREATE_PER_HOUR = 2
    product = make_product("starter", echo)
    flows.subscribe(ada, product)
    flows.subscribe(ada, product)
    with pytest.raises(flows.FlowError, match="created 2 subscriptions in the last hour"):
        flows.subscribe(ada, product)
    assert Subscription.objects.filter(owner=ada).count() == 2
    flows.subscribe(bob, product)  # another developer has their own count
    assert Subscription.objects.count() == 3


def test_a_subscription_refused_by_the_hourly_limit_mails_no_one(
    settings: Any,
    ada: Any,
    admin_user: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SUBSCRIPTIONS_CREATE_PER_HOUR = 1
    product = make_product("gold", echo, approval_required=True)
    with django_capture_on_commit_callbacks(execute=True):
        flows.subscribe(ada, product)
    assert len(mail.outbox) == 1  # the administrators hear of the first request
    refused = pytest.raises(flows.FlowError, match="created 1 subscription in the last hour")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, refused:
        flows.subscribe(ada, product)
    assert callbacks == [] and len(mail.outbox) == 1
    assert Subscription.objects.count() == 1 and SubscriptionEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_case72_two_parallel_subscribes_against_a_limit_of_one_make_one(
    make_user: Any, echo: Api, make_product: MakeProduct, tmp_path: Path
) -> None:
    """SECURITY.md case 72: both requests pass the visibility checks at the same moment."""
    ada = make_user("ada")
    product = make_product("one", echo, subscriptions_limit=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            flows.subscribe(ada, product)
            outcomes.append("subscribed")
        except flows.FlowError:
            outcomes.append("refused")
        finally:
            connection.close()

    with on_a_database_file(tmp_path):
        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        count = in_thread(lambda: Subscription.objects.filter(owner=ada, product=product).count())
    assert sorted(outcomes) == ["refused", "subscribed"]
    assert count == 1


def test_without_a_mailer_nothing_is_sent_and_nothing_fails(
    settings: Any,
    ada: Any,
    echo: Api,
    make_product: MakeProduct,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAILERS = {}  # production with no EMAIL_HOST
    with django_capture_on_commit_callbacks(execute=True):
        sub = flows.subscribe(ada, make_product("gold", echo, approval_required=True))
    assert sub.state == Subscription.SUBMITTED and mail.outbox == []


@pytest.mark.parametrize(
    "name",
    [
        "staging\n\nApprove it here: https://evil.example/",  # a line of the admins' mail
        "prod\r\nBcc: x@evil.example",
        "Portal Console \u202e(lanoiciffo)",  # right-to-left override: reads as another name
        "tab\there",
    ],
)
def test_a_name_with_line_breaks_or_direction_controls_is_refused(
    ada: Any, echo: Api, make_product: MakeProduct, name: str
) -> None:
    # A subscription's name went into the administrators' mail as written: two line breaks
    # and a developer wrote their own "approval queue" link above the real one.
    with pytest.raises(flows.FlowError, match="line break|control"):
        flows.subscribe(ada, make_product("starter", echo), name=name)
    assert not Subscription.objects.exists()


def test_approving_rechecks_that_the_developer_may_still_see_the_product(
    ada: Any, admin_user: Any, echo: Api, make_product: MakeProduct, make_group: Any
) -> None:
    """Between the request and the decision the developer may have left the product's group,
    or the product may have been unpublished: approving would hand out working keys to a
    product they can no longer see."""
    partners = make_group("partners", ada)
    deal = make_product("deal", echo, groups=("partners",), approval_required=True)
    left, unpublished = flows.subscribe(ada, deal), flows.subscribe(ada, deal)
    partners.members.remove(ada)
    with pytest.raises(flows.FlowError, match="ada may no longer see Deal"):
        flows.change_state(left, "approve", admin_user)
    partners.members.add(ada)
    deal.published = False
    deal.save()
    with pytest.raises(flows.FlowError, match="Deal is not published"):
        flows.change_state(unpublished, "approve", admin_user)
    assert set(Subscription.objects.values_list("state", flat=True)) == {Subscription.SUBMITTED}
    # Rejecting stays possible: it is how the queue is emptied.
    assert flows.change_state(left, "reject", admin_user, "left").state == Subscription.REJECTED


def test_reactivating_rechecks_that_the_developer_may_still_see_the_product(
    ada: Any, admin_user: Any, echo: Api, make_product: MakeProduct, make_group: Any
) -> None:
    """A suspended subscription of a developer who has since left the product's group came
    back to life with working keys, as an approval in the queue did."""
    partners = make_group("partners", ada)
    deal = make_product("deal", echo, groups=("partners",))
    sub = flows.subscribe(ada, deal)
    flows.change_state(sub, "suspend", admin_user, "audit")
    partners.members.remove(ada)
    with pytest.raises(flows.FlowError, match="ada may no longer see Deal.*cancel it instead"):
        flows.change_state(sub, "reactivate", admin_user)
    sub.refresh_from_db()
    assert sub.state == Subscription.SUSPENDED
    assert flows.change_state(sub, "cancel", admin_user).state == Subscription.CANCELLED

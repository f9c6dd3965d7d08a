"""Group membership from the sign-in provider's groups claim, refreshed at each sign-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from allauth.account.signals import user_logged_in
from allauth.socialaccount.models import SocialAccount
from django.test import RequestFactory

from apis.models import Api
from products.models import Membership
from tests.identity.test_interop_oidc_provider import sign_in
from tests.products.conftest import MakeProduct

pytestmark = pytest.mark.django_db


class _Account:
    def __init__(self, extra_data: dict[str, Any]) -> None:
        self.extra_data = extra_data


class _SocialLogin:
    def __init__(self, claims: dict[str, Any]) -> None:
        self.account = _Account({"id_token": claims, "userinfo": {"sub": "1"}})


def _sign_in(user: Any, claims: dict[str, Any]) -> None:
    request = RequestFactory().get("/")
    user_logged_in.send(
        sender=type(user), request=request, user=user, sociallogin=_SocialLogin(claims)
    )


@pytest.fixture
def groups(make_group: Any) -> None:
    make_group("partners", claims=["partner"])
    make_group("staff-apis", claims=["8f1c-group-id"])


def test_membership_follows_the_claim_at_each_sign_in(
    settings: Any, ada: Any, groups: None
) -> None:
    settings.OIDC_GROUPS_CLAIM = "roles"
    _sign_in(ada, {"roles": ["partner", "other"]})
    assert set(ada.portal_groups.values_list("slug", flat=True)) == {"partners"}
    _sign_in(ada, {"roles": ["8f1c-group-id"]})
    assert set(ada.portal_groups.values_list("slug", flat=True)) == {"staff-apis"}
    _sign_in(ada, {})  # the claim is gone: so are the claim memberships
    assert not ada.portal_groups.exists()


def test_memberships_added_by_hand_stay(settings: Any, ada: Any, make_group: Any) -> None:
    settings.OIDC_GROUPS_CLAIM = "groups"
    make_group("beta", ada)
    _sign_in(ada, {"groups": []})
    assert Membership.objects.get(user=ada).group.slug == "beta"


def test_without_a_configured_claim_nothing_changes(settings: Any, ada: Any, groups: None) -> None:
    settings.OIDC_GROUPS_CLAIM = ""
    _sign_in(ada, {"roles": ["partner"]})
    assert not ada.portal_groups.exists()


def test_a_parallel_sign_in_that_added_the_membership_first_is_no_error(
    settings: Any, ada: Any, groups: None, monkeypatch: Any
) -> None:
    """Two sign-ins of one user at once (two devices) both read "not a member yet" and both
    insert: the second insert broke the unique (group, user) rule and the sign-in with it."""
    settings.OIDC_GROUPS_CLAIM = "roles"
    manager = Membership.objects
    insert = manager.bulk_create

    def after_the_other_sign_in(rows: Any, **options: Any) -> Any:
        for row in rows:  # the parallel sign-in commits its rows between our read and write
            Membership.objects.create(user=row.user, group=row.group, source=row.source)
        return insert(rows, **options)

    monkeypatch.setattr(manager, "bulk_create", after_the_other_sign_in)
    _sign_in(ada, {"roles": ["partner"]})
    assert set(ada.portal_groups.values_list("slug", flat=True)) == {"partners"}


@pytest.mark.django_db(transaction=True)
def test_a_real_sign_in_takes_the_groups_claim_each_time(
    live_server: Any,
    oidc_provider: str,
    op_groups: Path,
    settings: Any,
    petstore: Api,
    make_group: Any,
    make_product: MakeProduct,
) -> None:
    """Against panva's oidc-provider (tests/identity/op), not a stand-in: its `groups` claim
    makes alice a partner, who sees the partners' API; at the next sign-in the claim no longer
    lists the group, and the API is gone for her (404)."""
    settings.OIDC_GROUPS_CLAIM = "groups"
    make_group("partners", claims=["partner"])
    make_product("partner-deal", petstore, groups=("partners",))
    op_groups.write_text(json.dumps({"alice": ["partner", "unmapped"]}))
    first = requests.Session()
    assert sign_in(first, live_server.url, oidc_provider, "alice").status_code == 200
    alice = SocialAccount.objects.get(provider="interop", uid="alice").user
    assert Membership.objects.filter(user=alice, source=Membership.CLAIM).count() == 1
    assert first.get(f"{live_server.url}/apis/petstore/").status_code == 200
    assert "Petstore" in first.get(f"{live_server.url}/apis/").text

    op_groups.write_text(json.dumps({"alice": ["unmapped"]}))
    again = requests.Session()  # another browser: a new sign-in at the provider
    assert sign_in(again, live_server.url, oidc_provider, "alice").status_code == 200
    assert not Membership.objects.filter(user=alice).exists()
    assert again.get(f"{live_server.url}/apis/petstore/").status_code == 404
    assert "Petstore" not in again.get(f"{live_server.url}/apis/").text


def test_an_entra_groups_overage_removes_the_claim_memberships_and_says_why(
    settings: Any, ada: Any, groups: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Past 200 groups Entra ID sends `_claim_names: {"groups": "src1"}` instead of the claim:
    read as no groups (fails closed), which took every claim membership away in silence."""
    settings.OIDC_GROUPS_CLAIM = "groups"
    _sign_in(ada, {"groups": ["partner"]})
    assert set(ada.portal_groups.values_list("slug", flat=True)) == {"partners"}
    overage = {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "x"}}}
    with caplog.at_level("WARNING", logger="products.groups"):
        _sign_in(ada, overage)
    assert not ada.portal_groups.exists()
    assert "overage" in caplog.text and "groups" in caplog.text

"""Group membership from the sign-in provider's groups claim, refreshed at each sign-in."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.signals import user_logged_in
from django.test import RequestFactory

from products.models import Membership

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

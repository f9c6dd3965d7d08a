"""/api/v1/.../usage: a developer's own use from a terminal, the numbers of the usage pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from applications import flows as app_flows
from products import flows as product_flows
from tests.usage.pages.conftest import call, in_this_period, record

pytestmark = pytest.mark.django_db


def _get(client: Client, path: str, token: str) -> Any:
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def weather(ada: Any) -> Any:
    return app_flows.register(
        ada, name="Weather", description="", kind="machine", redirect_uris=[]
    ).application


def test_a_subscriptions_use_and_quota(
    client: Client, ada: Any, echo: Any, make_product: Callable[..., Any],
    portal_token: Callable[..., str],
) -> None:  # fmt: skip
    starter = make_product("starter", echo, quota_calls=1000, quota_period=86400)
    sub = product_flows.subscribe(ada, starter, name="main")
    # Inside the quota's current day (from midnight UTC), so the calls count against it
    # whatever the hour: "two hours ago" failed CI when it ran at 00:35 UTC.
    today = in_this_period(86400)
    record(
        *[call(today, api_id=echo.pk, operation="echoGet", subscription_id=sub.pk,
               total_ms=30.0) for _ in range(3)],
        call(today, api_id=echo.pk, operation="echoPost", subscription_id=sub.pk,
             outcome="failed", status=502, backend_ms=None),
        call(today, api_id=echo.pk, operation="echoGet", subscription_id=sub.pk,
             outcome="blocked", status=429, check="rate-limit", backend_ms=None),
    )  # fmt: skip
    answer = _get(client, f"/api/v1/subscriptions/{sub.uuid}/usage", portal_token(ada))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["range"] == "24h"
    # The 24 hours through the current minute, not through the end of the current hour.
    start, end = (datetime.fromisoformat(body[k]) for k in ("from", "to"))
    assert end - start == timedelta(hours=24)
    assert timedelta(0) < end - timezone.now() <= timedelta(minutes=1)
    assert (body["calls"], body["success"], body["failed"], body["blocked"]) == (5, 3, 1, 1)
    assert body["error_rate"] == 0.4
    assert body["bytes_out"] == 5000
    assert [op["operation"] for op in body["top_operations"]] == ["echoGet", "echoPost"]
    assert body["top_operations"][0]["calls"] == 4
    # The quota counts the calls the gateway let through, failed ones too, not blocked ones.
    assert body["quota"]["used"] == 4 and body["quota"]["limit"] == 1000
    assert body["quota"]["period_seconds"] == 86400  # a terminal can say "in the last day"
    assert "no-store" in answer["Cache-Control"]


def test_a_subscriptions_kilobyte_quota(
    client: Client, ada: Any, echo: Any, make_product: Callable[..., Any],
    portal_token: Callable[..., str],
) -> None:  # fmt: skip
    """A product's quota may count kilobytes (issue 9): the JSON gave only the call quota."""
    from datetime import UTC, datetime

    metered = make_product("metered", echo, quota_calls=None, quota_kilobytes=100,
                           quota_period=86400)  # fmt: skip
    sub = product_flows.subscribe(ada, metered, name="main")
    now = int(timezone.now().timestamp())
    began = datetime.fromtimestamp(now // 86400 * 86400, UTC)  # the gateway's fixed period
    record(*[call(began, api_id=echo.pk, operation="echoGet", subscription_id=sub.pk)] * 2)
    body = _get(client, f"/api/v1/subscriptions/{sub.uuid}/usage", portal_token(ada)).json()
    assert "quota" not in body  # no call quota
    volume = body["quota_kilobytes"]
    assert volume["used_bytes"] == body["bytes_in"] + body["bytes_out"] > 0
    assert (volume["limit"], volume["period_seconds"]) == (100, 86400)
    assert volume["resets_at"] == (began + timedelta(days=1)).isoformat()


def test_an_applications_use_over_a_range(
    client: Client, ada: Any, echo: Any, weather: Any, portal_token: Callable[..., str]
) -> None:
    record(
        call(timezone.now() - timedelta(days=3), api_id=echo.pk, operation="echoGet",
             client_id=weather.client_id),
    )  # fmt: skip
    token = portal_token(ada)
    path = f"/api/v1/applications/{weather.uuid}/usage"
    assert _get(client, path, token).json()["calls"] == 0  # three days ago: not in 24 h
    week = _get(client, path + "?range=7d", token).json()
    assert week["calls"] == 1 and "quota" not in week
    assert week["p50_ms"] is not None


def test_a_range_not_offered_is_a_400_problem_naming_it(
    client: Client, ada: Any, weather: Any, portal_token: Callable[..., str]
) -> None:
    answer = _get(client, f"/api/v1/applications/{weather.uuid}/usage?range=1y", portal_token(ada))
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"] == {"range": ["One of 24h, 7d, 30d."]}


def test_case68_case80_another_developers_usage_is_404_and_needs_a_token(
    client: Client, ada: Any, bob: Any, echo: Any, weather: Any,
    make_product: Callable[..., Any], portal_token: Callable[..., str],
) -> None:  # fmt: skip
    """SECURITY.md cases 68 and 80."""
    adas = product_flows.subscribe(ada, make_product("starter", echo), name="main")
    bobs = portal_token(bob)
    for path in (
        f"/api/v1/applications/{weather.uuid}/usage",
        f"/api/v1/subscriptions/{adas.uuid}/usage",
    ):
        assert _get(client, path, bobs).status_code == 404, path
        assert client.get(path).status_code == 401, path


def test_case67_calls_to_an_api_hidden_from_the_developer_do_not_count(
    client: Client, ada: Any, echo: Any, weather: Any, import_spec: Any,
    make_product: Callable[..., Any], portal_token: Callable[..., str],
) -> None:  # fmt: skip
    """SECURITY.md case 67: an API only another group sees is left out, as on the pages."""
    from django.contrib.auth.models import Group

    from tests.conftest import DEMO_SPECS

    petstore = import_spec(DEMO_SPECS / "petstore.yaml", "petstore")
    Group.objects.create(name="partners")
    make_product("partners-only", petstore, groups=("partners",))
    now = timezone.now() - timedelta(hours=1)
    record(
        call(now, api_id=echo.pk, operation="echoGet", client_id=weather.client_id),
        call(now, api_id=petstore.pk, operation="listPets", client_id=weather.client_id),
    )
    body = _get(client, f"/api/v1/applications/{weather.uuid}/usage", portal_token(ada)).json()
    assert body["calls"] == 1
    assert [op["operation"] for op in body["top_operations"]] == ["echoGet"]


def test_the_document_describes_the_usage_paths(client: Client, db: None) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    for path in ("/subscriptions/{subscription}/usage", "/applications/{application}/usage"):
        get = doc["paths"][path]["get"]
        assert set(get["responses"]) == {"200", "400", "404"}
    assert doc["components"]["parameters"]["range"]["schema"]["enum"] == ["24h", "7d", "30d"]

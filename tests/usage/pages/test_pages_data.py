"""What the usage pages count: calls put through the aggregator show on their owner's pages
only, never another developer's, never an API hidden from the viewer (SECURITY.md 67, 68)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from products.models import Subscription
from tests.usage.pages.conftest import call, in_this_period, login, record
from usage.quotas import quota_use

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> Any:
    return timezone.now() - timedelta(**delta)


def stat(html: str, label: str) -> str:
    """The figure of a summary card: '<dt>Calls</dt><dd>3' -> '3'."""
    tail = html.split(f"<dt>{label}</dt><dd>", 1)[1]
    return tail.split("<", 1)[0].strip()


@pytest.fixture
def hidden(petstore: Any, make_group: Callable[..., Any], make_product: Callable[..., Any]) -> Any:
    """Petstore, offered only to partners: ada, bob and the reader are not partners."""
    make_group("partners")
    make_product("partners-only", petstore, groups=("partners",))
    return petstore


def test_an_applications_calls_show_in_its_chart_table_and_top_operations(
    client: Client, ada: Any, echo: Any, make_app: Callable[..., Any]
) -> None:
    app = make_app(ada, "Weather")
    record(
        *[call(ago(minutes=70), api_id=echo.pk, operation="echoGet", client_id=app.client_id)
          for _ in range(3)],
        call(ago(minutes=70), api_id=echo.pk, operation="echoPost", client_id=app.client_id,
             outcome="failed", status=502, backend_ms=None),
    )  # fmt: skip
    html = login(client, ada).get(f"/usage/applications/{app.uuid}/").content.decode()
    assert stat(html, "Calls") == "4"
    assert stat(html, "Error rate") == "25%"
    # The chart: one hour with a success bar and a failed bar on it; its tooltip counts.
    chart = html[html.index('id="chart-calls"') : html.index('id="chart-bandwidth"')]
    assert chart.count('class="s-success"') == 1 and chart.count('class="s-failed"') == 1
    assert "4 calls (3 success, 0 other, 0 blocked, 1 failed)" in chart
    # The table: that hour's row.
    assert "<td>3</td><td>0</td><td>0</td><td>1</td><td>4</td>" in chart
    # Top operations, by calls.
    top = html[html.index("data-ranked") :]
    assert top.index("echoGet (Echo") < top.index("echoPost (Echo")


def test_another_developers_calls_never_count_on_my_pages(
    client: Client, ada: Any, bob: Any, echo: Any, make_app: Callable[..., Any],
    make_sub: Callable[..., Any],
) -> None:  # fmt: skip
    mine, bobs = make_app(ada), make_app(bob, "Bob's tool")
    my_sub, bobs_sub = make_sub(ada), make_sub(bob)
    record(
        *[call(ago(hours=2), api_id=echo.pk, operation="echoGet", client_id=bobs.client_id,
               subscription_id=bobs_sub.pk) for _ in range(5)],
        call(ago(hours=2), api_id=echo.pk, operation="echoGet", client_id=mine.client_id,
             subscription_id=my_sub.pk),
    )  # fmt: skip
    login(client, ada)
    for url in (f"/usage/applications/{mine.uuid}/", f"/usage/subscriptions/{my_sub.uuid}/"):
        html = client.get(url + "?range=7d").content.decode()
        assert stat(html, "Calls") == "1", url
        assert "Bob" not in html and bobs.client_id not in html


def test_an_api_hidden_from_the_developer_never_appears(
    client: Client, ada: Any, echo: Any, hidden: Any, make_app: Callable[..., Any]
) -> None:
    """SECURITY.md case 67: calls to Petstore (since hidden from ada) are not shown to her."""
    app = make_app(ada)
    record(
        call(ago(hours=1), api_id=echo.pk, operation="echoGet", client_id=app.client_id),
        *[call(ago(hours=1), api_id=hidden.pk, operation="listPets", client_id=app.client_id)
          for _ in range(4)],
    )  # fmt: skip
    html = login(client, ada).get(f"/usage/applications/{app.uuid}/").content.decode()
    assert stat(html, "Calls") == "1"
    assert "listPets" not in html and "Petstore" not in html


def test_staff_reports_leave_out_hidden_apis_unless_the_viewer_sees_them(
    client: Client, reader: Any, echo: Any, hidden: Any, make_app: Callable[..., Any],
    ada: Any,
) -> None:  # fmt: skip
    """SECURITY.md case 67 for staff: the reports permission is not the draft permission."""
    app = make_app(ada)
    record(
        call(ago(hours=1), api_id=echo.pk, operation="echoGet", client_id=app.client_id),
        call(ago(hours=1), api_id=hidden.pk, operation="listPets", client_id=app.client_id),
    )
    login(client, reader)
    html = client.get("/usage/reports/?by=api").content.decode()
    assert stat(html, "Calls") == "1"
    assert "Echo" in html and "Petstore" not in html
    exported = client.get("/usage/reports/export.csv?by=operation").content.decode()
    assert "echoGet" in exported and "listPets" not in exported
    # With the draft permission every API is seen.
    reader.user_permissions.add(Permission.objects.get(codename="view_api"))
    html = (
        login(client, type(reader).objects.get(pk=reader.pk))
        .get("/usage/reports/?by=api")
        .content.decode()
    )
    assert stat(html, "Calls") == "2" and "Petstore" in html


def test_reports_filter_by_developer_application_and_api(
    client: Client, reader: Any, ada: Any, bob: Any, echo: Any, make_app: Callable[..., Any],
) -> None:  # fmt: skip
    adas, bobs = make_app(ada, "Ada's app"), make_app(bob, "Bob's app")
    record(
        *[call(ago(hours=3), api_id=echo.pk, operation="echoGet", client_id=adas.client_id)
          for _ in range(2)],
        *[call(ago(hours=3), api_id=echo.pk, operation="echoPost", client_id=bobs.client_id,
               outcome="blocked", status=429, check="rate-limit", backend_ms=None)
          for _ in range(3)],
    )  # fmt: skip
    login(client, reader)
    everyone = client.get("/usage/reports/?by=developer&order=errors").content.decode()
    assert stat(everyone, "Calls") == "5"
    ranked = everyone[everyone.index("data-ranked") :]
    assert ranked.index(">bob<") < ranked.index(">ada<")  # most errors first
    only_ada = client.get("/usage/reports/?developer=ada&by=application").content.decode()
    assert stat(only_ada, "Calls") == "2" and "Bob&#x27;s app" not in only_ada
    by_client = client.get(f"/usage/reports/?application={bobs.client_id}").content.decode()
    assert stat(by_client, "Calls") == "3"
    by_api = client.get("/usage/reports/?api=echo&by=operation").content.decode()
    assert "echoGet" in by_api and "echoPost" in by_api
    # A ranked row narrows the report to itself, one level down.
    by_api_rows = client.get("/usage/reports/?by=api").content.decode()
    assert "by=operation&amp;order=calls&amp;api=echo" in by_api_rows


def test_the_subscription_quota_bar_counts_calls_let_through(
    client: Client, ada: Any, echo: Any, make_sub: Callable[..., Any]
) -> None:
    sub = make_sub(ada)
    record(
        *[call(in_this_period(), api_id=echo.pk, subscription_id=sub.pk) for _ in range(5)],
        *[call(in_this_period(), api_id=echo.pk, subscription_id=sub.pk, outcome="blocked",
               status=429, check="rate-limit") for _ in range(2)],
    )  # fmt: skip
    html = login(client, ada).get(f"/usage/subscriptions/{sub.uuid}/").content.decode()
    assert "5 of 10,000 calls in the current period of 30 days" in html
    assert "this one ends at" in html


def test_csv_export_makes_a_formula_in_a_name_inert(
    client: Client, reader: Any, ada: Any, echo: Any, make_app: Callable[..., Any]
) -> None:
    """A developer names an application like a spreadsheet formula; staff export the table."""
    app = make_app(ada, '=HYPERLINK("http://evil.example","Open")')
    record(*[call(ago(hours=1), api_id=echo.pk, client_id=app.client_id) for _ in range(2)])
    answer = login(client, reader).get("/usage/reports/export.csv?by=application")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0][:3] == ["application", "calls", "errors"]
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","Open")'
    assert rows[1][1] == "2"


def test_htmx_range_change_on_reports_returns_the_body(
    client: Client, reader: Any, echo: Any, ada: Any, make_app: Callable[..., Any]
) -> None:
    app = make_app(ada)
    record(call(ago(days=5), api_id=echo.pk, client_id=app.client_id))
    login(client, reader)
    day = client.get("/usage/reports/?range=24h", HTTP_HX_REQUEST="true").content.decode()
    assert day.lstrip().startswith('<div id="usage-body"') and "<form" not in day
    assert stat(day, "Calls") == "0"
    week = client.get("/usage/reports/?range=7d", HTTP_HX_REQUEST="true").content.decode()
    assert stat(week, "Calls") == "1"


def test_a_developer_page_draws_p50_and_p95_over_time_even_by_local_day(
    client: Client, ada: Any, echo: Any, make_app: Callable[..., Any]
) -> None:
    """Nine fast calls and one slow one in one hour, ten fast ones in another: the time chart
    has a row per hour with its own percentiles, and the 30-day chart's day, summed from
    those hours, has the percentiles of all twenty calls (not none, not one hour's)."""
    app = make_app(ada)
    slow_hour = timezone.now().replace(minute=30) - timedelta(hours=1)
    if slow_hour.date() != (slow_hour - timedelta(hours=1)).date():
        slow_hour -= timedelta(hours=2)  # both hours in one UTC day, the 30-day chart's
    record(
        *[call(slow_hour, api_id=echo.pk, client_id=app.client_id, total_ms=15.0)
          for _ in range(9)],
        call(slow_hour, api_id=echo.pk, client_id=app.client_id, total_ms=400.0),
        *[call(slow_hour - timedelta(hours=1), api_id=echo.pk, client_id=app.client_id,
               total_ms=15.0) for _ in range(10)],
    )  # fmt: skip
    login(client, ada)
    html = client.get(f"/usage/applications/{app.uuid}/").content.decode()
    chart = html[html.index('id="chart-latency"') : html.index('id="chart-bandwidth"')]
    rows = [row.split("</th>", 1)[1] for row in chart.split("<tr>")[2:]]
    assert len(rows) == 2
    # Both hours' medians are fast; only the hour with the slow call has a slow p95.
    p95 = [float(row.split("<td>")[2].split(" ms")[0]) for row in rows]
    assert p95[0] <= 20 < 250 < p95[1]
    month = client.get(f"/usage/applications/{app.uuid}/?range=30d").content.decode()
    chart = month[month.index('id="chart-latency"') : month.index('id="chart-bandwidth"')]
    (row,) = [row.split("</th>", 1)[1] for row in chart.split("<tr>")[2:]]
    # One slow call in twenty is the 95th percentile's edge: within the fast bucket.
    p50, p95_day = (float(cell.split(" ms")[0]) for cell in row.split("<td>")[1:3])
    assert 10 < p50 <= 20 and 10 < p95_day <= 20 * 1.0001


def test_a_developer_downloads_their_tables_as_csv_formula_safe(
    client: Client, ada: Any, bob: Any, echo: Any, make_app: Callable[..., Any],
    make_sub: Callable[..., Any],
) -> None:  # fmt: skip
    """The page links each table's CSV; an operation id from a spec that reads like a
    formula is made inert; the hourly table has a row per hour with calls."""
    app, sub = make_app(ada), make_sub(ada)
    record(
        *[call(ago(hours=2), api_id=echo.pk, operation="=cmd|' /C calc'!A0",
               client_id=app.client_id, subscription_id=sub.pk) for _ in range(3)],
        call(ago(hours=1), api_id=echo.pk, operation="echoGet", client_id=app.client_id,
             subscription_id=sub.pk, outcome="failed", status=502),
    )  # fmt: skip
    login(client, ada)
    for page in (f"/usage/applications/{app.uuid}/", f"/usage/subscriptions/{sub.uuid}/"):
        html = client.get(page + "?range=7d").content.decode()
        assert f'href="{page}export.csv?range=7d&amp;table=ranked"' in html
        answer = client.get(page + "export.csv?range=7d&table=ranked")
        assert answer["Content-Type"].startswith("text/csv")
        assert "attachment" in answer["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(answer.content.decode())))
        assert rows[0][:3] == ["operation", "calls", "errors"]
        assert rows[1][:3] == ["'=cmd|' /C calc'!A0 (Echo API)", "3", "0"]
        assert rows[2][:3] == ["echoGet (Echo API)", "1", "1"]
        hours = list(
            csv.reader(io.StringIO(client.get(page + "export.csv?table=calls").content.decode()))
        )
        assert hours[0] == ["start (UTC)", "success", "blocked", "failed", "other", "total"]
        assert [r[1:] for r in hours[1:] if r[-1] != "0"] == [
            ["3", "0", "0", "0", "3"], ["0", "0", "1", "0", "1"]
        ]  # fmt: skip
        assert client.get(page + "export.csv?table=nope").status_code == 400
    # Another developer's ids are 404, as for the pages.
    login(client, bob)
    assert client.get(f"/usage/applications/{app.uuid}/export.csv").status_code == 404
    assert client.get(f"/usage/subscriptions/{sub.uuid}/export.csv").status_code == 404


def _overview_row(html: str, name: str) -> list[str]:
    """The cells of the overview row whose first column links `name`."""
    row = html.split(f">{name}</a></th>", 1)[1].split("</tr>", 1)[0]
    return [cell.split(">", 1)[1].split("</td>", 1)[0] for cell in row.split("<td")[1:]]


def test_my_usage_lists_each_of_my_subscriptions_and_applications_with_its_calls(
    client: Client, ada: Any, bob: Any, echo: Any, make_app: Callable[..., Any],
    make_sub: Callable[..., Any],
) -> None:  # fmt: skip
    app = make_app(ada, "Weather")
    make_app(ada, "Idle tool")
    sub, bobs_sub = make_sub(ada, name="main"), make_sub(bob, name="bob-main")
    record(
        *[call(ago(hours=2), api_id=echo.pk, operation="echoGet", client_id=app.client_id,
               subscription_id=sub.pk) for _ in range(3)],
        call(ago(hours=2), api_id=echo.pk, operation="echoGet", client_id=app.client_id,
             outcome="failed", status=502, backend_ms=None),
        *[call(ago(hours=2), api_id=echo.pk, operation="echoGet", subscription_id=bobs_sub.pk)
          for _ in range(7)],
    )  # fmt: skip
    html = login(client, ada).get("/usage/").content.decode()
    assert _overview_row(html, "main")[2:4] == ["3", "0%"]
    # Its quota counts the calls of the current fixed period, which 2 hours ago may precede.
    used = quota_use(sub).used  # type: ignore[union-attr]
    assert (
        f"{used} of 10,000 calls in the current period of 30 days"
        in _overview_row(html, "main")[-1]
    )
    assert _overview_row(html, "Weather")[1:3] == ["4", "25%"]
    assert _overview_row(html, "Idle tool")[1:3] == ["0", "–"]
    assert "bob-main" not in html
    # Every range holds them: the calls were two hours ago.
    assert _overview_row(client.get("/usage/?range=7d").content.decode(), "Weather")[1] == "4"


def test_case67_my_usage_leaves_out_calls_to_apis_hidden_from_me(
    client: Client, ada: Any, echo: Any, hidden: Any, make_app: Callable[..., Any]
) -> None:
    """SECURITY.md case 67: a hidden API's calls count on no page of a viewer who cannot see it."""
    app = make_app(ada, "Weather")
    record(
        call(ago(hours=1), api_id=echo.pk, operation="echoGet", client_id=app.client_id),
        call(ago(hours=1), api_id=hidden.pk, operation="listPets", client_id=app.client_id),
    )
    html = login(client, ada).get("/usage/").content.decode()
    assert _overview_row(html, "Weather")[1] == "1"


def test_my_usage_asks_as_many_queries_for_many_subscriptions_and_applications_as_for_two(
    client: Client, ada: Any, echo: Any, make_app: Callable[..., Any],
    make_sub: Callable[..., Any], settings: Any,
) -> None:  # fmt: skip
    """Each row asked its own summary and quota (about three queries a row): a developer
    with 200 subscriptions and 200 applications made the page ask over a thousand."""
    settings.SUBSCRIPTIONS_CREATE_PER_HOUR = settings.APPLICATIONS_CREATE_PER_HOUR = 100

    def grow(numbers: range) -> None:
        for i in numbers:
            sub, app = make_sub(ada, name=f"sub-{i}"), make_app(ada, f"app-{i}")
            record(
                call(ago(days=3), api_id=echo.pk, operation="echoGet", subscription_id=sub.pk,
                     client_id=app.client_id, outcome="failed", status=502, backend_ms=None),
                *[call(ago(hours=2), api_id=echo.pk, operation="echoGet",
                       subscription_id=sub.pk, client_id=app.client_id) for _ in range(i)],
            )  # fmt: skip

    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/usage/?range=7d").content.decode()
        return html, len(queries.captured_queries)

    login(client, ada)
    grow(range(2))
    page()  # the closed days' answers kept
    _, few = page()
    grow(range(2, 12))
    make_sub(ada, name="idle")
    page()
    html, many = page()
    assert many == few
    assert _overview_row(html, "sub-11")[2:4] == ["12", "8.3%"]
    sub_11 = Subscription.objects.get(name="sub-11")
    used = quota_use(sub_11).used  # type: ignore[union-attr]
    assert f"{used} of 10,000 calls in the current period" in _overview_row(html, "sub-11")[-1]
    assert _overview_row(html, "app-11")[1:3] == ["12", "8.3%"]
    assert _overview_row(html, "app-0")[1:3] == ["1", "100%"]
    assert _overview_row(html, "idle")[2:4] == ["0", "–"]

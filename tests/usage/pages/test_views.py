"""The usage pages: who may see which, htmx fragments, links to them (usage/views.py).

What they count is tested in test_pages_data.py, with calls put through the aggregator.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.usage.pages.conftest import call, login, record

pytestmark = pytest.mark.django_db


def app_url(app: Any) -> str:
    return f"/usage/applications/{app.uuid}/"


def sub_url(sub: Any) -> str:
    return f"/usage/subscriptions/{sub.uuid}/"


def test_a_developer_sees_the_usage_of_their_application(
    client: Client, ada: Any, make_app: Callable[..., Any]
) -> None:
    app = make_app(ada, "Weather")
    page = login(client, ada).get(app_url(app))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Usage of Weather" in html
    assert app.client_id in html
    assert 'role="img"' in html and "Calls per hour, by outcome" in html
    assert "Top operations" in html
    assert 'aria-current="true">Last 24 hours' in html
    assert page["Cache-Control"].startswith("max-age=0")


def test_the_range_changes_the_buckets(
    client: Client, ada: Any, make_app: Callable[..., Any]
) -> None:
    app = make_app(ada)
    login(client, ada)
    assert "Calls per day, by outcome" in client.get(app_url(app) + "?range=30d").content.decode()
    week = client.get(app_url(app) + "?range=7d").content.decode()
    assert "Calls per hour" in week and 'aria-current="true">Last 7 days' in week
    # An unknown range is the default one, not an error.
    odd = client.get(app_url(app) + "?range=1y")
    assert odd.status_code == 200 and 'aria-current="true">Last 24 hours' in odd.content.decode()


def test_htmx_gets_the_body_only(client: Client, ada: Any, make_app: Callable[..., Any]) -> None:
    app = make_app(ada)
    page = login(client, ada).get(app_url(app) + "?range=7d", HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.lstrip().startswith('<div id="usage-body"')
    assert "<html" not in html and "Usage of" not in html
    assert "Calls per hour" in html


def test_another_developers_application_is_404(
    client: Client, ada: Any, bob: Any, make_app: Callable[..., Any]
) -> None:
    """SECURITY.md case 68."""
    bobs = make_app(bob, "Bob's secret app")
    page = login(client, ada).get(app_url(bobs))
    assert page.status_code == 404
    assert "Bob's secret app" not in page.content.decode()


def test_another_developers_subscription_is_404(
    client: Client, ada: Any, bob: Any, make_sub: Callable[..., Any]
) -> None:
    """SECURITY.md case 68."""
    bobs = make_sub(bob, name="bob-main")
    assert login(client, ada).get(sub_url(bobs)).status_code == 404


def test_unknown_ids_are_404(client: Client, ada: Any) -> None:
    login(client, ada)
    assert client.get(f"/usage/applications/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/usage/subscriptions/{uuid.uuid4()}/").status_code == 404
    assert client.get("/usage/applications/1/").status_code == 404  # no primary keys in URLs


def test_anonymous_is_sent_to_sign_in(
    client: Client, ada: Any, make_app: Callable[..., Any], make_sub: Callable[..., Any]
) -> None:
    for url in (app_url(make_app(ada)), sub_url(make_sub(ada)), "/usage/reports/"):
        page = client.get(url)
        assert page.status_code == 302 and "/accounts/login/" in page["Location"], url


def test_pages_answer_get_only(
    client: Client, ada: Any, reader: Any, make_app: Callable[..., Any]
) -> None:
    assert login(client, ada).post(app_url(make_app(ada))).status_code == 405
    assert login(client, reader).post("/usage/reports/").status_code == 405
    assert client.post("/usage/reports/export.csv").status_code == 405


def test_a_subscription_page_shows_its_quota(
    client: Client, ada: Any, make_sub: Callable[..., Any]
) -> None:
    sub = make_sub(ada, name="main")
    html = login(client, ada).get(sub_url(sub)).content.decode()
    assert "Usage of main" in html
    assert "0 of 10,000 calls in the current period of 30 days" in html
    # No call is no rate: 0 of 0 is not "0%" (which reads as "every call succeeded").
    assert re.search(r"<dt>Error rate</dt><dd>–", html), html


def test_a_subscription_page_and_my_usage_show_the_kilobyte_quota(
    client: Client, ada: Any, echo: Any, make_product: Callable[..., Any],
    make_sub: Callable[..., Any],
) -> None:  # fmt: skip
    """A product's quota may count kilobytes (issue 9); the pages showed only calls."""
    both = make_product("both", echo, quota_calls=100, quota_kilobytes=2048, quota_period=3600)
    bytes_only = make_product("bytes", echo, quota_calls=None, quota_kilobytes=512)
    sub_page = login(client, ada).get(sub_url(make_sub(ada, both, name="both"))).content.decode()
    assert "0 of 100 calls in the current period of 1 hour" in sub_page
    assert "0 of 2,048 KB in the current period of 1 hour" in sub_page
    other = client.get(sub_url(make_sub(ada, bytes_only, name="bytes"))).content.decode()
    assert "Bytes has no call quota." in other
    assert "0 of 512 KB in the current period of 1 day" in other
    overview = client.get("/usage/").content.decode()
    assert "0 of 2,048 KB in the current period of 1 hour" in overview
    assert "0 of 512 KB in the current period of 1 day" in overview


def test_the_kilobyte_quota_bar_fills_with_the_periods_body_bytes(
    client: Client, ada: Any, echo: Any, make_product: Callable[..., Any],
    make_sub: Callable[..., Any],
) -> None:  # fmt: skip
    from datetime import UTC, datetime

    from django.utils import timezone

    from tests.usage.pages.conftest import call, record

    metered = make_product("metered", echo, quota_calls=None, quota_kilobytes=4,
                           quota_period=86400)  # fmt: skip
    sub = make_sub(ada, metered, name="metered")
    now = int(timezone.now().timestamp())
    began = datetime.fromtimestamp(now // 86400 * 86400, UTC)  # the gateway's fixed period
    record(*[call(began, api_id=echo.pk, subscription_id=sub.pk)] * 3)  # 3 x 1,010 bytes
    html = login(client, ada).get(sub_url(sub)).content.decode()
    assert "2 of 4 KB in the current period of 1 day" in html  # 3,030 bytes, rounded down
    assert 'aria-label="74.0% of the kilobyte quota used"' in html


def test_a_product_without_quota_says_so(
    client: Client, ada: Any, echo: Any, make_product: Callable[..., Any],
    make_sub: Callable[..., Any],
) -> None:  # fmt: skip
    free = make_product("free", echo, quota_calls=None)
    html = login(client, ada).get(sub_url(make_sub(ada, free))).content.decode()
    assert "Free has no call quota." in html


def test_reports_need_the_permission(client: Client, ada: Any, reader: Any) -> None:
    assert login(client, ada).get("/usage/reports/").status_code == 403
    assert client.get("/usage/reports/export.csv").status_code == 403
    ada.is_staff = True  # staff alone is not enough
    ada.save()
    assert client.get("/usage/reports/").status_code == 403
    page = login(client, reader).get("/usage/reports/")
    assert page.status_code == 200
    assert "Usage reports" in page.content.decode()


def test_reports_filters_offer_only_visible_apis(
    client: Client, reader: Any, echo: Any, petstore: Any, make_product: Callable[..., Any],
    make_group: Callable[..., Any],
) -> None:  # fmt: skip
    """SECURITY.md case 67: an API only in a product for another group never appears."""
    make_group("partners")
    make_product("partners-only", petstore, groups=("partners",), name="Partners only")
    make_product("open", echo)
    login(client, reader)
    html = client.get("/usage/reports/").content.decode()
    assert 'value="echo"' in html
    assert 'value="petstore"' not in html and "Partners only" not in html
    refused = client.get("/usage/reports/?api=petstore")
    assert refused.status_code == 400
    assert 'data-error="api"' in refused.content.decode()
    assert client.get("/usage/reports/export.csv?api=petstore").status_code == 400


def test_reports_filter_errors_are_shown(client: Client, reader: Any) -> None:
    login(client, reader)
    backwards = client.get("/usage/reports/?start=2026-11-10&end=2026-11-01")
    assert backwards.status_code == 400
    assert "The end comes before the start." in backwards.content.decode()
    nobody = client.get("/usage/reports/?developer=nobody")
    assert "No developer has this user name." in nobody.content.decode()


@pytest.mark.parametrize(
    "dates",
    [
        "start=9999-12-30&end=9999-12-31",  # the day after the end is past date.max
        "start=0001-01-01&end=0001-01-02",  # local midnight east of UTC is before year 1
    ],
)
@pytest.mark.parametrize("page", ["/usage/reports/?", "/usage/reports/export.csv?table=calls&"])
def test_reports_dates_at_the_calendars_ends_are_refused(
    client: Client, reader: Any, page: str, dates: str
) -> None:
    """A custom range at the ends of the calendar was an OverflowError (500) building the
    window; it is a filter error like any other."""
    client.cookies["tz"] = "Pacific/Kiritimati"  # UTC+14
    answer = login(client, reader).get(page + "range=custom&" + dates)
    assert answer.status_code == 400
    if page == "/usage/reports/?":
        assert "Dates from 1970-01-01 to 9998-12-31." in answer.content.decode()


def test_reports_csv_is_an_attachment(client: Client, reader: Any) -> None:
    login(client, reader)
    answer = client.get("/usage/reports/export.csv?by=developer&order=errors")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"].startswith(
        'attachment; filename="usage-developer-by-errors'
    )
    assert answer.content.decode().splitlines()[0].startswith("developer,calls,errors,error_rate")
    calls = client.get("/usage/reports/export.csv?table=calls&range=7d")
    header, *rows = calls.content.decode().splitlines()
    assert header == "start (UTC),success,blocked,failed,other,total"
    # Hours, and the partial hour where the week began, unless it began on the hour.
    assert 7 * 24 <= len(rows) <= 7 * 24 + 1
    assert client.get("/usage/reports/export.csv?table=passwords").status_code == 400


@pytest.mark.parametrize("by", ["subscription", "operation"])
def test_reports_csv_lists_a_thousand_rows(
    client: Client, reader: Any, echo: Any, make_product: Callable[..., Any], by: str
) -> None:
    """The CSV export ranks up to 1,000 rows; their details were read with one OR per row,
    which SQLite refused past about 1,000 ("Expression tree is too large")."""
    make_product("open", echo)
    now = datetime.now(UTC)
    if by == "subscription":
        record(*(call(now, api_id=echo.pk, subscription_id=n) for n in range(1, 1002)))
    else:
        record(*(call(now, api_id=echo.pk, operation=f"op{n}") for n in range(1001)))
    answer = login(client, reader).get(f"/usage/reports/export.csv?range=24h&by={by}")
    assert answer.status_code == 200
    header, *rows = answer.content.decode().splitlines()
    assert len(rows) == 1000 and rows[0].split(",")[1:3] == ["1", "0"]


def test_pages_link_to_usage(
    client: Client, ada: Any, reader: Any, make_app: Callable[..., Any],
    make_sub: Callable[..., Any],
) -> None:  # fmt: skip
    app, sub = make_app(ada), make_sub(ada)
    login(client, ada)
    assert f'href="{app_url(app)}"' in client.get(app.get_absolute_url()).content.decode()
    subscription_page = client.get(sub.get_absolute_url()).content.decode()
    assert f'href="{sub_url(sub)}"' in subscription_page
    assert 'href="/usage/reports/"' not in subscription_page  # not for a developer
    menu = login(client, reader).get("/products/").content.decode()
    assert 'href="/usage/reports/">Usage reports' in menu


def test_times_follow_the_viewers_zone_cookie(
    client: Client, ada: Any, make_app: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    app = make_app(ada)
    login(client, ada)
    assert "Time (UTC)" in client.get(app_url(app)).content.decode()
    client.cookies["tz"] = "Asia/Kolkata"
    assert "Time (Asia/Kolkata)" in client.get(app_url(app)).content.decode()
    client.cookies["tz"] = "../../etc/passwd"
    assert "Time (UTC)" in client.get(app_url(app)).content.decode()
    # Staff see the period of their report in their zone too (India is 5:30 ahead of UTC).
    client.cookies["tz"] = "Asia/Kolkata"
    reader = make_user("reader2")
    reader.user_permissions.add(Permission.objects.get(codename="view_reports"))
    report = login(client, reader).get("/usage/reports/?range=24h").content.decode()
    assert re.search(r"From \w{3} \d+ \w{3} \d\d:\d\d to .* \(Asia/Kolkata\)", report)


def test_no_inline_style_or_script_in_the_charts(
    client: Client, ada: Any, make_app: Callable[..., Any]
) -> None:
    """The CSP refuses inline styles: colours come from classes, positions from attributes."""
    html = login(client, ada).get(app_url(make_app(ada))).content.decode()
    body = html[html.index('id="usage-body"') :]
    assert "style=" not in body and "<script" not in body


def test_a_refused_filter_through_htmx_answers_the_whole_main_as_a_200(
    client: Client, reader: Any
) -> None:
    """htmx swaps no 4xx answer, and the field errors sit outside the report fragment."""
    login(client, reader)
    response = client.get("/usage/reports/?developer=nosuchuser", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Retarget"] == "main" and response["HX-Reselect"] == "main"
    assert 'data-error="developer"' in response.content.decode()


@pytest.mark.parametrize("by", ["product", "subscription"])
def test_reports_name_no_product_the_reader_may_not_see(
    client: Client, reader: Any, bob: Any, echo: Any, make_product: Callable[..., Any],
    make_group: Callable[..., Any], by: str,
) -> None:  # fmt: skip
    """SECURITY.md case 67: the filters left out a product only another group sees, but the
    ranking by product or subscription named it (and linked its slug) when its developers
    called an API the reader sees through another product."""
    from products import flows as product_flows

    make_group("partners", bob)
    hidden = make_product("partners-only", echo, groups=("partners",), name="Partners only")
    make_product("open", echo)
    sub = product_flows.subscribe(bob, hidden)  # no name: its label was the product's name
    now = datetime.now(UTC)
    record(call(now, api_id=echo.pk, product_id=hidden.pk, subscription_id=sub.pk))
    login(client, reader)
    html = client.get(f"/usage/reports/?range=24h&by={by}").content.decode()
    csv = client.get(f"/usage/reports/export.csv?range=24h&by={by}").content.decode()
    assert "<td>1</td>" in html
    for text in (html, csv):
        assert "Partners only" not in text and "partners-only" not in text
    assert len(csv.splitlines()) == 2  # the call is counted, under another label


def test_my_usage_links_each_subscription_and_application_to_its_page(
    client: Client, ada: Any, make_app: Callable[..., Any], make_sub: Callable[..., Any]
) -> None:
    app, sub = make_app(ada, "Weather"), make_sub(ada, name="main")
    page = login(client, ada).get("/usage/")
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    html = page.content.decode()
    assert f'href="{app_url(app)}">Weather</a>' in html
    assert f'href="{sub_url(sub)}">main</a>' in html
    assert 'href="/usage/reports/"' not in html  # a developer has no reports page
    menu = client.get("/products/").content.decode()
    assert 'href="/usage/">My usage' in menu
    fragment = client.get("/usage/?range=30d", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="usage-body"') and "<html" not in fragment


def test_my_usage_with_nothing_yet_says_where_to_start(client: Client, ada: Any) -> None:
    html = login(client, ada).get("/usage/").content.decode()
    assert "No subscriptions yet." in html and 'href="/products/"' in html
    assert "No applications yet." in html and 'href="/applications/new/"' in html


def test_my_usage_needs_sign_in_and_get(client: Client, ada: Any) -> None:
    page = client.get("/usage/")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert login(client, ada).post("/usage/").status_code == 405


def test_reports_filter_by_an_operation_with_the_longest_slug_an_import_makes(
    client: Client, reader: Any, echo: Any
) -> None:
    """An operationId of 280 characters or more is clipped to 280 (apis/openapi/normalise.py)
    and a clash adds `-2`: such a slug is an operation's own, its calls counted under it. The
    filter refused it (at most 200), and so did the link a ranking by operation gives it."""
    from apis.openapi.normalise import operation_slug

    slug = operation_slug("get", "/x", "a" * 400) + "-2"
    assert len(slug) == 282
    record(call(datetime.now(UTC), api_id=echo.pk, operation=slug))
    login(client, reader)
    ranked = client.get("/usage/reports/?range=24h&by=operation").content.decode()
    assert f"operation={slug}" in ranked
    page = client.get(f"/usage/reports/?range=24h&operation={slug}&by=api")
    assert page.status_code == 200
    assert "<td>1</td>" in page.content.decode()
    csv = client.get(f"/usage/reports/export.csv?range=24h&operation={slug}&by=api")
    assert csv.status_code == 200 and len(csv.content.decode().splitlines()) == 2


def test_a_client_id_issued_again_shows_none_of_the_deleted_applications_calls(
    client: Client, ada: Any, bob: Any, echo: Any, make_app: Callable[..., Any]
) -> None:
    """An external authorization server may issue a deleted application's client id again,
    to another developer's new application: its pages, CSV and My usage showed
    the deleted application's calls."""
    from django.utils import timezone

    from applications import flows as app_flows
    from applications.models import Application

    old = make_app(ada, "Ada's app")
    now = timezone.now()
    record(*[call(now, api_id=echo.pk, client_id=old.client_id, user_id=ada.pk)] * 3)
    app_flows.delete(old)
    record(call(now, api_id=echo.pk, client_id=old.client_id))  # in flight: no owner now
    bobs = Application.objects.create(
        owner=bob, name="Bob's app", kind="machine", client_id=old.client_id
    )
    record(call(now, api_id=echo.pk, client_id=old.client_id, operation="bobs"))  # his own
    login(client, bob)
    csv = client.get(app_url(bobs) + "export.csv?table=calls").content.decode()
    assert sum(int(line.rsplit(",", 1)[1]) for line in csv.splitlines()[1:]) == 1
    ops = client.get(app_url(bobs) + "export.csv").content.decode()
    assert [line.split(",")[0] for line in ops.splitlines()[1:]] == ["bobs (Echo API)"]
    overview = client.get("/usage/").content.decode()
    row = overview[overview.index(f"<code>{bobs.client_id}</code>") :]
    assert row.split('<td data-label="Calls">')[1].startswith("1<")

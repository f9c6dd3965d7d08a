"""Usage pages: a developer's, per application and per subscription, and the staff reports.

Thin views: parse the query with a form, load what the viewer may see (another developer's
ids are a 404, SECURITY.md case 68; APIs hidden from the viewer are left out of every query,
case 67), ask usage/pages.py, render. htmx requests get the page's body partial only (a range
change or a refresh swaps it in place); without scripts the same links load the whole page.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from applications.models import Application
from portal.lib.htmx import HtmxHttpRequest
from portal.lib.viewertz import COOKIE as TZ_COOKIE
from portal.lib.viewertz import zone_from_cookie
from products.models import Subscription
from products.visibility import visible_apis, visible_products
from usage import charts, export, pages, quotas, reports, windows
from usage.forms import ReportFilterForm, range_of

REPORTS_PERMISSION = "usage.view_reports"
PLURALS = {
    "api": "APIs",
    "operation": "operations",
    "product": "products",
    "subscription": "subscriptions",
    "application": "applications",
    "developer": "developers",
}
# Narrowing to one row of a ranked table ranks the next level down.
DRILL_NEXT = {
    "api": "operation",
    "operation": "application",
    "product": "api",
    "subscription": "operation",
    "application": "operation",
    "developer": "application",
}


def _tz(request: HtmxHttpRequest) -> Any:
    return zone_from_cookie(request.COOKIES.get(TZ_COOKIE))


def _render(request: HtmxHttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    name = f"{template}#usage-body" if request.htmx else template
    response = render(request, name, context)
    patch_vary_headers(response, ["HX-Request", "Cookie"])  # a fragment, times in a zone
    return response


def _developer_usage(
    request: HtmxHttpRequest, *, limit: int, **dimensions: Any
) -> tuple[str, pages.UsagePage]:
    """The range asked for and a developer page's figures for one application or subscription
    (`dimensions`), top operations ranked by calls."""
    range_key = range_of(request.GET)
    window = windows.preset_window(range_key, timezone.now(), _tz(request))
    f = pages.usage_filter(window, api_ids=pages.viewer_api_ids(request.user), **dimensions)
    return range_key, pages.build(window, f, by="operation", order="calls", limit=limit)


def _developer_page(
    request: HtmxHttpRequest, subject: dict[str, Any], **dimensions: Any
) -> HttpResponse:
    range_key, page = _developer_usage(request, limit=10, **dimensions)
    context = {
        **subject,
        "page": page,
        "range": range_key,
        "ranges": windows.RANGES,
        "ranked_headers": pages.RANKED_HEADERS,
    }
    return _render(request, "usage/developer.html", context)


def _developer_csv(request: HtmxHttpRequest, **dimensions: Any) -> HttpResponse:
    """One of a developer page's tables as CSV: top operations ("ranked") or a chart's."""
    table = request.GET.get("table", "ranked")
    if table not in export.TABLES:
        return HttpResponse("Unknown table.", status=400, content_type="text/plain")
    _, page = _developer_usage(request, limit=1000, **dimensions)
    return export.csv_response(page, table, by="operation", order="calls")


def _own_application(request: HtmxHttpRequest, app_id: Any) -> Application:
    return get_object_or_404(Application, uuid=app_id, owner=cast(Any, request.user))


def _own_subscription(request: HtmxHttpRequest, sub_id: Any) -> Subscription:
    return get_object_or_404(
        Subscription.objects.select_related("product", "application"),
        uuid=sub_id,
        owner=cast(Any, request.user),
    )


@never_cache
@login_required
@require_GET
def application(request: HtmxHttpRequest, app_id: Any) -> HttpResponse:
    app = _own_application(request, app_id)
    subject = {
        "kind": "application", "app": app, "title": app.name, "quota": None, "volume": None,
        "csv_url": reverse("usage:application_csv", args=[app.uuid]),
    }  # fmt: skip
    return _developer_page(request, subject, **pages.application_dimensions(app))


@never_cache
@login_required
@require_GET
def application_csv(request: HtmxHttpRequest, app_id: Any) -> HttpResponse:
    return _developer_csv(
        request, **pages.application_dimensions(_own_application(request, app_id))
    )


@never_cache
@login_required
@require_GET
def subscription(request: HtmxHttpRequest, sub_id: Any) -> HttpResponse:
    sub = _own_subscription(request, sub_id)
    quota = charts.quota_bar(quotas.quota_use(sub), _tz(request))
    volume = charts.volume_bar(quotas.volume_use(sub), _tz(request))
    subject = {
        "kind": "subscription", "sub": sub, "title": sub.label, "quota": quota, "volume": volume,
        "csv_url": reverse("usage:subscription_csv", args=[sub.uuid]),
    }  # fmt: skip
    return _developer_page(request, subject, subscription_id=sub.pk)


@never_cache
@login_required
@require_GET
def subscription_csv(request: HtmxHttpRequest, sub_id: Any) -> HttpResponse:
    return _developer_csv(request, subscription_id=_own_subscription(request, sub_id).pk)


@never_cache
@login_required
@require_GET
def overview(request: HtmxHttpRequest) -> HttpResponse:
    """A developer's usage at a glance: each of their subscriptions and applications with its
    calls, error rate and p50 over the range (and the quota used), linking to its own page."""
    user = cast(Any, request.user)
    range_key = range_of(request.GET)
    tz = _tz(request)
    window = windows.preset_window(range_key, timezone.now(), tz)
    subs = list(Subscription.objects.filter(owner=user).select_related("product", "application"))
    apps = list(Application.objects.filter(owner=user))
    sub_rows, app_rows = pages.overview(window, pages.viewer_api_ids(user), subs, apps, tz)
    context = {
        "subscriptions": sub_rows,
        "applications": app_rows,
        "range": range_key,
        "ranges": windows.RANGES,
        "period": charts.range_text(windows.buckets([], window), window),
    }
    return _render(request, "usage/overview.html", context)


def _require_reports_permission(request: HtmxHttpRequest) -> None:
    if not request.user.has_perm(REPORTS_PERMISSION):
        raise PermissionDenied


def _report_filter(
    request: HtmxHttpRequest,
) -> tuple[ReportFilterForm, windows.Window, reports.UsageFilter | None]:
    """The filter form, the window and the query it asks for (None when the form is wrong)."""
    user = request.user
    apis, products = visible_apis(user), visible_products(user)  # each a few queries: once
    form = ReportFilterForm(request.GET or None, apis=apis, products=products)
    tz = _tz(request)
    now = timezone.now()
    if form.is_bound and not form.is_valid():
        return form, windows.preset_window(windows.DEFAULT_RANGE, now, tz), None
    if not form.is_bound:
        form = ReportFilterForm({}, apis=apis, products=products)
        form.is_valid()
    data = form.cleaned_data
    window = form.window(now, tz)
    api_ids = pages.viewer_api_ids(user, apis)
    # A product only another group sees is counted, not named (case 67).
    named = None if api_ids is None else frozenset(products.values_list("pk", flat=True))
    if data.get("api") is not None:
        api_ids = frozenset({data["api"].pk})
    sub_id = None
    if data.get("subscription"):
        sub = Subscription.objects.filter(uuid=data["subscription"]).only("pk").first()
        sub_id = sub.pk if sub else -1  # an unknown subscription has no calls
    f = pages.usage_filter(
        window,
        api_ids=api_ids,
        operation=data.get("operation") or None,
        product_id=data["product"].pk if data.get("product") else None,
        subscription_id=sub_id,
        client_id=data.get("application") or None,
        user_id=data["developer"].pk if data.get("developer") else None,
        named_products=named,
    )
    return form, window, f


@never_cache
@login_required
@require_GET
def report(request: HtmxHttpRequest) -> HttpResponse:
    _require_reports_permission(request)
    form, window, f = _report_filter(request)
    context: dict[str, Any] = {
        "form": form,
        "page": None,
        "ranked_headers": pages.RANKED_HEADERS,
        "dimensions": dict(form.fields["by"].choices),  # type: ignore[attr-defined]
        "orders": dict(form.fields["order"].choices),  # type: ignore[attr-defined]
    }
    if f is not None:
        by, order = form.cleaned_data["by"], form.cleaned_data["order"]
        drill = functools.partial(pages.drill_queries, named_products=f.named_products)
        context.update(
            page=pages.build(window, f, by=by, order=order, limit=20, queries_for=drill),
            by=by,
            order=order,
            dimension_label=context["dimensions"][by],
            plural_label=PLURALS[by],
            order_label=context["orders"][order],
            drill_prefix=export.query_without(request.GET, "by", "order", "table", by)
            + f"&by={DRILL_NEXT[by]}&order={order}",
            query=export.query_without(request.GET, "by", "order", "table"),
        )
    if f is None and request.htmx:
        # The errors sit in the form, outside the fragment htmx asked for, and htmx swaps no
        # 4xx answer: the whole page's <main> instead, as a 200, in place of the page's.
        response = render(request, "usage/reports.html", context)
        response["HX-Retarget"] = response["HX-Reselect"] = "main"
        response["HX-Reswap"] = "outerHTML"
        patch_vary_headers(response, ["HX-Request", "Cookie"])
        return response
    status = 200 if f is not None else 400
    response = _render(request, "usage/reports.html", context)
    response.status_code = status
    return response


@never_cache
@login_required
@require_GET
def report_csv(request: HtmxHttpRequest) -> HttpResponse:
    """Any of the reports page's tables as CSV: the ranked one, or a chart's numbers."""
    _require_reports_permission(request)
    form, window, f = _report_filter(request)
    table = request.GET.get("table", "ranked")
    if f is None or table not in export.TABLES:
        return HttpResponse("Fix the filters first.", status=400, content_type="text/plain")
    by, order = form.cleaned_data["by"], form.cleaned_data["order"]
    page = pages.build(window, f, by=by, order=order, limit=1000)
    return export.csv_response(page, table, by=by, order=order)

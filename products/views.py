"""Products, "My subscriptions" and the approval queue: thin views over products/flows.py."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apis.markdown import render_markdown
from applications.models import Application
from portal.lib.htmx import HtmxHttpRequest
from products import flows, keys
from products.console import PICKER_ANCHOR, PICKER_MESSAGE_TAG
from products.forms import DecisionForm, KeyForm, SubscribeForm
from products.models import Product, Subscription
from products.visibility import visible_apis, visible_products

APPROVE_PERMISSION = "products.approve_subscription"


def _get_product_for_user(request: HtmxHttpRequest, slug: str) -> Product:
    return get_object_or_404(visible_products(request.user), slug=slug)


def _get_subscription_for_user(request: HtmxHttpRequest, sub_id: Any) -> Subscription:
    """The user's own subscription; anyone else's id is a 404 (SECURITY.md case 68)."""
    return get_object_or_404(
        Subscription.objects.select_related("product", "application"),
        uuid=sub_id,
        owner=cast(Any, request.user),
    )


@never_cache  # what the user's groups may see, and (signed in) their own subscriptions
@require_GET
def product_list(request: HtmxHttpRequest) -> HttpResponse:
    # Count what the product page will list: an unpublished or hidden API is not "1 API".
    shown = Prefetch("apis", queryset=visible_apis(request.user), to_attr="shown_apis")
    products = visible_products(request.user).prefetch_related(shown)
    return render(request, "products/list.html", {"products": products})


@never_cache
@require_GET
def detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _detail_page(request, _get_product_for_user(request, slug), SubscribeForm())


def _back(request: HtmxHttpRequest) -> str:
    """Where the subscribe form returns to once the key works: a page of this portal (the
    console that sent the developer here), else nothing (no open redirect)."""
    back = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    return back if safe and back.startswith("/") else ""


def _detail_page(
    request: HtmxHttpRequest,
    product: Product,
    form: SubscribeForm,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    """The product page; after a refused subscribe, with the form as it was sent and why."""
    mine = (
        Subscription.objects.filter(owner=cast(Any, request.user), product=product)
        if request.user.is_authenticated
        else Subscription.objects.none()
    )
    context = {
        "product": product,
        "description": render_markdown(product.description) if product.description else "",
        "terms": render_markdown(product.terms) if product.terms else "",
        "apis": visible_apis(request.user).filter(products=product).order_by("name"),
        "mine": mine.select_related("application"),
        "applications": (
            Application.objects.filter(owner=cast(Any, request.user))
            if request.user.is_authenticated
            else Application.objects.none()
        ),
        "form": form,
        "refusal": refusal,
        "limit_reached": flows.limit_reached(request.user, product),
        "back": _back(request),
    }
    return render(request, "products/detail.html", context, status=status)


@login_required
@require_POST
def subscribe(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    product = _get_product_for_user(request, slug)
    form = SubscribeForm(request.POST)
    if form.is_valid():
        application = None
        if form.cleaned_data["application"]:
            # Another developer's application is a 404, nothing made (SECURITY.md case 68).
            application = get_object_or_404(
                Application, uuid=form.cleaned_data["application"], owner=cast(Any, request.user)
            )
        try:
            sub = flows.subscribe(
                request.user,
                product,
                name=form.cleaned_data["name"],
                accept_terms=form.cleaned_data["accept_terms"],
                terms_version=form.cleaned_data["terms_version"] or None,
                application=application,
            )
        except flows.FlowError as exc:
            refusal = str(exc)
        else:
            if sub.state == Subscription.ACTIVE:
                back = _back(request)
                # Back to the console that sent them here: its key picker now has the key,
                # and says this where the page opens (the page's messages are out of view).
                tag = PICKER_MESSAGE_TAG if back.endswith(f"#{PICKER_ANCHOR}") else ""
                messages.success(request, f"You are subscribed to {product.name}.", tag)
                return HttpResponseRedirect(back or sub.get_absolute_url())
            messages.info(request, "Your request was sent; you will hear when it is decided.")
            return HttpResponseRedirect(sub.get_absolute_url())
    else:
        refusal = " ".join(str(e) for errors in form.errors.values() for e in errors)
    # The product page again, the form as it was sent (the terms left to tick) and why beside it.
    return _detail_page(request, product, form, refusal, status=400)


@never_cache
@login_required
@require_GET
def my_subscriptions(request: HtmxHttpRequest) -> HttpResponse:
    subs = Subscription.objects.filter(owner=cast(Any, request.user)).select_related(
        "product", "application"
    )
    # A product the developer may no longer see keeps their subscription, not its page (404).
    offered = set(visible_products(request.user).values_list("pk", flat=True))
    return render(
        request, "products/subscriptions.html", {"subscriptions": subs, "offered": offered}
    )


def _key_rows(sub: Subscription, shown: str = "") -> list[dict[str, str]]:
    rows = []
    for which in ("primary", "secondary"):
        try:
            value = flows.shown_key(sub, which)
        except keys.KeyUnreadable:
            value = ""
        rows.append(
            {
                "which": which,
                "masked": keys.mask(value) if value else "(unreadable: regenerate it)",
                "value": value if which == shown else "",
            }
        )
    return rows


def _subscription_page(
    request: HtmxHttpRequest,
    sub: Subscription,
    shown: str = "",
    fragment: bool = False,
    with_history: bool = False,
) -> HttpResponse:
    """The page, or its keys alone (`fragment`), then its history and the page's messages
    out of band when a change in place added an entry to it (`with_history`)."""
    closed = sub.state in (Subscription.REJECTED, Subscription.CANCELLED)
    events = sub.events.select_related("actor")[:50]
    context = {
        "sub": sub,
        "keys": [] if closed else _key_rows(sub, shown),  # a closed one's keys never work
        "events": events,
        "closed": closed,
        "rejection": next((e for e in events if e.action == "reject"), None),
        "history_oob": with_history,
        # Its page answers 404 once the owner may no longer see it: named, not linked.
        "offered": visible_products(sub.owner).filter(pk=sub.product_id).exists(),
    }
    template = "products/subscription.html#keys" if fragment else "products/subscription.html"
    response = render(request, template, context)
    if fragment and with_history:
        history = render_to_string("products/subscription.html#history", context, request)
        notice = render_to_string("_messages.html", {"oob": True}, request)
        response.content += (history + notice).encode()
    response["Cache-Control"] = "no-store"  # a shown key must not stay in a cache
    return response


@never_cache
@login_required
@require_GET
def subscription(request: HtmxHttpRequest, sub_id: Any) -> HttpResponse:
    return _subscription_page(request, _get_subscription_for_user(request, sub_id))


@never_cache
@login_required
@require_POST
def show_key(request: HtmxHttpRequest, sub_id: Any) -> HttpResponse:
    """One key in clear, in the body of a POST answer: never in a URL, log or Referer."""
    sub = _get_subscription_for_user(request, sub_id)
    form = KeyForm(request.POST)
    if not form.is_valid() or sub.state == Subscription.CANCELLED:
        return HttpResponse("Choose the primary or the secondary key.", status=400)
    return _subscription_page(
        request, sub, shown=form.cleaned_data["which"], fragment=bool(request.htmx)
    )


@login_required
@require_POST
def regenerate(request: HtmxHttpRequest, sub_id: Any) -> HttpResponse:
    sub = _get_subscription_for_user(request, sub_id)
    form = KeyForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose the primary or the secondary key.", status=400)
    which = form.cleaned_data["which"]
    try:
        sub = flows.regenerate(sub, which, request.user)
    except flows.FlowError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(sub.get_absolute_url())
    messages.success(request, f"A new {which} key was made; the old one no longer works.")
    if request.htmx:
        return _subscription_page(request, sub, shown=which, fragment=True, with_history=True)
    return HttpResponseRedirect(sub.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HtmxHttpRequest, sub_id: Any) -> HttpResponse:
    """GET asks first (a cancelled subscription never comes back), POST cancels."""
    sub = _get_subscription_for_user(request, sub_id)
    if request.method == "GET":
        return render(request, "products/cancel.html", {"sub": sub})
    try:
        flows.cancel_by_owner(sub, request.user)
        messages.success(request, "The subscription is cancelled; its keys no longer work.")
    except flows.FlowError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(sub.get_absolute_url())


def _require_approver(request: HtmxHttpRequest) -> None:
    if not request.user.is_authenticated:
        raise Http404
    if not request.user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied


@never_cache
@login_required
@require_GET
def approvals(request: HtmxHttpRequest) -> HttpResponse:
    _require_approver(request)
    pending = (
        Subscription.objects.filter(state=Subscription.SUBMITTED)
        .select_related("product", "owner", "application")
        .order_by("created")
    )
    return render(request, "products/approvals.html", {"pending": pending})


@login_required
@require_POST
def decide(request: HtmxHttpRequest, sub_id: Any) -> HttpResponse:
    _require_approver(request)
    sub = get_object_or_404(
        Subscription.objects.select_related("product", "owner", "application"), uuid=sub_id
    )
    form = DecisionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            sub = flows.change_state(
                sub, form.cleaned_data["action"], request.user, form.cleaned_data["reason"]
            )
        except flows.FlowError as exc:
            error = str(exc)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if request.htmx:
        # 200 even with an error: htmx swaps no 4xx answer (the row's alert would never
        # show), and under DEBUG django-htmx puts a 400's body in place of the whole page.
        return render(request, "products/approvals.html#row", {"sub": sub, "error": error})
    if error:
        messages.error(request, f"{sub.owner.get_username()} / {sub.product.name}: {error}")
    else:
        messages.success(
            request, f"{sub.product.name} for {sub.owner.get_username()}: {sub.state}."
        )
    return HttpResponseRedirect(reverse("products:approvals"))

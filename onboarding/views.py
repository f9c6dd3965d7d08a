"""/api/v1/: onboarding from a terminal. The same flows as the pages (applications/flows.py,
products/flows.py), in JSON, for the developer the bearer token speaks for (onboarding/auth.py).

Errors are problem+json (RFC 9457). Another developer's object is a 404, as on the pages
(SECURITY.md cases 68 and 80). An application's client secret appears only in the answer
that made it; a subscription's keys, as in APIM, are its owner's to read again.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Collection
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson
import yaml
from django.core.exceptions import RequestDataTooBig
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from applications import flows as app_flows
from applications.models import Application
from console.models import AuthorizationServer
from identity.issuer import issuer
from onboarding import auth, present
from onboarding.forms import (
    PAGE_SIZE,
    ApplicationChange,
    ApplicationInput,
    PageQuery,
    SubscriptionInput,
    UsageQuery,
    errors_of,
)
from portal.lib import apiproblem
from products import flows as product_flows
from products.models import Subscription
from products.visibility import visible_products
from usage import pages as usage_pages
from usage import quotas as usage_quotas
from usage import windows

MAX_BODY = 64 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DOCUMENT = Path(__file__).with_name("openapi.yaml")
View = Callable[..., HttpResponse]


def _json(value: Any, status: int = 200) -> HttpResponse:
    response = HttpResponse(orjson.dumps(value), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


problem = apiproblem.problem


class NotFound(Exception):
    pass


class BadBody(Exception):
    """The request body is not a JSON object, or has fields the path does not take; the
    message says why, `errors` names the fields."""

    def __init__(
        self, detail: str, errors: dict[str, list[str]] | None = None, status: int = 400
    ) -> None:
        super().__init__(detail)
        self.errors = errors
        self.status = status


def api_view(*methods: str) -> Callable[[View], View]:
    """Bearer authentication, allowed methods, problem+json for errors; no CSRF (no cookie
    counts here, see onboarding/auth.py)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                caller = auth.caller(
                    request.META.get("HTTP_AUTHORIZATION", ""),
                    token_url=issuer(request) + "/token/",
                    register_url=request.build_absolute_uri(reverse("applications:create")),
                )
            except auth.AuthError as exc:
                response = problem(exc.status, exc.description)
                response["WWW-Authenticate"] = exc.challenge
                return response
            try:
                return view(request, caller, *args, **kwargs)
            except NotFound:
                return problem(404, "No such object of yours.")
            except BadBody as exc:
                if exc.errors:
                    return problem(exc.status, str(exc), errors=exc.errors)
                return problem(exc.status, str(exc))

        @functools.wraps(view)
        def allowed(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                # As require_http_methods, with a body a terminal can read.
                response = problem(405, f"This path takes {', '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            return inner(request, *args, **kwargs)

        return csrf_exempt(never_cache(allowed))

    return wrap


def _body(request: HttpRequest, fields: Collection[str]) -> dict[str, Any]:
    """The body's JSON object, with no field but `fields`: a typo (`redirect_uri`) would
    otherwise be ignored, and the caller told 200 for a change that was not made."""
    too_big = BadBody(f"The body is larger than {MAX_BODY // 1024} KiB.", status=413)
    try:
        # Past DATA_UPLOAD_MAX_MEMORY_SIZE Django refuses to read it, with an HTML page.
        if len(request.body) > MAX_BODY:
            raise too_big
    except RequestDataTooBig:
        raise too_big from None
    if not request.body:
        return {}
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise BadBody("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise BadBody("The body must be a JSON object.")
    unknown = [name for name in data if name not in fields]
    if unknown:
        errors = {}
        for name in unknown:
            close = difflib.get_close_matches(name, fields, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            errors[name] = [f"Not a field of this request{hint}"]
        takes = ", ".join(sorted(fields)) or "no fields"
        raise BadBody(f"Unknown field(s): {', '.join(unknown)}. This takes {takes}.", errors)
    return data


def _own_application(caller: auth.Caller, app_id: Any) -> Application:
    app = (
        Application.objects.select_related("provider_client", "server")
        .filter(uuid=app_id, owner=caller.user)
        .first()
    )
    if app is None:
        raise NotFound
    return app


def _own_subscription(caller: auth.Caller, sub_id: Any) -> Subscription:
    sub = (
        Subscription.objects.select_related("product", "application")
        .filter(uuid=sub_id, owner=caller.user)
        .first()
    )
    if sub is None:
        raise NotFound
    return sub


def _page[M: Model](
    request: HttpRequest, rows: QuerySet[M], key: str, show: Callable[[M], dict[str, Any]]
) -> HttpResponse:
    """One page of `rows` (their order must be total: an offset into a tie could repeat or
    skip a row) under `key`, with `next`, the URL of the following page, or null."""
    query = PageQuery(request.GET)
    if not query.is_valid():
        return problem(400, "The page is not valid.", errors=errors_of(query))
    limit = query.cleaned_data["limit"] or PAGE_SIZE
    offset = query.cleaned_data["offset"] or 0
    found = list(rows[offset : offset + limit + 1])  # one more says whether there is a next
    following = None
    if len(found) > limit:
        params = urlencode({"limit": limit, "offset": offset + limit})
        following = request.build_absolute_uri(f"{request.path}?{params}")
    return _json({key: [show(row) for row in found[:limit]], "next": following})


# --- products ----------------------------------------------------------------------------


@api_view("GET")
def products(request: HttpRequest, caller: auth.Caller) -> HttpResponse:
    rows = visible_products(caller.user).filter(published=True).prefetch_related("apis")
    return _page(request, rows.order_by("name", "pk"), "products", present.product)


@api_view("GET")
def product(request: HttpRequest, caller: auth.Caller, slug: str) -> HttpResponse:
    row = visible_products(caller.user).filter(published=True, slug=slug).first()
    if row is None:
        raise NotFound
    return _json(present.product(row))


# --- applications ------------------------------------------------------------------------


def _flow_status(exc: app_flows.FlowError) -> int:
    """429 past the creation limit, 502 when the external authorization server failed (the
    request may pass later), else 400."""
    if isinstance(exc, app_flows.CreationLimited):
        return 429
    return 502 if isinstance(exc, app_flows.ServerError) else 400


@api_view("GET", "POST")
def applications(request: HttpRequest, caller: auth.Caller) -> HttpResponse:
    if request.method == "GET":
        rows = Application.objects.filter(owner=caller.user).select_related("server")
        ordered = rows.order_by("name", "created", "pk")
        return _page(request, ordered, "applications", present.application)
    form = ApplicationInput(_body(request, ApplicationInput.base_fields))
    if not form.is_valid():
        return problem(400, "The application is not valid.", errors=errors_of(form))
    data = form.cleaned_data
    server = None
    if data["server"]:
        server = AuthorizationServer.objects.filter(
            slug=data["server"], developer_registration=True
        ).first()
        if server is None:
            return problem(400, f"No authorization server {data['server']} takes applications.")
    try:
        registered = app_flows.register(
            caller.user,
            name=data["name"],
            description=data["description"],
            kind=data["kind"],
            redirect_uris=data["redirect_uris"],
            server=server,
            keep_for_console=data["keep_for_console"],
        )
    except app_flows.FlowError as exc:
        return problem(_flow_status(exc), str(exc))
    response = _json(present.application(registered.application, registered.secret), 201)
    response["Location"] = request.build_absolute_uri(
        f"/api/v1/applications/{registered.application.uuid}"
    )
    return response


@api_view("GET", "PATCH", "DELETE")
def application(request: HttpRequest, caller: auth.Caller, app_id: Any) -> HttpResponse:
    app = _own_application(caller, app_id)
    if request.method == "DELETE":
        try:
            app_flows.delete(app)
        except app_flows.FlowError as exc:
            return problem(502, str(exc))
        return HttpResponse(status=204)
    if request.method == "PATCH":
        raw = _body(request, ApplicationChange.base_fields)
        form = ApplicationChange(raw)
        if not form.is_valid():
            return problem(400, "The change is not valid.", errors=errors_of(form))
        data = form.cleaned_data
        try:
            app_flows.update(
                app,
                name=data["name"] if "name" in raw else app.name,
                description=data["description"] if "description" in raw else app.description,
                redirect_uris=(
                    data["redirect_uris"] if "redirect_uris" in raw else list(app.redirect_uris)
                ),
            )
        except app_flows.FlowError as exc:
            return problem(_flow_status(exc), str(exc))
        except ValueError as exc:
            return problem(400, str(exc))
    return _json(present.application(app))


@api_view("POST")
def rotate_secret(request: HttpRequest, caller: auth.Caller, app_id: Any) -> HttpResponse:
    app = _own_application(caller, app_id)
    # It takes no field: `{"grace": 3600}` must not rotate at once, whatever its label
    # (`curl -d` sends it as a form). No body, or a form without fields, rotates.
    if request.content_type in FORM_TYPES:
        try:
            fields = bool(request.POST or request.FILES)
        except (MultiPartParserError, LookupError, ValueError):  # a boundary or charset
            fields = True
        if fields:
            raise BadBody("This takes no body; send none to rotate the secret.")
    else:
        _body(request, ())
    try:
        secret = app_flows.rotate_secret(app)
    except app_flows.FlowError as exc:
        return problem(409, str(exc))
    return _json(present.application(app, secret))


# --- subscriptions -----------------------------------------------------------------------


@api_view("GET", "POST")
def subscriptions(request: HttpRequest, caller: auth.Caller) -> HttpResponse:
    if request.method == "GET":
        rows = Subscription.objects.filter(owner=caller.user).select_related(
            "product", "application"
        )
        ordered = rows.order_by("-created", "-pk")
        return _page(request, ordered, "subscriptions", present.subscription)
    form = SubscriptionInput(_body(request, SubscriptionInput.base_fields))
    if not form.is_valid():
        return problem(400, "The subscription is not valid.", errors=errors_of(form))
    data = form.cleaned_data
    target = visible_products(caller.user).filter(published=True, slug=data["product"]).first()
    if target is None:
        raise NotFound  # an invisible product is not there (case 67)
    app = _own_application(caller, data["application"]) if data["application"] else None
    if target.terms and not data["accept_terms"]:
        # The page has a check box; a terminal needs the field's name and where to read them.
        return problem(
            409,
            f"{target.name} has terms of use: read them (GET /api/v1/products/{target.slug}, "
            'its "terms"), then send "accept_terms": true to accept them and subscribe.',
        )
    try:
        sub = product_flows.subscribe(
            caller.user, target, name=data["name"], accept_terms=data["accept_terms"],
            application=app,
        )  # fmt: skip
    except product_flows.FlowError as exc:
        return problem(429 if isinstance(exc, product_flows.CreationLimited) else 409, str(exc))
    response = _json(present.subscription(sub), 201)
    response["Location"] = request.build_absolute_uri(f"/api/v1/subscriptions/{sub.uuid}")
    return response


@api_view("GET", "DELETE")
def subscription(request: HttpRequest, caller: auth.Caller, sub_id: Any) -> HttpResponse:
    sub = _own_subscription(caller, sub_id)
    if request.method == "DELETE":
        try:
            sub = product_flows.cancel_by_owner(sub, caller.user)
        except product_flows.FlowError as exc:
            return problem(409, str(exc))
    return _json(present.subscription(sub))


# --- usage --------------------------------------------------------------------------------


def _usage(
    request: HttpRequest,
    caller: auth.Caller,
    dimensions: dict[str, Any],
    quota: Any = None,
    volume: Any = None,
) -> HttpResponse:
    """The use of one of the caller's subscriptions or applications (`dimensions`) over
    `?range=`, counting only the APIs the caller may see (SECURITY.md case 67)."""
    query = UsageQuery(request.GET)
    if not query.is_valid():
        return problem(400, "The range is not valid.", errors=errors_of(query))
    range_key = query.cleaned_data["range"] or windows.DEFAULT_RANGE
    window = windows.preset_window(range_key, timezone.now(), UTC)
    api_ids = usage_pages.viewer_api_ids(caller.user)
    summary, top = usage_pages.figures(
        usage_pages.usage_filter(window, api_ids=api_ids, **dimensions)
    )
    return _json(present.usage(range_key, window, summary, top, quota, volume))


@api_view("GET")
def subscription_usage(request: HttpRequest, caller: auth.Caller, sub_id: Any) -> HttpResponse:
    sub = _own_subscription(caller, sub_id)
    return _usage(
        request,
        caller,
        {"subscription_id": sub.pk},
        usage_quotas.quota_use(sub),
        usage_quotas.volume_use(sub),
    )


@api_view("GET")
def application_usage(request: HttpRequest, caller: auth.Caller, app_id: Any) -> HttpResponse:
    app = _own_application(caller, app_id)
    return _usage(request, caller, usage_pages.application_dimensions(app))


@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/v1/ (an id that is no UUID too): a 404 a terminal can read,
    where the portal's would be an HTML page."""
    # The portal's pages end in a slash and this API's paths do not: say so when that is all.
    if rest.endswith("/"):
        bare = request.path.rstrip("/")
        try:
            known = resolve(bare).func is not unknown
        except Resolver404:
            known = False
        if known:
            return problem(
                404,
                f"No such path in this API. Did you mean {bare} (no slash at the end)? "
                "See /api/v1/openapi.json.",
            )
    return problem(404, "No such path in this API; see /api/v1/openapi.json.")


# --- the document ------------------------------------------------------------------------


@functools.cache
def _document() -> bytes:
    return orjson.dumps(yaml.safe_load(DOCUMENT.read_text()))


@csrf_exempt
def openapi(request: HttpRequest) -> HttpResponse:
    """The API's own OpenAPI document (public: it describes, it grants nothing). Another
    method is a 405 problem as on the other paths (require_GET answered an empty text/html
    405, and a POST without a CSRF token Django's HTML 403 page)."""
    if request.method != "GET":
        response = problem(405, "This path takes GET.")
        response["Allow"] = "GET"
        return response
    return HttpResponse(_document(), content_type="application/json")

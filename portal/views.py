from __future__ import annotations

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET, require_safe

from portal.health import readiness
from portal.lib import apiproblem
from products.visibility import visible_apis


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # The home page's cards show no tags: Microsoft Graph's thousands were read for nothing.
    apis = visible_apis(request.user).filter(is_published=True)[:6]
    return render(request, "home.html", {"apis": apis})


@require_safe  # GET and HEAD: balancers probe with either
def health_live(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers requests. Checks nothing else, so a database or Redis
    outage never makes an orchestrator restart healthy processes."""
    return JsonResponse({"status": "ok"})


@require_safe
def health_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, Redis (if configured) and the signing key (if the
    built-in provider is on) answer; 503 naming the failing ones. /health/ is this too."""
    result = readiness()
    response = JsonResponse(result, status=200 if result["status"] == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response


@requires_csrf_token
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: 404.html in the portal's layout; plain if the layout cannot be rendered
    (it reads the database for the sign-in menu)."""
    if apiproblem.is_api(request):
        return apiproblem.problem(404, "No such path in this API.")
    try:
        return render(request, "404.html", status=404)
    except Exception:
        logging.getLogger(__name__).exception("the 404 page could not be rendered")
        return HttpResponseNotFound(
            b"<!doctype html><title>Not found</title><h1>Not found</h1>", content_type="text/html"
        )


# Seconds a client is told to wait after a 503 for the database out of reach.
RETRY_AFTER_SECONDS = 5


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the portal's layout (Django's default renders 500.html without the
    request, so the header, theme and links would be missing). If even that fails, plain.

    The database out of reach (stopped, restarting, failing over, or its pool exhausted) is
    503 with Retry-After: the request may be retried, and the layout, which reads the
    database, is not attempted (its failure was a second traceback for every request)."""
    api = apiproblem.is_api(request)  # /api/v1/: a problem answer, never a page
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        sentence = "The portal cannot reach its database just now. Try again in a few seconds."
        if api:
            unavailable = apiproblem.problem(503, sentence)
        else:
            unavailable = HttpResponse(
                b"<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1>"
                b"<p>" + sentence.encode() + b"</p>",
                content_type="text/html",
                status=503,
            )
        unavailable["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return unavailable
    if api:
        return apiproblem.problem(500, "The portal failed to answer; the error is logged.")
    try:
        return render(request, "500.html", status=500)
    except Exception:  # the layout itself may be what broke (database down, template error)
        logging.getLogger(__name__).exception("the 500 page could not be rendered")
        return HttpResponseServerError(
            b"<!doctype html><title>Server error</title><h1>Server error</h1>",
            content_type="text/html",
        )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400 (a host the portal does not serve, a malformed request): Django's page, or
    a problem answer under /api/v1/."""
    if apiproblem.is_api(request):
        if isinstance(exception, RequestDataTooBig):  # a form read before the API's views
            return apiproblem.problem(413, "The body is larger than this API takes.")
        return apiproblem.problem(400, "The request is not valid for this portal.")
    from identity import endpoints

    if endpoints.is_machine_endpoint(request):  # a form too big or with too many fields
        return endpoints.refused_before_the_view("The request body is not readable.")
    return defaults.bad_request(request, exception or Exception())


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent from a page left open across a sign-out or a new
    session, in the portal's layout with what to do (Django's page said "CSRF verification
    failed. Request aborted."). The reason stays in Django's log (django.security.csrf)."""
    try:
        return render(request, "403_csrf.html", status=403)
    except Exception:
        logging.getLogger(__name__).exception("the CSRF failure page could not be rendered")
        return HttpResponseForbidden(
            b"<!doctype html><title>Form expired</title><h1>Form expired</h1>"
            b"<p>Go back, reload the page and send the form again.</p>",
            content_type="text/html",
        )

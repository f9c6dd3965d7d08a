"""My applications: list, register, detail (the secret shown once), rotate, delete.

Thin views over applications/flows.py. A new secret is never in a URL: the POST that made it
redirects to the detail page (so a reload does not register again), and the secret waits for
that one GET in the server-side session, sealed, and is popped as it is shown, with no-store.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications import flows, secrets
from applications.forms import ApplicationEditForm, ApplicationForm, RotateForm
from applications.models import Application
from identity.issuer import issuer
from portal.lib.htmx import HtmxHttpRequest


def _get_application_for_user(request: HtmxHttpRequest, app_id: Any) -> Application:
    """The user's own application; anyone else's id is a 404 (SECURITY.md case 68)."""
    return get_object_or_404(
        Application.objects.select_related("provider_client", "server"),
        uuid=app_id,
        owner=cast(Any, request.user),
    )


# Session key: {"app": uuid, "sealed": secret} between a POST that made a secret and the GET
# of the page that shows it.
SHOWN_SECRET = "applications.secret_to_show"


def _show_secret_once(request: HtmxHttpRequest, app: Application, secret: str) -> HttpResponse:
    """Post/Redirect/Get: the detail page shows `secret` on its next view, and only then."""
    if secret:
        request.session[SHOWN_SECRET] = {"app": str(app.uuid), "sealed": secrets.seal(secret)}
    return HttpResponseRedirect(app.get_absolute_url())


def _pop_secret(request: HtmxHttpRequest, app: Application) -> str:
    pending = request.session.get(SHOWN_SECRET)
    if not isinstance(pending, dict) or pending.get("app") != str(app.uuid):
        return ""
    del request.session[SHOWN_SECRET]
    try:
        return secrets.unseal(pending.get("sealed", ""))
    except secrets.SecretUnreadable:  # the key ring rotated in between: rotate the secret
        return ""


def _detail_page(request: HtmxHttpRequest, app: Application, secret: str = "") -> HttpResponse:
    context = {
        "app": app,
        "secret": secret,
        "rotate_form": RotateForm(),
        "subscriptions": app.subscriptions.select_related("product"),
        # How a machine client of this portal's provider gets a token from a terminal.
        "token_url": (
            issuer(request) + "/token/"
            if app.kind == Application.MACHINE and not app.is_external
            else ""
        ),
    }
    response = render(request, "applications/detail.html", context)
    response["Cache-Control"] = "no-store"  # a shown secret must not stay in a cache
    return response


@never_cache
@login_required
@require_GET
def application_list(request: HtmxHttpRequest) -> HttpResponse:
    apps = Application.objects.filter(owner=cast(Any, request.user))
    return render(request, "applications/list.html", {"applications": apps})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def create(request: HtmxHttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            registered = flows.register(
                request.user,
                name=data["name"],
                description=data["description"],
                kind=data["kind"],
                redirect_uris=data["redirect_uris"],
                server=data.get("server"),
                keep_for_console=data["keep_for_console"],
            )
        except (flows.FlowError, ValueError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{registered.application.name} is registered.")
            return _show_secret_once(request, registered.application, registered.secret)
    status = 400 if form.is_bound else 200
    return render(request, "applications/new.html", {"form": form}, status=status)


@never_cache
@login_required
@require_GET
def detail(request: HtmxHttpRequest, app_id: Any) -> HttpResponse:
    app = _get_application_for_user(request, app_id)
    return _detail_page(request, app, _pop_secret(request, app))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HtmxHttpRequest, app_id: Any) -> HttpResponse:
    app = _get_application_for_user(request, app_id)
    initial = {
        "name": app.name,
        "description": app.description,
        "redirect_uris": "\n".join(app.redirect_uris),
    }
    data = request.POST if request.method == "POST" else None
    form = ApplicationEditForm(data, initial=initial, kind=app.kind)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            changed = flows.update(
                app,
                name=values["name"],
                description=values["description"],
                redirect_uris=values["redirect_uris"],
            )
        except (flows.FlowError, ValueError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Saved." if changed else "Nothing changed.")
            return HttpResponseRedirect(app.get_absolute_url())
    status = 400 if form.is_bound else 200
    return render(request, "applications/edit.html", {"app": app, "form": form}, status=status)


@never_cache
@login_required
@require_POST
def rotate(request: HtmxHttpRequest, app_id: Any) -> HttpResponse:
    app = _get_application_for_user(request, app_id)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("keep_old_hours", [])))
        return HttpResponseRedirect(app.get_absolute_url())
    try:
        secret = flows.rotate_secret(app, form.cleaned_data["keep_old_hours"])
    except flows.FlowError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(app.get_absolute_url())
    until = app.old_secret_until
    if until is not None:
        when = date_format(localtime(until), "Y-m-d H:i T")
        messages.success(request, f"A new secret was made; the old one works until {when}.")
    else:
        messages.success(request, "A new secret was made; the old one no longer works.")
    return _show_secret_once(request, app, secret)


@never_cache
@login_required
@require_POST
def forget_console_secret(request: HtmxHttpRequest, app_id: Any) -> HttpResponse:
    app = _get_application_for_user(request, app_id)
    flows.forget_console_secret(app)
    messages.success(request, "The console no longer keeps this application's secret.")
    return HttpResponseRedirect(app.get_absolute_url())


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HtmxHttpRequest, app_id: Any) -> HttpResponse:
    app = _get_application_for_user(request, app_id)
    if request.method == "GET":
        return render(request, "applications/delete.html", {"app": app})
    name = app.name
    try:
        flows.delete(app)
    except flows.FlowError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(app.get_absolute_url())
    messages.success(request, f"{name} is deleted; its tokens no longer work.")
    return HttpResponseRedirect(reverse("applications:list"))

"""The console's endpoints: get and forget tokens, the OAuth callbacks, send, history, snippets.

Every state-changing view is a CSRF-checked POST (htmx sends the token from `hx-headers` on
<body>); every view but the callback page needs a signed-in user.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from apis.models import VERSION_READER_FIELDS, Api, ApiVersion, Operation
from console import (
    appclients,
    authorization,
    calls,
    conf,
    credentials,
    grants,
    panel,
    snippets,
    tryit,
    uploads,
    validation,
)
from console.forms import (
    APP_SECRET_PREFIX,
    CredentialForm,
    OperationRef,
    RevealForm,
    SendForm,
    TokenForm,
    saved_state,
)
from console.http import OutboundError
from console.models import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_IMPLICIT,
    GRANT_PASSWORD,
    ApiAuthorizationServer,
    AuthorizationServer,
    CallHistory,
)
from console.refusals import GrantError
from console.tokens import Token, TokenStore
from products.visibility import visible_apis

log = logging.getLogger(__name__)

RESTORE_KEY = panel.RESTORE_KEY
GONE = "This operation is not available: it may have been unpublished or removed. Reload the page."


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _get_operation_for_user(
    request: HtmxHttpRequest, api_slug: str, label: str, op_slug: str
) -> tuple[Api, ApiVersion, Operation]:
    """The operation a console POST names; 404 unless its API is visible to this user."""
    apis = visible_apis(request.user)
    api = get_object_or_404(apis, slug=api_slug)
    version = get_object_or_404(
        ApiVersion.objects.only(*VERSION_READER_FIELDS), api=api, label=label
    )
    operation = get_object_or_404(Operation, version=version, slug=op_slug)
    return api, version, operation


def _redirect_uri(request: HtmxHttpRequest) -> str:
    return request.build_absolute_uri(reverse("console:callback"))


def _safe_return(request: HtmxHttpRequest, url: str) -> str:
    """A local path to go back to; anything else falls back to the catalog (no open redirect)."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None) and url.startswith("/"):
        return url
    return reverse("apis:catalog")


def _server_for_api(api: Api, slug: str) -> tuple[AuthorizationServer, ApiAuthorizationServer]:
    link = (
        ApiAuthorizationServer.objects.filter(
            api=api, server__slug=slug, server__use_in_console=True
        )
        .select_related("server")
        .first()
    )
    if link is None:
        raise Http404("No such authorization server for this API")
    return link.server, link


def _builtin_token_url(request: HtmxHttpRequest) -> str:
    from identity.issuer import endpoints, issuer

    return endpoints(issuer(request))["token_endpoint"]


def _server_for_choice(
    request: HtmxHttpRequest, api: Api, slug: str, grant: str
) -> AuthorizationServer:
    """The configured server, or the developer's own application as a client (its own
    provider's token endpoint, its own secret); another developer's application is a 404."""
    if not appclients.is_app_slug(slug):
        return _server_for_api(api, slug)[0]
    app = appclients.application_for(request.user, api, slug)
    if app is None:
        raise Http404("No such application of yours for this API")
    if grant != GRANT_CLIENT_CREDENTIALS:
        raise appclients.AppClientError("An application gets tokens with client credentials.")
    pasted = str(request.POST.get(APP_SECRET_PREFIX + slug, ""))
    if pasted.strip():
        appclients.keep_pasted_secret(request.session, slug, pasted)
    secret = appclients.secret_for(app, request.session)
    return appclients.server_for(app, secret, _builtin_token_url(request))


def _panel_response(
    request: HtmxHttpRequest,
    api: Api,
    version: ApiVersion,
    operation: Operation,
    *,
    state: dict[str, Any] | None = None,
) -> HttpResponse:
    """The token area of the panel, for htmx swaps, with the form's values as posted."""
    state = saved_state(request.POST) if state is None else state
    context = panel.build(
        api=api, version=version, operation=operation, user=request.user, session=request.session,
        state=state,
    )  # fmt: skip
    return render(request, "console/panel.html#auth", {"console": context})


@never_cache
@login_required
@require_POST
@sensitive_post_parameters()  # a password, or an application's pasted secret (app_secret.*)
def token(request: HtmxHttpRequest) -> HttpResponse:
    """Get a token with the chosen grant, keeping the request form as the user left it."""
    form = TokenForm(request.POST)
    ref = OperationRef(request.POST)
    if not form.is_valid() and ref.is_valid():
        # A mistake in the panel (a malformed scope): said inline, the form kept as it was.
        api, version, operation = _get_operation_for_user(
            request, ref.cleaned_data["api"], ref.cleaned_data["version"],
            ref.cleaned_data["operation"],
        )  # fmt: skip
        page = panel.operation_page(api, version, operation) + "#console"
        for error in form.non_field_errors() + form.errors.get("grant_choice", []):
            messages.error(request, str(error), _said_at(page))
        if request.htmx:
            response = _panel_response(request, api, version, operation)
            response.status_code = tryit.INVALID
            return response
        request.session[RESTORE_KEY] = saved_state(request.POST)
        return HttpResponseRedirect(page)
    if not form.is_valid():
        return HttpResponse(
            "Invalid token request: "
            + "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain",
        )
    data = form.cleaned_data
    api, version, operation = _get_operation_for_user(
        request, data["api"], data["version"], data["operation"]
    )
    slug, grant = data["grant_choice"]
    page = panel.operation_page(api, version, operation) + "#console"
    scopes = data["scopes"]
    server: AuthorizationServer | None = None
    try:
        server = _server_for_choice(request, api, slug, grant)
        if grant in (GRANT_AUTHORIZATION_CODE, GRANT_IMPLICIT):
            started = authorization.start_authorization(
                server,
                grant,
                scopes,
                redirect_uri=_redirect_uri(request),
                store=request.session,
                return_to=page,
                form=saved_state(request.POST),
            )
            if request.htmx:
                return HttpResponseClientRedirect(started.url)
            return HttpResponseRedirect(started.url)
        if grant == GRANT_CLIENT_CREDENTIALS:
            new = grants.client_credentials(server, scopes)
        elif grant == GRANT_PASSWORD:
            new = grants.password(server, scopes, data["username"], data["password"])
        else:  # pragma: no cover - the form's choices stop anything else
            raise GrantError("Unknown grant.")
    except (GrantError, OutboundError, appclients.AppClientError) as exc:
        name = server.name if server is not None else "Console"
        refused = f"{name}: {exc}"
        # A mistyped secret stays no longer: its field comes back for the right one.
        secret_refused = isinstance(exc, appclients.SecretRefused) or (
            isinstance(exc, GrantError) and exc.error == "invalid_client"
        )
        if secret_refused and appclients.is_app_slug(slug):
            if appclients.drop_pasted_secret(request.session, slug):
                refused += " The pasted secret was refused: paste it again."
            elif isinstance(exc, appclients.SecretRefused):
                refused += " Paste its current secret, or the new one if it was rotated."
        messages.error(request, refused, _said_at(page))
        if request.htmx:
            # The refused grant's form as it was typed, but the password (to type again).
            state = saved_state(request.POST)
            state.update(retried_grant=f"{slug}:{grant}", username=data["username"])
            return _panel_response(request, api, version, operation, state=state)
        request.session[RESTORE_KEY] = saved_state(request.POST)
        return HttpResponseRedirect(page)
    stored = TokenStore(request.session).put(new)
    messages.success(
        request,
        f"Got a token from {new.server_name} ({new.scopes or 'no scopes'}).",
        _said_at(page),
    )
    state = saved_state(request.POST)
    state["token"] = stored.id  # the new token is the one to send
    if request.htmx:
        return _panel_response(request, api, version, operation, state=state)
    request.session[RESTORE_KEY] = state
    return HttpResponseRedirect(page)


def _finish(request: HtmxHttpRequest, completed: authorization.Completed) -> HttpResponse:
    stored = TokenStore(request.session).put(completed.token)
    state = dict(completed.form)
    state["token"] = stored.id
    request.session[RESTORE_KEY] = state
    back = _safe_return(request, completed.return_to)
    messages.success(
        request,
        f"Got a token from {completed.token.server_name} ({completed.token.scopes or 'no scopes'}).",
        _said_at(back),
    )
    return HttpResponseRedirect(back)


@never_cache
@login_required
@require_GET
def callback(request: HtmxHttpRequest) -> HttpResponse:
    """The redirect URI: the code flow's response in the query, or the implicit page."""
    params = {k: str(request.GET.get(k, "")) for k in request.GET}
    if not params:
        # Implicit: the token is in the fragment, which only the browser sees; the page posts
        # it to `implicit` and clears it from the address bar.
        return render(request, "console/callback.html")
    try:
        completed = authorization.complete_authorization(request.session, params)
    except (GrantError, OutboundError) as exc:
        return _callback_error(request, exc)
    return _finish(request, completed)


def _callback_error(request: HtmxHttpRequest, exc: Exception) -> HttpResponse:
    back = _safe_return(request, getattr(exc, "return_to", ""))
    context = {"error": str(exc), "back": back}
    return render(request, "console/callback.html", context, status=400)


@never_cache
@login_required
@require_POST
def implicit(request: HtmxHttpRequest) -> HttpResponse:
    """The implicit grant's fragment, handed over by the callback page."""
    allowed = {"access_token", "token_type", "expires_in", "scope", "state", "iss", "error",
               "error_description"}  # fmt: skip
    params = {k: str(request.POST.get(k, "")) for k in request.POST if k in allowed}
    # console.js posts with fetch and asks for JSON, so no history entry keeps the token.
    wants_json = request.headers.get("Accept", "") == "application/json"
    try:
        completed = authorization.complete_implicit(request.session, params)
    except (GrantError, OutboundError) as exc:
        if wants_json:
            back = _safe_return(request, getattr(exc, "return_to", ""))
            return JsonResponse({"error": str(exc), "back": back}, status=400)
        return _callback_error(request, exc)
    finished = _finish(request, completed)
    if wants_json:
        return JsonResponse({"redirect": finished["Location"]})
    return finished


def _owned_token(request: HtmxHttpRequest, token_id: str) -> Token:
    found = TokenStore(request.session).get(token_id)
    if found is None:
        raise Http404("No such token")
    return found


def _said_at(landing: str) -> str:
    """The message tag for an answer that lands on `landing`: at the console (#console) the
    Authorization block says it, in view (panel.AUTH_MESSAGE_TAG); the page's message list is
    far above. Anywhere else (the catalog, a return path gone wrong) the page's list does."""
    return panel.AUTH_MESSAGE_TAG if landing.endswith("#console") else ""


def _back(request: HtmxHttpRequest) -> str:
    return _safe_return(request, request.POST.get("next", ""))


@never_cache
@login_required
@require_POST
def forget(request: HtmxHttpRequest, token_id: str) -> HttpResponse:
    """Forget a token (and revoke it at the server when it offers revocation)."""
    old = _owned_token(request, token_id)
    TokenStore(request.session).forget(token_id)
    server = AuthorizationServer.objects.filter(slug=old.server).first()
    if server is not None:
        grants.revoke(server, old)
    messages.info(request, f"Forgot the token from {old.server_name}.", _said_at(_back(request)))
    return _after_token_change(request)


@never_cache
@login_required
@require_POST
def refresh(request: HtmxHttpRequest, token_id: str) -> HttpResponse:
    old = _owned_token(request, token_id)
    server = AuthorizationServer.objects.filter(slug=old.server).first()
    if server is None:
        raise Http404("The token's authorization server is gone")
    try:
        TokenStore(request.session).replace(old, grants.refresh(server, old))
        messages.success(
            request, f"Refreshed the token from {old.server_name}.", _said_at(_back(request))
        )
    except (GrantError, OutboundError) as exc:
        if isinstance(exc, GrantError) and exc.dead_refresh_token:
            TokenStore(request.session).replace(old, replace(old, refresh_token=""))
        messages.error(request, f"{old.server_name}: {exc}", _said_at(_back(request)))
    return _after_token_change(request)


def _after_token_change(request: HtmxHttpRequest) -> HttpResponse:
    form = SendForm(request.POST)
    if request.htmx and form.is_valid():
        api, version, operation = _get_operation_for_user(
            request,
            form.cleaned_data["api"],
            form.cleaned_data["version"],
            form.cleaned_data["operation"],
        )
        return _panel_response(request, api, version, operation)
    if form.is_valid():
        request.session[RESTORE_KEY] = saved_state(request.POST)
    return HttpResponseRedirect(_back(request))


@never_cache
@login_required
@require_POST
@sensitive_post_parameters()
def credential(request: HtmxHttpRequest) -> HttpResponse:
    """Keep or forget a pasted credential (bearer token, basic, API key) for a scheme."""
    form = CredentialForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Invalid credential request.", status=400, content_type="text/plain")
    data = form.cleaned_data
    api, version, operation = _get_operation_for_user(
        request, data["api"], data["version"], data["operation"]
    )
    name = data["credential"] or data["forget_credential"]
    schemes = credentials.operation_schemes(operation, version.overview or {})
    scheme = next((s for s in schemes if s.name == name and s.pastable), None)
    if scheme is None:
        raise Http404("No such security scheme on this operation")
    state = saved_state(request.POST)
    status = 200
    page = panel.operation_page(api, version, operation) + "#console"
    if data["forget_credential"]:
        credentials.forget(request.session, api, scheme)
        messages.info(request, f"Forgot your credential for {scheme.name}.", _said_at(page))
    else:
        try:
            kept = credentials.keep(
                request.session, api, scheme,
                value=form.secret(name, "value"), username=form.secret(name, "username"),
                password=form.secret(name, "password"),
            )  # fmt: skip
        except credentials.CredentialError as exc:
            messages.error(request, f"{scheme.name}: {exc}", _said_at(page))
            status = tryit.INVALID
        else:
            if kept is not None:
                state["token"] = kept.id  # a pasted token is the one to send
            messages.success(
                request, f"Kept your credential for {scheme.name} for this session.", _said_at(page)
            )
    if request.htmx:
        response = _panel_response(request, api, version, operation, state=state)
        response.status_code = status
        return response
    request.session[RESTORE_KEY] = state
    return HttpResponseRedirect(page)


@never_cache
@login_required
@require_POST
@csrf_exempt
def send(request: HtmxHttpRequest) -> HttpResponse:
    # The upload cap must be in place before anything reads the body, and the CSRF check
    # reads it: so CSRF is checked here, after the handler is set.
    request.upload_handlers.insert(0, uploads.UploadCap(request))
    return csrf_protect(_send)(request)


def _send(request: HtmxHttpRequest) -> HttpResponse:
    """Send the call through the gateway and show the answer (a fragment for htmx)."""
    form = SendForm(request.POST, request.FILES)
    template = "console/result.html#response" if request.htmx else "console/result.html"
    refused = uploads.refusal(request)
    if refused is not None:
        return render(request, template, {"error": f"{refused}; nothing was sent."}, status=413)
    if not form.is_valid():
        return HttpResponse("Invalid console request.", status=400, content_type="text/plain")
    try:
        api, version, operation = _get_operation_for_user(
            request,
            form.cleaned_data["api"],
            form.cleaned_data["version"],
            form.cleaned_data["operation"],
        )
    except Http404:
        if not request.htmx:
            raise
        # Unpublished or removed since the page was drawn (or never there: same words).
        return render(request, template, {"error": GONE}, status=404)
    media_types = validation.media_types(operation.model)
    try:
        data = form.console_input(media_types)
    except ValidationError as exc:
        context = {"api": api, "version": version, "operation": operation, "error": _message(exc),
                   "page_url": panel.operation_page(api, version, operation)}  # fmt: skip
        return render(request, template, context, status=tryit.INVALID)
    outcome = tryit.send(
        user=cast(Any, request.user), session=request.session, api=api, version=version,
        operation=operation, data=data, media_types=media_types,
        subscription=request.POST.get("subscription", ""),
    )  # fmt: skip
    return render(request, template, outcome.context, status=outcome.status)


def _message(exc: Exception) -> str:
    messages_ = getattr(exc, "messages", None)
    if isinstance(messages_, list) and messages_:
        return " ".join(str(m) for m in messages_)
    return str(exc)


def _history_call(
    request: HtmxHttpRequest, call_id: str
) -> tuple[CallHistory, Api, ApiVersion, Operation]:
    entry = get_object_or_404(CallHistory, uuid=call_id, user=cast(Any, request.user))
    api, version, operation = _get_operation_for_user(
        request, entry.api_slug, entry.version_label, entry.operation_slug
    )
    return entry, api, version, operation


@never_cache
@login_required
@require_POST
def reveal(request: HtmxHttpRequest, call_id: str) -> HttpResponse:
    """The snippets of a past call with the real token in them, on the user's request."""
    entry, api, version, operation = _history_call(request, str(call_id))
    form = RevealForm(request.POST)
    token_id = form.data.get("token", "") if form.is_valid() else ""
    chosen = TokenStore(request.session).get(str(token_id)) if token_id else None
    data = calls.ConsoleInput.from_json(entry.form)
    media_types = validation.media_types(operation.model)
    try:
        call = tryit.past_call(operation, data, calls.targets(api, version, operation), media_types)
    except calls.CallError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    if chosen is not None and credentials.is_pasted(chosen):
        chosen = None  # what the user pasted is never shown back in full
    if chosen is not None and chosen.server not in tryit.token_servers(api, request.user):
        chosen = None  # another API's token: Send would not carry it, nor does the code
    token_value = chosen.access_token if chosen else None
    scheme = "Bearer"
    keys = credentials.api_keys(
        request.session, api, credentials.operation_schemes(operation, version.overview or {})
    )
    call = calls.with_api_keys(call, keys, placeholder=tryit.KEY_PLACEHOLDER)
    context = {
        "snippets": snippets.snippets(call, token_value, scheme),
        "history": entry,
        "revealed": chosen is not None,
        "token": panel.token_view(chosen) if chosen else None,
        "page_url": panel.operation_page(api, version, operation),
    }
    template = "console/snippets.html#snippets" if request.htmx else "console/snippets.html"
    return render(request, template, context)


@never_cache
@login_required
@require_GET
def history(request: HtmxHttpRequest) -> HttpResponse:
    entries = CallHistory.objects.filter(
        user=cast(Any, request.user),
        api_slug__in=visible_apis(request.user).values("slug"),  # an API since hidden: gone
    ).order_by("-created", "-pk")[: conf.history_limit()]
    context = {"entries": entries, "kept_bytes": conf.history_entry_bytes()}
    return render(request, "console/history.html", context)


@never_cache
@login_required
@require_GET
def load(request: HtmxHttpRequest, call_id: str) -> HttpResponse:
    """Open the operation page with a past call loaded into the console form."""
    entry, api, version, operation = _history_call(request, str(call_id))
    media_types = validation.media_types(operation.model)
    request.session[RESTORE_KEY] = panel.flat_state(
        calls.ConsoleInput.from_json(entry.form), media_types, operation
    )
    return HttpResponseRedirect(panel.operation_page(api, version, operation) + "#console")

"""The try-it flow: from the console form's values to the answer shown, without `request`.

`send()` checks the input, builds the call, checks the body against the schema, picks the
credentials (a token, pasted or obtained; API keys), sends through the gateway, keeps the
history entry and returns what the result template shows. Views only parse and render
(allauth keeps its flows apart from its views the same way); a new credential kind lands
here and in `console/credentials.py`, not in a view.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from apis.documents import schema_document
from apis.models import Api, ApiVersion, Operation
from apis.openapi.model import is_json_media
from console import (
    appclients,
    calls,
    conf,
    credentials,
    grants,
    panel,
    samples,
    snippets,
    validation,
)
from console import render as present
from console.http import OutboundError
from console.models import ApiAuthorizationServer, AuthorizationServer, CallHistory
from console.refusals import GrantError
from console.tokens import GATEWAY_CHECK_HEADER, Token, TokenStore, explain_rejection
from products.console import stranger_key, subscription_headers, typed_keys

# Status of a refused input: 422, not 400, so htmx's debug handler (django-htmx under DEBUG
# replaces the page with any 400) leaves it alone and console.js swaps it in place.
INVALID = 422
# The placeholders the reference samples use too, which every snippet reads from the environment.
KEY_PLACEHOLDER = samples.API_KEY
SUBSCRIPTION_KEY_PLACEHOLDER = samples.SUBSCRIPTION_KEY
SECRET_PLACEHOLDER = samples.PASSWORD


@dataclass(frozen=True)
class Fault:
    """A way the input departs from the schema, and the name of the form's field at fault
    (`param.query.repeat`, `body.0`): the result names it, and console.js marks that field
    aria-invalid, described by the message, for a screen reader to find."""

    field: str
    text: str


@dataclass
class Outcome:
    """What to render: the result template's context and the HTTP status."""

    status: int
    context: dict[str, Any] = field(default_factory=dict)


def token_servers(api: Api, user: Any) -> set[str]:
    """The `server`s of the tokens a call to `api` may carry: its authorization servers in
    the console, its own pasted credentials, and the user's applications subscribed to it.
    The panel offers no other; a form naming one (a token for another API's server or
    application, a credential pasted for another API) would send it to this API's backend."""
    linked = ApiAuthorizationServer.objects.filter(api=api, server__use_in_console=True)
    slugs = set(linked.values_list("server__slug", flat=True))
    return slugs | {credentials.pasted_server(api)} | appclients.token_slugs(user, api)


def token_for_call(
    session: MutableMapping[str, Any], token_id: str, allowed: set[str] | None = None
) -> tuple[Token | None, str]:
    """The chosen token, refreshed first when it is about to expire; and a note for the user.
    With `allowed` (token_servers), a token from any other server is not sent."""
    if not token_id:
        return None, ""
    store = TokenStore(session)
    chosen = store.get(token_id)
    if chosen is None:
        return None, "The chosen token is gone (forgotten or signed out); sent without a token."
    if appclients.is_app_slug(chosen.server) and appclients.application_gone(chosen.server):
        store.forget(chosen.id)
        return None, "The chosen token's application was deleted; sent without a token."
    if allowed is not None and chosen.server not in allowed:
        return None, "The chosen token is not one for this API; sent without a token."
    if chosen.is_expired(margin=conf.refresh_margin()) and chosen.refresh_token:
        server = AuthorizationServer.objects.filter(slug=chosen.server).first()
        if server is not None:
            try:
                fresh = store.replace(chosen, grants.refresh(server, chosen))
            except (GrantError, OutboundError) as exc:
                if isinstance(exc, GrantError) and exc.dead_refresh_token:
                    # Not asked again on every send; the card stops promising a refresh.
                    chosen = store.replace(chosen, replace(chosen, refresh_token=""))
                return chosen, f"The token is expiring and could not be refreshed: {exc}"
            if chosen.is_expired():
                return fresh, "The token had expired, so the console refreshed it first."
            return fresh, "The token was about to expire, so the console refreshed it first."
    return chosen, ""


def trim_history(user: Any) -> None:
    keep = conf.history_limit()
    stale = (
        CallHistory.objects.filter(user=user)
        .order_by("-created", "-pk")
        .values_list("pk", flat=True)[keep:]
    )
    CallHistory.objects.filter(pk__in=list(stale)).delete()


def _problem(result: calls.CallResult) -> dict[str, Any] | None:
    if not is_json_media(result.content_type):
        return None
    try:
        value = orjson.loads(result.body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def send(
    *,
    user: Any,
    session: MutableMapping[str, Any],
    api: Api,
    version: ApiVersion,
    operation: Operation,
    data: calls.ConsoleInput,
    media_types: list[str],
    subscription: str = "",
) -> Outcome:
    """Run one try-it call and say what to show. `subscription` is the developer's choice of
    subscription whose key the call carries (products/console.py), added only when sending."""
    context: dict[str, Any] = {
        "api": api,
        "version": version,
        "operation": operation,
        "page_url": panel.operation_page(api, version, operation),
    }
    if operation.kind != Operation.KIND_OPERATION:
        context["error"] = "Webhooks are called by the API, not by you: there is nothing to send."
        return Outcome(INVALID, context)
    options = calls.targets(api, version, operation)
    try:
        call = calls.build_call(operation, data, options, media_types=media_types)
        # What is shown, snippets and history: the same call with each `format: password`
        # value a marker, written as $PASSWORD once built (a marker survives the encoding).
        marker = "pw" + secrets.token_hex(16)
        masked = _masked(data, operation, marker)
        display = (
            call
            if masked == data
            else calls.build_call(operation, masked, options, media_types=media_types)
        )
    except calls.CallError as exc:
        context["error"] = str(exc)
        return Outcome(INVALID, context)
    # Only the component schemas the checks reach, row by row: not the whole document.
    doc = {**schema_document(version.pk), "openapi": version.spec_version}
    problems = _faults(doc, version, operation, data, media_types)
    if problems and not data.force:
        context["body_problems"] = problems
        return Outcome(INVALID, context)
    schemes = credentials.operation_schemes(operation, version.overview or {})
    keys = credentials.api_keys(session, api, schemes)
    before = TokenStore(session).get(data.token) if data.token else None
    chosen, note = token_for_call(session, data.token, token_servers(api, user))
    context["note"] = note
    context["refreshed"] = (
        chosen is not None and before is not None and chosen.access_token != before.access_token
    )
    try:
        sent = calls.with_api_keys(call, keys)
        shown = calls.with_api_keys(display, keys, placeholder=KEY_PLACEHOLDER)
    except calls.CallError as exc:
        context["error"] = str(exc)
        return Outcome(INVALID, context)
    if calls.through_gateway(call.url) and (
        name := stranger_key(user, api, sent.headers, sent.url)
    ):
        context["error"] = (
            f"The key in {name} is not a key of your subscriptions, so it was not sent: "
            "choose one of your keys in the subscription key picker."
        )
        return Outcome(INVALID, context)
    # The developer's own key typed in the key parameter is sent, but shown, kept and put in
    # snippets as the picker's is, $SUBSCRIPTION_KEY (case 70).
    hide = _hiding(
        [value.strip() for _, value in typed_keys(api, sent.headers, sent.url)]
        if calls.through_gateway(call.url)
        else [],
        marker,
    )
    shown = replace(
        shown,
        url=hide(shown.url),
        headers={k: hide(v) for k, v in shown.headers.items()},
        form_fields=[(k, hide(v)) for k, v in shown.form_fields],
    )
    # History keeps the call without keys and the form without secrets.
    history = CallHistory(
        user=user,
        operation=operation,
        api_slug=api.slug,
        version_label=version.label,
        operation_slug=operation.slug,
        method=call.method,
    )
    history.url, history.form = _bounded(
        hide(display.url),
        orjson.loads(hide(orjson.dumps(_kept_form(data, operation)).decode())),
        conf.history_entry_bytes(),
    )
    # Never shown. The key is the gateway's credential, which the gateway strips before the
    # backend: a call to the API's own (allowlisted) server does not carry it there.
    secret_headers = (
        subscription_headers(user, api, subscription) if calls.through_gateway(call.url) else {}
    )
    # As calls.send does: the picker's key replaces one typed under another case of its name.
    taken = {name.lower() for name in secret_headers}
    shown = replace(
        shown,
        headers={k: v for k, v in shown.headers.items() if k.lower() not in taken}
        | dict.fromkeys(secret_headers, SUBSCRIPTION_KEY_PLACEHOLDER),
    )
    try:
        result = calls.send(sent, chosen, secret_headers)
    except calls.CallError as exc:
        context["error"] = str(exc)
        return Outcome(INVALID, context)
    except OutboundError as exc:
        history.error = str(exc)
        history.save()
        trim_history(user)
        context.update({"error": f"The call failed: {exc}", "history": history, "call": shown})
        return Outcome(502, context)
    # The gateway's own refusals (401, 403, 429 marked X-Gateway-Check, which it drops from
    # backends' answers) are no answer of the API: its documented responses do not apply.
    from_gateway = calls.through_gateway(call.url) and any(
        name.lower() == GATEWAY_CHECK_HEADER for name, _ in result.headers
    )
    history.status = result.status
    history.elapsed_ms = result.elapsed_ms
    history.size = result.size
    history.save()
    trim_history(user)
    context.update(
        {
            "call": shown,
            "result": result,
            "body": present.present(result.content_type, result.body),
            "size": present.human_size(result.size),
            "mismatches": []
            if from_gateway
            else validation.check_response(
                doc, version.pk, operation.model, result.status, result.content_type, result.body
            ),
            "body_problems": problems,
            "history": history,
            "token": panel.token_view(chosen) if chosen is not None else None,
            "snippets": snippets.snippets(
                shown,
                snippets.PLACEHOLDER if chosen else None,
                _scheme_word(chosen),
            ),
            "status_tone": "ok" if result.status < 400 else "error",
        }
    )
    if result.status in (401, 403):
        context["rejection"] = explain_rejection(
            result.status,
            dict(result.headers),
            _problem(result),
            chosen.claims if chosen is not None else None,
            expected_audience=" or ".join(credentials.expected_audience(api)),
            via_gateway=calls.through_gateway(call.url),
        )
    return Outcome(200, context)


def _faults(
    doc: dict[str, Any],
    version: ApiVersion,
    operation: Operation,
    data: calls.ConsoleInput,
    media_types: list[str],
) -> list[Fault]:
    """Each way the input departs from the schema, with the form's field at fault."""
    found = []
    for param in operation.model.parameters:
        raw = data.params.get(param.location, {}).get(param.name, "")
        key = f"param.{param.location}.{param.name}"
        found += [
            Fault(key, text) for text in validation.check_parameter(doc, version.pk, param, raw)
        ]
    if data.media_type in media_types:
        key = f"body.{media_types.index(data.media_type)}"
        body = validation.check_request_body(
            doc, version.pk, operation.model, data.media_type, data.body
        )
        found += [Fault(key, text) for text in body]
    return found


def _bounded(url: str, form: dict[str, Any], limit: int) -> tuple[str, dict[str, Any]]:
    """A history entry's URL and form within `limit` bytes (as JSON), so no user grows the
    database at will: a request may be 2.5 MB, fifty entries each. The URL (shown in the
    history; the form rebuilds the call) gets a quarter; then the longest texts are cut first
    (the body, as a rule), and the form says `cut` (the history page tells). A JSON character
    is a byte or more, so cutting the excess in characters is enough."""
    if len(url.encode()) > limit // 4:
        url = url.encode()[: limit // 4].decode(errors="ignore")
    budget = limit - len(url.encode())
    if len(orjson.dumps(form)) <= budget:
        return url, form
    form["cut"] = True
    texts: list[tuple[dict[str, Any], str]] = [(form, "body")]
    texts += [(form["fields"], name) for name in form["fields"]]
    texts += [(values, name) for values in form.get("params", {}).values() for name in values]
    for owner, name in sorted(texts, key=lambda text: -len(text[0][text[1]])):
        over = len(orjson.dumps(form)) - budget
        if over <= 0:
            break
        owner[name] = owner[name][: max(0, len(owner[name]) - over)]
    return url, form


def _kept_form(data: calls.ConsoleInput, operation: Operation) -> dict[str, Any]:
    """The form as the history keeps it: a filled `format: password` field or parameter as
    $PASSWORD, so a past call's snippets (past_call) still send it; loaded back into the
    form (panel.flat_state) it is blank, as typed hidden."""
    return _masked(data, operation, SECRET_PLACEHOLDER).to_json()


def _masked(data: calls.ConsoleInput, operation: Operation, text: str) -> calls.ConsoleInput:
    """`data` with each filled `format: password` field and parameter `text` instead."""
    params = {where: dict(values) for where, values in data.params.items()}
    for where, name in calls.secret_params(operation):
        if params.get(where, {}).get(name):
            params[where][name] = text
    fields = dict(data.fields)
    for name in calls.secret_fields(operation, data.media_type) & set(fields):
        if fields[name]:
            fields[name] = text
    return replace(data, params=params, fields=fields)


def past_call(
    operation: Operation,
    data: calls.ConsoleInput,
    options: list[calls.Target],
    media_types: list[str],
) -> calls.PreparedCall:
    """A past call rebuilt from its history entry (`data`) for its snippets. The history
    keeps a sent `format: password` parameter or field as $PASSWORD (_kept_form), and one
    kept before that blank: a required one was sent all the same. Each reads $PASSWORD, as
    in the result's snippets; one not sent is left out."""
    marker = "pw" + secrets.token_hex(16)
    document = schema_document(operation.version_id)
    secret = calls.secret_params(operation)
    params = {where: dict(values) for where, values in data.params.items()}
    for param in calls.parameters(operation):
        param = calls.deref_param(param, document)
        where, name = param.location, param.name
        if (where, name) not in secret:
            continue
        kept = params.get(where, {}).get(name, "")
        if kept == SECRET_PLACEHOLDER or (param.required and not kept):
            params.setdefault(where, {})[name] = marker
    fields = dict(data.fields)
    for name in calls.secret_fields(operation, data.media_type) & set(fields):
        if fields[name] == SECRET_PLACEHOLDER:
            fields[name] = marker
    call = calls.build_call(
        operation, replace(data, params=params, fields=fields), options, media_types=media_types
    )
    hide = _hiding([], marker)
    return replace(
        call,
        url=hide(call.url),
        headers={k: hide(v) for k, v in call.headers.items()},
        form_fields=[(k, hide(v)) for k, v in call.form_fields],
    )


def _hiding(keys: list[str], marker: str = "") -> Callable[[str], str]:
    """A function that puts $SUBSCRIPTION_KEY in place of each of `keys` in a text, and
    $PASSWORD in place of `marker` (_masked). They are keys or a hex marker (URL-safe, so
    written as they are in a URL and in JSON), never empty."""
    found = [(key, SUBSCRIPTION_KEY_PLACEHOLDER) for key in keys if key]
    if marker:
        found.append((marker, SECRET_PLACEHOLDER))

    def hide(text: str) -> str:
        for secret, placeholder in found:
            text = text.replace(secret, placeholder)
        return text

    return hide


def _scheme_word(token: Token | None) -> str:
    if token is not None and token.token_type.lower() == "basic":
        return "Basic"
    return "Bearer"

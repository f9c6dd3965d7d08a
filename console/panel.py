"""What the console panel on an operation page shows: fields, defaults, servers, tokens.

The form state is one flat mapping of field names to values (`param.query.limit`, `body.0`,
`field.1.name`, `server`, `token`, `media_type`), the same keys the browser posts, so a state
restored after the authorization redirect, a history entry and the defaults fill the form the
same way.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.urls import reverse

from apis.documents import deref_schema, object_fields, resolve_ref, schema_document
from apis.models import Api, ApiVersion, Operation
from apis.openapi.flags import flagged
from apis.openapi.model import NO_VALUE, Parameter
from apis.openapi.sample import MAX_DEPTH, sample
from apis.openapi.stream_sample import stream_sample
from apis.openapi.xml_sample import is_xml, xml_text
from console import appclients, calls, credentials, offered, samples, serialise, validation
from console.calls import ConsoleInput, Target, body_kind, is_json_media, parameters
from console.models import (
    GRANT_LABELS,
    LEGACY_GRANTS,
    LEGACY_WARNINGS,
    ApiAuthorizationServer,
    AuthorizationServer,
)
from console.tokens import Token, TokenStore, audiences, format_timestamp
from portal.lib.jsonindent import dumps_indented

RESTORE_KEY = "console_restore"  # session key: a form state to show once on the next render
# The tag of a message the Authorization block says (products.console.PICKER_MESSAGE_TAG's
# twin): a change made without htmx reloads the page at #console, where the block is, and
# the page's message list, far above, leaves it out.
AUTH_MESSAGE_TAG = "console-auth"


def operation_page(api: Api, version: ApiVersion, operation: Operation) -> str:
    """The operation page's URL, naming the version only when it is not the default."""
    url = reverse("apis:operation", args=[api.slug, operation.slug])
    if version.pk != api.default_version_id:
        url += "?" + urlencode({"v": version.label})
    return url


@dataclass
class ParamField:
    key: str
    name: str
    location: str
    required: bool
    value: str
    enum: list[str] = field(default_factory=list)
    type: str = ""
    deprecated: bool = False
    description: str = ""
    placeholder: str = ""  # an optional parameter's example: shown, never sent
    hint: str = ""  # how to type a value that is not one word (serialise.typed reads it)
    # Why the example it starts with (or shows) does not fit the parameter's schema.
    example_problem: str = ""
    secret: bool = False  # `format: password`: typed hidden, never pre-filled nor restored
    may_be_empty: bool = False  # required, but documented empty (calls.documented_empty)


@dataclass
class FormField:
    key: str
    name: str
    value: str
    required: bool
    is_file: bool = False
    many: bool = False  # an array of files: several may be chosen, each sent as a part
    enum: list[str] = field(default_factory=list)
    placeholder: str = ""
    hint: str = ""  # "JSON object" or "JSON array": what serialise.form_value reads
    secret: bool = False  # `format: password`: typed hidden, never pre-filled nor restored


@dataclass
class BodyEditor:
    index: int
    media_type: str
    kind: str
    key: str  # the textarea's name for json/raw
    text: str = ""
    fields: list[FormField] = field(default_factory=list)
    file_key: str = ""  # raw binary bodies take a file


@dataclass
class GrantOption:
    key: str
    label: str
    legacy: bool
    warning: str


@dataclass
class ServerOption:
    server: AuthorizationServer
    scopes: str
    grants: list[GrantOption]
    # A client every developer shares whose tokens carry only the developer's subscriptions
    # (console/offered.py): the panel says machine calls go through the developer's own apps.
    per_developer: bool = False
    # The grant just refused (a legacy one's panel stays open) and the username typed for the
    # password grant: only in the answer to that request, never in the session.
    retried_grant: str = ""
    username: str = ""


@dataclass
class SchemeView:
    scheme: credentials.Scheme
    key: credentials.ApiKey | None = None


@dataclass
class TokenView:
    token: Token
    claims: dict[str, Any] | None
    audience: str
    subject: str
    issuer: str
    scope: str
    expires: str
    expires_in: int | None
    expired: bool

    @property
    def pasted(self) -> bool:
        return credentials.is_pasted(self.token)

    @property
    def claims_json(self) -> str:
        """The claims as the token carries them (JSON), not as a Python dict."""
        return claims_json(self.claims)


def _subject(claims: dict[str, Any], token: Token) -> str:
    """Whose token: the user's name when the token carries one, the client for a
    client-credentials token, the bare `sub` (often a database id) only as a last resort."""
    for name in ("preferred_username", "name", "email", "upn"):
        if isinstance(claims.get(name), str) and claims[name]:
            return str(claims[name])
    sub = str(claims.get("sub", ""))
    if sub and sub == claims.get("client_id"):
        return f"client {sub}"
    return sub


def token_view(token: Token) -> TokenView:
    claims = token.claims
    remaining = token.expires_in()
    # The time the countdown runs to (the earlier of expires_in and exp); an exp that is no
    # time at all is shown as it is.
    exp = token.expiry if token.expiry is not None else (claims or {}).get("exp")
    return TokenView(
        token=token,
        claims=claims,
        audience=", ".join(audiences(claims or {})),
        subject=_subject(claims or {}, token),
        issuer=str((claims or {}).get("iss", "")),
        # A pasted credential's `scopes` holds its scheme's name: its scope is only a claim's.
        scope=" ".join(token.granted_scopes if not credentials.is_pasted(token) or claims else ()),
        expires=format_timestamp(exp) if exp is not None else "",
        expires_in=remaining,
        expired=remaining is not None and remaining <= 0,
    )


def claims_json(claims: dict[str, Any] | None) -> str:
    if not claims:
        return ""
    try:
        return orjson.dumps(claims, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:
        # Past 254 levels or 64-bit integers (a pasted token says what it likes): the
        # standard library prints those, within its own recursion limit.
        try:
            return json.dumps(claims, indent=2, ensure_ascii=False)
        except (RecursionError, ValueError):
            return "(claims nested too deeply to show)"


def _param_default(param: Parameter, doc: dict[str, Any]) -> str:
    if param.examples:
        value = param.examples[0].value
        value = None if value is NO_VALUE else value  # an externalValue: nothing to fill in
    else:
        schema = deref_schema(doc, param.schema)
        value = schema.get("example", schema.get("default"))
        if value is None and param.required:
            value = sample(schema, doc)
    if param.location == "querystring":
        return serialise.querystring_text(param.media_type, value) if value is not None else ""
    return serialise.param_text(value)


def _param_hint(param: Parameter, schema: dict[str, Any]) -> str:
    """How the field is typed: console/serialise.typed splits an array on commas and reads
    an object as JSON, then writes either in the parameter's style."""
    if param.media_type:
        return ""  # sent as typed, in its media type
    kind = serialise.schema_type(schema)
    return {"array": "comma-separated", "object": "as JSON"}.get(kind, "")


def _example_problem(
    doc: dict[str, Any], operation: Operation, param: Parameter, example: str
) -> str:
    """What is wrong with the example a field starts with, as the send would say it: an
    author's `example: abc` for an integer, or `pending` outside its enum, was filled in
    with no word, and the first send was refused. Said beside the field; sending is not
    blocked by it (the check before sending still asks)."""
    problems = validation.check_parameter(doc, operation.version_id or 0, param, example)
    if not problems:
        return ""
    said = problems[0].split(": ", 1)[-1]
    return f"The documented example does not fit the schema: {said}"


def param_fields(
    operation: Operation, doc: dict[str, Any], state: dict[str, str]
) -> list[ParamField]:
    """The parameters' fields; `doc` names its `openapi` version for the example checks."""
    found = []
    for param in parameters(operation):
        where, name = param.location, param.name
        key = f"param.{where}.{name}"
        schema = calls.param_schema(doc, param.schema)
        enum: list[Any] = schema["enum"] if isinstance(schema.get("enum"), list) else []
        kind = schema.get("type") or ""  # `type: null` (None) is no type, not "None"
        if isinstance(kind, list):
            kind = "/".join(str(k) for k in kind)
        required = param.required
        example = _param_default(param, doc)
        # Optional parameters start empty, with the example as a placeholder: a filled
        # field is sent, and the user did not ask for it.
        value = state.get(key, example if required else "")
        secret = calls.is_secret(schema)
        if secret:
            value = ""  # as a form body's password field (_form_fields)
        shown = value == example or (not required and not value)
        problem = _example_problem(doc, operation, param, example) if example and shown else ""
        found.append(
            ParamField(
                key=key,
                name=name,
                location=where,
                required=required,
                value=value,
                enum=[serialise.field_text(v) for v in enum],
                type=str(kind),
                deprecated=param.deprecated,
                placeholder="" if required else example,
                hint=_param_hint(param, schema),
                example_problem=problem,
                secret=secret,
                may_be_empty=required and calls.documented_empty(param, doc),
            )
        )
    return found


# What serialise.form_value reads in a form field of these types.
_FIELD_HINTS = {"array": "JSON array", "object": "JSON object"}


def _form_fields(
    index: int,
    schema: dict[str, Any],
    doc: dict[str, Any],
    state: dict[str, str],
    has_state: bool,
    encoding: dict[str, Any] | None = None,
) -> list[FormField]:
    props, required = object_fields(doc, schema)
    found = []
    for name, raw in props.items():
        if flagged(raw, "readOnly", lambda ref: resolve_ref(doc, ref)):
            continue  # as the samples and the body check see it (apis/openapi/flags.py)
        # FastAPI's optional part (`UploadFile | None`: `anyOf: [binary, null]`) is its variant.
        prop = calls.param_schema(doc, raw)
        key = f"field.{index}.{name}"
        is_file = prop.get("format") in ("binary", "base64") or prop.get(
            "contentMediaType"
        ) not in (
            None,
            "",
        )
        items = deref_schema(doc, prop.get("items"))
        many = prop.get("type") == "array" and items.get("format") == "binary"
        is_file = is_file or many
        # A part its encoding says is XML is written as XML, as the request sample sends it.
        example = (
            ""
            if is_file
            else serialise.field_text(
                samples.part_text(
                    name, prop.get("example", prop.get("default", "")), raw, doc, encoding
                )
            )
        )
        secret = calls.is_secret(prop)
        if secret:
            value = ""  # a generated `********` would be sent as the password
        elif has_state:
            value = state.get(key, "")
        elif name in required and not is_file:
            value = example or serialise.field_text(
                samples.part_text(name, sample(prop, doc, request=True), raw, doc, encoding)
            )
        else:
            value = ""  # optional: empty, the example as a placeholder
        enum: list[Any] = prop["enum"] if isinstance(prop.get("enum"), list) else []
        found.append(
            FormField(
                key=f"file.{index}.{name}" if is_file else key,
                name=name,
                value=value,
                required=name in required,
                is_file=is_file,
                many=many,
                enum=[serialise.field_text(v) for v in enum],
                placeholder="" if name in required else example,
                hint="" if is_file else _FIELD_HINTS.get(serialise.schema_type(prop), ""),
                secret=secret,
            )
        )
    return found


def body_editors(
    operation: Operation, doc: dict[str, Any], state: dict[str, str], has_state: bool
) -> list[BodyEditor]:
    body = operation.model.request_body
    editors = []
    for index, media in enumerate(body.content if body else ()):
        media_type = media.name
        # A 3.2 `itemSchema` describes one item of a stream: no form or sample of the body.
        raw_schema = None if media.streamed else media.schema
        kind = body_kind(media_type)
        editor = BodyEditor(index=index, media_type=media_type, kind=kind, key=f"body.{index}")
        if kind in ("form", "multipart"):
            editor.fields = _form_fields(
                index, deref_schema(doc, raw_schema), doc, state, has_state, media.encoding
            )
        elif editor.key in state:
            editor.text = state[editor.key]
        else:
            example = media.example
            if example is NO_VALUE and media.streamed:
                # A few items in the stream's framing, as the request sample sends them;
                # nothing where the framing is not known.
                example = stream_sample(media_type, media.schema, doc, request=True) or None
            elif example is NO_VALUE and raw_schema is not None:
                example = samples.body_sample(operation, media_type, raw_schema, doc, MAX_DEPTH)
            elif example is NO_VALUE:
                example = None
            if is_json_media(media_type):
                editor.text = dumps_indented(example)[0].decode() if example is not None else ""
            elif isinstance(example, str):
                editor.text = example
            elif is_xml(media_type) and example is not None:
                editor.text = xml_text(raw_schema, doc, example)  # as the reference's curl
            schema = deref_schema(doc, raw_schema)
            if schema.get("format") == "binary" or media_type == "application/octet-stream":
                editor.file_key = f"file.{index}.body"
        if kind == "raw" and not editor.file_key:
            schema = deref_schema(doc, raw_schema)
            if schema.get("format") == "binary" or media_type == "application/octet-stream":
                editor.file_key = f"file.{index}.body"
        editors.append(editor)
    return editors


def server_options(
    api: Api, operation: Operation, state: dict[str, str] | None = None
) -> list[ServerOption]:
    """The API's authorization servers; scopes as the user last typed them, else the API's."""
    state = state or {}
    links = (
        ApiAuthorizationServer.objects.filter(api=api, server__use_in_console=True)
        .select_related("server")
        .order_by("position", "pk")
    )
    options = []
    for link in links:
        default = link.scopes or _operation_scopes(operation) or link.server.default_scopes
        typed = state.get(f"scopes.{link.server.slug}")
        options.append(
            ServerOption(
                server=link.server,
                scopes=default if typed is None else typed,
                grants=_grant_options(link.server),
                per_developer=offered.scopes_per_developer(link.server),
            )
        )
        slug, _, grant = state.get("retried_grant", "").partition(":")
        if slug == link.server.slug:
            options[-1].retried_grant = grant
            options[-1].username = state.get("username", "")
    return options


def _grant_options(server: AuthorizationServer) -> list[GrantOption]:
    return [
        GrantOption(
            key=grant,
            label=GRANT_LABELS[grant],
            legacy=grant in LEGACY_GRANTS,
            warning=LEGACY_WARNINGS.get(grant, ""),
        )
        for grant in offered.grants(server)
    ]


def _operation_scopes(operation: Operation) -> str:
    """Scopes the operation's OAuth requirement names, as a starting point."""
    for requirement in operation.model.security or ():
        for _, scopes in requirement:
            if scopes:
                return " ".join(scopes)
    return ""


def state_is_for(state: Any, api: Api, version: ApiVersion, operation: Operation) -> bool:
    """Whether a saved form state belongs to this operation's form."""
    return (
        isinstance(state, dict)
        and state.get("api") == api.slug
        and state.get("version") == version.label
        and state.get("operation") == operation.slug
    )


def flat_state(data: ConsoleInput, media_types: list[str], operation: Operation) -> dict[str, str]:
    """A history entry's form values as the flat state the panel reads."""
    version = operation.version
    state: dict[str, str] = {
        "api": version.api.slug,
        "version": version.label,
        "operation": operation.slug,
        "server": data.server,
        "token": data.token,
        "media_type": data.media_type,
    }
    for where, values in data.params.items():
        for name, value in values.items():
            # A key typed in the key parameter is kept as $SUBSCRIPTION_KEY (tryit, case 70):
            # loaded back, it would be sent as a key and refused. Empty, the picker's goes.
            if value.strip() == samples.SUBSCRIPTION_KEY:
                value = ""
            elif where == "querystring":
                value = _without_kept_keys(value)
            state[f"param.{where}.{name}"] = value
    if data.media_type in media_types:
        index = media_types.index(data.media_type)
        state[f"body.{index}"] = data.body
        for name, value in data.fields.items():
            state[f"field.{index}.{name}"] = value
    return state


def _without_kept_keys(query: str) -> str:
    """An OpenAPI 3.2 `in: querystring` value (the whole query) without the pairs the history
    keeps as `name=$SUBSCRIPTION_KEY`: a key typed in it (case 70), which loaded back would be
    sent as a key and refused. Without it, the picker's key goes."""
    pairs = query.split("&")
    kept = [p for p in pairs if p.partition("=")[2].strip() != samples.SUBSCRIPTION_KEY]
    return query if len(kept) == len(pairs) else "&".join(kept)


def build(
    *,
    api: Api,
    version: ApiVersion,
    operation: Operation,
    user: Any,
    session: Any,
    state: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The panel's template context."""
    page = operation_page(api, version, operation)
    context: dict[str, Any] = {
        "api": api,
        "version": version,
        "operation": operation,
        "page_url": page,
        "signed_in": bool(getattr(user, "is_authenticated", False)),
        "login_url": f"{settings.LOGIN_URL}?{urlencode({'next': page + '#console'})}",
    }
    if operation.kind != Operation.KIND_OPERATION:
        context["unavailable"] = (
            "Webhooks are called by the API, not by you: there is nothing to send."
        )
        return context
    doc = schema_document(version.pk, operation.data)  # only the schemas it uses
    has_state = state is not None
    state = state or {}
    options = server_options(api, operation, state)
    app_options = appclients.options(user, api, session, _operation_scopes(operation), state)
    slugs = [o.server.slug for o in options] + [credentials.pasted_server(api)]
    slugs += [o.slug for o in app_options]
    tokens = (
        [token_view(t) for t in TokenStore(session).for_servers(slugs)]
        if context["signed_in"]
        else []
    )
    editors = body_editors(operation, doc, state, has_state)
    media_types = [e.media_type for e in editors]
    selected_media = (
        state.get("media_type")
        if state.get("media_type") in media_types
        else (media_types[0] if media_types else "")
    )
    targets: list[Target] = calls.targets(api, version, operation)
    selected_server = state.get("server") or next((t.url for t in targets if t.allowed), "")
    token_ids = [t.token.id for t in tokens]
    schemes = credentials.operation_schemes(operation, version.overview or {})
    # Preselect only a token this API accepts and this operation asks for: one for another
    # API's audience would make the first call a 401, a pasted password for another scheme
    # would go where it was never meant to. The user may still pick any. Pasted for this
    # operation's own scheme comes first.
    fitting = sorted(
        (
            t.token
            for t in tokens
            if credentials.token_fits(t.token, api)
            and credentials.token_fits_operation(t.token, schemes)
        ),
        key=lambda token: not credentials.is_pasted(token),
    )
    selected_token = (
        state.get("token")
        if state.get("token") in token_ids
        else (fitting[0].id if fitting else "")
    )
    keys = credentials.KeyStore(session).for_api(api) if context["signed_in"] else {}
    body = operation.model.request_body
    context.update(
        {
            "targets": targets,
            "selected_server": selected_server,
            "params": param_fields(operation, {**doc, "openapi": version.spec_version}, state),
            "editors": editors,
            "selected_media": selected_media,
            "body_required": body is not None and body.required,
            "auth_servers": options,
            "app_options": app_options,
            "tokens": tokens,
            "selected_token": selected_token,
            "schemes": [
                SchemeView(scheme, keys.get(scheme.name)) for scheme in schemes if scheme.pastable
            ],
            "other_schemes": [s for s in schemes if not s.pastable],
            "no_target": not any(t.allowed for t in targets),
            "staff": bool(getattr(user, "is_staff", False)),
            "now": int(time.time()),
        }
    )
    return context


def for_request(
    request: Any, api: Api, version: ApiVersion, operation: Operation
) -> dict[str, Any]:
    """The panel for the operation view, with the form restored after the authorization
    redirect or loaded from history. The view takes it out of the session (used once), so
    no template has to."""
    state = None
    if request.user.is_authenticated:
        state = request.session.pop(RESTORE_KEY, None)
        if not state_is_for(state, api, version, operation):
            state = None  # saved on another operation's page: not this form's values
    return build(
        api=api, version=version, operation=operation, user=request.user,
        session=request.session, state=state if isinstance(state, dict) else None,
    )  # fmt: skip


@dataclass
class ReferenceServer:
    name: str
    issuer: str
    scopes: str
    grants: list[GrantOption]


def reference_servers(api: Api) -> list[ReferenceServer]:
    """What the reference pages say about an API's authorization servers (no secrets)."""
    links = (
        ApiAuthorizationServer.objects.filter(api=api, server__show_in_reference=True)
        .select_related("server")
        .order_by("position", "pk")
    )
    return [
        ReferenceServer(
            name=link.server.name,
            issuer=link.server.issuer or link.server.discovery_url,
            scopes=link.effective_scopes,
            grants=_grant_options(link.server),
        )
        for link in links
    ]

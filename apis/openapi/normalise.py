"""From a resolved 3.x-shaped document: operations, overview and lenient checks.

The checks are one pass of cheap structural rules (required fields, types of key objects,
declared path parameters, duplicate operationIds). Breaking them gives a warning, never a
refusal: real documents are often not strictly valid and still worth showing.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import slugify

from apis.markdown import hides_its_host
from apis.openapi.errors import pointer
from apis.openapi.values import as_dict, as_list, is_number

PARAMETER_LOCATIONS = frozenset({"query", "header", "path", "cookie", "querystring"})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
MAX_WARNINGS = 500
_SLUG_SAFE = re.compile(r"[A-Za-z0-9._~-]+")  # fullmatch: `$` passes a last \n
_TEMPLATE_VAR = re.compile(r"\{([^{}/]+)\}")
_METHOD_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,9}")  # fullmatch: `$` passes a last \n


@dataclass
class OperationSpec:
    kind: str
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    deprecated: bool
    data: dict[str, Any]
    slug: str = ""


@dataclass
class Warnings:
    items: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, where: str | None, message: str) -> None:
        if len(self.items) < MAX_WARNINGS:
            self.items.append(f"{where or '/'}: {message}" if where is not None else message)
        else:
            self.dropped += 1

    def result(self) -> list[str]:
        if self.dropped:
            return [*self.items, f"... and {self.dropped} more warnings"]
        return list(self.items)


def _param_key(param: Any) -> tuple[str, str]:
    """What makes a parameter unique: its name and location (a header's name in any case,
    as HTTP reads it)."""
    if isinstance(param, dict):
        name, location = str(param.get("name", "")), str(param.get("in", ""))
        return (name.lower() if location == "header" else name), location
    return "", ""


def _params(value: Any, where: str, warnings: Warnings) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        warnings.add(where, "parameters must be a list; ignored")
        return []
    good = []
    seen: dict[tuple[str, str], int] = {}
    for index, param in enumerate(value):
        if not isinstance(param, dict):
            warnings.add(f"{where}/{index}", "a parameter must be an object; ignored")
            continue
        key = _param_key(param)
        if key in seen:
            # OpenAPI forbids it; two rows for one parameter would tell a reader nothing.
            warnings.add(
                f"{where}/{index}",
                f"duplicate parameter {str(param.get('name'))!r} in {key[1]} "
                f"(also at {where}/{seen[key]}); ignored",
            )
            continue
        seen[key] = index
        if not isinstance(param.get("name"), str) or not isinstance(param.get("in"), str):
            warnings.add(f"{where}/{index}", "a parameter needs `name` and `in` (strings)")
        elif param["in"] not in PARAMETER_LOCATIONS:
            warnings.add(f"{where}/{index}/in", f"unknown parameter location {param['in']!r}")
        elif param["in"] == "path" and param.get("required") is not True:
            warnings.add(f"{where}/{index}", "a path parameter must have `required: true`")
        good.append(param)
    return good


def operation_slug(method: str, path: str, operation_id: str) -> str:
    if operation_id:
        # `.` and `..` are dot segments in the operation's URL: a browser resolves them away.
        if _SLUG_SAFE.fullmatch(operation_id) and operation_id not in (".", ".."):
            return operation_id[:280]
        # Separators read as word breaks: "pets/list" is pets-list, not petslist.
        slug = slugify(re.sub(r"[/\\.:]", " ", operation_id))[:280]
        if slug:
            return slug
    return f"{method}-{slugify(path.replace('/', ' '))}".rstrip("-")[:280] or method


def unique_slugs(operations: list[OperationSpec]) -> None:
    """Give every operation a slug unique within the version (-2, -3 on clashes).

    Each base's last number is kept, so the next clash goes on from there: trying -2, -3,
    ... again each time made thousands of operations sharing an operationId quadratic."""
    seen: set[str] = set()
    last: dict[str, int] = {}
    for op in operations:
        base = operation_slug(op.method, op.path, op.operation_id)
        slug, n = base, last.get(base.lower(), 1)
        while slug.lower() in seen:
            n += 1
            slug = f"{base}-{n}"
        last[base.lower()] = n
        seen.add(slug.lower())
        op.slug = slug


_SERVER_VARIABLE = re.compile(r"\{([^{}/]+)\}")


def _with_document_variables(servers: list[Any], doc_servers: list[Any] | None) -> list[Any]:
    """An operation's or path's servers, each `{name}` they leave undefined taken from the
    document's servers: Sentry repeats `https://{region}.sentry.io` on one operation without
    its `variables`, and its samples called the literal host `{region}.sentry.io`."""
    known: dict[str, Any] = {}
    for server in doc_servers or []:
        variables = server.get("variables") if isinstance(server, dict) else None
        if isinstance(variables, dict):
            for name, variable in variables.items():
                known.setdefault(str(name), variable)
    if not known or servers is doc_servers:
        return servers
    out: list[Any] = []
    for server in servers:
        if isinstance(server, dict) and isinstance(server.get("url"), str):
            declared = server.get("variables")
            own: dict[str, Any] = declared if isinstance(declared, dict) else {}
            borrowed = {
                name: known[name]
                for name in _SERVER_VARIABLE.findall(server["url"])
                if name in known and name not in own
            }
            if borrowed:
                server = {**server, "variables": {**own, **borrowed}}
        out.append(server)
    return out


def webhooks_key(doc: dict[str, Any]) -> str:
    """Where the document's webhooks are: `webhooks`, or Redoc's `x-webhooks` in a document
    without them (OpenAPI 3.0 has no `webhooks`: Clerk and Svix write their events there)."""
    return "x-webhooks" if "webhooks" not in doc and "x-webhooks" in doc else "webhooks"


def extract_operations(
    doc: dict[str, Any], spec_version: str, warnings: Warnings
) -> list[OperationSpec]:
    operations: list[OperationSpec] = []
    doc_servers = doc.get("servers") if isinstance(doc.get("servers"), list) else None
    doc_security = doc.get("security") if isinstance(doc.get("security"), list) else None
    op_ids: dict[str, str] = {}
    needs_responses = not spec_version.startswith(("3.1", "3.2"))
    # OpenAPI 3.2 tags of another `kind` than "nav" (a badge, an audience) do not name the
    # group an operation is listed under: its first navigation tag does.
    not_nav = {
        str(t["name"])
        for t in as_list(doc.get("tags"))
        if isinstance(t, dict) and "name" in t and isinstance(t.get("kind"), str)
        and t["kind"] != "nav"
    }  # fmt: skip
    for section, kind in (("paths", "operation"), (webhooks_key(doc), "webhook")):
        items = doc.get(section)
        if items is None:
            continue
        if not isinstance(items, dict):
            warnings.add(pointer(section), f"`{section}` must be an object; ignored")
            continue
        for path, item in items.items():
            if kind == "operation" and str(path).startswith("x-"):
                continue  # an extension of the Paths object, not a path (a `$ref` may use it)
            item_where = pointer(section, path)
            if not isinstance(item, dict):
                warnings.add(item_where, "a path item must be an object; ignored")
                continue
            if kind == "operation" and not str(path).startswith("/"):
                warnings.add(item_where, "a path must start with /")
            path_params = _params(item.get("parameters"), item_where + "/parameters", warnings)
            path_servers = item.get("servers") if isinstance(item.get("servers"), list) else None
            entries: list[tuple[str, Any, str]] = [
                (m, item[m], pointer(section, path, m)) for m in item if m in METHODS
            ]
            for key in item:
                if isinstance(key, str) and key not in METHODS and key.lower() in METHODS:
                    warnings.add(
                        pointer(section, path, key),
                        "not an operation: HTTP methods are written in lower case "
                        f"({key.lower()}); ignored",
                    )
            extra = item.get("additionalOperations")
            if isinstance(extra, dict):
                taken = {m: m for m, _, _ in entries}
                for m, op in extra.items():
                    where = pointer(section, path, "additionalOperations", m)
                    if not _METHOD_TOKEN.fullmatch(str(m)):
                        warnings.add(where, "not a usable HTTP method name; ignored")
                        continue
                    method = str(m).lower()
                    # One operation per method and path: a method the path item has a
                    # field for, or one written twice in other cases, is left out.
                    if method in taken:
                        first = taken[method]
                        said = f"the path item's {first}" if first in METHODS else first
                        warnings.add(where, f"{said} already names this method; ignored")
                        continue
                    if method in METHODS:
                        warnings.add(where, f"write it as the path item's {method}")
                    taken[method] = str(m)
                    entries.append((method, op, where))
            for method, op, where in entries:
                if not isinstance(op, dict):
                    warnings.add(where, "an operation must be an object; ignored")
                    continue
                own = _params(op.get("parameters"), where + "/parameters", warnings)
                own_keys = {_param_key(p) for p in own}
                merged = [p for p in path_params if _param_key(p) not in own_keys] + own
                data = dict(op)
                if merged:
                    data["parameters"] = merged
                for key in ("summary", "description"):
                    # A path item's summary and description apply to all its operations.
                    if not op.get(key) and isinstance(item.get(key), str) and item[key].strip():
                        data[key] = item[key]
                servers = (
                    (op.get("servers") if isinstance(op.get("servers"), list) else None)
                    or path_servers
                    # The API calls a webhook at the URL its consumer registers: the API's
                    # own servers are not the webhook's.
                    or (doc_servers if kind == "operation" else None)
                )
                if servers:
                    data["servers"] = _with_document_variables(servers, doc_servers)
                # Nor is the API's `security` (how its callers sign in) the webhook's: a
                # webhook has only the security it declares.
                if "security" not in op and doc_security is not None and kind == "operation":
                    data["security"] = doc_security
                if kind == "operation":
                    forgotten = _check_path_params(str(path), merged, where, warnings)
                    if forgotten:
                        data["parameters"] = merged + forgotten
                # Redoc's `x-webhooks` is no OpenAPI object: its events owe no `responses`.
                if needs_responses and "responses" not in op and section != "x-webhooks":
                    warnings.add(where, "an operation needs `responses`")
                elif "responses" in op and not isinstance(op["responses"], dict):
                    warnings.add(where + "/responses", "`responses` must be an object")
                op_id = op.get("operationId")
                if op_id is not None and not isinstance(op_id, str):
                    warnings.add(where + "/operationId", "must be a string")
                    op_id = str(op_id)
                op_id = op_id or ""
                if op_id:
                    if op_id in op_ids:
                        warnings.add(
                            where + "/operationId",
                            f"duplicate operationId {op_id!r} (also at {op_ids[op_id]})",
                        )
                    else:
                        op_ids[op_id] = where
                tags = op.get("tags")
                names = [str(t) for t in tags] if isinstance(tags, list) else []
                tag = next((n for n in names if n not in not_nav), names[0] if names else "")
                summary = data.get("summary")
                operations.append(
                    OperationSpec(
                        kind=kind,
                        method=method,
                        path=str(path),
                        operation_id=op_id,
                        summary=str(summary) if summary is not None else "",
                        tag=tag[:200],
                        deprecated=op.get("deprecated") is True,
                        data=data,
                    )
                )
    unique_slugs(operations)
    return operations


def _check_path_params(
    path: str, params: list[Any], where: str, warnings: Warnings
) -> list[dict[str, Any]]:
    """Warnings for path parameters declared and used apart; and a required string parameter
    for each one the path uses but the spec forgot (Grafana's `/mute-timings/{name}`), so the
    page lists it and the console has a field for it: without one, no call could be made."""
    declared = {
        p.get("name") for p in params if p.get("in") == "path" and isinstance(p.get("name"), str)
    }
    # Only the path: an Azure `x-ms-paths` key's query (`?popreceipt={popReceipt}`) names
    # query parameters.
    used = _TEMPLATE_VAR.findall(path.partition("?")[0])
    forgotten = [name for name in dict.fromkeys(used) if name not in declared]
    for name in forgotten:
        warnings.add(
            where, f"path parameter {{{name}}} is not declared; shown as a required string"
        )
    for name in sorted(n for n in declared - set(used) if isinstance(n, str)):
        if re.search(rf"/:{re.escape(name)}(?:/|$)", path):
            # Express's and Go's `/users/:id`: OpenAPI reads `:id` as text (console.calls
            # fills it all the same).
            warnings.add(
                where,
                f"the path writes parameter {name!r} as `:{name}`, which OpenAPI reads as text;"
                f" write `{{{name}}}`. The page shows the path as written; the console fills"
                f" `:{name}` with the value given",
            )
            continue
        warnings.add(where, f"parameter {name!r} is declared `in: path` but not in the path")
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in forgotten
    ]


def info_text(value: Any) -> str:
    """`info.title` or `info.version` as text: a string, or a number as YAML wrote it (a
    version of 1.5); an object, a list or a boolean is no name (Python would print `{'a': 1}`)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def check_document(doc: dict[str, Any], warnings: Warnings, spec_version: str) -> None:
    if doc.get("paths") is None and not spec_version.startswith(("3.1", "3.2")):
        # A root that stands alone (a folder of fragments another tool concatenates) would
        # import with no operations and no word why.
        warnings.add(
            "/paths", "`paths` is required before OpenAPI 3.1; the document has no operations"
        )
    info = doc.get("info")
    if not isinstance(info, dict):
        warnings.add("/info", "`info` must be an object")
        return
    fallback = {"title": "the file's name", "version": "`unversioned`"}
    for key in ("title", "version"):
        if key not in info or info[key] is None:
            warnings.add(pointer("info", key), f"`info.{key}` is required")
        elif not info_text(info[key]) and not isinstance(info[key], str):
            warnings.add(
                pointer("info", key), f"`info.{key}` must be text; shown as {fallback[key]}"
            )
        elif not str(info[key]).strip():
            warnings.add(pointer("info", key), f"`info.{key}` is empty; shown as {fallback[key]}")
    for key, kind in (("servers", list), ("tags", list), ("security", list)):
        if key in doc and not isinstance(doc[key], kind):
            warnings.add(pointer(key), f"`{key}` must be a list; ignored")
    comps = doc.get("components")
    if comps is not None and not isinstance(comps, dict):
        warnings.add("/components", "`components` must be an object")


_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)


def _safe_url_field(obj: Any, where: str, warnings: Warnings | None) -> Any:
    """A copy of `obj` without its `url` when that is not http(s)/mailto (javascript:, data:)
    or carries userinfo."""
    if not isinstance(obj, dict) or "url" not in obj:
        return obj
    url = obj.get("url")
    cleaned = "".join(str(url).split())  # browsers ignore whitespace inside schemes
    if not (isinstance(url, str) and _SAFE_URL.match(cleaned)):
        why = "only absolute http, https and mailto URLs are shown"
    elif hides_its_host(cleaned):
        why = "a URL with userinfo (`user@`) shows one host and goes to another"
    else:
        return obj
    if warnings is not None:
        warnings.add(where + "/url", f"URL {str(url)[:80]!r} dropped: {why}")
    return {k: v for k, v in obj.items() if k != "url"}


def build_overview(
    doc: dict[str, Any], operations: list[OperationSpec], warnings: Warnings | None = None
) -> dict[str, Any]:
    info = dict(as_dict(doc.get("info")))
    for key in ("contact", "license", "x-logo"):
        if key in info:
            info[key] = _safe_url_field(info[key], f"/info/{key}", warnings)
    comps = as_dict(doc.get("components"))
    schemes = as_dict(comps.get("securitySchemes"))
    tags: list[dict[str, Any]] = []
    names: set[str] = set()
    for tag in as_list(doc.get("tags")):
        if isinstance(tag, dict) and tag.get("name") and str(tag["name"]) not in names:
            keep = ("name", "summary", "description", "externalDocs", "parent", "kind")
            entry = {k: tag[k] for k in keep if k in tag}
            if "externalDocs" in entry:
                entry["externalDocs"] = _safe_url_field(
                    entry["externalDocs"], f"/tags/{len(tags)}/externalDocs", warnings
                )
            entry["name"] = str(tag["name"])
            tags.append(entry)
            names.add(entry["name"])
    for op in operations:
        for name in as_list(op.data.get("tags")):
            if str(name) not in names:
                names.add(str(name))
                tags.append({"name": str(name)})
    webhooks = doc.get(webhooks_key(doc))
    overview: dict[str, Any] = {
        "info": info,
        "servers": doc.get("servers") if isinstance(doc.get("servers"), list) else [],
        "securitySchemes": schemes,
        "security": doc.get("security") if isinstance(doc.get("security"), list) else [],
        "tags": tags,
        "externalDocs": _safe_url_field(
            as_dict(doc.get("externalDocs")), "/externalDocs", warnings
        ),
        "webhooks": list(webhooks) if isinstance(webhooks, dict) else [],
    }
    groups = redoc_tag_groups(doc.get("x-tagGroups"))
    if groups:  # only then: the overview of every other spec stays as it was
        overview["tagGroups"] = groups
    return overview


def redoc_tag_groups(value: Any) -> list[dict[str, Any]]:
    """Redoc's `x-tagGroups` (a list of `{name, tags}`) as the navigation reads it: each group
    with a name of text and its tags' names; entries of any other shape dropped. Which tags
    exist, a tag listed twice and groups left empty are the navigation's to settle."""
    groups = []
    for entry in as_list(value):
        if not isinstance(entry, dict):
            continue
        name = entry.get("name")
        name = str(name) if is_number(name) else name
        if not isinstance(name, str) or not name.strip():
            continue
        tags = [str(t) for t in as_list(entry.get("tags")) if isinstance(t, str) or is_number(t)]
        groups.append({"name": name.strip(), "tags": tags})
    return groups


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(^#{1,6}\s*|[*_`>]+|<[^>]+>)", re.MULTILINE)


# What a rendered description never shows: a script's or style's text, a comment.
_HIDDEN_HTML = re.compile(
    r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)", re.IGNORECASE | re.DOTALL
)


def summary_from_description(description: str, limit: int = 300) -> str:
    """The first paragraph of a CommonMark description as plain text, at most `limit` chars:
    its character references read (`&amp;` is `&`: the page escapes the text it shows)."""
    for paragraph in re.split(r"\n\s*\n", _HIDDEN_HTML.sub("", description).strip()):
        text = html.unescape(_MD_MARKS.sub("", _MD_LINK.sub(r"\1", paragraph)))
        text = " ".join(text.split())
        if text:
            if len(text) > limit:
                text = text[: limit - 1].rsplit(" ", 1)[0] + "…"
            return text
    return ""

"""Swagger 2.0 to the OpenAPI 3.0 shape, on a document whose references are resolved.

Schema references already point at `#/components/schemas/...` (the resolver rewrote them),
so this only moves things: body and formData parameters become request bodies, produces and
consumes become media types, host/basePath/schemes become servers, securityDefinitions
become securitySchemes with 3.x flows. It builds new objects and never mutates its input,
because resolved objects are shared between the places that referenced them.
"""

from __future__ import annotations

import re
from typing import Any

from apis.openapi.normalise import METHODS

SCHEMA_FIELDS = (
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
)
PARAM_FIELDS = ("name", "in", "description", "required", "allowEmptyValue", "deprecated")
# Swagger 2.0's collectionFormat as a 3.x query or form field style: (style, explode).
COLLECTION_STYLES = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
    # 3.x has no tab-delimited style: unexploded form is the nearest, and the extension
    # keeps the tab for this portal's reader (apis.openapi.model) and the reference page.
    "tsv": ("form", False),
}
FLOWS = {
    "implicit": ("implicit", ("authorizationUrl",)),
    "password": ("password", ("tokenUrl",)),
    "application": ("clientCredentials", ("tokenUrl",)),
    "accessCode": ("authorizationCode", ("authorizationUrl", "tokenUrl")),
}


def _items_schema(items: Any) -> Any:
    """A 2.0 `items` / non-body parameter to a schema."""
    if not isinstance(items, dict):
        return items
    if "$ref" in items:
        return items
    schema = {k: items[k] for k in SCHEMA_FIELDS if k in items}
    if schema.get("type") == "file":
        schema["type"] = "string"
        schema["format"] = "binary"
    if "items" in schema:
        schema["items"] = _items_schema(schema["items"])
    for key, value in items.items():
        if key.startswith("x-"):
            schema[key] = value
    if "x-nullable" in items:
        # How 2.0's generators (NSwag, go-swagger) say a value may be null; the resolver reads
        # it so in a schema, and a parameter's schema is made here, after it.
        schema["nullable"] = items["x-nullable"]
    return schema


def collection_style(param: dict[str, Any]) -> dict[str, Any]:
    """An array parameter's 2.0 `collectionFormat` (csv when absent, as 2.0 says) as 3.x
    `style` and `explode`. Path and header values are `simple` in 3.x whatever the format;
    a delimiter 3.x cannot say there (and tsv anywhere) is kept as `x-collectionFormat`."""
    if param.get("type") != "array":
        return {}
    fmt = param.get("collectionFormat")
    fmt = fmt if isinstance(fmt, str) and fmt in COLLECTION_STYLES else "csv"
    style, explode = COLLECTION_STYLES[fmt]
    out: dict[str, Any] = {"style": style, "explode": explode}
    if param.get("in") in ("path", "header"):
        # `multi` is only for query and formData in 2.0: read as csv elsewhere.
        out = {"style": "simple", "explode": False}
        if fmt in ("ssv", "pipes", "tsv"):
            out["x-collectionFormat"] = fmt
    elif fmt == "tsv":
        out["x-collectionFormat"] = fmt
    return out


def convert_parameter(param: Any) -> Any:
    """A non-body 2.0 parameter as a 3.x parameter (body/formData are handled elsewhere)."""
    if not isinstance(param, dict):
        return param
    out = {k: param[k] for k in PARAM_FIELDS if k in param}
    out["schema"] = _items_schema(param)
    out.update(collection_style(param))
    for key, value in param.items():
        if key.startswith("x-"):
            out[key] = value
    if "x-example" in param:
        # 2.0 has no parameter example; `x-example` is how its documents write one.
        out["example"] = param.get("example", param["x-example"])
    return out


def _body_from_params(params: list[Any], consumes: list[str]) -> dict[str, Any] | None:
    body = next((p for p in params if isinstance(p, dict) and p.get("in") == "body"), None)
    form = [p for p in params if isinstance(p, dict) and p.get("in") == "formData"]
    if body is not None:
        schema = body.get("schema", {})
        out: dict[str, Any] = {"content": {m: {"schema": schema} for m in consumes}}
        if body.get("description"):
            out["description"] = body["description"]
        if body.get("required"):
            out["required"] = True
        if body.get("name"):
            out["x-codegen-request-body-name"] = body["name"]
        return out
    if form:
        properties = {}
        required = []
        for p in form:
            prop = _items_schema(p)
            if p.get("description"):
                prop["description"] = p["description"]
            if "x-example" in p and isinstance(prop, dict):
                prop.setdefault("example", p["x-example"])
            properties[str(p.get("name", ""))] = prop
            if p.get("required"):
                required.append(str(p.get("name", "")))
        form_schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            form_schema["required"] = required
        # A field's collectionFormat is how its array is written: the body's encoding.
        encoding = {str(p.get("name", "")): collection_style(p) for p in form}
        encoding = {name: style for name, style in encoding.items() if style}
        has_file = any(p.get("type") == "file" for p in form)
        media = [
            m for m in consumes if m in ("multipart/form-data", "application/x-www-form-urlencoded")
        ]
        if not media:
            media = ["multipart/form-data" if has_file else "application/x-www-form-urlencoded"]
        return {
            "content": {
                m: {"schema": form_schema} | ({"encoding": dict(encoding)} if encoding else {})
                for m in media
            }
        }
    return None


def convert_response(response: Any, produces: list[str]) -> Any:
    if not isinstance(response, dict):
        return response
    out: dict[str, Any] = {"description": response.get("description", "")}
    content: dict[str, Any] = {}
    if "schema" in response:
        for media in produces or ["application/json"]:
            content[media] = {"schema": response["schema"]}
    examples = response.get("examples")
    if isinstance(examples, dict):
        for media, value in examples.items():
            content[media] = {**content.get(media, {}), "example": value}
    if content:
        out["content"] = content
    headers = response.get("headers")
    if isinstance(headers, dict):
        out["headers"] = {
            name: {
                **(
                    {"description": h["description"]}
                    if isinstance(h, dict) and "description" in h
                    else {}
                ),
                "schema": _items_schema(h),
            }
            for name, h in headers.items()
        }
    for key, value in response.items():
        if key.startswith("x-"):
            out[key] = value
    return out


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _param_key(param: Any) -> tuple[str, str]:
    if isinstance(param, dict):
        return str(param.get("name", "")), str(param.get("in", ""))
    return "", ""


def convert_operation(
    op: dict[str, Any], path_params: list[Any], consumes: list[str], produces: list[str]
) -> dict[str, Any]:
    consumes = _list(op["consumes"]) if "consumes" in op else consumes
    produces = _list(op["produces"]) if "produces" in op else produces
    own: list[Any] = op["parameters"] if isinstance(op.get("parameters"), list) else []
    own_keys = {_param_key(p) for p in own}
    # Body and form parameters cannot stay on a 3.x path item: bring them to the operation.
    inherited_body = [
        p
        for p in path_params
        if isinstance(p, dict)
        and p.get("in") in ("body", "formData")
        and _param_key(p) not in own_keys
    ]
    params = inherited_body + list(own)
    out: dict[str, Any] = {}
    for key, value in op.items():
        if key in ("consumes", "produces", "schemes"):
            continue
        if key == "parameters":
            converted = [
                convert_parameter(p)
                for p in params
                if not (isinstance(p, dict) and p.get("in") in ("body", "formData"))
            ]
            if converted:
                out["parameters"] = converted
            body = _body_from_params(params, consumes or ["application/json"])
            if body is not None:
                out["requestBody"] = body
        elif key == "responses" and isinstance(value, dict):
            out["responses"] = {code: convert_response(r, produces) for code, r in value.items()}
        else:
            out[key] = value
    if "parameters" not in op and inherited_body:
        body = _body_from_params(inherited_body, consumes or ["application/json"])
        if body is not None:
            out["requestBody"] = body
    return out


def convert_security_scheme(scheme: Any) -> Any:
    if not isinstance(scheme, dict):
        return scheme
    kind = scheme.get("type")
    extras = {k: v for k, v in scheme.items() if k.startswith("x-") or k == "description"}
    if kind == "basic":
        return {"type": "http", "scheme": "basic", **extras}
    if kind == "apiKey":
        return {"type": "apiKey", "name": scheme.get("name"), "in": scheme.get("in"), **extras}
    if kind == "oauth2":
        flow_name, urls = FLOWS.get(str(scheme.get("flow")), ("implicit", ("authorizationUrl",)))
        flow: dict[str, Any] = {u: scheme.get(u, "") for u in urls}
        flow["scopes"] = scheme.get("scopes") if isinstance(scheme.get("scopes"), dict) else {}
        return {"type": "oauth2", "flows": {flow_name: flow}, **extras}
    return dict(scheme)


def servers_from(doc: dict[str, Any]) -> list[dict[str, Any]]:
    host = doc.get("host")
    base = doc.get("basePath") or ""
    if not isinstance(base, str):
        base = ""
    if base and not base.startswith("/"):
        base = "/" + base
    parameterized = _parameterized_host(doc, base)
    if parameterized:
        return [parameterized]
    if isinstance(host, str) and host:
        schemes = _list(doc.get("schemes")) or ["https"]
        return [{"url": f"{s}://{host}{base.rstrip('/')}"} for s in schemes]
    if base:
        return [{"url": base.rstrip("/") or "/"}]
    return []


def _parameterized_host(doc: dict[str, Any], base: str) -> dict[str, Any] | None:
    """Azure's `x-ms-parameterized-host` (AutoRest) as a server with variables.

    Azure's data-plane specs name no `host`: the account or endpoint is the caller's
    (`{accountName}.queue.core.windows.net`, or `{Endpoint}` holding scheme and host). A
    variable without a default gets a placeholder that reads as what it stands for."""
    spec = doc.get("x-ms-parameterized-host")
    if not isinstance(spec, dict) or not isinstance(spec.get("hostTemplate"), str):
        return None
    template = spec["hostTemplate"].strip()
    if not template:
        return None
    with_scheme = spec.get("useSchemePrefix", True) is not False
    scheme = (_list(doc.get("schemes")) or ["https"])[0]
    declared = doc.get("parameters")
    definitions: dict[str, Any] = declared if isinstance(declared, dict) else {}
    listed = spec.get("parameters")
    variables: dict[str, dict[str, Any]] = {}

    def placeholder(name: str) -> str:
        return _host_placeholder(name, template, with_scheme, doc.get("host"), scheme)

    for param in listed if isinstance(listed, list) else []:
        if isinstance(param, dict) and isinstance(param.get("$ref"), str):
            ref = param["$ref"]
            local = ref.startswith("#/parameters/")
            param = definitions.get(ref.removeprefix("#/parameters/")) if local else None
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            continue
        name = param["name"]
        if "{" + name + "}" not in template:
            continue
        enum = [str(e) for e in _list(param.get("enum"))]
        default = param.get("default")
        if default is None:  # absent or an explicit null: the first allowed value, if any
            default = enum[0] if enum else placeholder(name)
        variable: dict[str, Any] = {"default": str(default)}
        if enum:
            variable["enum"] = enum
        if isinstance(param.get("description"), str):
            variable["description"] = param["description"]
        variables[name] = variable
    for name in _TEMPLATE_NAME.findall(template):
        # A `{name}` no listed parameter defines is still the caller's to fill: a variable,
        # so no sample or console URL keeps the literal braces.
        variables.setdefault(name, {"default": placeholder(name)})
    url = f"{scheme}://{template}" if with_scheme else template
    server: dict[str, Any] = {"url": url.rstrip("/") + base.rstrip("/")}
    if variables:
        server["variables"] = variables
    return server


_TEMPLATE_NAME = re.compile(r"\{([^{}/]+)\}")


def _host_placeholder(name: str, template: str, with_scheme: bool, host: Any, scheme: str) -> str:
    """A default for a host variable the spec gives none: the document's `host` when the
    variable is the whole host, else a placeholder named for it."""
    if template == "{" + name + "}" and isinstance(host, str) and host:
        return host if with_scheme else f"{scheme}://{host}"
    if template.startswith("{" + name + "}") and not with_scheme:
        return f"https://{name.lower()}.example.com"  # a whole base URL: scheme and host
    return name


def _convert_paths(
    paths: dict[str, Any], consumes: list[str], produces: list[str]
) -> dict[str, Any]:
    new_paths: dict[str, Any] = {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            new_paths[path] = item
            continue
        path_params: list[Any] = (
            item["parameters"] if isinstance(item.get("parameters"), list) else []
        )
        new_item: dict[str, Any] = {}
        for key, value in item.items():
            if key == "parameters":
                kept = [
                    convert_parameter(p)
                    for p in path_params
                    if not (isinstance(p, dict) and p.get("in") in ("body", "formData"))
                ]
                if kept:
                    new_item["parameters"] = kept
            elif key in METHODS and isinstance(value, dict):
                new_item[key] = convert_operation(value, path_params, consumes, produces)
            else:
                new_item[key] = value
        new_paths[path] = new_item
    return new_paths


def convert(doc: dict[str, Any]) -> dict[str, Any]:
    """A resolved Swagger 2.0 document as an OpenAPI 3.0.3 document."""
    consumes = _list(doc.get("consumes"))
    produces = _list(doc.get("produces"))
    out: dict[str, Any] = {"openapi": "3.0.3"}
    for key in ("info",):
        if key in doc:
            out[key] = doc[key]
    servers = servers_from(doc)
    if servers:
        out["servers"] = servers
    paths = doc.get("paths")
    if isinstance(paths, dict):
        out["paths"] = _convert_paths(paths, consumes, produces)
    elif paths is not None:
        out["paths"] = paths
    ms_paths = doc.get("x-ms-paths")
    if isinstance(ms_paths, dict) and ms_paths:
        # Azure's AutoRest extension: paths that differ only by their query (`/?comp=list`),
        # which `paths` cannot hold. They are operations like any other; a key `paths` has
        # already stays as `paths` wrote it.
        extra = _convert_paths(ms_paths, consumes, produces)
        out["paths"] = {**extra, **out["paths"]} if isinstance(out.get("paths"), dict) else extra
    components: dict[str, Any] = {}
    definitions = doc.get("definitions")
    if isinstance(definitions, dict) and definitions:
        components["schemas"] = definitions
    params = doc.get("parameters")
    if isinstance(params, dict):
        plain = {}
        bodies = {}
        for name, p in params.items():
            if isinstance(p, dict) and p.get("in") in ("body", "formData"):
                body = _body_from_params([p], consumes or ["application/json"])
                if body is not None:
                    bodies[name] = body
            else:
                plain[name] = convert_parameter(p)
        if plain:
            components["parameters"] = plain
        if bodies:
            components["requestBodies"] = bodies
    responses = doc.get("responses")
    if isinstance(responses, dict):
        components["responses"] = {k: convert_response(v, produces) for k, v in responses.items()}
    security_defs = doc.get("securityDefinitions")
    if isinstance(security_defs, dict):
        components["securitySchemes"] = {
            k: convert_security_scheme(v) for k, v in security_defs.items()
        }
    if components:
        out["components"] = components
    for key in ("security", "tags", "externalDocs"):
        if key in doc:
            out[key] = doc[key]
    for key, value in doc.items():
        if isinstance(key, str) and key.startswith("x-") and key != "x-ms-paths":
            out[key] = value
    return out

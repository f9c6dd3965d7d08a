"""The call the console sent, as code: curl, Python requests, JavaScript fetch and HTTPie.

The access token is a placeholder (`$ACCESS_TOKEN`) unless the user asks to reveal it. HTTP
basic credentials are always the placeholders `$API_USER` and `$API_PASSWORD`, each language's
own way of sending a user name and password: they are only ever pasted, and a pasted secret
never reaches the page.
"""

from __future__ import annotations

import json
import pprint
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from console.calls import PreparedCall, Upload

PLACEHOLDER = "$ACCESS_TOKEN"
# Placeholders the reader sets in the environment (console/samples.py writes them): every
# language reads them from there, the token's way; any other `$` is plain text.
_ENV = re.compile(r"\$(ACCESS_TOKEN|API_KEY|SUBSCRIPTION_KEY|PASSWORD)(?![A-Za-z0-9_])")


def _with_env(value: str, text: Callable[[str], str], env: Callable[[str], str]) -> list[str]:
    """`value` in pieces: its plain runs through `text`, each placeholder's name through
    `env` (one language's way of reading the environment)."""
    pieces, at = [], 0
    for found in _ENV.finditer(value):
        pieces += [text(value[at : found.start()]), env(found[1])]
        at = found.end()
    return [*pieces, text(value[at:])]


BASIC_USER, BASIC_PASSWORD = "API_USER", "API_PASSWORD"
_BASIC_PAIR = f'"${BASIC_USER}:${BASIC_PASSWORD}"'  # double quotes: the shell expands both


@dataclass(frozen=True)
class Snippet:
    key: str
    label: str
    language: str
    code: str


def _auth(token: str | None, scheme: str) -> str | None:
    if token is None:
        return None
    return f"{scheme} {token}"


def _py(value: object) -> str:
    return repr(value)


def curl(call: PreparedCall, authorization: str | None, basic: bool = False) -> str:
    # -g: curl would read `[1-5]` or `{a,b}` in a URL as a pattern and make many calls.
    globoff = "-g " if _GLOB.search(call.url) else ""
    lines = [f"curl {globoff}-X {call.method} {_sh(call.url)}"]
    headers = dict(call.headers)
    if call.body_kind == "multipart":
        headers.pop("Content-Type", None)  # curl writes its own boundary
    if basic:
        lines.append(f"-u {_BASIC_PAIR}")
    elif authorization:
        lines.append(f"-H {_shell_header('Authorization', authorization)}")
    lines += [f"-H {_shell_header(k, v)}" for k, v in headers.items()]
    if call.body_kind == "multipart":
        lines += [_curl_part(k, v, call.part_types.get(k)) for k, v in call.form_fields]
        lines += [
            f"-F {shlex.quote(f'{_field(u.field)}=@{_local_file(u.filename)}{_file_type(u)}')}"
            for u in call.files
        ]
    elif call.body_kind == "form":
        # The name escaped: `name@path` (an `@` before any `=`) reads a file.
        lines += [
            f"--data-urlencode {_sh(f'{quote(k, safe=_NAME_SAFE)}={v}')}"
            for k, v in call.form_fields
        ]
    elif call.files:
        lines.append(f"--data-binary @{shlex.quote(_local_file(call.files[0].filename))}")
    elif call.body_kind != "none":
        lines.append(f"--data-raw {shlex.quote(call.text_body)}")
    return " \\\n  ".join(lines)


def _curl_part(name: str, value: str, content_type: str | None) -> str:
    """One multipart field. `--form-string`, not `-F`: `-F 'bio=</path'` and `=@/path` read
    the reader's file. A typed part needs `-F` (`--form-string` takes no `;type=`), with the
    value in double quotes, which curl reads literally (backslashes and quotes escaped)."""
    if content_type is None or not _MEDIA_TYPE.fullmatch(content_type):
        return f"--form-string {_sh(f'{name}={value}')}"
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return f"-F {_sh(f'{name}="{quoted}";type={content_type}')}"


# Spec text picks field names, file names and example values: none may make a copied snippet
# read a file of the reader's (curl's `@`/`<`, HTTPie's `=@`, `@`, `:=@`) or break out of a
# comment.
_GLOB = re.compile(r"[\[\]{}]")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_NAME_SAFE = "[]"  # kept readable in a form field's name (`tags[]`); quote() keeps `_.-~`
_HTTPIE_SEPARATORS = re.compile(r"([\\:=@;])")
# A part type curl's `;type=` holds whole (no parameters: `;` and `,` end it there).
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+")


def _file_type(upload: Upload) -> str:
    """`;type=...` after a file part's name, as curl's `-F` and HTTPie read it, when it has
    a type other than the one both guess for a `.bin` file."""
    kind = upload.content_type
    if kind == "application/octet-stream" or not _MEDIA_TYPE.fullmatch(kind):
        return ""
    return f";type={kind}"


def _local_file(name: str) -> str:
    """A file name a snippet may open: the last part, plain characters, not hidden."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE_NAME.sub("_", last).lstrip(".") or "file.bin"


def _field(name: str) -> str:
    """A file part's field name as curl's `-F name=@file` and HTTPie's `name@file` can hold."""
    return _UNSAFE_NAME.sub("_", name) or "file"


def _hx_key(text: str) -> str:
    """An HTTPie item's name: separators escaped, so the one after it is the separator."""
    return _HTTPIE_SEPARATORS.sub(r"\\\1", text)


def _hx_value(text: str) -> str:
    """An HTTPie item's value: a leading `=` or `@` would make `=@`, `:=@` or `==` of it."""
    return "\\" + text if text[:1] in ("=", "@") else text


def _shell_header(name: str, value: str) -> str:
    return _sh(f"{name}: {value}")


def _sh(value: str) -> str:
    """`value` as one shell word: in double quotes when it holds a placeholder, which the
    shell then expands (and nothing else: `"`, `\\`, `` ` `` and other `$` escaped)."""
    if not _ENV.search(value):
        return shlex.quote(value)
    escaped = _with_env(value, lambda t: re.sub(r'([\\"$`])', r"\\\1", t), lambda n: f"${n}")
    return '"' + "".join(escaped) + '"'


def python(call: PreparedCall, authorization: str | None, basic: bool = False) -> str:
    headers = dict(call.headers)
    if call.body_kind == "multipart":
        headers.pop("Content-Type", None)
    lines = ["import requests", ""]
    if basic:
        authorization = None
    elif authorization and PLACEHOLDER in authorization:
        scheme = authorization.split(" ", 1)[0]
        auth_expr = f"f\"{scheme} {{os.environ['ACCESS_TOKEN']}}\""
    else:
        auth_expr = _py(authorization) if authorization else ""
    lines.append("headers = {")
    if authorization:
        lines.append(f'    "Authorization": {auth_expr},')
    lines += [f"    {_py(k)}: {_py_text(v)}," for k, v in headers.items()]
    lines.append("}")
    args = [_py(call.method), _py_text(call.url), "headers=headers"]
    if basic:
        args.append(f"auth=(os.environ['{BASIC_USER}'], os.environ['{BASIC_PASSWORD}'])")
    if call.body_kind == "json":
        try:
            if not _pretty_enough(call.text_body):
                raise ValueError("sent as its text")
            parsed = json.loads(call.text_body)
            payload = pprint.pformat(parsed, sort_dicts=False, width=88)
        except (ValueError, RecursionError):  # not JSON, or nested past what pprint walks
            args.append(f"data={_py(call.text_body)}")
        else:
            lines.append(f"payload = {payload}")
            args.append("json=payload")
    elif call.body_kind == "form":
        names = [name for name, _ in call.form_fields]
        # An exploded array repeats its name: a dict would keep its last item only.
        fields = call.form_fields if len(set(names)) < len(names) else dict(call.form_fields)
        args.append(f"data={_py(fields)}")
    elif call.body_kind == "multipart":
        # Every part in `files`, as (name, (filename, content, type)) pairs: `data` with an
        # empty `files` is sent urlencoded, and a name may repeat (an array of files).
        parts = [
            f"({_py(k)}, (None, {_py(v)}, {_py(call.part_types[k])}))"
            if k in call.part_types
            else f"({_py(k)}, (None, {_py(v)}))"
            for k, v in call.form_fields
        ] + [
            f"({_py(u.field)}, ({_py(_local_file(u.filename))}, open({_py(_local_file(u.filename))}, 'rb'), "
            f"{_py(u.content_type)}))"
            for u in call.files
        ]
        args.append(f"files=[{', '.join(parts)}]")
    elif call.files:
        args.append(f"data=open({_py(_local_file(call.files[0].filename))}, 'rb')")
    elif call.body_kind != "none":
        args.append(f"data={_py(call.text_body)}")
    lines.append(f"response = requests.request({', '.join(args)}, timeout=10)")
    lines.append("print(response.status_code, response.text)")
    if any("os.environ[" in line for line in lines):  # a placeholder, or basic credentials
        lines[0:1] = ["import os", "", "import requests"]
    return "\n".join(lines)


# pprint measures each nested value again at every level above it: its time grows with size
# times depth (40 KB 200 levels deep took 26 s). Past these the body goes as its text.
PRETTY_MAX_CHARS = 16 * 1024
PRETTY_MAX_DEPTH = 16


def _pretty_enough(text: str) -> bool:
    """Whether a JSON body is small and shallow enough for pprint (brackets inside strings
    are text, not nesting)."""
    if len(text) > PRETTY_MAX_CHARS:
        return False
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest <= PRETTY_MAX_DEPTH


def _py_text(value: str) -> str:
    """A string expression; placeholders read from the environment (`os.environ[...]`)."""
    if not _ENV.search(value):
        return _py(value)
    parts = _with_env(value, _py, lambda name: f"os.environ[{name!r}]")
    return " + ".join(p for p in parts if p not in ("''", '""'))


def _js(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _js_text(value: str) -> str:
    """A string expression; placeholders as `${NAME}` in a template literal, as the token."""
    if not _ENV.search(value):
        return _js(value)
    return "`" + "".join(_with_env(value, _js_literal, lambda name: "${" + name + "}")) + "`"


def _js_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")


def fetch(call: PreparedCall, authorization: str | None, basic: bool = False) -> str:
    headers = dict(call.headers)
    lines: list[str] = []
    if call.body_kind == "multipart":
        headers.pop("Content-Type", None)  # the browser sets the boundary
        lines.append("const body = new FormData();")
        # FormData gives a string part no type (a Blob would become a file named "blob"):
        # call.part_types are left to the curl and Python snippets and the console.
        lines += [f"body.append({_js(k)}, {_js(v)});" for k, v in call.form_fields]
        lines += [
            f"body.append({_js(u.field)}, fileInput.files[0]);  // {_local_file(u.filename)}"
            for u in call.files
        ]
    elif call.body_kind == "form":
        pairs = ", ".join(f"[{_js(k)}, {_js(v)}]" for k, v in call.form_fields)
        lines.append(f"const body = new URLSearchParams([{pairs}]);")
    elif call.files:
        lines.append("const body = fileInput.files[0];")
    elif call.body_kind != "none":
        lines.append(f"const body = {_js(call.text_body)};")
    header_lines = []
    if basic:
        pair = f"`${{{BASIC_USER}}}:${{{BASIC_PASSWORD}}}`"
        header_lines.append(f'    "Authorization": `Basic ${{btoa({pair})}}`,')
    elif authorization:
        if PLACEHOLDER in authorization:
            scheme = authorization.split(" ", 1)[0]
            header_lines.append(f'    "Authorization": `{scheme} ${{ACCESS_TOKEN}}`,')
        else:
            header_lines.append(f'    "Authorization": {_js(authorization)},')
    header_lines += [f"    {_js(k)}: {_js_text(v)}," for k, v in headers.items()]
    options = [f"  method: {_js(call.method)},", "  headers: {", *header_lines, "  },"]
    if call.body_kind != "none" or call.files:
        options.append("  body,")
    lines.append(f"const response = await fetch({_js_text(call.url)}, {{")
    lines += options
    lines.append("});")
    lines.append("console.log(response.status, await response.text());")
    return "\n".join(lines)


def httpie(call: PreparedCall, authorization: str | None, basic: bool = False) -> str:
    parts = ["http"]
    if call.body_kind == "multipart":
        parts.append("--multipart")
    elif call.body_kind == "form":
        parts.append("--form")
    parts += [call.method, _sh(call.url)]
    headers = dict(call.headers)
    if call.body_kind in ("multipart", "form"):
        headers.pop("Content-Type", None)
    if basic:
        parts.append(f"-a {_BASIC_PAIR}")
    elif authorization:
        parts.append(_shell_header("Authorization", authorization).replace(": ", ":", 1))
    parts += [_sh(f"{_hx_key(k)}:{_hx_value(v)}") for k, v in headers.items()]
    if call.body_kind in ("multipart", "form"):
        parts += [_sh(f"{_hx_key(k)}={_hx_value(v)}") for k, v in call.form_fields]
        parts += [
            shlex.quote(f"{_field(u.field)}@{_local_file(u.filename)}{_file_type(u)}")
            for u in call.files
        ]
    elif call.files:
        parts.append(f"@{shlex.quote(_local_file(call.files[0].filename))}")
    elif call.body_kind != "none":
        parts.insert(1, f"--raw={shlex.quote(call.text_body)}")
    return " \\\n  ".join(parts)


def snippets(call: PreparedCall, token: str | None, scheme: str = "Bearer") -> list[Snippet]:
    """Every snippet for `call`; `token` None means no Authorization header at all.

    With the Basic scheme `token` only says credentials are needed: its value is never shown.
    """
    basic = token is not None and scheme.lower() == "basic"
    authorization = None if basic else _auth(token, scheme)
    return [
        Snippet("curl", "curl", "shell", curl(call, authorization, basic)),
        Snippet("python", "Python requests", "python", python(call, authorization, basic)),
        Snippet("fetch", "JavaScript fetch", "javascript", fetch(call, authorization, basic)),
        Snippet("httpie", "HTTPie", "shell", httpie(call, authorization, basic)),
    ]

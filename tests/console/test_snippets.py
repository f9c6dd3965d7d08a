"""The call as code: the token is a placeholder unless revealed, and the code is valid."""

from __future__ import annotations

import ast
import shlex

from console.calls import PreparedCall, Upload
from console.snippets import PLACEHOLDER, snippets

JSON_CALL = PreparedCall(
    method="POST",
    url="http://127.0.0.1:8000/gateway/echo/anything?a=b'c",
    headers={"Content-Type": "application/json", "X-Note": "it's"},
    body=b'{"text": "hi", "ok": true, "none": null}',
    body_kind="json",
    text_body='{"text": "hi", "ok": true, "none": null}',
)


def by_key(call: PreparedCall, token: str | None) -> dict[str, str]:
    return {s.key: s.code for s in snippets(call, token)}


def test_a_large_or_deep_json_body_goes_in_the_python_snippet_as_its_text() -> None:
    """pprint re-measures every nested value at each level: a 40 KB body 200 arrays deep
    held the send (or a reveal) for 26 s, and the 2.5 MB a form may post, far longer. Past
    a size or depth the Python snippet sends the body's text as it is (its Content-Type
    header is already there), as it does for a body that is not JSON."""
    for text in ("[" * 200 + "7," * 20_000 + "7" + "]" * 200, '{"a": "' + "x" * 40_000 + '"}'):
        call = PreparedCall(
            method="POST", url="http://127.0.0.1:8000/gateway/echo/anything",
            headers={"Content-Type": "application/json"}, body=text.encode(),
            body_kind="json", text_body=text,
        )  # fmt: skip
        code = by_key(call, None)["python"]
        tree = ast.parse(code)
        data = next(
            kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
            for kw in node.keywords if kw.arg == "data"
        )  # fmt: skip
        assert ast.literal_eval(data) == text
        assert "payload" not in code and "'Content-Type': 'application/json'" in code


def test_placeholder_until_revealed() -> None:
    hidden = by_key(JSON_CALL, PLACEHOLDER)
    assert all("$ACCESS_TOKEN" in code or "ACCESS_TOKEN" in code for code in hidden.values())
    assert all("eyJsecret" not in code for code in hidden.values())
    shown = by_key(JSON_CALL, "eyJsecret")
    assert all("eyJsecret" in code for code in shown.values())
    assert "Authorization" not in "".join(by_key(JSON_CALL, None).values())


def test_python_snippet_is_valid_python_with_the_same_payload() -> None:
    code = by_key(JSON_CALL, PLACEHOLDER)["python"]
    tree = ast.parse(code)
    payload = next(
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "payload"
    )  # fmt: skip
    assert ast.literal_eval(payload) == {"text": "hi", "ok": True, "none": None}
    assert "os.environ['ACCESS_TOKEN']" in code


def test_curl_and_httpie_quote_for_the_shell() -> None:
    code = by_key(JSON_CALL, "tok")
    words = shlex.split(code["curl"].replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", "http://127.0.0.1:8000/gateway/echo/anything?a=b'c"]
    assert "Authorization: Bearer tok" in words and "X-Note: it's" in words
    assert words[-1] == '{"text": "hi", "ok": true, "none": null}'
    httpie = shlex.split(code["httpie"].replace("\\\n", " "))
    assert "Authorization:Bearer tok" in httpie and "X-Note:it's" in httpie


def test_multipart_snippets_name_the_file() -> None:
    call = PreparedCall(
        method="POST", url="http://h/x", headers={"Content-Type": "multipart/form-data; boundary=b"},
        body_kind="multipart", form_fields=[("note", "n")], files=[Upload("file", "a.png", "image/png", b"")],
    )  # fmt: skip
    code = by_key(call, None)
    assert "-F 'file=@a.png;type=image/png'" in code["curl"] and "boundary" not in code["curl"]
    assert 'body.append("file", fileInput.files[0]);' in code["fetch"]
    assert (
        "files=[('note', (None, 'n')), ('file', ('a.png', open('a.png', 'rb'), 'image/png'))]"
        in code["python"]
    )
    ast.parse(code["python"])


def test_a_multipart_python_snippet_without_a_file_still_sends_multipart() -> None:
    import requests

    call = PreparedCall(
        method="POST", url="http://h/x", headers={"Content-Type": "multipart/form-data"},
        body_kind="multipart", form_fields=[("note", "n")],
    )  # fmt: skip
    code = by_key(call, None)["python"]
    files = code.split("files=", 1)[1].rsplit(", timeout", 1)[0]
    prepared = requests.Request("POST", "http://h/x", files=eval(files)).prepare()  # noqa: S307
    assert str(prepared.headers["Content-Type"]).startswith("multipart/form-data; boundary=")


def basic_snippets(token: str) -> dict[str, str]:
    return {s.key: s.code for s in snippets(JSON_CALL, token, "Basic")}


def test_basic_credentials_are_a_user_and_password_from_the_environment() -> None:
    # A basic scheme's snippets ask for the user name and password (what the reader has), not
    # an "access token" nor base64 made by hand; each runs as written with the two set.
    code = basic_snippets(PLACEHOLDER)
    curl = shlex.split(code["curl"].replace("\\\n", " "))
    assert curl[curl.index("-u") + 1] == "$API_USER:$API_PASSWORD"  # expanded by the shell
    assert '-u "$API_USER:$API_PASSWORD"' in code["curl"]
    assert '-a "$API_USER:$API_PASSWORD"' in code["httpie"]
    assert "auth=(os.environ['API_USER'], os.environ['API_PASSWORD'])" in code["python"]
    ast.parse(code["python"])
    assert '"Authorization": `Basic ${btoa(`${API_USER}:${API_PASSWORD}`)}`' in code["fetch"]
    for snippet in code.values():
        assert "ACCESS_TOKEN" not in snippet and "Authorization: Basic" not in snippet


def test_basic_credentials_never_reach_a_snippet() -> None:
    # Even handed the real "user:password" in base64, the snippets keep the placeholders.
    code = basic_snippets("YWRhOnB3")
    assert all("YWRhOnB3" not in snippet for snippet in code.values())
    assert all("API_PASSWORD" in snippet for snippet in code.values())


KEYED_CALL = PreparedCall(
    method="GET",
    url="https://api.example.test/lists.json?api-key=$API_KEY&q=a$b",
    headers={"X-Api-Key": "$API_KEY", "Ocp-Apim-Subscription-Key": "$SUBSCRIPTION_KEY",
             "Cookie": "session=$API_KEY", "X-Note": 'say "hi" `now` \\ $HOME'},
)  # fmt: skip
ENV = {"API_KEY": "k-1", "SUBSCRIPTION_KEY": "s-2", "HOME": "/root", "PATH": "/usr/bin:/bin"}


def _run_shell(code: str, program: str) -> list[str]:
    """The arguments `program` would get, the snippet run by bash with ENV set."""
    import subprocess

    script = f'{program}() {{ printf "%s\\n" "$@"; }}\n{code}'
    out = subprocess.run(["bash", "-c", script], env=ENV, capture_output=True, text=True)
    return out.stdout.splitlines()


def test_api_and_subscription_keys_come_from_the_environment_as_the_token_does() -> None:
    # `-H 'X-Api-Key: $API_KEY'` in single quotes sent the literal text "$API_KEY", unlike the
    # token's "$ACCESS_TOKEN"; Python and fetch sent it literally too.
    code = by_key(KEYED_CALL, None)
    curl = _run_shell(code["curl"], "curl")
    assert "https://api.example.test/lists.json?api-key=k-1&q=a$b" in curl
    assert "X-Api-Key: k-1" in curl and "Ocp-Apim-Subscription-Key: s-2" in curl
    assert "Cookie: session=k-1" in curl
    assert 'X-Note: say "hi" `now` \\ $HOME' in curl  # nothing else is expanded
    httpie = _run_shell(code["httpie"], "http")
    assert (
        "X-Api-Key:k-1" in httpie
        and "https://api.example.test/lists.json?api-key=k-1&q=a$b" in httpie
    )

    sent: dict[str, object] = {}

    class FakeRequests:
        @staticmethod
        def request(method: str, url: str, **kwargs: object) -> object:
            sent.update(url=url, **kwargs)

            class Response:
                status_code, text = 200, ""

            return Response()

    import os
    import sys
    import types

    fake = types.ModuleType("requests")
    fake.request = FakeRequests.request  # type: ignore[attr-defined]
    with_env = {**os.environ, **ENV}
    saved_modules, saved_env = sys.modules.get("requests"), dict(os.environ)
    try:
        sys.modules["requests"] = fake
        os.environ.update(with_env)
        exec(compile(code["python"], "snippet.py", "exec"), {})  # noqa: S102
    finally:
        if saved_modules is not None:
            sys.modules["requests"] = saved_modules
        os.environ.clear()
        os.environ.update(saved_env)
    assert sent["url"] == "https://api.example.test/lists.json?api-key=k-1&q=a$b"
    headers = sent["headers"]
    assert isinstance(headers, dict)
    assert headers["X-Api-Key"] == "k-1" and headers["Cookie"] == "session=k-1"
    assert headers["X-Note"] == 'say "hi" `now` \\ $HOME'
    assert "${API_KEY}" in code["fetch"] and "${SUBSCRIPTION_KEY}" in code["fetch"]


def test_spec_text_never_makes_a_snippet_read_the_readers_files() -> None:
    # A multipart example `</home/me/.ssh/id_rsa` was `-F 'bio=</home/...'`: curl read the
    # reader's file into the field and sent it to the spec's server (and `@` attaches it).
    # HTTPie reads `field=@path` the same way; curl globs `[1-5]` and `{a,b}` in URLs.
    call = PreparedCall(
        method="POST", url="http://h/g[1-5]{a,b}", headers={"Content-Type": "multipart/form-data"},
        body_kind="multipart",
        form_fields=[("bio", "</tmp/secret"), ("avatar", "@/tmp/secret"), ("a@/tmp/secret", "x")],
        files=[Upload("doc=@/tmp/secret;x", "../../tmp/secret", "text/plain", b"")],
    )  # fmt: skip
    code = by_key(call, None)
    curl = code["curl"]
    # fields go as --form-string: never a file (the one -F is the upload's own part)
    assert "-F" not in curl.replace("-F 'doc_", "")
    assert "--form-string 'bio=</tmp/secret'" in curl
    assert "-g" in curl.split("\n")[0]
    assert "@../" not in curl and "=@/tmp" not in curl.split("--form-string")[-1].split("\n", 1)[-1]
    httpie = code["httpie"]
    assert "'bio=\\</tmp/secret'" in httpie or "'bio=</tmp/secret'" in httpie
    assert "'avatar=\\@/tmp/secret'" in httpie
    assert "a\\@/tmp/secret=x" in httpie
    assert "open('secret'" in code["python"] or "open('tmp_secret'" in code["python"]
    assert "../" not in code["python"]
    form = PreparedCall(
        method="POST", url="http://h/x", headers={"Content-Type": "application/x-www-form-urlencoded"},
        body_kind="form", form_fields=[("a@/tmp/secret", "x"), ("ok", "@/tmp/secret")],
    )  # fmt: skip
    curl = by_key(form, None)["curl"]
    assert "--data-urlencode 'a@" not in curl  # `name@file` reads the file
    assert "--data-urlencode ok=@/tmp/secret" in curl  # `name=content`: literal


def test_a_form_python_snippet_keeps_every_field_of_a_repeated_name() -> None:
    """An exploded array is one field per item (`locales=fr&locales=en`); the Python
    snippet built a dict of the fields, so it sent `locales=en` alone."""
    call = PreparedCall(
        method="POST",
        url="https://api.example.com/v1/customers",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body_kind="form",
        form_fields=[("locales", "fr"), ("locales", "en"), ("name", "Ada")],
    )
    code = by_key(call, None)["python"]
    data = next(
        keyword.value for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)
        for keyword in node.keywords if keyword.arg == "data"
    )  # fmt: skip
    assert ast.literal_eval(data) == [("locales", "fr"), ("locales", "en"), ("name", "Ada")]


def test_a_multipart_python_snippet_gives_typed_parts_their_type() -> None:
    """A part the body's encoding types (an object's JSON) goes out with its Content-Type
    from the console; the Python snippet sent it untyped."""
    call = PreparedCall(
        method="POST",
        url="https://api.example.com/reports",
        headers={},
        body_kind="multipart",
        form_fields=[("meta", '{"a": 1}'), ("note", "n")],
        part_types={"meta": "application/json"},
    )
    code = by_key(call, None)["python"]
    files = next(
        keyword.value for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)
        for keyword in node.keywords if keyword.arg == "files"
    )  # fmt: skip
    assert ast.literal_eval(files) == [
        ("meta", (None, '{"a": 1}', "application/json")),
        ("note", (None, "n")),
    ]


def _received_by_curl(code: str) -> bytes:
    """The request body a real curl sends when the snippet is run by bash (against a server on
    loopback that reads one request)."""
    import socket
    import subprocess
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(
                line.split(b":", 1)[1] for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ))  # fmt: skip
            while len(body) < length:
                body += conn.recv(65536)
            got.append(body)
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    script = code.replace("http://h/x", f"http://127.0.0.1:{port}/x")
    subprocess.run(["bash", "-c", script + " -s -m 5"], env=ENV, check=True, cwd="/")
    thread.join(5)
    server.close()
    return got[0]


def test_a_multipart_curl_snippet_gives_typed_parts_their_type_and_reads_no_file() -> None:
    """A part the body's encoding types went out untyped (`--form-string` cannot carry a type),
    so a server reading `meta` as JSON by its Content-Type refused the copied call. Typed
    parts go as `-F name="value";type=...`: quoted, curl reads neither `@` nor `<` as a file."""
    call = PreparedCall(
        method="POST", url="http://h/x", headers={}, body_kind="multipart",
        form_fields=[("meta", '{"a": "x;y\\\\z \\"q\\""}'), ("bio", "@/etc/hostname"),
                     ("note", "</etc/hostname")],
        part_types={"meta": "application/json", "bio": "text/plain", "note": "bad type;x=1"},
    )  # fmt: skip
    body = _received_by_curl(by_key(call, None)["curl"])
    parts = body.split(b"\r\n--")
    meta = next(p for p in parts if b'name="meta"' in p)
    assert b"Content-Type: application/json\r\n\r\n" + b'{"a": "x;y\\\\z \\"q\\""}' in meta
    bio = next(p for p in parts if b'name="bio"' in p)
    assert b"Content-Type: text/plain\r\n\r\n@/etc/hostname" in bio
    note = next(p for p in parts if b'name="note"' in p)  # a type curl cannot hold: untyped
    assert note.endswith(b"\r\n\r\n</etc/hostname")

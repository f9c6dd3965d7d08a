"""`manage.py importspec`: exit codes, messages that name the place, URL import limits."""

from __future__ import annotations

import io
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apis.models import Api, ApiVersion
from tests.conftest import REPO_ROOT
from tests.portal.loopback import Route, loopback_server

pytestmark = pytest.mark.django_db

GOOD = """\
openapi: 3.0.3
info: {title: Good API, version: '1.0'}
paths:
  /a:
    get: {operationId: getA, responses: {'200': {description: ok}}}
  /b/{id}:
    get: {responses: {'200': {description: ok}}}
"""


def run(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command("importspec", *args, stdout=out, **options)
    return out.getvalue()


def refused(*args: str, **options: Any) -> CommandError:
    with pytest.raises(CommandError) as info:
        run(*args, **options)
    assert not ApiVersion.objects.exists()
    return info.value


def test_success_prints_one_summary_line_and_warnings(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    out = run(str(path), publish=True)
    lines = out.splitlines()
    assert lines[0] == "Imported 'Good API' version 1.0 as good-api: 2 operations"
    assert lines[1] == "1 warning:"
    assert "path parameter {id} is not declared" in lines[2]
    api = Api.objects.get(slug="good-api")
    assert api.is_published
    assert api.default_version is not None
    assert api.default_version.warnings == [lines[2].split("warning: ")[1]]


def test_same_label_refused_then_replace(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    run(str(path), slug="good")
    with pytest.raises(CommandError) as info:
        run(str(path), slug="good")
    assert info.value.returncode == 3
    assert "good already has a version '1.0'; use --replace" in str(info.value)
    assert run(str(path), slug="good", replace=True).startswith("Replaced 'Good API'")
    assert ApiVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "code", "message"),
    [
        (
            "bad.json",
            '{\n  "openapi": "3.0.3",\n  "info": {,}\n}',
            1,
            "bad.json:3:12: not valid JSON",
        ),
        ("bad.yaml", "openapi: 3.0.3\ninfo:\n  title: [oops\n", 1, "bad.yaml:4:1: not valid YAML"),
        ("x.yaml", "hello: world\n", 1, "x.yaml#: not an OpenAPI document"),
        ("v.yaml", "openapi: 9.9.9\n", 1, "v.yaml#/openapi: unsupported OpenAPI version"),
        (
            "r.yaml",
            GOOD + "components: {schemas: {A: {$ref: 'http://169.254.169.254/x'}}}\n",
            1,
            "r.yaml#/components/schemas/A/$ref: $ref 'http://169.254.169.254/x' points at a URL",
        ),
        (
            "d.yaml",
            GOOD + "components: {parameters: {A: {$ref: '#/components/parameters/B'}}}\n",
            1,
            "d.yaml#/components/parameters/A/$ref: $ref target #/components/parameters/B does not "
            "exist [ref-missing]",
        ),
        (
            "e.yaml",
            "openapi: 3.0.3\nx: !!python/object/apply:os.system [id]\n",
            1,
            "unsupported YAML tag",
        ),
    ],
)
def test_bad_documents_name_the_place(
    tmp_path: Path, name: str, content: str, code: int, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    error = refused(str(path))
    assert error.returncode == code
    assert message in str(error)


def test_missing_file_and_bad_slug(tmp_path: Path) -> None:
    assert refused(str(tmp_path / "nope.yaml")).returncode == 2
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert refused(str(path), slug="bad slug!").returncode == 3


def test_folder_and_zip_bundles_with_root(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "main.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Good API, version: '1.0'}\npaths:\n"
        "  /a:\n    get: {$ref: 'ops.yaml#/getA'}\n"
        "  /b:\n    get: {responses: {'200': {description: ok}}}\n"
    )
    (folder / "ops.yaml").write_text(
        "getA: {operationId: getA, responses: {'200': {description: ok}}}\n"
    )
    (folder / "copy.yaml").write_text(GOOD)
    error = refused(str(folder))
    assert "several files look like root documents (copy.yaml, main.yaml)" in str(error)
    assert str(error).endswith("name the root document [root] (choose it with --root)")
    assert run(str(folder), root="main.yaml").startswith("Imported 'Good API' version 1.0")
    version = ApiVersion.objects.get()
    assert (version.source_format, version.root_path) == ("bundle", "main.yaml")

    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "main.yaml", "main.yaml")
        zf.write(folder / "ops.yaml", "ops.yaml")
    out = run(str(archive), slug="zipped")
    assert out.startswith("Imported 'Good API' version 1.0 as zipped: 2 operations")
    assert bytes(ApiVersion.objects.get(api__slug="zipped").original) == archive.read_bytes()


def test_zip_holding_a_symbolic_link_is_refused_naming_it(tmp_path: Path) -> None:
    # `zip --symlinks` stores a link as its target path with S_IFLNK in the entry's mode;
    # read as a file, that path text was imported as the schema a `$ref` names.
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            "main.yaml",
            GOOD.replace(
                "{'200': {description: ok}}}\n",
                "{'200': {description: ok, content: {text/plain: {schema: {$ref: 'ops.yaml'}}}}}}\n",
            ),
        )
        link = zipfile.ZipInfo("ops.yaml")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "../../secrets/ops.yaml")
    error = refused(str(archive))
    assert error.returncode == 1
    assert "bundle.zip: the zip holds a symbolic link, 'ops.yaml'" in str(error)


def test_process_exit_status_and_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"openapi": "3.0.3",,}')
    proc = subprocess.run(
        [sys.executable, "manage.py", "importspec", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "bad.json:1:21: not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- URL import --------------------------------------------------------------------------


def test_url_import_through_the_outbound_wrapper(settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    routes = {
        "/specs/good.yaml": Route(body=GOOD.encode(), headers={"Content-Type": "application/yaml"}),
        "/moved": Route(302, headers={"Location": "/specs/good.yaml"}),
    }
    with loopback_server(routes) as server:
        out = run(server.url("/moved"), slug="remote")
    assert out.startswith("Imported 'Good API' version 1.0 as remote")
    assert [r[1] for r in server.requests] == ["/moved", "/specs/good.yaml"]
    assert server.requests[0][2]["User-Agent"].startswith("api-portal/")
    assert ApiVersion.objects.get().source_name == "good.yaml"


def test_case_35_url_streaming_past_the_cap_is_aborted(settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.APIS_MAX_SPEC_BYTES = 5 * 1024 * 1024
    sent: list[int] = []

    def endless() -> Any:
        yield GOOD.encode() + b"x-pad: |\n"
        for _ in range(200):  # 12.5 MiB if nobody stops us
            sent.append(1)
            yield b"  " + b"a" * 65_534 + b"\n"

    with loopback_server({"/big.yaml": Route(body=endless)}) as server:
        error = refused(server.url("/big.yaml"))
    assert error.returncode == 2
    assert "over the limit of 5,242,880 bytes; aborted" in str(error)
    assert len(sent) < 200  # the sender hit a closed connection before the end
    assert not Api.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://[::ffff:169.254.169.254]/",
        "http://2130706433/",
        "http://168.63.129.16/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::1]/",
        "http://10.0.0.5/spec.yaml",
        "http://0.0.0.0:8000/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "file:///etc/passwd",
        "http://user:pw@example.com/spec.yaml",
    ],
)
def test_case_39_internal_urls_are_refused_before_connecting(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def no_connect(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"connected to {args!r}")

    monkeypatch.setattr(socket, "create_connection", no_connect)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    if url.startswith("file:"):
        error = refused(url)  # refused as a scheme, never read as a path
        assert error.returncode == 2
        assert "file: URLs are not imported" in str(error)
        return
    error = refused(url)
    assert error.returncode == 2
    assert any(word in str(error) for word in ("blocked", "non-public", "metadata", "user name"))


def test_case_39_public_url_redirecting_inside_is_refused(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A public name (mocked DNS) whose server answers 302 to 127.0.0.1: not followed."""
    import socket

    import urllib3.util.connection

    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    real_getaddrinfo = socket.getaddrinfo
    real_create = urllib3.util.connection.create_connection

    with loopback_server({}) as server:
        server.routes["/spec.yaml"] = Route(302, headers={"Location": server.url("/secret")})

        def fake_dns(host: str, *args: Any, **kwargs: Any) -> Any:
            if host == "public.example":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]
            return real_getaddrinfo(host, *args, **kwargs)

        def to_loopback(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            assert address[0] == "93.184.216.34", f"connected to {address}"
            return real_create(("127.0.0.1", server.port), *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
        monkeypatch.setattr(urllib3.util.connection, "create_connection", to_loopback)
        monkeypatch.setattr("urllib3.connection.connection.create_connection", to_loopback)
        error = refused("http://public.example/spec.yaml")
    assert "redirect to another host (127.0.0.1:" in str(error)
    assert [r[1] for r in server.requests] == ["/spec.yaml"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/spec.yaml", "FILE://example.com/spec.yaml", "gopher://x/spec.yaml"]
)
def test_other_schemes_are_refused_as_schemes_not_read_as_paths(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `ftp://example.com/spec.yaml` is also a relative path (ftp:/example.com/spec.yaml):
    # put a good spec there, and it must still not be imported.
    monkeypatch.chdir(tmp_path)
    as_path = Path(url)
    as_path.parent.mkdir(parents=True)
    as_path.write_text(GOOD)
    error = refused(url)
    assert error.returncode == 2
    scheme = url.split(":", 1)[0].lower()
    assert f"{scheme}: URLs are not imported" in str(error)
    assert "http(s)" in str(error)


def test_url_that_returns_an_html_page_gets_a_plain_message(settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    page = b"<!DOCTYPE html>\n<html><head><title>Docs</title></head><body>x: 1</body></html>\n"
    routes = {"/docs": Route(body=page, headers={"Content-Type": "text/html; charset=utf-8"})}
    with loopback_server(routes) as server:
        error = refused(server.url("/docs"))
    assert error.returncode == 1
    assert str(error) == (
        f"{server.url('/docs')}: the URL returned an HTML page, not an OpenAPI document; "
        "give the address of the raw JSON or YAML file"
    )


def test_html_page_served_as_text_is_recognised_too(settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    page = b"\n  <html lang=en><body>openapi: 3.0.0</body></html>"
    with loopback_server(
        {"/p": Route(body=page, headers={"Content-Type": "text/plain"})}
    ) as server:
        error = refused(server.url("/p"))
    assert "returned an HTML page" in str(error)


def test_a_url_reads_the_files_its_refs_name_beside_it(settings: Any) -> None:
    # `importspec https://.../openapi/openapi.yaml` of a multi-file layout was refused
    # ("import the folder or a zip"); Swagger UI fetches such refs from beside the document.
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    root = (
        "openapi: 3.0.3\ninfo: {title: Split, version: '1'}\n"
        "paths:\n  /pets: {$ref: 'paths/pets%20list.yaml'}\n"
    )
    pets = (
        "get:\n  operationId: listPets\n  x-codeSamples: [{lang: Go, source: {$ref: '../code/list.go'}}]\n"
        "  responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '../schemas.yaml#/Pet'}}}}}\n"
    )
    routes = {
        "/api/v1/openapi.yaml": Route(body=root.encode()),
        "/api/v1/paths/pets%20list.yaml": Route(body=pets.encode()),
        "/api/v1/schemas.yaml": Route(
            body=b"Pet: {type: object, properties: {name: {type: string}}}\n"
        ),
        "/api/v1/code/list.go": Route(body=b"package main\n\nfunc main() {}\n"),
    }
    with loopback_server(routes) as server:
        out = run(server.url("/api/v1/openapi.yaml"), slug="split")
    assert out.startswith("Imported 'Split' version 1 as split: 1 operation")
    fetched = sorted(r[1] for r in server.requests)
    assert fetched == sorted(routes)  # each file once, nothing else asked for
    op = ApiVersion.objects.get(api__slug="split").operations.get()
    assert op.data["x-codeSamples"][0]["source"] == "package main\n\nfunc main() {}\n"

    # A file that is not there, or one outside the document's folder, is named.
    routes["/api/v1/openapi.yaml"] = Route(body=root.replace("pets%20list", "nope").encode())
    with loopback_server(routes) as server:
        with pytest.raises(CommandError) as info:
            run(server.url("/api/v1/openapi.yaml"), slug="split2")
        error = info.value
    assert "no file 'paths/nope.yaml' in the folder of" in str(error)
    routes["/api/v1/openapi.yaml"] = Route(
        body=root.replace("paths/pets%20list", "../../x").encode()
    )
    with loopback_server(routes) as server:
        with pytest.raises(CommandError) as info:
            run(server.url("/api/v1/openapi.yaml"), slug="split3")
        error = info.value
    assert "points outside the folder of" in str(error)
    assert [r[1] for r in server.requests] == ["/api/v1/openapi.yaml"]


# A root document whose only path lives in a file beside it.
PETS_BESIDE = (
    "openapi: 3.0.3\ninfo: {title: Split, version: '1'}\n"
    "paths:\n  /pets: {$ref: 'paths/pets.yaml'}\n"
)


def test_a_ref_fetched_from_elsewhere_than_its_url_is_a_clear_error(settings: Any) -> None:
    # A sibling that redirects to another host is refused by the outbound rules, by name.
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    routes = {
        "/api/openapi.yaml": Route(body=PETS_BESIDE.encode()),
        "/api/paths/pets.yaml": Route(302, headers={"Location": "http://192.0.2.1/pets.yaml"}),
    }
    with loopback_server(routes) as server:
        error = refused(server.url("/api/openapi.yaml"))
    assert error.returncode == 1
    assert server.url("/api/paths/pets.yaml") in str(error) and "[ref-fetch]" in str(error)


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_a_sibling_the_server_refuses_or_fails_is_named_with_its_status(
    settings: Any, status: int
) -> None:
    # Any answer but 2xx read as "no file 'paths/pets.yaml'": a file behind a login, or a
    # server error, sent the publisher looking for a typo in the $ref.
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    routes = {
        "/api/openapi.yaml": Route(body=PETS_BESIDE.encode()),
        "/api/paths/pets.yaml": Route(status),
    }
    with loopback_server(routes) as server:
        error = refused(server.url("/api/openapi.yaml"))
    assert f"{server.url('/api/paths/pets.yaml')} answered {status}" in str(error)
    assert "[ref-fetch]" in str(error) and "no file" not in str(error)


@pytest.mark.parametrize(
    "name, text, where",
    [
        (
            "nul.json",
            '{"openapi": "3.0.3", "info": {"title": "T", "version": "1",'
            ' "description": "a\\u0000b"}, "paths": {}}',
            "/info/description",
        ),
        (
            "nul.yaml",
            'openapi: 3.0.3\ninfo: {title: "T\\0", version: "1"}\npaths: {}\n',
            "/info/title",
        ),
        (
            "key.yaml",
            'openapi: 3.0.3\ninfo: {title: T, version: "1"}\npaths: {"/a\\x00": {}}\n',
            "/paths",
        ),
    ],
)
def test_a_nul_character_in_the_document_is_refused_with_its_place(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    """PostgreSQL text (and jsonb) cannot hold a NUL: a spec with one (JSON `\\u0000`, YAML
    `\\0`) failed at the database (DataError) after parsing, with a traceback from the
    command and a 500 from the admin's upload. SQLite stored it."""
    path = tmp_path / name
    path.write_text(text)
    message = str(refused(str(path), slug="nul"))
    assert "NUL" in message and f"#{where}" in message


def test_a_nul_character_in_a_referenced_text_file_is_refused(tmp_path: Path) -> None:
    """A `$ref` to a Markdown file is read as its text: a raw NUL byte there is valid UTF-8
    and reached the database the same way."""
    (tmp_path / "main.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: T, version: '1', description: {$ref: 'intro.md'}}\n"
        "paths: {}\n"
    )
    (tmp_path / "intro.md").write_bytes(b"# Intro\x00\n")
    message = str(refused(str(tmp_path / "main.yaml"), slug="nul"))
    assert "NUL" in message and "intro.md" in message


def test_a_ref_naming_a_file_with_a_nul_is_a_missing_file(tmp_path: Path) -> None:
    """`x%00.yaml` beside a local file: os.path refuses a NUL with a ValueError, which
    ended the command with a traceback instead of naming the reference."""
    path = tmp_path / "main.yaml"
    path.write_text(
        'openapi: 3.0.3\ninfo: {title: T, version: "1"}\n'
        'paths:\n  /a:\n    get: {$ref: "x%00.yaml#/g"}\n'
    )
    assert "[ref-missing]" in str(refused(str(path), slug="nul"))

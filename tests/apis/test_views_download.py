"""Spec downloads: the file name a browser saves, whatever the spec's version label says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import ImportSpec

pytestmark = pytest.mark.django_db

SPEC = (
    "openapi: 3.0.3\ninfo: {{title: Labelled, version: {label}}}\n"
    "paths:\n  /a:\n    get: {{responses: {{'200': {{description: ok}}}}}}\n"
)


@pytest.mark.parametrize(
    "label",
    [
        "'1\"; filename*=UTF-8''''evil.exe; x=\"'",
        "'1.0\\r\\nSet-Cookie: a=b'",
        "'../../etc/passwd'",
        "'ver\u00e9 1'",
    ],
)
@pytest.mark.parametrize("kind", ["original", "json", "yaml"])
def test_version_label_cannot_inject_into_content_disposition(
    client: Client,
    import_spec: ImportSpec,
    write_spec: Callable[[str, str], Path],
    label: str,
    kind: str,
) -> None:
    import_spec(write_spec("l.yaml", SPEC.format(label=label)), "labelled")
    response = client.get(f"/apis/labelled/download/{kind}/")
    assert response.status_code == 200
    header = response["Content-Disposition"]
    # One plain attachment name: no second parameter, no quote, path or line break in it.
    assert header.startswith('attachment; filename="labelled-')
    assert header.count(";") == 1
    assert header.count('"') == 2
    name = header.split('filename="', 1)[1][:-1]
    assert "/" not in name and "\\" not in name and "\r" not in name and "\n" not in name
    assert name.endswith((".yaml", ".json"))


def test_plain_label_keeps_its_name(client: Client, import_spec: ImportSpec, write_spec) -> None:  # type: ignore[no-untyped-def]
    import_spec(write_spec("l.yaml", SPEC.format(label="'2.1.0-beta_1'")), "labelled")
    response = client.get("/apis/labelled/download/json/")
    assert response["Content-Disposition"] == (
        'attachment; filename="labelled-2.1.0-beta_1-openapi.json"'
    )


def test_a_reimport_downloads_the_new_document_as_yaml(
    client: Client, import_spec: ImportSpec, write_spec: Callable[[str, str], Path]
) -> None:
    """The YAML text is kept between downloads; a re-import is a new version, never the old
    text."""
    import_spec(write_spec("l.yaml", SPEC.format(label="'1.0'")), "labelled")
    first = client.get("/apis/labelled/download/yaml/").content.decode()
    assert first == client.get("/apis/labelled/download/yaml/").content.decode()
    import_spec(write_spec("l.yaml", SPEC.format(label="'2.0'").replace("/a:", "/b:")), "labelled")
    second = client.get("/apis/labelled/download/yaml/").content.decode()
    assert 'version: "1.0"' in first and "/a:" in first
    assert 'version: "2.0"' in second and "/b:" in second and "/a:" not in second

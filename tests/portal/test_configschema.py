"""The configuration file's JSON Schema: assembled from the apps' parts, valid, documented,
and the committed copies (docs/config.schema.json, docs/config-reference.md) up to date."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from jsonschema import Draft202012Validator

from portal.lib import configschema
from portal.lib.configfile import ConfigError, parse

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("configschema", *args, stdout=out)
    return out.getvalue()


def test_committed_schema_and_reference_are_up_to_date() -> None:
    """Regenerate with `manage.py configschema > docs/config.schema.json` and
    `manage.py configschema --markdown > docs/config-reference.md`."""
    assert (DOCS / "config.schema.json").read_text(encoding="utf-8") == _command()
    assert (DOCS / "config-reference.md").read_text(encoding="utf-8") == _command("--markdown")


def test_schema_is_valid_draft_2020_12_and_owned_per_app() -> None:
    schema = json.loads(_command())
    Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == {"apis", "authorization_servers", "groups", "products"}
    assert {label for label, _ in configschema.parts()} >= {"apis", "console", "gateway"}


def _keys(schema: dict, defs: dict) -> set[str]:  # type: ignore[type-arg]
    found: set[str] = set()
    for name, value in schema.get("properties", {}).items():
        found.add(name)
        target = defs[value["$ref"].rsplit("/", 1)[1]] if "$ref" in value else value
        items = target.get("items", {})
        if "$ref" in items:
            target = defs[items["$ref"].rsplit("/", 1)[1]]
        if target is not schema:
            found |= _keys(target, defs)
    return found


def test_every_key_is_in_the_reference() -> None:
    schema = configschema.schema()
    reference = configschema.markdown()
    keys = _keys(schema, schema["$defs"])
    assert {"clock-skew", "max-lifetime", "pass-through", "on-store-unavailable"} <= keys
    missing = [k for k in keys if f"| `{k}` |" not in reference and f"## `{k}`" not in reference]
    assert missing == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "apis:\n  - slug: a\n    spec: a.yaml\n    gateway: {backend: echo, timeout: 0}\n",
            4,
            "timeout must be at least 1",
        ),
        ("apis:\n  - slug: a\n    bogus: 1\n", 3, "unknown key 'bogus' in apis[0]"),
        (
            "authorization_servers:\n  - slug: a\n    name: A\n    client-id: c\n"
            "    console: maybe\n",
            5,
            "console must be true or false, not 'maybe'",
        ),
    ],
)
def test_errors_name_the_key_as_written_with_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        configschema.validate(parse(text))
    assert err.value.line == line
    assert message in err.value.message


def test_an_editor_schema_comment_is_just_a_comment() -> None:
    text = "# yaml-language-server: $schema=../docs/config.schema.json\napis: []\n"
    assert configschema.validate(parse(text)) == {"apis": []}


def test_the_schema_check_does_not_halve_the_files_value_budget(tmp_path: Path) -> None:
    """The file may hold 100,000 values; the schema walk and the sections' walk both read
    them, and only one of them counts, so a 60,000-value file is still accepted."""
    params = "".join(f"      p{i}: v\n" for i in range(30_000))
    text = (
        "authorization_servers:\n  - slug: big\n    name: Big\n    client-id: c\n"
        "    token: https://login.example.com/token\n    authorize-params:\n" + params
    )
    path = tmp_path / "big.yaml"
    path.write_text(text)
    out = io.StringIO()
    call_command("applyconfig", str(path), "--check", stdout=out)
    assert "valid" in out.getvalue()


_ROUTE: dict[str, Any] = {
    "backend": "https://b.example.com",
    "validate-jwt": {
        "openid-config": "https://idp.example.com/.well-known/openid-configuration",
        "audiences": ["api://x"],
    },
}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (
            {
                "validate-jwt": {
                    **_ROUTE["validate-jwt"],
                    "required-claims": [{"name": "scope", "values": []}],
                }
            },
            "values",
        ),
        ({"backend": "https://user:pw@b.example.com/v1"}, "backend"),
        ({"backend": "https://b.example.com/v1?code=k"}, "backend"),
        ({"backend": "https://b.example.com/v1#x"}, "backend"),
        ({"rate-limit-by-key": {"calls": 3_000_000_000}}, "calls"),
        ({"rate-limit-by-key": {"calls": 5, "renewal-period": 3_000_000_000}}, "renewal-period"),
        (
            {"validate-jwt": {**_ROUTE["validate-jwt"], "max-lifetime": 3_000_000_000}},
            "max-lifetime",
        ),
        ({"cors": {"max-age": 3_000_000_000}}, "max-age"),
        ({"cors": {"allowed-origins": ["https://app.example.com/"]}}, "allowed-origins"),
        ({"cors": {"allowed-origins": "HTTPS://app.example.com"}}, "allowed-origins"),
    ],
)
def test_what_the_loader_refuses_on_any_database_the_schema_refuses_too(
    change: dict[str, Any], key: str
) -> None:
    """An editor checking the file against docs/config.schema.json flags what applyconfig
    will refuse: an empty list of claim values, a backend URL with a password (both refused by
    the loader after the schema passed them), numbers past what the database column holds
    (2,147,483,647 on PostgreSQL; SQLite took them, so a file valid on one was refused on
    the other)."""
    schema = json.loads((DOCS / "config.schema.json").read_text(encoding="utf-8"))
    document = {"apis": [{"slug": "echo", "published": False, "gateway": {**_ROUTE, **change}}]}
    errors = list(Draft202012Validator(schema).iter_errors(document))
    assert errors, key


@pytest.mark.parametrize(
    "text",
    [
        "apis:\n  - slug: " + "a" * 300_000 + "\n",  # maxLength
        "apis:\n  - slug: a\n    gateway: {backend: " + "b" * 300_000 + "}\n",  # pattern
        "apis:\n  - slug: a\n    gateway: {backend: echo, timeout: " + "c" * 300_000 + "}\n",
    ],
    ids=["maxLength", "pattern", "type"],
)
def test_an_error_shows_a_long_value_shortened(text: str) -> None:
    """A 300 KB value made a 300 KB error line: the message shows its start."""
    with pytest.raises(ConfigError) as err:
        configschema.validate(parse(text))
    assert len(str(err.value)) < 400, str(err.value)[:500]

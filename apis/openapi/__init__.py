"""Reading OpenAPI documents: parse, limit, resolve, convert, normalise.

`load(bundle)` turns the files of one import into a `ParsedSpec`: everything the catalog
stores, with no database access. Errors are `SpecError`s that name the place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from apis.openapi import convert2
from apis.openapi.bundle import Bundle, bundle_for_bytes, bundle_for_path
from apis.openapi.errors import LimitExceeded, SpecError
from apis.openapi.normalise import (
    OperationSpec,
    Warnings,
    build_overview,
    check_document,
    extract_operations,
    info_text,
)
from apis.openapi.resolve import Resolver

__all__ = ["ParsedSpec", "SpecError", "load", "load_bytes", "load_path"]

# As the official JSON Schemas check it: any text after the hyphen (3.0.3-rc.1, 3.1.0-draft).
_SUPPORTED = re.compile(r"^3\.[012](\.\d+)?(-.+)?$")


@dataclass
class ParsedSpec:
    title: str
    label: str
    description: str
    spec_version: str
    source_name: str
    source_format: str  # json | yaml | bundle
    root_path: str
    original: bytes
    normalised: dict[str, Any]
    normalised_bytes: bytes
    overview: dict[str, Any]
    operations: list[OperationSpec]
    warnings: list[str]

    @property
    def operation_count(self) -> int:
        return sum(1 for op in self.operations if op.kind == "operation")

    @property
    def webhook_count(self) -> int:
        return sum(1 for op in self.operations if op.kind == "webhook")


# What Git LFS leaves in place of a file fetched without it (YAML reads it as one string).
_LFS_POINTER = re.compile(r"version https://git-lfs\.github\.com/spec/v\d+ oid \S+ size (\d+)")


def _spec_version(doc: Any, source: str) -> str:
    lfs = _LFS_POINTER.match(doc) if isinstance(doc, str) else None
    if lfs:
        raise SpecError(
            f"not an OpenAPI document: a Git LFS pointer to the document ({lfs[1]} bytes), not "
            "the document; fetch the file itself (git lfs pull, or the repository's download "
            "link) and import that",
            source=source,
            pointer="",
            rule="openapi",
        )
    if not isinstance(doc, dict):
        raise SpecError(
            "not an OpenAPI document: the top level must be an object",
            source=source,
            pointer="",
            rule="openapi",
        )
    keys = [key for key in ("openapi", "swagger") if key in doc]
    for key in keys:
        if all(isinstance(doc[k], dict | list) for k in keys):
            # Redocly's redocly.yaml keeps the reference docs' settings under `openapi:`;
            # the message was "unsupported OpenAPI version" and all of them written out.
            raise SpecError(
                f"not an OpenAPI document: its `{key}` key holds settings, not a version "
                "(3.1.0, say), as a Redocly configuration file's (redocly.yaml) does",
                source=source,
                pointer=f"/{key}",
                rule="openapi",
            )
    if "openapi" in doc:
        version = doc["openapi"]
        if isinstance(version, int | float) and not isinstance(version, bool):
            raise SpecError(
                f"`openapi` must be a string: YAML read {version!r} as a number: write "
                f'"{version}.x", the version with its patch number ({version}.0, say)',
                source=source,
                pointer="/openapi",
                rule="version",
            )
        if not isinstance(version, str) or not _SUPPORTED.match(version):
            raise SpecError(
                f"unsupported OpenAPI version {version!r} (supported: 2.0, 3.0.x, 3.1.x, 3.2.x)",
                source=source,
                pointer="/openapi",
                rule="version",
            )
        return version
    if "swagger" in doc:
        version = doc["swagger"]
        if str(version) != "2.0":
            raise SpecError(
                f"unsupported Swagger version {version!r} (supported: 2.0, 3.0.x, 3.1.x, 3.2.x)",
                source=source,
                pointer="/swagger",
                rule="version",
            )
        return "2.0"
    raise SpecError(
        "not an OpenAPI document: no top-level `openapi` or `swagger` key",
        source=source,
        pointer="",
        rule="openapi",
    )


def _merge_list_hint(value: Any) -> str:
    """What to do about a section written as a list of `$ref`s (Opsgenie's `paths: [{$ref:
    ./paths/alert.yaml}, ...]`): a layout its own tool merges, which OpenAPI does not define."""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, dict) and isinstance(item.get("$ref"), str) for item in value)
    ):
        return (
            ", not a list of files to merge: bundle them into one document first"
            " (with the tool this layout was written for)"
        )
    return ""


def load(bundle: Bundle) -> ParsedSpec:
    """Parse, resolve and normalise the root document of `bundle` and what it references."""
    root = bundle.document(bundle.root)
    spec_version = _spec_version(root, bundle.root)
    for key in ("paths", "webhooks", "components"):
        if key in root and root[key] is not None and not isinstance(root[key], dict):
            raise SpecError(
                f"`{key}` must be an object{_merge_list_hint(root[key])}",
                source=bundle.root,
                pointer=f"/{key}",
                rule="type",
            )
    swagger2 = spec_version == "2.0"
    resolver = Resolver(
        bundle, swagger2=swagger2, json_schema_types=spec_version.startswith(("3.1", "3.2"))
    )
    try:
        doc = resolver.resolve_root(root)
    except RecursionError:
        raise LimitExceeded(
            "references nest too deeply to resolve",
            source=resolver.file,
            rule="depth-limit",
        ) from None
    if swagger2:
        doc = convert2.convert(doc)
    warnings = Warnings()
    for text in [*bundle.duplicates, *resolver.warnings]:
        warnings.add(None, text)
    check_document(doc, warnings, spec_version)
    operations = extract_operations(doc, spec_version, warnings)
    overview = build_overview(doc, operations, warnings)
    info = overview["info"]
    title = info_text(info.get("title")) or Path(bundle.root).stem
    label = info_text(info.get("version")) or "unversioned"
    description = info.get("description")
    try:
        normalised_bytes = orjson.dumps(doc)
    except orjson.JSONEncodeError as exc:
        deep = "recursion" in str(exc).lower()
        raise (LimitExceeded if deep else SpecError)(
            f"the resolved document cannot be stored as JSON: {exc}",
            source=bundle.root,
            rule="depth-limit" if deep else "encoding",
        ) from None
    formats = set(bundle.formats.values())
    source_format = "bundle" if bundle.kind != "file" else (formats.pop() if formats else "json")
    return ParsedSpec(
        title=title[:300],
        label=label[:100],
        description=description if isinstance(description, str) else "",
        spec_version=spec_version[:20],
        source_name=bundle.name[:500],
        source_format=source_format,
        root_path=bundle.root[:500] if bundle.kind != "file" else "",
        original=bundle.original(),
        normalised=doc,
        normalised_bytes=normalised_bytes,
        overview=overview,
        operations=operations,
        warnings=warnings.result(),
    )


def load_path(path: Path, root: str | None = None) -> ParsedSpec:
    """A local file, zip or folder (`root` picks the root document of a folder or zip)."""
    return load(bundle_for_path(path, root))


def load_bytes(data: bytes, name: str, root: str | None = None) -> ParsedSpec:
    """Uploaded or downloaded bytes: one JSON/YAML document, or a zip bundle."""
    return load(bundle_for_bytes(data, name, root))

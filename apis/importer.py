"""Write a parsed spec into the catalog: one transaction, nothing stored on failure.

`import_spec()` is what the `importspec` command, the admin upload and the demo seed call.
`refresh_from_default()` recomputes the catalog fields an API copies from its default
version; anything that changes the default (import, admin "set default", delete) calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apis.models import Api, ApiVersion, Operation, Schema, Tag
from apis.openapi import ParsedSpec
from apis.openapi.normalise import summary_from_description
from apis.search_index import api_text, compounds, operation_text, search_terms

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")  # fullmatch: `$` passes a last \n


class ImportRefused(Exception):
    """The import cannot go ahead (label clash, bad slug); nothing was stored."""


class VersionExists(ImportRefused):
    """The API already has this version label. Callers say how to replace it in their own
    terms (the command's `--replace`, the admin's tick box), so the message names neither."""

    def __init__(self, slug: str, label: str) -> None:
        super().__init__(f"{slug} already has a version {label!r}")
        self.slug = slug
        self.label = label


@dataclass
class ImportResult:
    api: Api
    version: ApiVersion
    created_api: bool
    replaced: bool

    def summary_line(self) -> str:
        ops = self.version.operations.filter(kind=Operation.KIND_OPERATION).count()
        hooks = self.version.operations.filter(kind=Operation.KIND_WEBHOOK).count()
        extra = f", {plural(hooks, 'webhook')}" if hooks else ""
        verb = "Replaced" if self.replaced else "Imported"
        return (
            f"{verb} {self.version.title!r} version {self.version.label} as "
            f"{self.api.slug}: {plural(ops, 'operation')}{extra}"
        )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# Punctuation that separates words in a title: Temporal's protoc-generated
# `temporal/api/workflowservice/v1/request_response.proto` became one word, and
# "OpenAPI 3.0" "openapi-30". (An apostrophe joins: "Bob's" is "bobs".)
_WORD_BREAKS = re.compile(r"[/\\.:;,+&|()\[\]{}<>@#=?!*~^%$\"`]+")


def api_slug(title: str) -> str:
    return slugify(_WORD_BREAKS.sub(" ", title))[:100].strip("-") or "api"


def import_spec(
    spec: ParsedSpec,
    *,
    slug: str | None = None,
    publish: bool = False,
    replace: bool = False,
) -> ImportResult:
    """Store `spec` as a new version (the default) of the API `slug` (default: from title)."""
    if slug is not None and not _SLUG.fullmatch(slug):
        raise ImportRefused(f"{slug!r} is not a valid slug (letters, digits, - and _; max 100)")
    slug = slug or api_slug(spec.title)
    try:
        with transaction.atomic():
            return _store(spec, slug, publish, replace)
    except IntegrityError as exc:
        raise ImportRefused(
            f"could not store the import (another import of {slug} at the same time?): {exc}"
        ) from None


def _store(spec: ParsedSpec, slug: str, publish: bool, replace: bool) -> ImportResult:
    api, created = Api.objects.select_for_update().get_or_create(
        slug=slug, defaults={"name": spec.title}
    )
    replaced = False
    existing = api.versions.filter(label=spec.label).first()
    if existing is not None:
        if not replace:
            raise VersionExists(slug, spec.label)
        existing.delete()
        replaced = True
    version = ApiVersion.objects.create(
        api=api,
        label=spec.label,
        title=spec.title,
        description=spec.description,
        spec_version=spec.spec_version,
        source_name=spec.source_name,
        source_format=spec.source_format,
        root_path=spec.root_path,
        original=spec.original,
        normalised=spec.normalised_bytes,
        overview=spec.overview,
        warnings=spec.warnings,
    )
    Operation.objects.bulk_create(
        [
            Operation(
                version=version,
                slug=op.slug,
                kind=op.kind,
                method=op.method,
                path=op.path,
                operation_id=op.operation_id[:300],
                summary=op.summary,
                tag=op.tag,
                deprecated=op.deprecated,
                position=position,
                search_terms=search_terms(op.operation_id, op.path, op.tag),
                search_text=operation_text(op.summary, op.data.get("description")),
                data=op.data,
            )
            for position, op in enumerate(spec.operations)
        ],
        batch_size=500,
    )
    Schema.objects.bulk_create(schema_rows(version, spec.normalised), batch_size=500)
    api.default_version = version
    if publish:
        api.is_published = True
    refresh_from_default(api)
    return ImportResult(api=api, version=version, created_api=created, replaced=replaced)


def schema_rows(version: ApiVersion, normalised: dict[str, Any]) -> list[Schema]:
    """One row per component schema, so pages load only the schemas they draw.

    A value that is no schema (`null`, a number, a list: an invalid document) gets no row:
    the schemas index would link it to a page that cannot draw it, and a `$ref` to it reads
    as unresolved either way."""
    components = normalised.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    return [
        Schema(version=version, name=str(name), data=orjson.dumps(schema))
        for name, schema in (schemas.items() if isinstance(schemas, dict) else [])
        if isinstance(schema, dict | bool)
    ]


def refresh_from_default(api: Api) -> None:
    """Copy summary, search text, tags and operation and webhook counts from the default version.

    With no default (its last version deleted) the copied fields are emptied.
    """
    version = api.default_version
    if version is None:
        api.summary = ""
        api.search_text = api_text([api.name, compounds(api.name)])
        api.operation_count = api.webhook_count = 0
        api.save()
        api.tags.clear()
        return
    overview = version.overview or {}
    tag_names = [str(t["name"])[:200] for t in overview.get("tags") or [] if t.get("name")]
    api.summary = card_summary(overview.get("info") or {})
    api.search_text, api.operation_count = catalog_words(api.name, version)
    api.webhook_count = version.operations.filter(kind=Operation.KIND_WEBHOOK).count()
    api.save()
    unique = list(dict.fromkeys(tag_names))
    Tag.objects.bulk_create([Tag(name=n) for n in unique], ignore_conflicts=True)
    api.tags.set(Tag.objects.filter(name__in=unique))


def catalog_words(name: str, version: Any) -> tuple[str, int]:
    """An API's words for the catalog's search, from its name and default `version`, and its
    operation count. Its own words come first, then its operations' (already split at
    import): what finds an operation finds its API too. (Also run by a migration, with its
    historical models.)"""
    overview = version.overview or {}
    info = overview.get("info") or {}
    description = info.get("description") if isinstance(info.get("description"), str) else ""
    tag_names = [str(t["name"]) for t in overview.get("tags") or [] if t.get("name")]
    operations = list(
        version.operations.filter(kind=Operation.KIND_OPERATION).values_list(
            "search_terms", "search_text"
        )
    )
    parts = [
        name,
        version.title,
        compounds(name, version.title),
        _info_summary(info),
        description,
        *tag_names,
    ]
    parts.extend(f"{terms} {text}" for terms, text in operations)
    return api_text(parts), len(operations)


def _info_summary(info: dict[str, Any]) -> str:
    summary = info.get("summary")
    return summary if isinstance(summary, str) else ""


def card_summary(info: dict[str, Any]) -> str:
    """The line a catalog card shows: OpenAPI 3.1's `info.summary` (plain text, made for
    this), else the first paragraph of the description. (Also run by a migration.)"""
    summary = " ".join(_info_summary(info).split())
    if summary:
        return summary[:300]
    description = info.get("description")
    return summary_from_description(description if isinstance(description, str) else "")


def set_default_version(version: ApiVersion) -> None:
    """Make `version` its API's default and refresh the catalog fields."""
    with transaction.atomic():
        api = Api.objects.select_for_update().get(pk=version.api_id)
        api.default_version = version
        refresh_from_default(api)


def delete_version(version: ApiVersion) -> None:
    """Delete a version; if it was the default, the newest remaining one takes over."""
    with transaction.atomic():
        api = Api.objects.select_for_update().get(pk=version.api_id)
        was_default = api.default_version_id == version.pk
        version.delete()
        if was_default:
            api.default_version = api.versions.order_by("-created", "-pk").first()
        refresh_from_default(api)

"""Normalised documents loaded once per process and kept in a small LRU; and component
schemas loaded row by row, for pages that draw only a few of them.

A version's normalised document never changes after import (a re-import makes a new row), so
the cache needs no invalidation: the key is the version's primary key, which is never reused
(AUTOINCREMENT on SQLite, sequences on PostgreSQL). Tests roll back those sequences, so they
call `clear_cache()` between tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from apis.models import ApiVersion, Schema
from apis.openapi.errors import escape_token, list_index
from apis.yaml_dump import dump as yaml_text
from portal.lib.lru import LRU

_documents: LRU[dict[str, Any]] = LRU(8)
_yaml: LRU[str] = LRU(2)
_schemas: LRU[LazySchemas] = LRU(32)
SCHEMA_PREFIX = "#/components/schemas/"
_ABSENT = object()


class LazySchemas(dict[str, Any]):
    """`components/schemas` of one version, read from its Schema rows on first use.

    A dict so the readers (schema tree, samples) take it where they take the document's;
    `get`, `[]` and `in` load a missing name with one query. A version's schemas never change
    after import, so an instance is shared by every page of its version in the process.
    """

    def __init__(self, version_id: int) -> None:
        super().__init__()
        self.version_id = version_id
        self._absent: set[str] = set()

    def load(self, names: Iterable[str]) -> list[Any]:
        """Load `names` not loaded yet in one query; the schemas found (for following refs)."""
        wanted = {n for n in names if not dict.__contains__(self, n) and n not in self._absent}
        if not wanted:
            return []
        rows = Schema.objects.filter(version_id=self.version_id, name__in=wanted)
        found = []
        for name, data in rows.values_list("name", "data"):
            value = orjson.loads(bytes(data))
            self[name] = value
            found.append(value)
            wanted.discard(name)
        self._absent |= wanted
        return found

    def preload(self, node: Any, levels: int = 6) -> None:
        """Load the schemas `node` references, and theirs, `levels` deep: a query a level.

        Six levels cover what an operation page reads (the tree stops at four named levels,
        its samples at six nested ones); one query per level beats one per schema by far,
        and the whole closure of a Stripe operation is most of the document."""
        for _ in range(levels):
            names = [ref_name(r) for r in refs_in(node) if r.startswith(SCHEMA_PREFIX)]
            node = self.load(names)
            if not node:
                return

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if not dict.__contains__(self, name):
            self.load([name])
        return dict.get(self, name, default)

    def __getitem__(self, name: str) -> Any:
        value = self.get(name, _ABSENT)
        if value is _ABSENT:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name, _ABSENT) is not _ABSENT


def schema_document(version_id: int, preload: Any = None) -> dict[str, Any]:
    """A stand-in for the normalised document holding only `components/schemas`, lazily.

    `preload` (an operation's data) names the schemas to fetch up front, a few levels deep.
    """
    schemas = _schemas.get_or_compute(version_id, lambda: LazySchemas(version_id))
    if preload is not None:
        schemas.preload(preload)
    return {"components": {"schemas": schemas}}


def refs_in(node: Any) -> list[str]:
    """Every `$ref` string under `node`."""
    out: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                out.append(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def load_document(version_id: int) -> dict[str, Any]:
    def parse() -> dict[str, Any]:
        raw = ApiVersion.objects.values_list("normalised", flat=True).get(pk=version_id)
        return orjson.loads(bytes(raw))

    return _documents.get_or_compute(version_id, parse)


def document_yaml(version_id: int) -> str:
    """The normalised document written as YAML, kept for the next download: writing it is
    the download's whole cost (a fifth of a second for Stripe's), for a text that never
    changes."""
    return _yaml.get_or_compute(version_id, lambda: yaml_text(load_document(version_id)))


def resolve_ref(doc: Mapping[str, Any], ref: str) -> Any:
    """The target of an internal `#/...` reference, or None when it does not resolve."""
    if not ref.startswith("#/"):
        return None
    node: Any = doc
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and list_index(key) < len(node):
            node = node[list_index(key)]
        else:
            return None
        if node is None:
            return None
    return node


def deref_schema(doc: Mapping[str, Any], schema: Any, hops: int = 8) -> dict[str, Any]:
    """`schema` with its `$ref` followed a few hops (a chain of aliases ends well within
    eight; a loop stops there), or {} when it is not a schema."""
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and hops:
        schema, hops = resolve_ref(doc, schema["$ref"]), hops - 1
    return schema if isinstance(schema, dict) else {}


def object_fields(
    doc: Mapping[str, Any], schema: Any, depth: int = 4
) -> tuple[dict[str, Any], set[str]]:
    """The properties an object body declares and the names it requires, its `allOf` parts'
    too (through `$ref`s, parts of parts a few deep): a form or multipart body written as
    `allOf: [$ref Shared, $ref Upload]` (Onfido's document upload) has its fields there.
    The schema's own property wins over a part's of the same name.

    A body that is one of several (`oneOf`/`anyOf`: Ory Kratos's login form, one variant
    per method) has each variant's fields, the first variant's declaration winning, and
    requires those every variant requires; a discriminator's property, left a plain string
    in each variant, chooses among its mapping's values."""
    schema = deref_schema(doc, schema)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    parts = schema.get("allOf") if depth else None
    for part in parts if isinstance(parts, list) else ():
        found, needed = object_fields(doc, part, depth - 1)
        properties.update(found)
        required |= needed
    variants = (schema.get("oneOf") or schema.get("anyOf")) if depth else None
    if isinstance(variants, list) and variants:
        common: set[str] | None = None
        for variant in variants:
            found, needed = object_fields(doc, variant, depth - 1)
            for name, prop in found.items():
                properties.setdefault(name, prop)
            common = needed if common is None else common & needed
        required |= common or set()
        properties = _discriminated(schema, properties)
    own = schema.get("properties")
    properties.update(own if isinstance(own, dict) else {})
    listed = schema.get("required")
    required |= {n for n in listed if isinstance(n, str)} if isinstance(listed, list) else set()
    return properties, required


def _discriminated(schema: Mapping[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """`properties` with the discriminator's property given its mapping's values as an
    enum, unless the variants already declare one. The values come in the variants' order,
    so the first is the first variant's, as in the JSON body's sample (Kratos writes its
    mapping sorted: `code` before `password`, the first variant)."""
    found = schema.get("discriminator")
    discriminator = found if isinstance(found, Mapping) else {}
    name, mapping = discriminator.get("propertyName"), discriminator.get("mapping")
    if not isinstance(name, str) or not isinstance(mapping, Mapping) or not mapping:
        return properties
    variants = schema.get("oneOf") or schema.get("anyOf") or []
    refs = [v.get("$ref") for v in variants if isinstance(v, Mapping)]

    def position(key: Any) -> int:
        target = mapping[key]
        return refs.index(target) if target in refs else len(refs)

    prop = properties.get(name)
    if isinstance(prop, dict) and "$ref" not in prop and "enum" not in prop:
        values = [str(key) for key in sorted(mapping, key=position)]
        properties = {**properties, name: {**prop, "enum": values}}
    return properties


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


def schema_segment(name: str) -> str:
    """A component schema's name as its URL's path segment (before percent-encoding): the
    name as a JSON pointer token, so a `/` in it never splits the path (a `%2F` reaches
    Django decoded, and proxies may refuse it), and `.` or `..` as `~.` or `~..`, which no
    browser or client removes as a dot segment (Chromium removes `%2E` too). A token has
    `~` only before `0` or `1`, so each segment names one schema."""
    token = escape_token(name)
    return "~" + token if token in (".", "..") else token


def schema_name(segment: str) -> str:
    """The schema name a path segment of `schema_segment` stands for."""
    if segment in ("~.", "~.."):
        return segment[1:]
    return segment.replace("~1", "/").replace("~0", "~")


def clear_cache() -> None:
    _documents.clear()
    _schemas.clear()
    _yaml.clear()

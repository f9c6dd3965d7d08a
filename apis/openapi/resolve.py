"""Resolve `$ref`s into one self-contained document.

The walk knows where schemas live. A `$ref` in a schema position stays a reference, rewritten
to `#/components/schemas/<Name>` (schemas from other files or nested places become components
under unique names), so cycles between schemas are legal and never expanded. Every other
`$ref` (parameters, responses, request bodies, examples, path items, operations, extension
values) is replaced by its target, walked once and shared.

The same walk enforces the node and depth limits: shared targets count at their full size
each time they are used, so a "ref bomb" is refused like a YAML alias bomb.
"""

from __future__ import annotations

import json
import posixpath
import re
import time
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from apis.openapi.bundle import Bundle
from apis.openapi.errors import (
    LimitExceeded,
    MissingTarget,
    RefError,
    SpecError,
    escape_token,
    list_index,
    pointer,
)
from apis.openapi.parse import max_depth, max_nodes, max_seconds

SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
SCHEMA_ONE = frozenset(
    {
        "additionalProperties",
        "additionalItems",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
        "items",
    }
)
SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
# Keywords a pointer passes through into a subschema, which name nothing themselves.
_COMPOSITION_TOKENS = SCHEMA_LISTS | {"not", "additionalProperties", "if", "then", "else"}
# Values that are data, not spec: a `$ref` key inside them is text. (Not `default`: outside
# schemas that is also the name of the catch-all response.)
LITERAL_KEYS = frozenset({"example", "value", "dataValue", "enum", "const"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# What a schema name made from a file or title keeps: letters and digits of any script (a
# file `ユーザー.yaml` was named just "Schema"), `.`, `_`, `-`; the rest becomes `_`.
_NAME_CHARS = re.compile(r"[^\w.-]+")
SCHEMA_PREFIX = "#/components/schemas/"
# A plain-name fragment (JSON Schema 2020-12's anchor syntax), as in `$ref: '#pet'`.
_ANCHOR = re.compile(r"[A-Za-z_][-A-Za-z0-9._]*")
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_MISSING = object()  # _walk: no node at that pointer


def _schema_nodes(document: Any) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Every object of a document with its place, skipping example and enum values (data:
    an `$anchor` or `$id` key there declares nothing)."""
    stack: list[tuple[Any, list[str]]] = [(document, [])]
    while stack:
        node, at = stack.pop()
        if type(node) is dict:
            yield node, at
            stack.extend(
                (value, [*at, str(key)])
                for key, value in node.items()
                if key not in LITERAL_KEYS and isinstance(value, dict | list)
            )
        elif type(node) is list:
            stack.extend((value, [*at, str(i)]) for i, value in enumerate(node))


def _declared(found: dict[str, list[list[str]]], name: str, at: list[str]) -> None:
    places = found.setdefault(name, [])
    if at not in places:
        places.append(at)


def _anchors(document: Any) -> dict[str, list[list[str]]]:
    """Each `$anchor` (or `$dynamicAnchor`, also a plain anchor) of a document, with every
    place that declares it."""
    found: dict[str, list[list[str]]] = {}
    for node, at in _schema_nodes(document):
        for key in ("$anchor", "$dynamicAnchor"):
            name = node.get(key)
            if isinstance(name, str):
                _declared(found, name, at)
    return found


def _ids(document: Any) -> dict[str, list[list[str]]]:
    """Each absolute `$id` of a document (JSON Schema 2020-12's schema resources, OpenAPI
    3.1's schemas), without a trailing `#`, with every place that declares it."""
    found: dict[str, list[list[str]]] = {}
    for node, at in _schema_nodes(document):
        name = node.get("$id")
        if isinstance(name, str) and _SCHEME.match(name):
            _declared(found, name.rstrip("#"), at)
    return found


class Resolver:
    """One pass over a document and the bundle files it reaches."""

    def __init__(self, bundle: Bundle, *, swagger2: bool, json_schema_types: bool = False) -> None:
        self.bundle = bundle
        self.swagger2 = swagger2
        # OpenAPI 3.1+ schemas are JSON Schema 2020-12: `nullable` is gone from them.
        self.json_schema_types = json_schema_types
        self.nullable_in_31 = 0
        self.root = bundle.root
        self.file = bundle.root
        self.path: list[str] = []
        self.nodes = 0
        self.max_nodes = max_nodes()
        self.max_depth = max_depth()
        # The bundle's clock started when it was opened: reading a zip counts too.
        self.deadline = bundle.deadline
        self._check_at = 0
        self.warnings: list[str] = []
        # Output components/schemas, and which (file, pointer) each name came from.
        self.schemas: dict[str, Any] = {}
        self.schema_names: dict[tuple[str, str], str] = {}
        self._pending: list[tuple[str, str, list[str], str]] = []
        self._inline: dict[tuple[str, str], tuple[Any, int]] = {}
        self._in_progress: set[tuple[str, str]] = set()
        self._anchors: dict[str, dict[str, list[list[str]]]] = {}
        self._ids: dict[str, dict[str, list[list[str]]]] = {}
        self._self_uris: dict[str, str | None] = {}
        self.read_in_root = 0  # `#/...` refs of other files found only in the root
        # Where the root's schema section really is, when it is a `$ref` to another file.
        self._section_alias: tuple[str, list[str]] | None = None
        self._root_schema_section = ("definitions",) if swagger2 else ("components", "schemas")

    # -- entry point -------------------------------------------------------------------

    def resolve_root(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The root document with every reference resolved or rewritten."""
        section: Any = doc
        for key in self._root_schema_section:
            section = section.get(key) if isinstance(section, dict) else None
        place = (self.root, list(self._root_schema_section))
        if isinstance(section, dict) and isinstance(section.get("$ref"), str):
            # The whole section in another file (`schemas: {$ref: spec/schemas.json}`): its
            # schemas are the root's, and `#/components/schemas/X` names them there.
            self.path = list(self._root_schema_section)
            file, frag, tokens = self._locate(section["$ref"])
            section = self._lookup(file, frag, tokens)
            place = self._section_alias = (file, tokens)
        if isinstance(section, dict):
            # Root schemas keep their names, in their order, whether used or not.
            file, tokens = place
            for name, value in section.items():
                at = [*tokens, str(name)]
                target = self._file_alias(file, at, value)
                if target is None:
                    self._register(file, pointer(*at), at, str(name))
                else:  # `Pet: {$ref: ./Pet.yaml}`: the file's schema is the one named Pet
                    self._register(*target, str(name))
                    self.schema_names[(file, pointer(*at))] = str(name)
            self.file = self.root
        elif section is not None:
            raise SpecError(
                "must be an object (a map of schema names to schemas)",
                source=self.root,
                pointer=pointer(*self._root_schema_section),
                rule="type",
            )
        out: dict[str, Any] = {}
        for key, value in doc.items():
            if key in ("definitions", "components") and key == self._root_schema_section[0]:
                if key == "components" and isinstance(value, dict):
                    comps: dict[str, Any] = {}
                    for sect, body in value.items():
                        if sect == "schemas":
                            continue
                        self.path = ["components", sect]
                        if str(sect).startswith("x-"):  # left out, like any extension, if
                            self._extension(comps, sect, body, 2)  # its file is not there
                        else:
                            comps[sect] = self.generic(body, 2)
                    out[key] = comps
                continue
            self.path = [key]
            if key.startswith("x-"):
                self._extension(out, key, value, 1)
            else:
                out[key] = self.generic(value, 1)
        self._drain()
        if self.nodes > self.max_nodes:
            self.file, self.path = self.root, []
            raise self._too_many()
        if self.read_in_root:
            self.warnings.append(
                f"/: {self.read_in_root} references in other files name with `#/...` a "
                "place only the root document has (`#` is the file it stands in); read there"
            )
        if self.nullable_in_31:
            self.warnings.append(
                f"/: {self.nullable_in_31} schemas use `nullable`, which OpenAPI 3.1 removed "
                '(3.1 writes `type: [..., "null"]`); shown as nullable'
            )
        if self.swagger2:
            out["definitions"] = self.schemas
        else:
            if self.schemas:
                if not isinstance(out.get("components"), dict):
                    out["components"] = {}
                out["components"]["schemas"] = self.schemas
        return out

    def _file_alias(
        self, file: str, at: list[str], value: Any
    ) -> tuple[str, str, list[str]] | None:
        """Where a root schema that is only a `$ref` to another file's schema lives, so it is
        taken in once under its own name, not again under its file's; None otherwise."""
        if type(value) is not dict or list(value) != ["$ref"] or type(value["$ref"]) is not str:
            return None
        if value["$ref"].startswith("#"):
            return None  # an alias inside the same file: stays a reference to that schema
        self.file, self.path = file, list(at)
        target_file, frag, tokens = self._locate(value["$ref"])
        if (target_file, frag) in self.schema_names:
            return None
        return target_file, frag, tokens

    def _drain(self) -> None:
        while self._pending:
            file, frag, tokens, name = self._pending.pop(0)
            target = self._lookup(file, frag, tokens)
            self.file, self.path = file, list(tokens)
            self.schemas[name] = self.schema(target, 3)

    # -- limits ------------------------------------------------------------------------

    def _check_limits(self) -> None:
        """Node count and time, checked every few thousand nodes."""
        if self.nodes > self.max_nodes:
            raise self._too_many()
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"the import took longer than {max_seconds():.0f} s "
                "(setting APIS_MAX_IMPORT_SECONDS)",
                source=self.file,
                pointer=pointer(*self.path),
                rule="time-limit",
            )
        self._check_at = min(self.nodes + 5000, self.max_nodes)

    def _too_deep(self) -> LimitExceeded:
        return LimitExceeded(
            f"nested more than {self.max_depth} levels deep (setting APIS_MAX_DEPTH)",
            source=self.file,
            pointer=pointer(*self.path),
            rule="depth-limit",
        )

    def _too_many(self) -> LimitExceeded:
        return LimitExceeded(
            f"the document expands to more than {self.max_nodes:,} nodes (setting APIS_MAX_NODES)",
            source=self.file,
            pointer=pointer(*self.path),
            rule="node-limit",
        )

    def literal(self, value: Any, depth: int) -> int:
        """Count the nodes of a data value, refusing it past the depth limit."""
        if depth > self.max_depth:
            raise self._too_deep()
        count = 1
        if type(value) is dict:
            for item in value.values():
                t = type(item)
                count += self.literal(item, depth + 1) if t is dict or t is list else 1
        elif type(value) is list:
            for item in value:
                t = type(item)
                count += self.literal(item, depth + 1) if t is dict or t is list else 1
        return count

    # -- the walks ---------------------------------------------------------------------

    def generic(self, node: Any, depth: int) -> Any:
        """Anything but a schema: `$ref`s are replaced by their targets."""
        t = type(node)
        if t is dict:
            if depth > self.max_depth:
                raise self._too_deep()
            ref = node.get("$ref")
            if type(ref) is str:
                try:
                    return self._inline_ref(node, ref, depth)
                except MissingTarget as exc:
                    if len(self.path) < 2 or self.path[-2] != "responses":
                        raise
                    # A response the document names but lacks (Grafana's #/responses/Accepted):
                    # shown as a response with nothing documented, and the publisher is told.
                    self.warnings.append(f"{exc.location}: {exc.message}; shown undocumented")
                    return {"description": "Not documented: the spec names a response it lacks."}
            if ref is not None or "$ref" in node:
                self._ref_not_text(ref, "left out")
                node = {key: value for key, value in node.items() if key != "$ref"}
            self.nodes += 1
            out = {}
            path = self.path
            for key, value in node.items():
                tv = type(value)
                if tv is not dict and tv is not list:
                    out[key] = value
                    self.nodes += 1
                    continue
                path.append(key)
                if key == "schema" or key == "itemSchema":  # itemSchema: 3.2 streaming
                    out[key] = self.schema(value, depth + 1)
                elif key in LITERAL_KEYS:
                    out[key] = self.literal_value(value, depth + 1)
                elif key == "examples" and tv is dict:
                    out[key] = self.examples(value, depth + 1)
                elif key == "examples":
                    out[key] = value
                    self.nodes += self.literal(value, depth + 1)
                elif type(key) is str and key.startswith("x-"):
                    self._extension(out, key, value, depth + 1)
                else:
                    out[key] = self.generic(value, depth + 1)
                path.pop()
            if self.nodes > self._check_at:
                self._check_limits()
            return out
        if t is list:
            if depth > self.max_depth:
                raise self._too_deep()
            self.nodes += 1
            items = []
            path = self.path
            for index, value in enumerate(node):
                tv = type(value)
                if tv is not dict and tv is not list:
                    items.append(value)
                    self.nodes += 1
                    continue
                path.append(str(index))
                items.append(self.generic(value, depth + 1))
                path.pop()
            if self.nodes > self._check_at:
                self._check_limits()
            return items
        self.nodes += 1
        return node

    def _extension(self, out: dict[str, Any], key: str, value: Any, depth: int) -> None:
        """An `x-` extension's value into `out`, its refs resolved. A ref there to a file that
        is not in the bundle (a guide page of Redocly's `x-topics`, say), or to any file when
        a single document was imported (Dropbox Sign's `x-codeSamples`), leaves the extension
        out with a warning: tools that do not know the extension ignore it, so the document
        is still whole without it. A ref that reaches outside the bundle is still refused."""
        file, path, length, in_progress = (
            self.file,
            self.path,
            len(self.path),
            set(self._in_progress),
        )
        try:
            out[key] = self.generic(value, depth)
        except RefError as exc:
            if exc.rule not in ("ref-missing", "ref-file"):
                raise
            self.file, self.path, self._in_progress = file, path, in_progress
            del path[length:]
            self.warnings.append(f"{exc.location}: {exc.message}; extension {key} left out")

    def _ref_not_text(self, ref: Any, outcome: str) -> None:
        # A `$ref: 0` names nothing; dropped without a word, it would read as any value or
        # as an object with nothing documented, and the publisher would never learn of it.
        self.warnings.append(
            f"{self.file}#{pointer(*self.path, '$ref')}: $ref is {_json_kind(ref)}, not text; "
            + outcome
        )

    def literal_value(self, value: Any, depth: int) -> Any:
        """An example or value: data, except that a whole value may be a `$ref` (bundlers
        such as Redocly's resolve `example: {$ref: file}`, and real bundles rely on it)."""
        if type(value) is dict and type(value.get("$ref")) is str and len(value) == 1:
            try:
                return self._inline_ref(value, value["$ref"], depth)
            except RefError as exc:
                # Data that happens to look like a reference: keep it as data, say so.
                self.warnings.append(f"{exc.location}: {exc.message}; kept as example data")
        self.nodes += self.literal(value, depth)
        return value

    def examples(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        """A map of Example objects (refs allowed) or, in Swagger 2.0, media type -> value."""
        self.nodes += 1
        out = {}
        for key, value in node.items():
            self.path.append(key)
            if type(value) is dict and not self.swagger2:
                out[key] = self.generic(value, depth + 1)
            else:
                out[key] = value
                self.nodes += self.literal(value, depth + 1)
            self.path.pop()
        return out

    def schema(self, node: Any, depth: int) -> Any:
        """A schema: refs stay refs (to components), subschemas are walked as schemas."""
        if type(node) is not dict:
            self.nodes += self.literal(node, depth)
            return node
        if depth > self.max_depth:
            raise self._too_deep()
        self.nodes += 1
        out: dict[str, Any] = {}
        path = self.path
        for key, value in node.items():
            tv = type(value)
            if key == "$ref" and tv is str:
                try:
                    out[key] = self._schema_ref(value)
                except MissingTarget as exc:
                    # Real specs ship such slips (Square's official document names a schema
                    # it lacks): the schema reads as any value and the publisher is told,
                    # rather than the whole API refused for one missing name.
                    self.warnings.append(f"{exc.location}: {exc.message}; shown as any value")
                    out["x-unresolved-ref"] = value
                continue
            if key == "$ref":
                self._ref_not_text(value, "shown as any value")
                continue
            if self.swagger2:
                if key == "discriminator" and tv is str:
                    out[key] = {"propertyName": value}
                    continue
                if key == "x-nullable":
                    out["nullable"] = value
                    continue
                if key == "type" and value == "file":
                    out[key] = "string"
                    out.setdefault("format", "binary")
                    continue
            if key == "type" and value is None and self.json_schema_types:
                # 3.1's `anyOf: [{type: string}, {type: null}]` written by hand: it read as
                # any value. 3.0 has no null type: there it stays as written.
                value, tv = "null", str
                self.warnings.append(
                    f"{self.file}#{pointer(*path, 'type')}: a type given as null itself"
                    ' (YAML\'s unquoted null), not the text "null"; read as "null"'
                )
            if key == "type" and tv is list and None in value:
                # `type: [object, null]` in YAML lists null itself, not the text "null":
                # what the author meant, as Go's bundlers read it (Unkey's split spec). Once.
                kinds: list[Any] = []
                seen_null = False
                for kind in value:
                    if kind is None or kind == "null":
                        if seen_null:
                            continue
                        kind, seen_null = "null", True
                    kinds.append(kind)
                value = kinds
                self.warnings.append(
                    f"{self.file}#{pointer(*path, 'type')}: a type listed as null itself"
                    ' (YAML\'s unquoted null), not the text "null"; read as "null"'
                )
            if tv is not dict and tv is not list:
                out[key] = value
                self.nodes += 1
                if key == "nullable" and self.json_schema_types:
                    self.nullable_in_31 += 1
                continue
            path.append(key)
            if key in SCHEMA_MAPS and tv is dict:
                sub = {}
                saved = None
                if type(value.get("$ref")) is str:
                    # The whole map is a reference (`properties: {$ref: attributes.yml#/x}`).
                    file, frag, tokens = self._locate(value["$ref"])
                    target = self._lookup(file, frag, tokens)
                    if type(target) is not dict:
                        raise RefError(
                            f"$ref {value['$ref']!r} must point at a map of schemas",
                            source=self.file,
                            pointer=pointer(*self.path, "$ref"),
                            rule="ref-type",
                        )
                    saved = self.file, self.path
                    self.file, self.path, value = file, list(tokens), target
                for name, item in value.items():
                    self.path.append(name)
                    sub[name] = self.schema(item, depth + 2)
                    self.path.pop()
                if saved is not None:
                    self.file, self.path = saved
                out[key] = sub
                self.nodes += 1
            elif (key in SCHEMA_LISTS or key in SCHEMA_ONE) and tv is list:
                items = []
                for index, item in enumerate(value):
                    path.append(str(index))
                    items.append(self.schema(item, depth + 2))
                    path.pop()
                out[key] = items
                self.nodes += 1
            elif key in SCHEMA_ONE:
                out[key] = self.schema(value, depth + 1)
            elif key == "discriminator" and tv is dict:
                out[key] = self._discriminator(value, depth + 1)
            elif key == "description" and tv is dict and type(value.get("$ref")) is str:
                # Redocly's `description: {$ref: pet.md}`, read wherever it stands: the
                # Markdown file's text, as an operation's is (it was kept as the object).
                try:
                    out[key] = self.generic(value, depth + 1)
                except RefError as exc:
                    if exc.rule != "ref-missing" and not isinstance(exc, MissingTarget):
                        raise
                    # Text, not a schema: told, and the import goes on without it.
                    self.warnings.append(f"{exc.location}: {exc.message}; description left out")
            elif key.startswith("x-"):
                self._extension(out, key, value, depth + 1)
            elif key == "example":
                # A whole example may be a file (`example: {$ref: ../examples/tx.json}`, all
                # over Matrix's split spec), read as beside a media type (literal_value).
                out[key] = self.literal_value(value, depth + 1)
            else:
                out[key] = value
                self.nodes += self.literal(value, depth + 1)
            path.pop()
        if self.nodes > self._check_at:
            self._check_limits()
        return out

    def _discriminator(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        out = dict(node)
        mapping = node.get("mapping")
        self.nodes += self.literal(node, depth)
        if isinstance(mapping, dict):
            out["mapping"] = {
                key: self._mapping_target(value, ["mapping", key]) for key, value in mapping.items()
            }
        if "defaultMapping" in node:  # OpenAPI 3.2: the schema for a value `mapping` lacks
            out["defaultMapping"] = self._mapping_target(node["defaultMapping"], ["defaultMapping"])
        return out

    def _mapping_target(self, value: Any, at: list[str]) -> Any:
        """A discriminator mapping value: a schema name, or a reference rewritten to the
        bundled document's schema (a dangling one is kept, with a warning)."""
        if isinstance(value, str) and ("#" in value or "/" in value or "." in value):
            self.path.extend(at)
            try:
                value = self._schema_ref(value)
            except RefError as exc:
                self.warnings.append(f"{exc.location}: discriminator mapping: {exc.message}")
            del self.path[-len(at) :]
        return value

    # -- references --------------------------------------------------------------------

    def _locate(self, ref: str) -> tuple[str, str, list[str]]:
        """(file, fragment, pointer tokens) of a reference, or RefError naming the rule."""
        where: dict[str, Any] = {"source": self.file, "pointer": pointer(*self.path, "$ref")}
        if _SCHEME.match(ref):
            # A schema's own `$id` (`$ref: https://pets.example/schemas/pet`) names a place in
            # this document, not one to fetch.
            url, _, rest = ref.partition("#")
            ids = self._ids.get(self.file)
            if ids is None:
                ids = self._ids[self.file] = _ids(self.bundle.document(self.file))
            places = ids.get(url, [])
            if len(places) == 1:
                rest = unquote(rest)
                if rest and not rest.startswith("/"):
                    if not _ANCHOR.fullmatch(rest):
                        raise RefError(
                            f"$ref {ref!r}: the part after # must be a JSON pointer starting "
                            "with / or the name of an $anchor",
                            rule="ref-pointer",
                            **where,
                        )
                    anchored = self._anchored(self.file, rest, where)
                    return self.file, pointer(*anchored), anchored
                tokens = [*places[0]]
                tokens += [t.replace("~1", "/").replace("~0", "~") for t in rest.split("/")[1:]]
                return self.file, pointer(*tokens), tokens
        ref = self._by_self_uri(ref)
        if _SCHEME.match(ref) or ref.startswith("//"):
            raise RefError(
                f"$ref {ref!r} points at a URL or another scheme; only references inside the "
                "document or its bundle are allowed",
                rule="ref-url",
                **where,
            )
        if self.swagger2 and _BARE_NAME.fullmatch(ref) and self._is_definition(ref):
            # Swagger 2.0's shorthand: `$ref: Pet` is `#/definitions/Pet` (no file of that name).
            ref = "#/definitions/" + ref
        file_part, _, frag = ref.partition("#")
        file = self.file
        if file_part:
            rel = unquote(file_part).replace("\\", "/")
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(self.file), rel))
            # Before the single-document check: an extension whose file is missing is left
            # out (see _extension), one that climbs out is refused wherever it stands.
            if rel.startswith("/") or joined == ".." or joined.startswith("../"):
                raise RefError(
                    f"$ref {ref!r} points outside {self.bundle.scope}{self.bundle.escape_hint}",
                    rule="ref-escape",
                    **where,
                )
            if not self.bundle.multi_file:
                raise RefError(
                    f"$ref {ref!r} points at another file, but a single document was "
                    "imported; import the folder or a zip of it instead",
                    rule="ref-file",
                    **where,
                )
            if not self.bundle.exists(joined):
                raise RefError(
                    f"$ref {ref!r}: no file {joined!r} in {self.bundle.scope}",
                    rule="ref-missing",
                    **where,
                )
            file = joined
        frag = unquote(frag)
        if frag and not frag.startswith("/"):
            if not _ANCHOR.fullmatch(frag):
                raise RefError(
                    f"$ref {ref!r}: the part after # must be a JSON pointer starting with / "
                    "or the name of an $anchor",
                    rule="ref-pointer",
                    **where,
                )
            anchored = self._anchored(file, frag, where)
            return file, pointer(*anchored), anchored
        if frag == "/" and not self._has_empty_key(file):
            # `other.yaml#/`: by RFC 6901 the key "", which files seldom have; resolvers
            # (Python's jsonschema among them) read it as the whole file, and specs rely on it.
            frag = ""
        if file == self.root and not frag:
            raise RefError(
                f"$ref {ref!r} points at the whole root document", rule="ref-pointer", **where
            )
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in frag.split("/")[1:]]
        if self.swagger2 and tokens[:2] == ["components", "schemas"] and len(tokens) > 2:
            # A 2.0 document naming a definition as it will be once converted to 3.0
            # (swagger2openapi resolves it so): #/components/schemas/X is #/definitions/X.
            moved = ["definitions", *tokens[2:]]
            if self._walk(file, tokens) is _MISSING and self._walk(file, moved) is not _MISSING:
                tokens = moved
                frag = pointer(*tokens)
        if (
            not file_part
            and tokens
            and file != self.root
            and self._walk(file, tokens) is _MISSING
            and self._walk(*self._rooted(tokens)) is not _MISSING
        ):
            # A file of a split document naming a place only the root has, as if it stood
            # there (Box's content/paths/*.yml: `#/components/schemas/File--Full`), as the
            # resolvers that build such documents read it.
            file = self.root
            self.read_in_root += 1
        section = self._root_schema_section
        if self._section_alias and file == self.root and tuple(tokens[: len(section)]) == section:
            file, inside = self._section_alias
            tokens = [*inside, *tokens[len(section) :]]
            frag = pointer(*tokens)
        if "+" in frag and self._walk(file, tokens) is _MISSING:
            # `with+space`: a form-encoded space, which some tools write in a fragment. RFC
            # 3986 keeps "+" as itself, so only when no key has the literal "+".
            spaced = [t.replace("+", " ") for t in tokens]
            if self._walk(file, spaced) is not _MISSING:
                tokens = spaced
                frag = pointer(*tokens)
        return file, frag, tokens

    def _self_uri(self, file: str) -> str | None:
        """The absolute URI a file gives itself with OpenAPI 3.2's top-level `$self`."""
        if file not in self._self_uris:
            doc = self.bundle.document(file)
            uri = doc.get("$self") if isinstance(doc, dict) else None
            ok = isinstance(uri, str) and _SCHEME.match(uri) and not uri.startswith("urn:")
            self._self_uris[file] = uri.partition("#")[0] if ok and isinstance(uri, str) else None
        return self._self_uris[file]

    def _by_self_uri(self, ref: str) -> str:
        """`ref` as a reference inside the bundle when, resolved against the file's `$self`
        (OpenAPI 3.2: the base URI of its relative references), it names the file itself or
        one beside it: `https://shop.example/api/shop.yaml#/components/schemas/Item` in a
        document whose `$self` is that URL. Anything else is returned as it was."""
        base = self._self_uri(self.file)
        if base is None or ref.startswith("#"):
            return ref
        url, hash_, frag = urljoin(base, ref).partition("#")
        if url == base:
            return "#" + frag
        there, here = urlsplit(url), urlsplit(base)
        folder = posixpath.dirname(here.path) + "/"
        if (
            (there.scheme, there.netloc) != (here.scheme, here.netloc)
            or there.query
            or not there.path.startswith(folder)
        ):
            return ref
        return there.path[len(folder) :] + hash_ + frag

    def _rooted(self, tokens: list[str]) -> tuple[str, list[str]]:
        """Where `tokens` of the root document are, its schema section read where it is."""
        section = self._root_schema_section
        if self._section_alias and tuple(tokens[: len(section)]) == section:
            file, inside = self._section_alias
            return file, [*inside, *tokens[len(section) :]]
        return self.root, tokens

    def _walk(self, file: str, tokens: list[str]) -> Any:
        """The node at `tokens` in `file`, or _MISSING."""
        node = self.bundle.document(file)
        for token in tokens:
            if type(node) is dict and token in node:
                node = node[token]
            elif type(node) is list and list_index(token) < len(node):
                node = node[int(token)]
            else:
                return _MISSING
        return node

    def _is_definition(self, name: str) -> bool:
        definitions = self.bundle.document(self.file)
        definitions = definitions.get("definitions") if type(definitions) is dict else None
        return (
            type(definitions) is dict
            and name in definitions
            and not self.bundle.exists(
                posixpath.normpath(posixpath.join(posixpath.dirname(self.file), name))
            )
        )

    def _has_empty_key(self, file: str) -> bool:
        document = self.bundle.document(file)
        return type(document) is dict and "" in document

    def _anchored(self, file: str, name: str, where: dict[str, Any]) -> list[str]:
        """The place of the one schema of `file` that declares `$anchor: name` (JSON Schema
        2020-12, OpenAPI 3.1's schemas). Anchors are read from the whole file, not per `$id`
        resource: a name declared twice is refused rather than guessed."""
        anchors = self._anchors.get(file)
        if anchors is None:
            anchors = self._anchors[file] = _anchors(self.bundle.document(file))
        found = anchors.get(name, [])
        if len(found) != 1:
            many = f"{len(found)} schemas declare" if found else "no schema declares"
            raise RefError(f"$ref '#{name}': {many} $anchor {name!r}", rule="ref-missing", **where)
        return found[0]

    def _lookup(self, file: str, frag: str, tokens: list[str]) -> Any:
        node = self._walk(file, tokens)
        if node is _MISSING:
            target = f"{file}#{frag}" if file != self.file else f"#{frag}"
            raise MissingTarget(
                f"$ref target {target} does not exist",
                source=self.file,
                pointer=pointer(*self.path, "$ref"),
                rule="ref-missing",
            )
        return node

    def _register(self, file: str, frag: str, tokens: list[str], name: str) -> str:
        self.schema_names[(file, frag)] = name
        self.schemas[name] = None  # keeps the order; filled by _drain
        self._pending.append((file, frag, tokens, name))
        return name

    def _schema_name(self, file: str, tokens: list[str]) -> str:
        skip = {"schema", "items", "properties", "content", "definitions", "schemas"}
        candidates = [t for t in tokens if t not in skip and not t.isdigit()]
        # NFC: macOS writes `Über.yaml` as U+0055 U+0308, and the mark alone is no letter.
        stem = unicodedata.normalize("NFC", posixpath.splitext(posixpath.basename(file))[0])
        base = candidates[-1] if candidates else stem
        if candidates and base in _COMPOSITION_TOKENS:
            # A pointer into a composition (Lob's discriminator maps to `#/oneOf/0`): not
            # "oneOf", "oneOf_2" in the schema list, but the option's title, else the name of
            # the schema it is a part of with the keyword.
            try:
                node = self._lookup(file, pointer(*tokens), tokens)
            except RefError:
                node = None
            title = node.get("title") if isinstance(node, dict) else None
            owner = candidates[-2] if len(candidates) > 1 else stem
            cleaned = _NAME_CHARS.sub("_", title).strip("_") if isinstance(title, str) else ""
            # A word of letters or digits (`..` would be a path segment in the schema's URL).
            if isinstance(title, str) and len(cleaned) <= 60 and re.search(r"[^\W_]", cleaned):
                base = title
            else:
                base = f"{owner}_{base}"
        base = _NAME_CHARS.sub("_", base).strip("_") or "Schema"
        name, n = base, 1
        while name in self.schemas:
            n += 1
            name = f"{base}_{n}"
        return name

    def _schema_ref(self, ref: str) -> str:
        file, frag, tokens = self._locate(ref)
        key = (file, frag)
        name = self.schema_names.get(key)
        if name is None:
            try:
                self._lookup(file, frag, tokens)  # a dangling ref fails here, at its place
            except RefError:
                inner = self._in_resource(file, tokens) if ref.startswith("#") else None
                if inner is None:
                    raise
                frag, tokens = pointer(*inner), inner
                key = (file, frag)
                name = self.schema_names.get(key)
            if name is None:
                name = self._register(file, frag, tokens, self._schema_name(file, tokens))
        return SCHEMA_PREFIX + escape_token(name)

    def _in_resource(self, file: str, tokens: list[str]) -> list[str] | None:
        """`tokens` read inside the nearest enclosing schema with an `$id` (OpenAPI 3.1+):
        JSON Schema 2020-12 resolves `#/$defs/Inner` there, not at the document's root."""
        if not self.json_schema_types:
            return None
        node: Any = self.bundle.document(file)
        base: list[str] | None = None
        for index, token in enumerate(self.path):
            if type(node) is dict and token in node:
                node = node[token]
            elif type(node) is list and list_index(token) < len(node):
                node = node[int(token)]
            else:
                break
            if type(node) is dict and type(node.get("$id")) is str:
                base = self.path[: index + 1]
        if base is None:
            return None
        inner = [*base, *tokens]
        try:
            self._lookup(file, pointer(*inner), inner)
        except RefError:
            return None
        return inner

    def _inline_ref(self, node: dict[str, Any], ref: str, depth: int) -> Any:
        file, frag, tokens = self._locate(ref)
        key = (file, frag)
        section = self._root_schema_section
        if (key in self.schema_names and not _other_section(tokens, section)) or (
            file == self.root and tuple(tokens[: len(section)]) == section
        ):
            # A schema used where something else was expected: keep the reference. Not a
            # parameter or response that a slip elsewhere used as a schema (Opsgenie's
            # `schema: {$ref: '#/parameters/TeamId'}`): where it is listed, it is inlined.
            return {"$ref": self._schema_ref(ref)}
        cached = self._inline.get(key)
        if cached is None:
            if key in self._in_progress:
                self.warnings.append(
                    f"{self.file}#{pointer(*self.path)}: circular $ref {ref!r} left out"
                )
                return {}
            target = self._lookup(file, frag, tokens)
            saved = self.file, self.path
            self._in_progress.add(key)
            self.file, self.path = file, list(tokens)
            before = self.nodes
            result = self.generic(target, depth)
            self._in_progress.discard(key)
            self.file, self.path = saved
            cached = (result, self.nodes - before)
            self._inline[key] = cached
        else:
            self.nodes += cached[1]
            if self.nodes > self.max_nodes:
                raise self._too_many()
        result = cached[0]
        if len(node) > 1 and type(result) is dict:
            # OpenAPI 3.1 lets a reference override the target's summary and description; a
            # path item may hold operations beside its $ref. Other siblings fill gaps only.
            result = dict(result)
            for name, value in node.items():
                if name == "$ref":
                    continue
                if name in ("summary", "description"):
                    result[name] = value
                elif name not in result:
                    self.path.append(name)
                    result[name] = self.generic(value, depth + 1)
                    self.path.pop()
        return result


# Swagger 2.0's sections of named parameters and responses: a target there is what it is
# named for, even after a slip used it as a schema.
_OTHER_SECTIONS = frozenset(("parameters", "responses"))


def _other_section(tokens: list[str], schema_section: tuple[str, ...]) -> bool:
    """Whether `tokens` name a component that is no schema: `#/parameters/X`,
    `#/responses/X` (2.0), `#/components/parameters/X` and the like (3.x)."""
    if tuple(tokens[: len(schema_section)]) == schema_section:
        return False
    if tokens[:1] == ["components"]:
        return len(tokens) == 3 and tokens[1] != "schemas"
    return len(tokens) == 2 and tokens[0] in _OTHER_SECTIONS


def _json_kind(value: Any) -> str:
    """What a JSON value is, in a publisher's words."""
    if value is None or type(value) is bool:
        return json.dumps(value)
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "a map" if isinstance(value, dict) else type(value).__name__

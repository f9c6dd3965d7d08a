"""Resolve `$ref`s into one self-contained document.

The walk knows where schemas live. A `$ref` in a schema position stays a reference, rewritten
to `#/components/schemas/<Name>` (schemas from other files or nested places become components
under unique names), so cycles between schemas are legal and never expanded. Every other
`$ref` (parameters, responses, request bodies, examples, path items, operations, extension
values) is replaced by its target, walked once and shared.

The same walk enforces the node and depth limits: shared targets count at their full size
each time they are used, so a "ref bomb" is refused like a YAML alias bomb. Where each `$ref`
points (file, pointer, anchor, `$id`, `$self`) is apis.openapi.locate's RefLocator, which the
Resolver extends.
"""

from __future__ import annotations

import json
import posixpath
import re
import time
import unicodedata
from typing import Any

from apis.openapi.bundle import Bundle
from apis.openapi.errors import (
    LimitExceeded,
    MissingTarget,
    RefError,
    SpecError,
    escape_token,
    pointer,
    unescape_token,
)
from apis.openapi.locate import LITERAL_KEYS, RefLocator
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
# What a schema name made from a file or title keeps: letters and digits of any script (a
# file `ユーザー.yaml` was named just "Schema"), `.`, `_`, `-`; the rest becomes `_`.
_NAME_CHARS = re.compile(r"[^\w.-]+")
SCHEMA_PREFIX = "#/components/schemas/"


class Resolver(RefLocator):
    """One pass over a document and the bundle files it reaches."""

    def __init__(self, bundle: Bundle, *, swagger2: bool, json_schema_types: bool = False) -> None:
        # OpenAPI 3.1+ schemas are JSON Schema 2020-12: `nullable` is gone from them.
        super().__init__(bundle, swagger2=swagger2, json_schema_types=json_schema_types)
        self.nullable_in_31 = 0
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
        self._aliasing: set[tuple[str, str]] = set()  # aliases being followed (_alias_name)

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
                name = self._alias_name(file, frag, tokens)
            if name is None:
                name = self._register(file, frag, tokens, self._schema_name(file, tokens))
        return SCHEMA_PREFIX + escape_token(name)

    def _alias_name(self, file: str, frag: str, tokens: list[str]) -> str | None:
        """The name of the schema that a schema of only a `$ref` to another file's names,
        now its name too, as for a root alias (_file_alias): Audiobookshelf's controller
        files each say `authorName: {$ref: ../objects/Author.yaml#/components/schemas/
        authorName}` and ref `#/components/schemas/authorName`, which listed an alias
        authorName and the schema as authorName_2. None when it is not such an alias (or
        one in a loop of them)."""
        node = self._lookup(file, frag, tokens)
        if type(node) is not dict or list(node) != ["$ref"] or type(node["$ref"]) is not str:
            return None
        if node["$ref"].startswith("#") or (file, frag) in self._aliasing:
            return None
        saved = self.file, self.path
        self._aliasing.add((file, frag))
        self.file, self.path = file, list(tokens)
        try:
            name = unescape_token(self._schema_ref(node["$ref"])[len(SCHEMA_PREFIX) :])
        finally:
            self.file, self.path = saved
            self._aliasing.discard((file, frag))
        self.schema_names[(file, frag)] = name
        return name

    def _listed_parameter(self, file: str, frag: str, tokens: list[str]) -> bool:
        """Whether a reference listed in `parameters` names a Parameter object kept among
        the schemas (Alchemy's Notify spec keeps its parameters under components/schemas):
        it has a `name` and an `in`, so it is inlined as the parameter it is."""
        if len(self.path) < 2 or self.path[-2] != "parameters":
            return False
        try:
            target = self._lookup(file, frag, tokens)
        except RefError:
            return False
        return (
            isinstance(target, dict)
            and isinstance(target.get("name"), str)
            and isinstance(target.get("in"), str)
        )

    def _inline_ref(self, node: dict[str, Any], ref: str, depth: int) -> Any:
        file, frag, tokens = self._locate(ref)
        key = (file, frag)
        section = self._root_schema_section
        if (
            (key in self.schema_names and not _other_section(tokens, section))
            or (file == self.root and tuple(tokens[: len(section)]) == section)
        ) and not self._listed_parameter(file, frag, tokens):
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

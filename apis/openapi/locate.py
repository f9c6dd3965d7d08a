"""Where a `$ref` points: the file, the JSON pointer and its tokens, by OpenAPI's and JSON
Schema's rules, or a RefError naming the rule it breaks.

A reference may name a place in its own file (`#/components/schemas/Pet`), a file of the
bundle beside it (`schemas/pet.yaml#/Pet`), a schema's `$anchor` (`#pet`) or `$id`, or the
document's OpenAPI 3.2 `$self`. Nothing is fetched: a URL that is not the document's own is
refused, as is a path that climbs out of the bundle. The resolver (apis.openapi.resolve)
extends this with what it does at each place.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from apis.openapi.bundle import Bundle
from apis.openapi.errors import MissingTarget, RefError, list_index, pointer

# Values that are data, not spec: a `$ref` key inside them is text. (Not `default`: outside
# schemas that is also the name of the catch-all response.)
LITERAL_KEYS = frozenset({"example", "value", "dataValue", "enum", "const"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A plain-name fragment (JSON Schema 2020-12's anchor syntax), as in `$ref: '#pet'`.
_ANCHOR = re.compile(r"[A-Za-z_][-A-Za-z0-9._]*")
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
MISSING = object()  # walk: no node at that pointer


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


class RefLocator:
    """Locates references of one bundle; `file` and `path` are where the walk stands."""

    def __init__(self, bundle: Bundle, *, swagger2: bool, json_schema_types: bool) -> None:
        self.bundle = bundle
        self.swagger2 = swagger2
        self.json_schema_types = json_schema_types
        self.root = bundle.root
        self.file = bundle.root
        self.path: list[str] = []
        self.read_in_root = 0  # `#/...` refs of other files found only in the root
        # Where the root's schema section really is, when it is a `$ref` to another file.
        self._section_alias: tuple[str, list[str]] | None = None
        self._root_schema_section = ("definitions",) if swagger2 else ("components", "schemas")
        self._anchors: dict[str, dict[str, list[list[str]]]] = {}
        self._ids: dict[str, dict[str, list[list[str]]]] = {}
        self._self_uris: dict[str, str | None] = {}

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
                    return self._at_anchor(self.file, rest, ref, where)
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
            return self._at_anchor(file, frag, ref, where)
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
            if self._walk(file, tokens) is MISSING and self._walk(file, moved) is not MISSING:
                tokens = moved
                frag = pointer(*tokens)
        if (
            not file_part
            and tokens
            and file != self.root
            and self._walk(file, tokens) is MISSING
            and self._walk(*self._rooted(tokens)) is not MISSING
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
        if "+" in frag and self._walk(file, tokens) is MISSING:
            # `with+space`: a form-encoded space, which some tools write in a fragment. RFC
            # 3986 keeps "+" as itself, so only when no key has the literal "+".
            spaced = [t.replace("+", " ") for t in tokens]
            if self._walk(file, spaced) is not MISSING:
                tokens = spaced
                frag = pointer(*tokens)
        return file, frag, tokens

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

    def _self_uri(self, file: str) -> str | None:
        """The absolute URI a file gives itself with OpenAPI 3.2's top-level `$self`."""
        if file not in self._self_uris:
            doc = self.bundle.document(file)
            uri = doc.get("$self") if isinstance(doc, dict) else None
            ok = isinstance(uri, str) and _SCHEME.match(uri) and not uri.startswith("urn:")
            self._self_uris[file] = uri.partition("#")[0] if ok and isinstance(uri, str) else None
        return self._self_uris[file]

    def _rooted(self, tokens: list[str]) -> tuple[str, list[str]]:
        """Where `tokens` of the root document are, its schema section read where it is."""
        section = self._root_schema_section
        if self._section_alias and tuple(tokens[: len(section)]) == section:
            file, inside = self._section_alias
            return file, [*inside, *tokens[len(section) :]]
        return self.root, tokens

    def _walk(self, file: str, tokens: list[str]) -> Any:
        """The node at `tokens` in `file`, or MISSING."""
        node = self.bundle.document(file)
        for token in tokens:
            if type(node) is dict and token in node:
                node = node[token]
            elif type(node) is list and list_index(token) < len(node):
                node = node[int(token)]
            else:
                return MISSING
        return node

    def _lookup(self, file: str, frag: str, tokens: list[str]) -> Any:
        node = self._walk(file, tokens)
        if node is MISSING:
            target = f"{file}#{frag}" if file != self.file else f"#{frag}"
            raise MissingTarget(
                f"$ref target {target} does not exist",
                source=self.file,
                pointer=pointer(*self.path, "$ref"),
                rule="ref-missing",
            )
        return node

    def _at_anchor(
        self, file: str, name: str, ref: str, where: dict[str, Any]
    ) -> tuple[str, str, list[str]]:
        """What `_locate` answers for a fragment that is no JSON pointer: the schema whose
        `$anchor` it names, when it is an anchor's name at all."""
        if not _ANCHOR.fullmatch(name):
            raise RefError(
                f"$ref {ref!r}: the part after # must be a JSON pointer starting with / or the "
                "name of an $anchor",
                rule="ref-pointer",
                **where,
            )
        anchored = self._anchored(file, name, where)
        return file, pointer(*anchored), anchored

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

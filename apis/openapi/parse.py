"""Bytes to Python data: JSON through orjson, YAML through libyaml's safe loader only.

Limits that protect the parser itself live here (bytes, nesting, YAML alias expansion);
the node and depth limits of the whole document are enforced by the resolver's walk.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from django.conf import settings

from apis.openapi.errors import LimitExceeded, SpecError, SyntaxProblem, TooLarge, escape_token


def max_bytes() -> int:
    return int(settings.APIS_MAX_SPEC_BYTES)


def max_nodes() -> int:
    return int(settings.APIS_MAX_NODES)


def max_depth() -> int:
    return int(settings.APIS_MAX_DEPTH)


def max_bundle_files() -> int:
    return int(settings.APIS_MAX_BUNDLE_FILES)


def max_seconds() -> float:
    return float(getattr(settings, "APIS_MAX_IMPORT_SECONDS", 60))


def max_zip_ratio() -> int:
    return int(getattr(settings, "APIS_MAX_ZIP_RATIO", 100))


def check_size(size: int, source: str) -> None:
    limit = max_bytes()
    if size > limit:
        raise TooLarge(
            f"the document is {size:,} bytes, over the limit of {limit:,} bytes "
            "(setting APIS_MAX_SPEC_BYTES)",
            source=source,
            rule="size-limit",
        )


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader, JSON-shaped: string keys, dates kept as text, no bytes/sets.

    Only the standard safe tags exist here, so `!!python/...` is an error, never a call.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if all(type(k) is str for k in mapping):
            return mapping
        return {_key(k): v for k, v in mapping.items()}


class _RenamingLoader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Loader
):
    """_Loader's constructors over PyYAML's own parser and composer, whose anchors a later
    node may take again, as YAML allows: an alias means the most recent node of its name.
    libyaml's composer (in C) refuses that, so a document that does it is read again
    with this, slower one (_compose)."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if not self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            if anchor is not None:
                self.anchors.pop(anchor, None)  # this node takes the name from here on
        return super().compose_node(parent, index)


def _compose(text: str) -> tuple[_Loader, Any]:
    """The document's node graph, and the loader that made it (to construct scalars)."""
    loader = _Loader(text)
    try:
        return loader, loader.get_single_node()
    except yaml.composer.ComposerError as exc:
        if "duplicate anchor" not in str(exc.context):
            loader.dispose()
            raise
    loader.dispose()
    loader = _RenamingLoader(text)
    try:
        return loader, loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _checked(kind: str, construct: Any) -> Any:
    """A scalar constructor that turns Python's ValueError into a YAML error with a mark."""

    def wrapper(loader: _Loader, node: Any) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, TypeError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid {kind}", node.start_mark
            ) from None

    return wrapper


def _construct_text(loader: _Loader, node: Any) -> Any:
    return str(loader.construct_scalar(node))


def _construct_set(loader: _Loader, node: Any) -> Any:
    data: dict[str, None] = {}
    yield data
    data.update(dict.fromkeys(loader.construct_mapping(node)))


# The most digits a 64-bit integer has in any base YAML 1.2 writes (22 in octal).
_MAX_INT64_DIGITS = 22


def _construct_int(loader: _Loader, node: Any) -> Any:
    """YAML 1.2's integers: decimal (a leading 0 is still decimal), 0o octal, 0x hex.
    orjson (and JSON consumers) stop at 64 bits: bigger numbers keep their text."""
    text = str(loader.construct_scalar(node))
    digits = (text[2:] if text.startswith(("0o", "0x")) else text.lstrip("+-")).lstrip("0")
    if len(digits) > _MAX_INT64_DIGITS:
        # Past 64 bits in any base, and int() refuses more than 4,300 digits anyway.
        return text
    if text.startswith(("0o", "0x")):
        value = int(text[2:], 8 if text[1] == "o" else 16)
    else:
        value = int(text, 10)
    if -(2**63) <= value < 2**64:
        return value
    return text


# Plain scalars resolve by YAML 1.2's core schema, as OpenAPI asks and as js-yaml (Swagger UI,
# Redoc) reads them, not by PyYAML's YAML 1.1 rules: `on`, `no`, `y` are words, `12:30` and
# `1_000` text, `017` seventeen. Dates stay strings ("2023-08-16" is an API version).
_CORE_SCHEMA = (  # (tag, pattern, first characters)
    ("bool", r"(?:true|True|TRUE|false|False|FALSE)", "tTfF"),
    ("int", r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)", "-+0123456789"),
    (
        "float",
        r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))",
        "-+0123456789.",
    ),
    ("null", r"(?:~|null|Null|NULL|)", ("~", "n", "N", "")),
    ("merge", r"<<", "<"),
)
_Loader.yaml_implicit_resolvers = {}
for tag, pattern, firsts in _CORE_SCHEMA:
    _Loader.add_implicit_resolver(
        f"tag:yaml.org,2002:{tag}", re.compile(f"^{pattern}$"), list(firsts)
    )
_Loader.add_constructor("tag:yaml.org,2002:int", _checked("integer", _construct_int))
_Loader.add_constructor(
    "tag:yaml.org,2002:float",
    _checked("number", yaml.constructor.SafeConstructor.construct_yaml_float),
)
_Loader.add_constructor(
    "tag:yaml.org,2002:bool",
    _checked("boolean", yaml.constructor.SafeConstructor.construct_yaml_bool),
)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
_Loader.add_constructor("tag:yaml.org,2002:binary", _construct_text)
_Loader.add_constructor("tag:yaml.org,2002:set", _construct_set)


@dataclass(frozen=True)
class Parsed:
    data: Any
    format: str  # "json" or "yaml"
    # Keys written twice in one object: the last is kept, as browsers' JSON.parse keeps it,
    # and the publisher is told (js-yaml, under Swagger UI, refuses such YAML outright).
    duplicates: tuple[str, ...] = ()


def looks_like_json(data: bytes, name: str) -> bool:
    lowered = name.lower()
    first = data.lstrip()[:1]
    if lowered.endswith(".json"):
        # Unless it plainly starts as YAML does (`openapi: 3.0.3`, `# comment`, `---`): a
        # YAML document saved under a .json name is read as what it is.
        return not (first.isalpha() or first in (b"#", b"-", b"%"))
    if lowered.endswith((".yaml", ".yml")):
        return False
    return first in (b"{", b"[")


# Byte-order marks, longest first (UTF-32's little-endian mark begins with UTF-16's).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def as_utf8(data: bytes, source: str) -> bytes:
    """The file as UTF-8 without a byte-order mark. UTF-16 and UTF-32 are read by their mark,
    as browsers read them (Windows PowerShell writes UTF-16), and UTF-16 without one by its
    zero bytes, as JSON's first RFC tells it."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "")
    if encoding == "utf-8":
        return data[3:]
    if not encoding and len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        encoding = "utf-16-be" if data[0] == 0 else "utf-16-le"
    if not encoding:
        return data
    try:
        text = data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        name = encoding[:6].upper()
        raise SyntaxProblem(
            f"not valid {name} text (byte {exc.start})", source=source, rule="encoding"
        ) from None
    return text.encode("utf-8")


def parse_bytes(data: bytes, source: str) -> Parsed:
    """Parse one file. Raises SyntaxProblem (with line and column) or LimitExceeded."""
    check_size(len(data), source)
    data = as_utf8(data, source)
    if looks_like_json(data, source):
        parsed = Parsed(_parse_json(data, source), "json", _json_duplicates(data))
    else:
        parsed = _json_named_yaml(data, source) or _yaml(data, source)
    if _NUL_ESCAPE.search(data):
        _refuse_nul(parsed.data, source)
    return parsed


def _yaml(data: bytes, source: str) -> Parsed:
    converter = _parse_yaml(data, source)
    return Parsed(converter.result, "yaml", tuple(converter.duplicates))


def _json_named_yaml(data: bytes, source: str) -> Parsed | None:
    """A JSON document in a file named .yaml, read as JSON: libyaml (YAML 1.1) refuses some
    valid JSON, an emoji's surrogate-pair escape among it. None when it is no JSON (YAML's
    own flow style, `{openapi: 3.0.3}`, starts the same way)."""
    if data.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return Parsed(value, "json", _json_duplicates(data))


# The escapes that write a NUL: JSON's \u0000, YAML's \0, \x00, \u0000 and \U00000000 (a
# raw NUL byte is no valid JSON or YAML). Only a document with one is walked.
_NUL_ESCAPE = re.compile(rb"\\(?:0|x00|u0000|U00000000)")


def _refuse_nul(data: Any, source: str) -> None:
    """SpecError naming the first text with a NUL: PostgreSQL's text and jsonb cannot hold
    one, so the version would fail at the database after everything else passed."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            found = "\x00" in value
        elif isinstance(value, dict):
            found = any(isinstance(k, str) and "\x00" in k for k in value)
            stack += [(v, f"{where}/{escape_token(str(k))}") for k, v in value.items()]
        elif isinstance(value, list):
            found = False
            stack += [(v, f"{where}/{i}") for i, v in enumerate(value)]
        else:
            found = False
        if found:
            raise SpecError(
                "a text holds a NUL character (\\u0000), which cannot be stored",
                source=source,
                pointer=where,
                rule="nul",
            )


MAX_DUPLICATES_TOLD = 20


def _json_duplicates(data: bytes) -> tuple[str, ...]:
    """The keys a JSON document writes twice in one object (orjson keeps the last silently).
    The standard library's parser is the one that hands over an object's pairs."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(found) < MAX_DUPLICATES_TOLD:
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    found.append(f"the key {key!r} appears twice in one object; the last is used")
                seen.add(key)
        return {}

    # orjson read it: a check that cannot finish is not worth failing the import for.
    with contextlib.suppress(ValueError, RecursionError):
        json.loads(data, object_pairs_hook=pairs)
    return tuple(dict.fromkeys(found))


def _parse_json(data: bytes, source: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth" in exc.msg or "recursion" in exc.msg:
            raise LimitExceeded(
                f"the document is nested too deeply (more than {max_depth()} levels)",
                source=source,
                line=exc.lineno,
                column=exc.colno,
                rule="depth-limit",
            ) from None
        if not data.strip():
            raise SyntaxProblem("the file is empty", source=source, rule="json") from None
        raise SyntaxProblem(
            f"not valid JSON: {exc.msg}",
            source=source,
            line=exc.lineno,
            column=exc.colno,
            rule="json",
        ) from None


def _char_at(text: str, mark: Any) -> str:
    """The character a YAML error's mark points at, or "" past the text."""
    if mark is None:
        return ""
    lines = text.split("\n", mark.line + 1)
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line[mark.column] if 0 <= mark.column < len(line) else ""


def _parse_yaml(data: bytes, source: str) -> _Converter:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SyntaxProblem(
            f"not UTF-8 text (byte {exc.start}); is this a JSON or YAML file?",
            source=source,
            rule="encoding",
        ) from None
    loader: _Loader | None = None
    try:
        loader, node = _compose(text)
        if node is None:
            raise SyntaxProblem("the file is empty", source=source, rule="yaml")
        converter = _Converter(loader, source)
        converter.result = converter.convert(node, 1)[0]
        return converter
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        rule = "yaml"
        if "nesting depth" in problem:
            problem = "the document is nested too deeply"
            rule = "depth-limit"
        elif "cannot start any token" in problem and _char_at(text, mark) == "\t":
            problem = "a tab character here; YAML indents with spaces, never tabs"
        elif "could not determine a constructor" in problem:
            problem = f"unsupported YAML tag ({problem.split('tag', 1)[-1].strip()})"
            rule = "yaml-tag"
        cls = LimitExceeded if rule == "depth-limit" else SyntaxProblem
        raise cls(
            f"not valid YAML: {problem}" if cls is SyntaxProblem else problem,
            source=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            rule=rule,
        ) from None
    except yaml.YAMLError as exc:
        raise SyntaxProblem(f"not valid YAML: {exc}", source=source, rule="yaml") from None
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        # A constructor PyYAML does not guard; no position is known here.
        raise SyntaxProblem(f"not valid YAML: {exc}", source=source, rule="yaml") from None
    except RecursionError:
        raise LimitExceeded(
            "the document is nested too deeply", source=source, rule="depth-limit"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SET = "tag:yaml.org,2002:set"
_MERGE = "tag:yaml.org,2002:merge"
_PAIRS = ("tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs")
_COLLECTION_TAGS = frozenset({_MAP, _SEQ, _SET, *_PAIRS})


class _Converter:
    """The composed YAML node graph (libyaml, in C) to JSON-shaped Python data.

    Replaces PyYAML's constructor for collections: much faster, and it measures as it goes.
    Every collection node is converted once (memoised by identity), so an alias is the same
    object, never a copy, and the *expanded* size of each node is known: a document whose
    aliases expand past the node limit (a billion-laughs or merge-key bomb) is refused in
    time proportional to its text, before anything is expanded. Scalars other than plain
    strings go through the loader's safe constructors (ints, floats, bools, nulls).
    """

    def __init__(self, loader: _Loader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.limit = max_nodes()
        self.max_depth = max_depth()
        self.done: dict[int, tuple[Any, int]] = {}
        self.open: set[int] = set()
        self.aliased = False
        self.result: Any = None
        self.duplicates: list[str] = []

    def _error(self, node: Any, message: str, rule: str) -> LimitExceeded:
        mark = node.start_mark
        return LimitExceeded(
            message, source=self.source, line=mark.line + 1, column=mark.column + 1, rule=rule
        )

    def _bad_tag(self, node: Any) -> None:
        if node.tag in self.loader.yaml_constructors:
            problem = f"the tag {node.tag!r} does not fit a {node.id}"
        else:
            problem = f"could not determine a constructor for the tag {node.tag!r}"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)

    def _key(self, node: Any) -> str:
        if type(node) is not yaml.ScalarNode:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", None, "found unhashable key", node.start_mark
            )
        if node.tag == _STR:
            return str(node.value)
        return _key(self.loader.construct_object(node))

    def convert(self, node: Any, depth: int) -> tuple[Any, int]:
        kind = type(node)
        if kind is yaml.ScalarNode:
            if node.tag == _STR:
                return node.value, 1
            if node.tag in _COLLECTION_TAGS:
                self._bad_tag(node)
            return self.loader.construct_object(node), 1
        nid = id(node)
        hit = self.done.get(nid)
        if hit is not None:
            self.aliased = True
            return hit
        if nid in self.open:
            raise self._error(
                node,
                "a YAML alias refers to a node that contains it (recursive structure)",
                "alias-cycle",
            )
        if depth > self.max_depth:
            raise self._error(
                node,
                f"the document is nested more than {self.max_depth} levels deep "
                "(setting APIS_MAX_DEPTH)",
                "depth-limit",
            )
        self.open.add(nid)
        out: Any
        if kind is yaml.MappingNode:
            out, size = self._mapping(node, depth)
        else:
            out, size = self._sequence(node, depth)
        self.open.discard(nid)
        if size > self.limit:
            if self.aliased:
                raise self._error(
                    node,
                    f"YAML aliases expand past the limit of {self.limit:,} nodes "
                    "(setting APIS_MAX_NODES)",
                    "alias-limit",
                )
            raise self._error(
                node,
                f"the document has more than {self.limit:,} nodes (setting APIS_MAX_NODES)",
                "node-limit",
            )
        self.done[nid] = (out, size)
        return out, size

    def _mapping(self, node: Any, depth: int) -> tuple[dict[str, Any], int]:
        if node.tag != _MAP and node.tag != _SET:
            self._bad_tag(node)
        out: dict[str, Any] = {}
        size = 1
        merged: list[Any] = []
        for key_node, value_node in node.value:
            if type(key_node) is yaml.ScalarNode and key_node.tag == _MERGE:
                merged.append(value_node)
                continue
            key = self._key(key_node)
            if key in out and len(self.duplicates) < MAX_DUPLICATES_TOLD:
                self.duplicates.append(
                    f"line {key_node.start_mark.line + 1}: the key {key!r} appears twice in "
                    "one mapping; the last is used"
                )
            value, n = self.convert(value_node, depth + 1)
            out[key] = None if node.tag == _SET else value
            size += n
        if merged:
            out, size = self._merge(merged, out, size, depth)
        return out, size

    def _merge(
        self, values: list[Any], own: dict[str, Any], size: int, depth: int
    ) -> tuple[dict[str, Any], int]:
        """YAML merge keys (`<<`): earlier sources win over later ones, own keys over all.

        The size counts every merged source in full, so merge-key bombs are measured too.
        """
        sources: list[Any] = []
        for value in values:
            items = value.value if type(value) is yaml.SequenceNode else [value]
            for item in items:
                if type(item) is not yaml.MappingNode:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        None,
                        f"expected a mapping or list of mappings for merging, but found {item.id}",
                        item.start_mark,
                    )
                sources.append(item)
        result: dict[str, Any] = {}
        for source in reversed(sources):
            data, n = self.convert(source, depth + 1)
            result.update(data)
            size += n
        result.update(own)
        return result, size

    def _sequence(self, node: Any, depth: int) -> tuple[list[Any], int]:
        pairs = node.tag in _PAIRS
        if node.tag != _SEQ and not pairs:
            self._bad_tag(node)
        out: list[Any] = []
        size = 1
        for item in node.value:
            if pairs:
                if type(item) is not yaml.MappingNode or len(item.value) != 1:
                    raise yaml.constructor.ConstructorError(
                        "while constructing pairs",
                        node.start_mark,
                        "expected a mapping of length 1",
                        item.start_mark,
                    )
                key_node, value_node = item.value[0]
                value, n = self.convert(value_node, depth + 1)
                out.append([self._key(key_node), value])
                size += n + 2
                continue
            value, n = self.convert(item, depth + 1)
            out.append(value)
            size += n
        return out, size

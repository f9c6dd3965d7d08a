"""Bytes to Python data: JSON through orjson, YAML through libyaml's safe loader only.

Limits that protect the parser itself live here (bytes, nesting, YAML alias expansion);
the node and depth limits of the whole document are enforced by the resolver's walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from django.conf import settings

from apis.openapi.errors import LimitExceeded, SyntaxProblem, TooLarge


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


def _construct_int(loader: _Loader, node: Any) -> Any:
    value = _checked("integer", yaml.constructor.SafeConstructor.construct_yaml_int)(loader, node)
    # orjson (and JSON consumers) stop at 64 bits; keep bigger numbers as their text.
    if -(2**63) <= value < 2**64:
        return value
    return str(loader.construct_scalar(node))


def _construct_text(loader: _Loader, node: Any) -> Any:
    return str(loader.construct_scalar(node))


def _construct_set(loader: _Loader, node: Any) -> Any:
    data: dict[str, None] = {}
    yield data
    data.update(dict.fromkeys(loader.construct_mapping(node)))


# Dates stay strings ("2023-08-16" is an API version, not a datetime).
_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
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

# An anchor is `&name` at the start of a node; descriptions with a bare `&` rarely match,
# and a false positive only costs one extra counting pass.
_ANCHOR = re.compile(rb"(?:^|[\s\[{,])&[^\s\[\]{},]", re.MULTILINE)


@dataclass(frozen=True)
class Parsed:
    data: Any
    format: str  # "json" or "yaml"


def looks_like_json(data: bytes, name: str) -> bool:
    lowered = name.lower()
    if lowered.endswith(".json"):
        return True
    if lowered.endswith((".yaml", ".yml")):
        return False
    return data.lstrip()[:1] in (b"{", b"[")


def parse_bytes(data: bytes, source: str) -> Parsed:
    """Parse one file. Raises SyntaxProblem (with line and column) or LimitExceeded."""
    check_size(len(data), source)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if looks_like_json(data, source):
        return Parsed(_parse_json(data, source), "json")
    return Parsed(_parse_yaml(data, source), "yaml")


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


def _parse_yaml(data: bytes, source: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SyntaxProblem(
            f"not UTF-8 text (byte {exc.start}); is this a JSON or YAML file?",
            source=source,
            rule="encoding",
        ) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SyntaxProblem("the file is empty", source=source, rule="yaml")
        if _ANCHOR.search(data):
            _check_alias_expansion(node, source)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        rule = "yaml"
        if "nesting depth" in problem:
            problem = "the document is nested too deeply"
            rule = "depth-limit"
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
    finally:
        loader.dispose()


def _check_alias_expansion(root: Any, source: str) -> None:
    """Refuse a YAML graph whose aliases expand past the node limit (billion laughs).

    Counts the expanded size over the composed node graph, memoised by node identity, so
    a bomb is measured in time proportional to its text, never expanded.
    """
    limit = max_nodes()
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        nid = id(node)
        if finished:
            open_nodes.discard(nid)
            total = 1
            for child in _children(node):
                total += sizes.get(id(child), 1)
            if total > limit:
                mark = root.start_mark
                raise LimitExceeded(
                    f"YAML aliases expand past the limit of {limit:,} nodes "
                    "(setting APIS_MAX_NODES)",
                    source=source,
                    line=mark.line + 1 if mark else None,
                    rule="alias-limit",
                )
            sizes[nid] = total
            continue
        if nid in sizes:
            continue
        if nid in open_nodes:
            raise LimitExceeded(
                "a YAML alias refers to a node that contains it (recursive structure)",
                source=source,
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
                rule="alias-cycle",
            )
        open_nodes.add(nid)
        stack.append((node, True))
        for child in _children(node):
            if isinstance(child, yaml.CollectionNode) and id(child) not in sizes:
                stack.append((child, False))


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []

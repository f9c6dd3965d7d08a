"""A declarative YAML configuration file with line numbers, for `manage.py applyconfig`.

Each app that owns a top-level section provides `<app>/applyconfig.py` with:

    SECTION = "apis"            # the top-level key it owns
    ORDER = 10                  # lower runs first (APIs before what refers to them)
    def validate(node: Node, ctx: Context) -> object   # raise ConfigError; return a plan
    def apply(plan: object, ctx: Context) -> list[str] # write; return lines to print
    def warnings(plan: object, ctx: Context) -> list[ConfigError]   # optional

and `<app>/config-schema.json`, its part of the file's JSON Schema (portal/lib/configschema.py
assembles them). The schema is checked first (keys, types, ranges, with the line), then
`validate` of every section runs before anything is written, then every `apply` runs in one
transaction, so an invalid file changes nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import yaml

_MAX_NODES = 100_000
# Levels of nesting: a real file has under ten. The walkers after the parser (the schema, the
# sections) recurse once per level too, so a bound here keeps them all within Python's stack.
_MAX_DEPTH = 100
_MERGE = "tag:yaml.org,2002:merge"  # the tag of a plain `<<` key


class ConfigError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass
class Context:
    """What appliers share: the file's folder (relative paths) and cross-section results."""

    base_dir: Path
    results: dict[str, Any] = field(default_factory=dict)


class Node:
    """A YAML value with the line it starts on (1-based)."""

    def __init__(self, raw: yaml.Node, counter: list[int]) -> None:
        counter[0] += 1
        if counter[0] > _MAX_NODES:
            raise ConfigError(raw.start_mark.line + 1, "the file has too many values")
        self.line = raw.start_mark.line + 1
        self.raw = raw
        self._counter = counter

    @property
    def kind(self) -> str:
        if isinstance(self.raw, yaml.MappingNode):
            return "mapping"
        if isinstance(self.raw, yaml.SequenceNode):
            return "list"
        return "scalar"

    def error(self, message: str) -> ConfigError:
        return ConfigError(self.line, message)

    def mapping(self, what: str = "this", allowed: set[str] | None = None) -> dict[str, Node]:
        if not isinstance(self.raw, yaml.MappingNode):
            raise self.error(f"{what} must be a mapping")
        out: dict[str, Node] = {}
        merged: dict[str, Node] = {}
        for key_raw, value_raw in self.raw.value:
            if key_raw.tag == _MERGE:
                if merged:
                    raise ConfigError(key_raw.start_mark.line + 1, "'<<' is given twice")
                merged = self._merged(value_raw, what)
                continue
            key = Node(key_raw, self._counter).scalar(str, "a key")
            if key in out:
                raise ConfigError(key_raw.start_mark.line + 1, f"{key!r} is given twice")
            if allowed is not None and key not in allowed:
                raise ConfigError(
                    key_raw.start_mark.line + 1,
                    f"unknown key {key!r} in {what}; expected one of: "
                    + ", ".join(sorted(allowed)),
                )
            out[key] = Node(value_raw, self._counter)
        for key, node in merged.items():
            # A merged key is the mapping's own unless the mapping writes it (YAML's merge).
            if key not in out:
                if allowed is not None and key not in allowed:
                    raise ConfigError(
                        node.line,
                        f"unknown key {key!r} in {what}; expected one of: "
                        + ", ".join(sorted(allowed)),
                    )
                out[key] = node
        return out

    def _merged(self, raw: yaml.Node, what: str) -> dict[str, Node]:
        """The keys a merge key (`<<: *defaults` or `<<: [*a, *b]`) brings in: of several
        mappings, the first to name a key gives it."""
        sources = raw.value if isinstance(raw, yaml.SequenceNode) else [raw]
        out: dict[str, Node] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise ConfigError(
                    source.start_mark.line + 1,
                    f"'<<' in {what} must name a mapping (`<<: *anchor`) or a list of them",
                )
            for key, node in Node(source, self._counter).mapping(what).items():
                out.setdefault(key, node)
        return out

    def items(self, what: str = "this") -> Iterator[Node]:
        if not isinstance(self.raw, yaml.SequenceNode):
            raise self.error(f"{what} must be a list")
        for item in self.raw.value:
            yield Node(item, self._counter)

    def scalar(self, kind: type | tuple[type, ...], what: str = "this value") -> Any:
        if not isinstance(self.raw, yaml.ScalarNode):
            raise self.error(f"{what} must be a single value")
        loader = yaml.SafeLoader("")
        try:
            value = loader.construct_object(self.raw, deep=True)
        except yaml.YAMLError as exc:
            raise self.error(f"{what}: {exc}") from None
        finally:
            loader.dispose()
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(f"{what} must be {_names(kind)}, not true/false")
        if not isinstance(value, kind):
            raise self.error(f"{what} must be {_names(kind)}")
        return value

    def strings(self, what: str, *, single_ok: bool = True) -> list[str]:
        """A list of strings (a single string is accepted as a list of one)."""
        if single_ok and isinstance(self.raw, yaml.ScalarNode):
            return [self.scalar(str, what)]
        return [n.scalar(str, f"each item of {what}") for n in self.items(what)]

    def data(self, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> Any:
        """The whole value as plain data for the schema, noting each value's line by path."""
        loader = yaml.SafeLoader("")
        counted = self._counter[0]
        try:
            data = self._data(path, lines, loader)
        finally:
            loader.dispose()
        # The sections walk the same values again: this walk does not use up their budget.
        self._counter[0] = counted
        return data

    def _data(
        self, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], loader: yaml.SafeLoader
    ) -> Any:
        lines[path] = self.line
        if isinstance(self.raw, yaml.MappingNode):
            return {k: v._data((*path, k), lines, loader) for k, v in self.mapping().items()}
        if isinstance(self.raw, yaml.SequenceNode):
            return [n._data((*path, i), lines, loader) for i, n in enumerate(self.items())]
        try:
            return loader.construct_object(self.raw, deep=True)
        except yaml.YAMLError as exc:
            raise self.error(str(exc)) from None

    def plain(self) -> Any:
        """Mapping/list/scalar to plain Python, for small free-form values."""
        if isinstance(self.raw, yaml.MappingNode):
            return {k: v.plain() for k, v in self.mapping().items()}
        if isinstance(self.raw, yaml.SequenceNode):
            return [n.plain() for n in self.items()]
        return self.scalar(object)


class Slugged(Protocol):
    @property
    def slug(self) -> str: ...


def once_each[P: Slugged](
    node: Node, section: str, build: Callable[[Node], P], what: str
) -> list[P]:
    """The plans of a section's items, built by `build`; an item whose slug an earlier one
    already has is refused at its own line ("the product 'gold' is declared twice")."""
    plans: list[P] = []
    seen: set[str] = set()
    for item in node.items(section):
        plan = build(item)
        if plan.slug in seen:
            raise item.error(f"the {what} {plan.slug!r} is declared twice")
        seen.add(plan.slug)
        plans.append(plan)
    return plans


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def parse(text: str) -> Node:
    """The root node; ConfigError with the line for YAML syntax errors."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        # The composer recurses once per level: `[[[[...` a few thousand deep ends its stack.
        raise ConfigError(1, "the file is nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(1, f"not valid YAML: {exc}") from None
    if root is None:
        raise ConfigError(1, "the file is empty")
    try:
        _expanded_size(root, {})
    except RecursionError:
        raise ConfigError(1, "the file is nested too deeply") from None
    return Node(root, [0])


def _expanded_size(node: yaml.Node, memo: dict[int, tuple[int, int] | None]) -> tuple[int, int]:
    """How many values the node holds once aliases are expanded, and how many levels deep it
    goes, computed once per node (an alias shares its anchor's node), so an alias bomb or a
    file nested past the walkers' stack is refused before anything walks it."""
    key = id(node)
    if key in memo:
        known = memo[key]
        if known is None:
            raise ConfigError(node.start_mark.line + 1, "an alias refers to itself")
        return known
    memo[key] = None
    if isinstance(node, yaml.MappingNode):
        children = [_expanded_size(n, memo) for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = [_expanded_size(item, memo) for item in node.value]
    else:
        children = []
    size = 1 + sum(s for s, _ in children)
    depth = 1 + max((d for _, d in children), default=0)
    if size > _MAX_NODES:
        raise ConfigError(node.start_mark.line + 1, "the file has too many values")
    if depth > _MAX_DEPTH:
        raise ConfigError(node.start_mark.line + 1, "the file is nested too deeply")
    memo[key] = size, depth
    return size, depth


def appliers() -> dict[str, ModuleType]:
    """SECTION -> applier module, for every installed app that has `applyconfig.py`."""
    from django.apps import apps

    found: dict[str, ModuleType] = {}
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.applyconfig")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.applyconfig":
                raise
            continue
        if hasattr(module, "SECTION"):  # a helper for another app's section has none
            found[module.SECTION] = module
    return dict(sorted(found.items(), key=lambda item: getattr(item[1], "ORDER", 100)))

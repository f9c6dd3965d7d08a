"""The operation a call is: the template tree (gateway/matching.py) picks what trying every
template's regex in turn picks, on the corpus's real path sets and on the awkward cases."""

from __future__ import annotations

import json
import re

import pytest

from gateway.config import OperationMatch, RouteConfig
from gateway.matching import template_pattern
from tests.conftest import SHARED_SPECS

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def route_of(operations: list[tuple[str, str]]) -> RouteConfig:
    route = RouteConfig(
        api_slug="a", suffix="a", backend="upstream", timeout=5.0, forward_claims=False
    )
    for position, (method, template) in enumerate(operations):
        route.operations.append(OperationMatch(method, template, f"op{position}", {}))
    return route


FORMAT = "(?:json|xml|ya?ml|csv|txt|html?|js|atom|rss)?"


class EveryRegex:
    """The definition, by trying each template's regex in turn: of those that match, the most
    literal characters win, the first declared among equals; loosely, any that matches
    without letter case, with a trailing slash or a format suffix (`.json`) added or taken
    away."""

    def __init__(self, route: RouteConfig) -> None:
        self.by_method: dict[str, list[tuple[OperationMatch, re.Pattern[str]]]] = {}
        for op in route.operations:
            written = op.template.removesuffix("/")
            stem = re.sub(rf"(?<=[^/])\.{FORMAT}$", "", written, flags=re.IGNORECASE)
            either = (
                f"(?:{template_pattern(written)[0].pattern}|{template_pattern(stem)[0].pattern})"
            )
            optional = rf"(?:\.{FORMAT})?/?"  # a format suffix, a trailing slash
            loose = re.compile(either + optional, re.IGNORECASE)
            self.by_method.setdefault(op.method, []).append((op, loose))

    def match(self, method: str, path: str) -> str | None:
        best = None
        for op, _ in self.by_method.get(method, []):
            better = best is None or op.literal_length > best.literal_length
            if better and op.pattern.fullmatch(path):
                best = op
        if best is None:
            return None
        # None when the path is, in another case or with a suffix after a dot, a more
        # specific operation's that the best one's pattern takes (`/pets/MINE` for
        # `/pets/mine` beside `/pets/{id}`): a backend may run that one.
        for op, _ in self.by_method.get(method, []):
            if op.literal_length > best.literal_length and best.pattern.fullmatch(op.template):
                written = template_pattern(op.template.removesuffix("/"))[0].pattern
                if re.fullmatch(written + r"(?:\.[^/]*)?/?", path, re.IGNORECASE):
                    return None
        return best.slug

    def loosely(self, method: str, path: str) -> bool:
        return any(loose.fullmatch(path) for _, loose in self.by_method.get(method, []))


def spellings(template: str) -> list[str]:
    """Paths a client may send for a template: filled in, in capitals, with a trailing slash
    added or taken away, a segment emptied, one segment too many."""
    filled = re.sub(r"\{[^}/]+\}", "x1", template)
    return [
        filled,
        filled.upper(),
        filled + "/",
        filled.removesuffix("/"),
        re.sub(r"\{[^}/]+\}", "", template),
        filled + "/more",
        filled.replace("x1", "a.json"),
        filled + ".json",
        filled.upper() + ".",
    ]


def corpus_paths() -> list[tuple[str, list[tuple[str, str]]]]:
    docs = []
    for name in ("kubernetes.swagger.json", "slack-web-api.swagger.json", "box-platform.json"):
        paths = json.loads((SHARED_SPECS / "real-world" / name).read_text())["paths"]
        operations = [
            (method, template)
            for template, item in paths.items()
            for method in METHODS
            if method in item
        ]
        docs.append((name, operations))
    return docs


@pytest.mark.parametrize(
    "name, operations", corpus_paths(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_tree_picks_what_every_regex_picks_on_real_path_sets(
    name: str, operations: list[tuple[str, str]]
) -> None:
    route = route_of(operations)
    every = EveryRegex(route)
    checked = 0
    for method, template in operations:
        for path in spellings(template):
            expected = every.match(method, path)
            got = route.match_operation(method, path)
            assert (got.slug if got else None) == expected, (method, path)
            if expected is None:
                assert route.loosely_matches(method, path) == every.loosely(method, path), path
            checked += 1
    assert checked == len(spellings("/")) * len(operations)


AWKWARD = [
    ("get", "/"),
    ("get", "/pets"),
    ("get", "/pets/{id}"),
    ("get", "/pets/mine"),
    ("get", "/stores/"),
    ("get", "/files/{name}.json"),
    ("get", "/files/{name}.{ext}"),
    ("get", "/v{major}/status"),
    ("get", "/{kind}/1"),
    ("get", "/a/{x}"),
    ("get", "/{y}/b"),
    ("get", "relative/{x}"),
    ("get", "/q/{a}{b}"),
    ("get", "/{c}/d"),
    ("get", "/c/{e}"),
]


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/", "op0"),
        ("/pets", "op1"),
        ("/pets/1", "op2"),
        ("/pets/mine", "op3"),  # more literal characters than /pets/{id}
        ("/pets/", None),  # a {param} is never empty
        ("/pets/1/", None),  # no trailing slash where the template has none
        ("/stores/", "op4"),
        ("/stores", None),
        ("/files/report.json", "op5"),  # beats {name}.{ext}: more literal characters
        ("/files/report.csv", "op6"),
        ("/files/.json", None),  # {name} would be empty
        ("/files/a.b.c", "op6"),
        ("/v2/status", "op7"),
        ("/vx/status/", None),
        ("/pets/1/x", None),
        ("/a/b", "op9"),  # /a/{x} and /{y}/b tie on literal characters: declared first wins
        ("/c/d", "op13"),  # the same, the template with the {param} first declared first
        ("/relative/x", None),
        ("/q/ab", "op12"),
        ("/q/a", None),  # {a}{b} needs a character for each
        ("/PETS/mine", None),
        # /pets/mine in another spelling, which /pets/{id} would take: a backend may run
        # /pets/mine for it (ASP.NET Core ignores case, Rails cuts `.json`).
        ("/pets/MINE", None),
        ("/pets/mine.json", None),
        ("/pets/mine.", None),
        ("/pets/mines", "op2"),
    ],
)
def test_awkward_templates(path: str, expected: str | None) -> None:
    route = route_of(AWKWARD)
    got = route.match_operation("get", path)
    assert (got.slug if got else None) == expected == EveryRegex(route).match("get", path)


def test_loose_spellings_are_told_apart_from_other_paths() -> None:
    route = route_of(AWKWARD)
    for path in ("/PETS/1", "/Pets/Mine/", "/stores", "/STORES/", "/FILES/a.JSON", "/pets.xml"):
        assert route.loosely_matches("get", path), path
        assert route.loosely_matches("head", path), path  # HEAD is GET's
    for path in ("/pets/1/x", "/other", "/pets//"):
        assert not route.loosely_matches("get", path), path
    assert not route.loosely_matches("delete", "/PETS/1")

"""portal.lib.configfile: parsing with lines, and files built to exhaust the parser."""

from __future__ import annotations

import pytest

from portal.lib.configfile import ConfigError, parse


def test_an_alias_bomb_is_refused_before_anything_walks_it() -> None:
    """Nine anchors, each a list of nine references to the previous: 9**9 values once
    expanded, refused from the composed graph (the parser never expands it)."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    with pytest.raises(ConfigError, match="too many values"):
        parse("\n".join(lines) + "\n")


def test_a_self_referring_alias_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse("a: &x [1, *x]\n")
    assert err.value.line == 1


def test_lines_are_kept() -> None:
    root = parse("apis:\n  - slug: a\n")
    assert root.mapping()["apis"].line == 2


@pytest.mark.parametrize("depth", [1_000, 5_000])
@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{a: ", "}")])
def test_a_file_nested_past_the_parsers_stack_is_refused(
    depth: int, opening: str, closing: str
) -> None:
    """PyYAML composes nested lists and mappings by recursion: a few thousand levels ran out
    of stack inside yaml.compose and `applyconfig` ended in a RecursionError traceback."""
    with pytest.raises(ConfigError, match="nested too deeply") as err:
        parse("apis: " + opening * depth + closing * depth + "\n")
    assert err.value.line == 1


def test_merge_keys_bring_in_an_anchors_keys_and_the_mapping_own_win() -> None:
    """`<<: *defaults` (YAML's merge key) shares settings between entries. It was refused as
    "could not determine a constructor for the tag 'tag:yaml.org,2002:merge'"."""
    root = parse(
        "base: &base {a: 1, b: 2}\n"
        "more: &more {b: 3, c: 4}\n"
        "one:\n"
        "  <<: *base\n"
        "  a: 10\n"
        "two:\n"
        "  <<: [*more, *base]\n"
    )
    top = root.mapping()
    assert top["one"].plain() == {"a": 10, "b": 2}
    assert top["two"].plain() == {"a": 1, "b": 3, "c": 4}
    assert top["one"].mapping()["b"].line == 1  # where the merged value is written


def test_merge_keys_are_checked_like_the_mappings_own() -> None:
    with pytest.raises(ConfigError, match="unknown key 'z'") as err:
        parse("base: &base {z: 1}\none:\n  <<: *base\n").mapping()["one"].mapping(
            "one", allowed={"a"}
        )
    assert err.value.line == 1
    with pytest.raises(ConfigError, match="must name a mapping") as err:
        parse("one:\n  <<: 5\n").mapping()["one"].mapping("one")
    assert err.value.line == 2
    with pytest.raises(ConfigError, match="'a' is given twice"):
        parse("base: &base {x: 1}\none:\n  <<: *base\n  a: 1\n  a: 2\n").mapping()["one"].mapping(
            "one"
        )

"""The YAML download of a normalised document, written directly.

PyYAML builds a node for every value in Python before its C emitter runs: 570 ms for a 3 MB
document (Plaid's, PagerDuty's), on every download. The normalised document is plain JSON
data (dicts, lists, strings, numbers, booleans, null), so block YAML can be written in one
pass: text plain where YAML reads it back as the same string, else double-quoted with
JSON's escapes (YAML's double-quoted style has them all), and the few characters YAML would
not read raw escaped too.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# Text written plain reads back as this same string: a letter, _, $ or / first, then only
# characters that start no YAML syntax in a block key or value, no trailing space.
_PLAIN = re.compile(r"[A-Za-z_$/][A-Za-z0-9_ .$/{}()-]*(?<! )")
# Words YAML 1.1 reads as booleans or null (PyYAML does; `on: push` is the famous one).
_WORD_VALUES = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null"])
# Characters orjson leaves raw that YAML does not read raw, or reads as a line break:
# DEL, C1 controls (NEL among them), the line and paragraph separators, the BOM.
_UNREADABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _plain(text: str) -> bool:
    return _PLAIN.fullmatch(text) is not None and text.lower() not in _WORD_VALUES


def _string(value: str) -> str:
    if _plain(value):
        return value
    text = orjson.dumps(value).decode()
    return _UNREADABLE.sub(_escape, text) if _UNREADABLE.search(text) else text


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return _string(value)
    if type(value) is float:
        text = repr(value)
        # YAML 1.1 reads `1e-05` as a string: its floats need a dot before the exponent.
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)  # int: any size (orjson stops at 64 bits; a spec may say 2**64 or more)


def dump(document: dict[str, Any]) -> str:
    """`document` as block YAML that any YAML 1.1 or 1.2 loader reads back equal."""
    out: list[str] = []
    write = out.append
    keys: dict[str, str] = {}  # the same few hundred keys repeat all through a spec

    def key(name: Any) -> str:
        name = str(name)
        text = keys.get(name)
        if text is None:
            text = keys[name] = _string(name)
        return text

    def value(item: Any, indent: str) -> None:
        """What follows `key:` or `-`: the rest of the line, then nested lines."""
        kind = type(item)
        if kind is dict:
            if item:
                write("\n")
                mapping(item, indent, indent)
            else:
                write(" {}\n")
        elif kind is list:
            if item:
                write("\n")
                sequence(item, indent)
            else:
                write(" []\n")
        else:
            write(" ")
            write(_scalar(item))
            write("\n")

    def mapping(items: dict[str, Any], indent: str, first: str) -> None:
        lead = first
        for name, item in items.items():
            write(lead)
            write(key(name))
            write(":")
            value(item, indent + "  ")
            lead = indent

    def sequence(items: list[Any], indent: str) -> None:
        for item in items:
            write(indent)
            if type(item) is dict and item:
                write("- ")
                mapping(item, indent + "  ", "")
            else:
                write("-")
                value(item, indent + "  ")

    mapping(document, "", "")
    return "".join(out)

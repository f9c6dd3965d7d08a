"""Errors raised while reading a spec: each names the place it happened."""

from __future__ import annotations

import sys
from typing import Any


class SpecError(Exception):
    """A document that cannot be imported.

    `location` names the place: `file:line:column` for syntax errors, `file#/json/pointer`
    for spec errors. `rule` names the rule that was broken, for messages and tests.
    """

    #: HTTP-ish status for callers that answer over HTTP (413 for size limits).
    status = 400

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        pointer: str | None = None,
        line: int | None = None,
        column: int | None = None,
        rule: str = "",
    ) -> None:
        message = _shortened(message)
        super().__init__(message)
        self.message = message
        self.source = source
        self.pointer = None if pointer is None else _shortened(pointer)
        self.line = line
        self.column = column
        self.rule = rule

    @property
    def location(self) -> str:
        if self.line is not None:
            where = f"{self.source or '<document>'}:{self.line}"
            return f"{where}:{self.column}" if self.column is not None else where
        if self.pointer is not None:
            return f"{self.source}#{self.pointer}"
        return self.source

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text} [{self.rule}]" if self.rule else text


# A message quotes spec text (a tag, a scalar, a $ref) that may be thousands of characters
# long; its head and tail are enough to find it, and the page stays readable.
_MAX_SHOWN = 400


def _shortened(text: str) -> str:
    if len(text) <= _MAX_SHOWN:
        return text
    keep = _MAX_SHOWN // 2
    return f"{text[:keep]}…{text[-keep:]}"


class SyntaxProblem(SpecError):
    """The bytes are not JSON or YAML."""


class LimitExceeded(SpecError):
    """Too big, too deep, too many nodes, an alias bomb."""


class TooLarge(LimitExceeded):
    status = 413


class RefError(SpecError):
    """A `$ref` that points outside what was imported, or nowhere."""


class MissingTarget(RefError):
    """A `$ref` into a document of the import at a place the document does not have."""


def escape_token(token: Any) -> str:
    """One JSON pointer token (RFC 6901): `~` as `~0`, `/` as `~1`."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """What escape_token wrote: `~1` as `/`, then `~0` as `~`."""
    return token.replace("~1", "/").replace("~0", "~")


def list_index(token: str) -> int:
    """A JSON Pointer token as an array index (ASCII digits only), else a number no list
    reaches: `²` and `①` pass str.isdigit() and then fail int()."""
    return int(token) if token.isascii() and token.isdigit() else sys.maxsize


def pointer(*tokens: object) -> str:
    return "".join("/" + escape_token(str(t)) for t in tokens)

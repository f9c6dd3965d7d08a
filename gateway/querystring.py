"""Cutting one parameter (a subscription key, a token) out of a query string.

Only that parameter's pieces go; the others stay byte for byte. Parsing the query and encoding
it again changed what the backend read: `flag` became `flag=`, `1,2` became `1%2C2`, `a/b`
became `a%2Fb` and raw UTF-8 became mojibake.
"""

from __future__ import annotations

from urllib.parse import unquote_plus


def cut_param(query: bytes, name: str) -> tuple[list[str], bytes]:
    """The values of `name` (decoded, in order) and the query without them. A name spelled
    with escapes (`subscription%2Dkey`) is the same name, as it is to the backend."""
    raw = name.encode("latin-1")
    values: list[str] = []
    kept: list[bytes] = []
    for piece in query.split(b"&"):
        key, _, value = piece.partition(b"=")
        if key == raw or (key.find(b"%") >= 0 and unquote_plus(key.decode("latin-1")) == name):
            values.append(unquote_plus(value.decode("latin-1")))
        else:
            kept.append(piece)
    return values, (b"&".join(kept) if values else query)

"""Cutting one parameter (a subscription key, a token) out of a query string.

Only that parameter's pieces go; the others stay byte for byte. Parsing the query and encoding
it again changed what the backend read: `flag` became `flag=`, `1,2` became `1%2C2`, `a/b`
became `a%2Fb` and raw UTF-8 became mojibake.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from portal.lib.headers import iis_unescape


def cut_param(query: bytes, name: str) -> tuple[list[str], bytes]:
    """The values of `name` (decoded, in order) and the query without them. A name spelled
    with escapes (`subscription%2Dkey`) is the same name, as it is to the backend; so is the
    name as a list (`subscription-key[]`, `[0]`: PHP and Rack read it under the name) and the
    name ended by a NUL (`subscription-key%00x`: PHP reads a name as a C string), and one
    spelled with IIS's %uXXXX escapes (`subscription%u002Dkey`: System.Web)."""
    raw = name.encode("latin-1")
    values: list[str] = []
    kept: list[bytes] = []
    for piece in query.split(b"&"):
        key, _, value = piece.partition(b"=")
        if key == raw or ((key.find(b"%") >= 0 or key.startswith(raw)) and _same_name(key, name)):
            values.append(unquote_plus(value.decode("latin-1")))
        else:
            kept.append(piece)
    return values, (b"&".join(kept) if values else query)


def _same_name(key: bytes, name: str) -> bool:
    """Whether a parameter name a backend decodes (escapes, a NUL's end, a list's `[...]`) is
    `name`: only reached for a name with an escape or one that begins with `name`."""
    # IIS's %uXXXX too, which System.Web's UrlDecode reads.
    decoded = iis_unescape(unquote_plus(key.decode("latin-1"))).split("\0", 1)[0]
    return decoded == name or (decoded.startswith(name) and decoded[len(name) :][:1] == "[")

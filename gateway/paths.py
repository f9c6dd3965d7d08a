"""One path, one meaning: the request path is checked and decoded once, before any policy.

The gateway chooses the route, the operation and so the policy from the decoded path, and
forwards the client's bytes unchanged. That is only sound when no backend can read those
bytes differently, so every spelling whose meaning depends on the reader is refused (400):

- an encoded `/` or `\\` (`%2F`, `%5C`, any case): a segment boundary for some backends only;
- a raw backslash: a separator on Windows-style servers;
- a raw `;`: Tomcat, Jetty and Spring cut path parameters (`/pets/mine;x=1` is `/pets/mine`
  to them, a `{id}` of `mine;x=1` to the operation match); `%3B` is plain data to all;
- a raw `#`: no part of a request target (RFC 9112), yet some servers cut the path there;
- dot segments, plain or encoded (`.`, `..`, `%2e`, `%2E%2e`): resolved by some backends only;
- empty segments (`//`): merged by some backends only (a final `/` is not empty: it is a
  trailing slash, which the operation match treats as part of the path);
- an encoded unreserved character (`%31` for `1`, `%70` for `p`): RFC 3986 says decode it,
  not every backend does;
- control characters and NUL, raw or encoded, and bytes outside visible ASCII;
- malformed escapes (`%zz`, `%4`) and encodings that are not valid UTF-8, over-long forms
  such as `%C0%AF` (a `/` in old decoders) included;
- an escape encoded twice (`%252F`, `%252e`): `/` and `..` to a backend that decodes again;
- compatibility characters that NFKC normalisation turns into `/`, `\\`, `.` and the like
  (fullwidth `／` `＼` `．`, the one dot leader): `/` and `..` to a backend that normalises.
"""

from __future__ import annotations

import re
import unicodedata

# Visible ASCII except `%`, `\`, `;` and `#`: a path made only of these (and no `//` or `/.`)
# needs no further look, which is the common case on the hot path.
_PLAIN = re.compile(rb"[!\"$&-:<-\[\]-~]*")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# What NFKC (which some backends apply to paths) makes of a compatibility form: `／` is `/`.
_LOOKALIKES = frozenset(["/", "\\", ".", "..", "%", ";", "#", "?"])

_decoded: dict[bytes, str] = {}  # plain paths seen recently (bounded): one lookup per call


class PathRefused(ValueError):
    """The path has a spelling whose meaning can differ between readers."""


def decode_path(raw: bytes) -> str:
    """The decoded path of a request target's path bytes; PathRefused when ambiguous."""
    known = _decoded.get(raw)
    if known is not None:
        return known
    if not raw.startswith(b"/"):
        raise PathRefused("The path must start with '/'.")
    if _PLAIN.fullmatch(raw) and b"//" not in raw and b"/." not in raw:
        if len(_decoded) >= 4096:
            _decoded.clear()
        text = _decoded[raw] = raw.decode("ascii")
        return text
    segments = raw.split(b"/")[1:]
    last = len(segments) - 1
    out: list[str] = []
    for i, segment in enumerate(segments):
        if not segment and i != last:
            raise PathRefused("Empty path segments ('//') are not allowed.")
        text = _decode_segment(segment)
        if text in (".", ".."):
            raise PathRefused("Dot segments ('.' and '..', plain or encoded) are not allowed.")
        out.append(text)
    return "/" + "/".join(out)


def _decode_segment(segment: bytes) -> str:
    for byte in segment:
        if byte < 0x21 or byte > 0x7E:
            raise PathRefused("Control characters, spaces and raw non-ASCII bytes are refused.")
        if byte == 0x5C:
            raise PathRefused("A backslash is not allowed in the path.")
        if byte == 0x3B or byte == 0x23:
            raise PathRefused(
                "A raw ';' or '#' is not allowed in the path (write %3B or %23 for data)."
            )
    if b"%" not in segment:
        return segment.decode("ascii")
    decoded = bytearray()
    i, n = 0, len(segment)
    while i < n:
        byte = segment[i]
        if byte != 0x25:
            decoded.append(byte)
            i += 1
            continue
        if i + 2 >= n:
            raise PathRefused("A malformed percent-escape.")
        hi, lo = segment[i + 1], segment[i + 2]
        if hi not in _HEX or lo not in _HEX:
            raise PathRefused("A malformed percent-escape.")
        value = int(segment[i + 1 : i + 3], 16)
        if value in (0x2F, 0x5C):
            raise PathRefused("An encoded '/' or '\\' (%2F, %5C) is not allowed in the path.")
        if value < 0x20 or value == 0x7F:
            raise PathRefused("Encoded control characters and NUL are not allowed in the path.")
        if value in _UNRESERVED:
            raise PathRefused(
                f"'{chr(value)}' must be written as itself, not percent-encoded "
                f"(%{segment[i + 1 : i + 3].decode()})."
            )
        decoded.append(value)
        i += 3
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise PathRefused(
            "Percent-encoded bytes must be valid UTF-8 (no over-long forms)."
        ) from None
    if any("\x80" <= c <= "\x9f" for c in text):
        raise PathRefused("Encoded control characters and NUL are not allowed in the path.")
    if "%" in text and _ESCAPE.search(text):
        raise PathRefused(
            "An escape encoded twice (%25 before hex digits, as in %252F) is not allowed."
        )
    if not text.isascii() and any(
        unicodedata.normalize("NFKC", c) in _LOOKALIKES for c in text if c > "\x7f"
    ):
        raise PathRefused(
            "A character that normalises to '/', '\\' or '.' (a fullwidth form, say) "
            "is not allowed in the path."
        )
    return text

"""Form bodies checked for the one thing they must not carry: a method override field.

Rails, Laravel and Symfony run `POST` with `_method=DELETE` in a form body as a DELETE, as
they do with the query parameter (case 62): the policy checked POST's rules. An urlencoded
body is read whole (forms are small; past FORM_LIMIT it is refused), checked, and handed to
the backend unchanged, as if it had never been read. A multipart body (PHP and Rack read its
fields the same way) may be an upload of any size: it streams on, its part headers scanned
as it goes, and one naming the field stops the body before its end, so the backend never
gets a whole request; a body that arrives in one piece is refused before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from gateway.problems import problem
from gateway.upstream import ClientBodyBroken
from portal.lib.headers import OVERRIDE_QUERY_PARAMS, overrides_method, param_key

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

FORM_LIMIT = 1024 * 1024


def is_form(content_type: bytes | None) -> bool:
    # find(), not `in`: a bytes `in` first tries its operand as an integer and formats a
    # TypeError for it (about 3,000 instructions each); these run on every call.
    return content_type is not None and content_type.lower().find(b"x-www-form-urlencoded") >= 0


async def read_form(receive: Receive, limit: int = FORM_LIMIT) -> tuple[bytes | None, Receive]:
    """The whole body (None past `limit`, or when the client went away) and a `receive` that
    gives it again, then whatever the original gives (the disconnect)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, receive
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def again() -> MutableMapping[str, Any]:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, again


def is_multipart(content_type: bytes | None) -> bool:
    return content_type is not None and content_type.lower().find(b"multipart/") >= 0


# A form type beside multipart or JSON: PHP and Rack cut a type at its first `,` (PHP the
# boundary too), Laravel finds /json anywhere, so a backend reads the body as another kind than
# the one the gateway would scan it as for a method override (case 62).
MIXED = problem(
    415,
    "The Content-Type names more than one kind of body (form, multipart, JSON), which "
    "backends read differently; the body cannot be checked for a method override (_method). "
    "Send one media type.",
    "method",
)


def mixed(content_type: bytes, method: str) -> bool:
    """Whether a Content-Type names more than one of the bodies the override checks read
    apart: a urlencoded form, multipart, and (on a POST) JSON. Asked only of a form or a
    multipart type, after the check that found it: a plain JSON call never pays for it."""
    lowered = content_type.lower()
    form = lowered.find(b"x-www-form-urlencoded") >= 0
    multipart = lowered.find(b"multipart/") >= 0
    if not form and not multipart:
        return False
    json = method == "POST" and (lowered.find(b"/json") >= 0 or lowered.find(b"+json") >= 0)
    return form + multipart + json > 1


def is_json(content_type: bytes | None) -> bool:
    """As Laravel's isJson() reads it: `/json` or `+json` anywhere in the type."""
    lowered = content_type.lower() if content_type is not None else b""
    return lowered.find(b"/json") >= 0 or lowered.find(b"+json") >= 0


def is_encoded(content_encoding: bytes | None) -> bool:
    """Whether the body carries a content coding (gzip, deflate, br...): the bytes the scans
    read are not the fields a backend that decodes it (Express's body-parser, ASP.NET Core's
    request decompression, Apache's DEFLATE input filter) reads."""
    if content_encoding is None:
        return False
    codings = [c.strip() for c in content_encoding.lower().split(b",")]
    return any(c and c != b"identity" for c in codings)


# Charsets in which each ASCII character is its own single byte, and no byte sequence decodes
# to one otherwise: the override scans, which read a body's bytes as ASCII, see the names a
# backend decoding the body sees.
_ASCII_CHARSETS = frozenset(
    {b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin1", b"iso-8859-15",
     b"windows-1252", b"cp1252"}
)  # fmt: skip
_CHARSET = re.compile(rb"""charset\s*=\s*"?([^";,\s]*)""")


def foreign_charset(content_type: bytes) -> bool:
    """Whether the Content-Type names a charset other than UTF-8 and the Latin ones: a
    backend that decodes the body in it before reading its fields (System.Web's forms and
    multipart headers, Express's body-parser JSON, which takes any utf-*, UTF-7 too) reads
    `_method` where the ASCII scans saw other bytes (UTF-16, or ISO-2022-JP's escapes between
    the letters). System.Web decodes the query's escapes in it too, on a POST of any type."""
    lowered = content_type.lower()
    if lowered.find(b"charset") < 0:
        return False  # most calls: one scan
    return any(name not in _ASCII_CHARSETS for name in _CHARSET.findall(lowered))


# Worded for both reasons it fires: a body or query the override scans cannot read, and (on
# a route with `x-ms-paths` keys) a query whose keys, which pick the operation, it cannot read.
FOREIGN_CHARSET = problem(
    415,
    "A form, multipart or JSON body, or an escaped query, in a charset other than UTF-8: "
    "the gateway cannot tell which operation or method override it names. "
    "Send it in UTF-8.",
    "method",
)


ENCODED_DETAIL = (
    "A compressed form, multipart or JSON body cannot be checked for a method override "
    "(_method): send it without Content-Encoding."
)


class OverrideField(ClientBodyBroken):
    """A multipart (or JSON) body names a method override field."""

    detail = "A method override field (_method) in a form body is not allowed."
    json_detail = "A method override field (_method) in a JSON body is not allowed."


# A part's `Content-Disposition` (anywhere in a line: Rack 2's pattern is not anchored), and
# each name parameter in it (quoted, single-quoted, bare, or RFC 2231's name*=): PHP keeps
# the last, other parsers the first, so any one counts. A quote left open runs to the line's
# end, as PHP's php_ap_getword_conf reads it.
_DISPOSITION = re.compile(rb"content-disposition:([^\r\n]*)", re.IGNORECASE)
_NAME = re.compile(
    rb"""\bname\*?\s*=\s*(?:"([^"\r\n]*)"?|'([^'\r\n]*)'?|([^;\s]+))""", re.IGNORECASE
)
# What ends a bare parameter value to Rack (its TOKEN), though not to PHP.
_TOKEN_END = re.compile(r'[()<>,;:\\"/\[\]?=]')
# Part headers are short; ones still open after this much are not (their tail kept).
_CARRY = 8192


# The line breaks `_unfolded` removes: after a line that is not blank, before one that starts
# with white space, has no ':', or starts with `name=` (one regex pass, in C: a chunk of
# many short lines must cost no more than one of few long ones).
_FOLD = re.compile(
    rb"(?<=[^\r\n])\r?\n(?=[ \t\x0b\x0c]|[^:\r\n]+(?:\r|\n|\Z)|[ \t]*name\*?[ \t]*=)",
    re.IGNORECASE,
)
_AFTER_NUL = re.compile(rb"\0[^\r\n]*")
_BLANK_LINE = re.compile(rb"\n\r?\n")


def _unfolded(text: bytes, nul_ends_line: bool) -> bytes:
    """Part header lines as PHP reads them (main/rfc1867.c, multipart_buffer_headers): a line
    that starts with white space, or has no ':', continues the header before it, up to the
    blank line that ends the part's headers; so does one that starts with `name=`, which
    Rack 2 reads with the line before. `nul_ends_line`: PHP reads each line as a C string,
    which ends at a NUL (`name="_method\0x"` is `_method`); Ruby reads on past it."""
    if nul_ends_line:
        text = _AFTER_NUL.sub(b"", text)
    return _FOLD.sub(b" ", text)


def _names_override(text: bytes) -> bool:
    lowered = text.lower()
    if lowered.find(b"method") < 0:
        return False
    # Each Content-Disposition with the lines after it up to the blank line that ends its
    # part's headers (at most _CARRY bytes), unfolded alone: the work is linear in the chunk,
    # not in its lines times their length.
    at = lowered.find(b"content-disposition:")
    while at >= 0:
        blank = _BLANK_LINE.search(text, at, at + _CARRY)
        end = blank.start() if blank is not None else -1
        stop = end if end >= 0 else at + _CARRY
        if (
            lowered.find(b"name", at, stop) >= 0
            and (lowered.find(b"method", at, stop) >= 0 or text.find(b"%", at, stop) >= 0)
            and _region_overrides(text[at:stop])
        ):
            return True
        if end >= 0:
            at = lowered.find(b"content-disposition:", end)
        else:  # cut at _CARRY: go on from the last Content-Disposition in it, or past it
            last = lowered.rfind(b"content-disposition:", at + 1, at + _CARRY)
            at = last if last > at else lowered.find(b"content-disposition:", at + _CARRY)
    return False


def _region_overrides(region: bytes) -> bool:
    views = [_unfolded(region, False)]
    if region.find(b"\0") >= 0:
        views.append(_unfolded(region, True))
    for view in views:
        for line in _DISPOSITION.finditer(view):
            for match in _NAME.finditer(line.group(1)):
                raw = next(g for g in match.groups() if g is not None).decode("latin-1")
                name = raw.split("''", 1)[-1]  # RFC 2231: charset'lang'value
                # A bare value: PHP reads to white space, Rack to its token's end (`_method:`).
                token = _TOKEN_END.split(name, 1)[0] if match.group(3) else name
                for spelled in {name, token}:
                    if (
                        param_key(spelled) in OVERRIDE_QUERY_PARAMS
                        or param_key(unquote(spelled)) in OVERRIDE_QUERY_PARAMS
                    ):
                        return True
    return False


def refusing_override_fields(receive: Receive) -> Receive:
    """`receive`, raising OverrideField at the chunk whose part headers name `_method`."""

    def open_headers(text: bytes) -> bytes:
        # The part headers a chunk boundary cut, from the blank line before them: a folded
        # header's first line may be in this chunk and its name=... in the next.
        tail = text[-_CARRY:]
        blank = max(tail.rfind(b"\n\n"), tail.rfind(b"\n\r\n"))
        return tail[blank + 1 :] if blank >= 0 else tail

    return _scanning(receive, _names_override, open_headers, OverrideField.detail)


def _untyped_names_override(text: bytes) -> bool:
    # Cheap first: a name that spells _method has the word, or a %-escape for its letters.
    if text.find(b"%") < 0 and text.lower().find(b"method") < 0:
        return False
    return overrides_method(text)


def refusing_untyped_override(receive: Receive) -> Receive:
    """`receive` for a POST body without a Content-Type, raising OverrideField at the chunk
    where a form pair names `_method`: Rack (Rails) reads such a body as a form
    (Rack::Request#form_data?) and Rack::MethodOverride runs its `_method`. Scanned as it
    streams, since an untyped body may be a large upload: a pair cut by a chunk boundary is
    read whole with the tail of the chunk before."""

    def open_pair(text: bytes) -> bytes:
        tail = text[-_CARRY:]
        return tail[max(tail.rfind(b"&"), tail.rfind(b";")) + 1 :]

    return _scanning(receive, _untyped_names_override, open_pair, OverrideField.detail)


def _scanning(
    receive: Receive,
    names_override: Callable[[bytes], bool],
    carried: Callable[[bytes], bytes],
    detail: str,
) -> Receive:
    """`receive`, each chunk read with what `carried` kept of the text before it."""
    carry = b""

    async def scanned() -> MutableMapping[str, Any]:
        nonlocal carry
        message = await receive()
        if message["type"] != "http.request":
            return message
        text = carry + message.get("body", b"")
        if names_override(text):
            raise OverrideField(detail)
        carry = carried(text)
        return message

    return scanned


# Laravel makes a JSON body its request parameters, and Symfony's getMethod() reads `_method`
# from them on a POST. The refusal is for a JSON string that is `_method` whole, in any case
# (for PHP's other readers) and however its letters are spelled (`\u005fmethod`): keys that
# only end in it (payment_method, token_endpoint_auth_method) are everyday JSON.
def _spelled(char: str) -> bytes:
    """`char` as is or as a `\\u00XX` escape, of either case (hex digits too: IGNORECASE)."""
    escapes = {b"\\\\u00%02x" % ord(c) for c in (char.lower(), char.upper())}
    return b"(?:%s)" % b"|".join([re.escape(char.encode()), *sorted(escapes)])


_JSON_OVERRIDE = re.compile(b'"' + b"".join(_spelled(c) for c in "_method") + b'"', re.IGNORECASE)
_JSON_CARRY = 2 + 6 * len("_method")  # the longest spelling: 7 escapes in quotes


def refusing_json_override(receive: Receive) -> Receive:
    """`receive`, raising OverrideField at the chunk whose text spells the key `_method`."""
    return _scanning(
        receive,
        lambda text: _JSON_OVERRIDE.search(text) is not None,
        lambda text: text[-_JSON_CARRY:],  # a match cut by a chunk boundary is found whole
        OverrideField.json_detail,
    )

"""How a backend's answer is shown: JSON pretty-printed and highlighted, images inline, text
escaped, other bytes offered as a download. Nothing from the backend is ever rendered as HTML
(SECURITY.md case 50): every piece goes through `escape` before it is marked safe.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass

import orjson
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apis.openapi.model import is_json_media
from portal.lib.jsonindent import dumps_indented

# SVG is left out on purpose: it can carry script, and it is text anyway.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})
TEXT_TYPES = re.compile(
    r"^(text/.*|application/(.*\+)?(json|xml|javascript|x-www-form-urlencoded|yaml|x-yaml|"
    r"graphql|problem\+json|ld\+json|csv)|.*\+xml)$"
)
_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*"(?=\s*:))|(?P<string>"(?:[^"\\]|\\.)*")|'
    r"(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)"
)


COMPACT_NOTE = "Shown without indentation: indented, this answer would be too large to show."


@dataclass
class Body:
    kind: str  # empty | json | text | image | binary
    html: SafeString | str = ""
    data_url: str = ""
    media_type: str = ""
    filename: str = "response.bin"
    note: str = ""


def highlight_json(text: str) -> SafeString:
    """Pretty JSON as HTML spans (classes j-key, j-str, j-num, j-lit), all text escaped."""
    out: list[str] = []
    last = 0
    for match in _JSON_TOKEN.finditer(text):
        out.append(escape(text[last : match.start()]))
        kind = match.lastgroup or ""
        css = {"key": "j-key", "string": "j-str", "number": "j-num", "literal": "j-lit"}[kind]
        out.append(f'<span class="{css}">{escape(match.group(0))}</span>')
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every fragment above is escaped


def _charset(content_type: str) -> str:
    match = re.search(r"charset=\"?([\w.-]+)", content_type, re.I)
    return match.group(1) if match else "utf-8"


def decode_text(body: bytes, content_type: str) -> str:
    """The body as text in the charset the backend names, else UTF-8, as a page can carry
    it: a codec that decodes nothing with errors replaced (`idna`, `undefined`: UnicodeError)
    falls back to UTF-8, and lone surrogates (UTF-7's `+2AA-`, unicode_escape's `\\ud800`),
    which no page can encode, become U+FFFD."""
    try:
        text = body.decode(_charset(content_type), errors="replace")
    except (LookupError, UnicodeError):
        text = body.decode("utf-8", errors="replace")
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    return b"\x00" in sample


def present(content_type: str, body: bytes) -> Body:
    media = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return Body(kind="empty", media_type=media)
    if is_json_media(media):
        try:
            written, indented = dumps_indented(orjson.loads(body))
            pretty = written.decode()
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass  # not JSON, or nested past what orjson writes (254 levels): shown as text
        else:
            note = "" if indented else COMPACT_NOTE
            return Body(kind="json", html=highlight_json(pretty), media_type=media, note=note)
    if media in IMAGE_TYPES:
        encoded = base64.b64encode(body).decode("ascii")
        return Body(kind="image", data_url=f"data:{media};base64,{encoded}", media_type=media)
    if (TEXT_TYPES.match(media) or not media) and not _looks_binary(body):
        return Body(kind="text", html=escape(decode_text(body, content_type)), media_type=media)
    encoded = base64.b64encode(body).decode("ascii")
    ext = (mimetypes.guess_extension(media) or ".bin").lstrip(".")
    safe_ext = re.sub(r"[^a-z0-9]", "", ext)[:10] or "bin"
    return Body(
        kind="binary",
        data_url=f"data:application/octet-stream;base64,{encoded}",
        media_type=media or "application/octet-stream",
        filename=f"response.{safe_ext}",
    )


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.2f} MiB"

"""Samples of streamed bodies: OpenAPI 3.2's `itemSchema` describes each item of a stream,
so a sample is a few items written in the stream's framing, not one item as the whole body.

- `text/event-stream`: an event each, ended by a blank line. An item with only the fields of
  an event (`data`, `event`, `id`, `retry`: 3.2 reads an event stream as such objects) is
  written as those fields; any other item is the `data:` of its event, as JSON.
- `application/jsonl`, `application/x-ndjson`: one JSON text a line.
- `application/json-seq` (RFC 7464): each JSON text after a record separator (0x1E), ended
  by a line feed.

Other media types with an `itemSchema` (`multipart/mixed`, a plain `application/json`) have
no framing known here: they get no sample.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from apis.openapi.sample import sample

ITEMS = 2  # items in a sample: enough to show how one ends and the next starts
_MAX_CHARS = 20_000
_EVENT_FIELDS = ("event", "id", "retry")  # then `data`
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line of an event stream
FRAMINGS = {
    "text/event-stream": "events",
    "application/jsonl": "lines",
    "application/x-jsonlines": "lines",
    "application/x-ndjson": "lines",
    "application/json-seq": "sequence",
}


def stream_framing(media_type: str) -> str | None:
    """How items of `media_type` are written one after another, or None when not known."""
    return FRAMINGS.get(media_type.split(";", 1)[0].strip().lower())


def stream_note(media_type: str) -> str:
    """What a stream's sample shows, in words, above it on the page."""
    note = f"Generated from the item schema: {ITEMS} items of the stream"
    if stream_framing(media_type) == "sequence":
        note += ", each after a record separator (U+001E, not shown)"
    return note


def stream_sample(
    media_type: str,
    item_schema: Any,
    document: Mapping[str, Any],
    max_depth: int | None = None,
    *,
    request: bool = False,
) -> str:
    """A few items that fit `item_schema`, written as `media_type` frames them; "" when its
    framing is not known or there is no item to write. `max_depth` and `request` as for
    `sample` (its own depth when None)."""
    framing = stream_framing(media_type)
    if framing is None or not isinstance(item_schema, dict):
        return ""
    doc: Any = document
    if max_depth is None:
        item = sample(item_schema, doc, request=request)
    else:
        item = sample(item_schema, doc, max_depth, request=request)
    if item is None:
        return ""
    text = "".join(_frame(framing, item) for _ in range(ITEMS))
    return text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS] + "\n…"


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _frame(framing: str, item: Any) -> str:
    if framing == "lines":
        return _json(item) + "\n"
    if framing == "sequence":
        return "\x1e" + _json(item) + "\n"
    return _event(item)


def _event(item: Any) -> str:
    lines: list[str] = []
    if isinstance(item, dict) and "data" in item and set(item) <= {"data", *_EVENT_FIELDS}:
        for name in _EVENT_FIELDS:
            value = item.get(name)
            if value is not None and value != "":
                text = value if isinstance(value, str) else _json(value)
                lines.append(f"{name}: {' '.join(_LINE_BREAK.split(text))}")
        data = item["data"]
    else:
        data = item
    text = data if isinstance(data, str) else _json(data)
    # A line break in the data starts another `data:` line; the client joins them again.
    lines += [f"data: {line}" for line in _LINE_BREAK.split(text)]
    return "\n".join(lines) + "\n\n"

"""apis.openapi.stream_sample: a few items of a 3.2 `itemSchema` in the stream's framing."""

from __future__ import annotations

from typing import Any

from apis.openapi.stream_sample import stream_framing, stream_sample

DOC: dict[str, Any] = {"components": {"schemas": {}}}


def test_an_event_writes_its_fields_and_a_data_line_for_each_line_of_its_data() -> None:
    item = {
        "type": "object",
        "properties": {
            "retry": {"type": "integer", "example": 3000},
            "data": {"type": "string", "example": "one\r\ntwo\nthree"},
            "event": {"type": "string", "example": "note"},
        },
    }
    one = "event: note\nretry: 3000\ndata: one\ndata: two\ndata: three\n\n"
    assert stream_sample("text/event-stream; charset=utf-8", item, DOC, 6) == one * 2


def test_an_item_with_other_fields_than_an_events_is_the_data_of_its_event() -> None:
    item = {"type": "object", "properties": {"data": {"type": "integer"}, "more": {}}}
    assert stream_sample("text/event-stream", item, DOC) == 'data: {"data":0,"more":null}\n\n' * 2


def test_json_lines_and_sequences_and_media_types_without_a_known_framing() -> None:
    item = {"type": "string", "example": "a\nb"}
    assert stream_sample("application/jsonl", item, DOC) == '"a\\nb"\n' * 2
    assert stream_sample("application/json-seq", item, DOC) == '\x1e"a\\nb"\n' * 2
    assert stream_framing("Application/X-NDJSON") == "lines"
    assert stream_sample("application/json", item, DOC) == ""
    assert stream_sample("multipart/mixed", item, DOC) == ""
    assert stream_sample("application/jsonl", {"type": "null"}, DOC) == ""

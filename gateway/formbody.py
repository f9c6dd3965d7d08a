"""A form body read whole before it goes on, for the one check it needs.

Rails, Laravel and Symfony run `POST` with `_method=DELETE` in an urlencoded form body as a
DELETE, as they do with the query parameter (case 62): the policy checked POST's rules. So an
urlencoded body is read (forms are small; past FORM_LIMIT it is refused), checked, and then
handed to the backend unchanged, as if it had never been read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

FORM_LIMIT = 1024 * 1024


def is_form(content_type: bytes | None) -> bool:
    return content_type is not None and b"x-www-form-urlencoded" in content_type.lower()


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

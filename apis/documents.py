"""Normalised documents loaded once per process and kept in a small LRU.

A version's normalised document never changes after import (a re-import makes a new row), so
the cache needs no invalidation: the key is the version's primary key, which is never reused
(AUTOINCREMENT on SQLite, sequences on PostgreSQL). Tests roll back those sequences, so they
call `clear_cache()` between tests.
"""

from __future__ import annotations

from typing import Any

import orjson

from apis.models import ApiVersion
from portal.lib.lru import LRU

_documents: LRU[dict[str, Any]] = LRU(8)


def load_document(version_id: int) -> dict[str, Any]:
    def parse() -> dict[str, Any]:
        raw = ApiVersion.objects.values_list("normalised", flat=True).get(pk=version_id)
        return orjson.loads(bytes(raw))

    return _documents.get_or_compute(version_id, parse)


def resolve_ref(doc: dict[str, Any], ref: str) -> Any:
    """The target of an internal `#/...` reference, or None when it does not resolve."""
    if not ref.startswith("#/"):
        return None
    node: Any = doc
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
        if node is None:
            return None
    return node


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


def clear_cache() -> None:
    _documents.clear()

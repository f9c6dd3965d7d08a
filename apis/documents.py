"""Normalised documents loaded once per process and kept in a small LRU.

A version's normalised document never changes after import (a re-import makes a new row), so
the cache needs no invalidation: the key is the version's primary key, which is never reused
(AUTOINCREMENT on SQLite, sequences on PostgreSQL). Tests roll back those sequences, so they
call `clear_cache()` between tests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson

from apis.models import ApiVersion

_CACHE_SIZE = 8
_cache: OrderedDict[int, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def load_document(version_id: int) -> dict[str, Any]:
    with _lock:
        doc = _cache.get(version_id)
        if doc is not None:
            _cache.move_to_end(version_id)
            return doc
    raw = ApiVersion.objects.values_list("normalised", flat=True).get(pk=version_id)
    doc = orjson.loads(bytes(raw))
    with _lock:
        _cache[version_id] = doc
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return doc


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
    with _lock:
        _cache.clear()

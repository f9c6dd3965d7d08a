"""Path keys that carry a query: Azure's `x-ms-paths` (AutoRest).

`paths` cannot hold two operations that differ only by their query, so Azure's data-plane
specs key them as `/?restype=service&comp=list`. The pairs in such a key are what tells the
operations apart: the console and samples send them once, and the gateway matches a call to
the operation whose pairs its query holds.
"""

from __future__ import annotations

from urllib.parse import parse_qsl


def fixed_query(path: str) -> tuple[str, list[tuple[str, str]]]:
    """A path template without its own query, and the pairs that query fixes (the
    operation declares the same pairs as required parameters too)."""
    path, mark, query = path.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True) if mark else []
    # `popreceipt={popReceipt}` names a parameter the operation declares: not a fixed value.
    return path, [(k, v) for k, v in pairs if "{" not in v]

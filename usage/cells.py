"""Calls summed per minute and full key: the shape both the gateway (usage/recorder.py) and
the aggregator (usage/aggregate.py) add calls into, and its wire form on the Redis stream.

A cell is (minute, subscription, client, user, api, operation, product) -> a measure vector:
4 outcome counts, bytes in/out, total time sum/min/max, backend count/sum/min/max, then the
latency histogram (usage/histogram.py). Vectors merge by addition (minima and maxima
combine), so a cell summed in a gateway and one summed by an aggregator are the same thing:
the rollup tables (usage/models.py) are sums of cells.

Wire form (the stream entry's field `c`, `FIELD`): a JSON array of cells, each one flat array
`[minute, subscription, client, user, api, operation, product, *vector]`; a minimum or maximum
of no call is null (JSON has no infinity). `decode` skips a cell it cannot read.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from operator import add as _plus
from typing import Any

import orjson

from usage import histogram

FIELD = b"c"

OUTCOME_INDEX = {"success": 0, "blocked": 1, "failed": 2, "other": 3}
# Positions in a measure vector: 4 outcome counts, bytes in/out, total time sum/min/max,
# backend count/sum/min/max, then the histogram.
BYTES_IN, BYTES_OUT, T_SUM, T_MIN, T_MAX, B_COUNT, B_SUM, B_MIN, B_MAX = range(4, 13)
H0 = 13
WIDTH = H0 + histogram.BUCKETS
MEASURES = (
    "success", "blocked", "failed", "other", "bytes_in", "bytes_out",
    "total_ms_sum", "total_ms_min", "total_ms_max",
    "backend_count", "backend_ms_sum", "backend_ms_min", "backend_ms_max",
    *histogram.FIELDS,
)  # fmt: skip
INF = float("inf")
KEY_WIDTH = 7
# The longest strings of a key the tables hold (usage/models.py). An operation is kept whole:
# its slug is up to apis.Operation.slug's 300 characters (an operationId clipped to 280, and
# `-2` on a clash). A client id comes from a token and may be any length; past
# applications.Application.client_id's 100 characters it is cut (usage/aggregate.py).
OPERATION_LENGTH = 300
CLIENT_ID_LENGTH = 100
# What a row can hold: minutes from 0001-01-02 to 9999-01-01 (datetime's years, with room
# for a day's row either side), counts and bytes from 0 to BIGINT. A cell or event past them (a writer with a
# broken clock, or a broken writer) would fail the whole transaction, and its stream entry
# would come back failing at every claim: it is skipped instead.
FIRST_MINUTE = -62135510400
LAST_MINUTE = 253370764800
BIGINT = 2**63 - 1
_INTEGER_AT = (0, 1, 2, 3, BYTES_IN, BYTES_OUT, B_COUNT, *range(H0, WIDTH))
_EDGES = histogram.EDGES_MS

# (minute, subscription, client, user, api, operation, product)
CellKey = tuple[int, int, str, int, int, str, int]
Vector = list[Any]


def empty() -> Vector:
    """A measure vector of no calls; minima and maxima hold infinities until a call comes
    (NULL in the tables), so merging needs no None checks."""
    vec: Vector = [0] * WIDTH
    vec[T_MIN] = vec[B_MIN] = INF
    vec[T_MAX] = vec[B_MAX] = -INF
    return vec


def add(
    vec: Vector, outcome: int, total: float, backend: float | None, bytes_in: int, bytes_out: int
) -> None:
    """The one place a call is summed (`outcome`: its index in OUTCOME_INDEX; times in ms)."""
    vec[outcome] += 1
    vec[BYTES_IN] += bytes_in
    vec[BYTES_OUT] += bytes_out
    vec[T_SUM] += total
    if total < vec[T_MIN]:
        vec[T_MIN] = total
    if total > vec[T_MAX]:
        vec[T_MAX] = total
    if backend is not None:
        vec[B_COUNT] += 1
        vec[B_SUM] += backend
        if backend < vec[B_MIN]:
            vec[B_MIN] = backend
        if backend > vec[B_MAX]:
            vec[B_MAX] = backend
    vec[H0 + bisect_left(_EDGES, total)] += 1  # histogram.bucket, without its call


def merge(into: Vector, vec: Vector) -> None:
    """Add the measures of `vec` into `into` (sums add, minima and maxima combine)."""
    t_min, t_max = min(into[T_MIN], vec[T_MIN]), max(into[T_MAX], vec[T_MAX])
    b_min, b_max = min(into[B_MIN], vec[B_MIN]), max(into[B_MAX], vec[B_MAX])
    into[:] = map(_plus, into, vec)
    into[T_MIN], into[T_MAX], into[B_MIN], into[B_MAX] = t_min, t_max, b_min, b_max


def from_row(values: Iterable[Any]) -> Vector:
    """A measure vector from a table row's MEASURES (NULL minima and maxima: no call)."""
    vec = list(values)
    for i, none in ((T_MIN, INF), (B_MIN, INF), (T_MAX, -INF), (B_MAX, -INF)):
        if vec[i] is None:
            vec[i] = none
    return vec


def calls(vec: Vector) -> int:
    """How many calls a vector sums."""
    return int(vec[0] + vec[1] + vec[2] + vec[3])


def merge_into(cells: dict[CellKey, Vector], key: CellKey, vec: Vector) -> None:
    """Add a cell into a dict of cells (taking `vec` itself when the key is new)."""
    have = cells.get(key)
    if have is None:
        cells[key] = vec
    else:
        merge(have, vec)


def encode(cells: Mapping[CellKey, Vector]) -> bytes:
    """The value of one stream entry's `c` field (orjson writes infinities as null)."""
    return orjson.dumps([[*key, *vec] for key, vec in cells.items()])


def decode(data: bytes | str) -> Iterator[tuple[CellKey, Vector]]:
    """The cells of one `c` field; what does not fit (a newer or broken writer) is skipped."""
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    if not isinstance(items, list):
        return
    for item in items:
        try:
            if not isinstance(item, list) or len(item) != KEY_WIDTH + WIDTH:
                continue
            minute, sub, client, user, api, op, product = item[:KEY_WIDTH]
            key: CellKey = (
                int(minute), int(sub or 0), str(client or ""), int(user or 0),
                int(api or 0), str(op or ""), int(product or 0),
            )  # fmt: skip
            vec = from_row(item[KEY_WIDTH:])
            if not all(isinstance(v, int | float) for v in vec):
                continue
            if not FIRST_MINUTE <= key[0] <= LAST_MINUTE or not all(
                0 <= vec[i] <= BIGINT for i in _INTEGER_AT
            ):
                continue
            if key[0] % 60:
                key = (key[0] - key[0] % 60, *key[1:])  # type: ignore[assignment]
        except (TypeError, ValueError):
            continue
        yield key, vec

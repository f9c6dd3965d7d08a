"""Fixed latency buckets kept in every rollup row, so rows merge by plain addition and
percentiles come from the summed buckets (no per-call data needed)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

# Upper edges in milliseconds; the last bucket is open (everything slower than 5 s).
EDGES_MS: tuple[float, ...] = (
    1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000,
)  # fmt: skip
BUCKETS = len(EDGES_MS) + 1
FIELDS: tuple[str, ...] = tuple(f"h{i}" for i in range(BUCKETS))


def bucket(ms: float) -> int:
    """The index of the bucket holding a call of `ms` milliseconds (edges are inclusive)."""
    return bisect.bisect_left(EDGES_MS, ms)


def percentile(counts: Sequence[int], q: float, observed_max: float | None = None) -> float | None:
    """The q-quantile (0..1) estimated from bucket counts, interpolated linearly inside the
    bucket; the open last bucket interpolates up to the observed maximum when known."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        if n and seen + n >= rank:
            low = EDGES_MS[i - 1] if i > 0 else 0.0
            high = EDGES_MS[i] if i < len(EDGES_MS) else max(observed_max or low, low)
            if observed_max is not None:
                high = min(high, max(observed_max, low))
            return low + (high - low) * ((rank - seen) / n)
        seen += n
    return float(EDGES_MS[-1])

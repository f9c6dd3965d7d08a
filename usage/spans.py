"""A range of epochs as the rollup rows that count it exactly (usage/models.py keeps minutes,
hours and days): whole days where they fit, hours and minutes at its edges.

Both the reports (usage/reports.py) and the quota bars (usage/quotas.py) read ranges this way;
usage/closed.py keeps the sums of the day spans between requests.
"""

from __future__ import annotations

from usage.models import DAY, HOUR, MINUTE

Span = tuple[int, int, int]  # (level, from epoch, to epoch)


def spans_of(start: int, end: int, minute_floor: int) -> list[Span]:
    """[start, end) (minute-aligned epochs) as whole days, hours and minutes: (level, from,
    to). Minutes older than `minute_floor` (minute retention) are read from their hour."""
    out: list[Span] = []
    h1, h2 = -(-start // 3600) * 3600, end - end % 3600
    if h1 >= h2:
        if start < minute_floor:  # within an hour whose minutes are gone: that hour whole
            return [(HOUR, start - start % 3600, start - start % 3600 + 3600)]
        return [(MINUTE, start, end)]
    if start < h1:
        if start < minute_floor:
            out.append((HOUR, h1 - 3600, h1))
        else:
            out.append((MINUTE, start, h1))
    d1, d2 = -(-h1 // 86400) * 86400, h2 - h2 % 86400
    if d1 >= d2:
        out.append((HOUR, h1, h2))
    else:
        if h1 < d1:
            out.append((HOUR, h1, d1))
        out.append((DAY, d1, d2))
        if d2 < h2:
            out.append((HOUR, d2, h2))
    if h2 < end:
        out.append((MINUTE, h2, end))
    return out

"""The viewer's time zone, for pages that show times (the usage charts).

A tiny script (static/js/tz.js, on every page a signed-in viewer sees: only they are shown
times) stores the browser's IANA zone name in the `tz` cookie; the server reads it here.
Anonymous pages leave it out: its first Intl call loads ICU's zone data, 15 to 45 ms of the
main thread, which on the Kubernetes API page could land before its list was painted.

A cookie rather than a profile field: it follows the device the viewer is using (a laptop
that travels shows local times where it is), needs no form, and works for staff and
developers alike. Without scripts, on the first signed-in page view, or with a value that is
not a known zone, times are UTC, and the pages say which zone they use, so a time is never
ambiguous.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import tzinfo

COOKIE = "tz"
UTC_ZONE = zoneinfo.ZoneInfo("UTC")


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_from_cookie(value: str | None) -> tzinfo:
    """The named zone when it is one the system knows; UTC otherwise.

    Only names from the system's zone list are accepted: ZoneInfo() itself would also try
    to open whatever path-like key it is given.
    """
    if not value or len(value) > 64 or value not in _known():
        return UTC_ZONE
    return zoneinfo.ZoneInfo(value)

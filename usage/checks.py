from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

# The shortest retention of hours and days that the pages' last 30 days can be read from.
PAGES_NEED_DAYS = 32


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from usage.anonymise import MODES

    errors = []
    if settings.USAGE_ON_USER_DELETE not in MODES:
        errors.append(
            Error(
                f"USAGE_ON_USER_DELETE is {settings.USAGE_ON_USER_DELETE!r}.",
                hint=f"One of: {', '.join(MODES)}.",
                id="usage.E001",
            )
        )
    most = settings.USAGE_RETENTION_MOST_DAYS
    for name in ("RAW", "MINUTE", "HOUR", "DAY"):
        days = getattr(settings, f"USAGE_RETENTION_{name}_DAYS")
        if not 1 <= days <= most:
            errors.append(
                Error(
                    f"USAGE_RETENTION_{name}_DAYS must be at least 1 and at most {most}.",
                    id="usage.E002",
                )
            )
    # The developer pages' 30 days are the viewer's days: day rows plus or minus the hours
    # at their edges (usage/reports.py), up to 30 days and 14 hours back.
    for name in ("HOUR", "DAY"):
        days = getattr(settings, f"USAGE_RETENTION_{name}_DAYS")
        if 1 <= days < PAGES_NEED_DAYS:
            errors.append(
                Error(
                    f"USAGE_RETENTION_{name}_DAYS is {days}: the usage pages' 30 days need "
                    f"{name.lower()} rows of at least {PAGES_NEED_DAYS} days.",
                    hint="Keep minutes short to save space; hours and days are far fewer rows.",
                    id="usage.E004",
                )
            )
    unknown = [z for z in settings.USAGE_PREFILL_ZONES if z not in zoneinfo.available_timezones()]
    if unknown:
        errors.append(
            Error(
                f"USAGE_PREFILL_ZONES names unknown zones: {', '.join(unknown)}.",
                hint="IANA zone names, such as Europe/Paris.",
                id="usage.E003",
            )
        )
    return errors

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.checks import Error, register


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

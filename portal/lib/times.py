"""A moment as the portal's pages write it: `2026-12-05 14:12 UTC`."""

from __future__ import annotations

from datetime import datetime

from django.utils.formats import date_format
from django.utils.timezone import localtime


def short_time(moment: datetime) -> str:
    """In the current time zone; the admin's own 'Dec. 5, 2026, 2:12 p.m.' pushed a list's
    last column out of sight beside its navigation."""
    return date_format(localtime(moment), "Y-m-d H:i T")

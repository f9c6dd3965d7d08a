"""Settings the gateway reads on every call, cached until a setting changes.

Reading `django.conf.settings` goes through LazyObject's Python-level `__getattribute__` (about
a microsecond each on the hot path). Values are read at call time as STYLE.md asks, and
cached here until Django's `setting_changed` signal (override_settings, pytest-django's
`settings` fixture) clears them, so tests still override them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

_values: dict[str, Any] = {}


def setting(name: str, default: Any) -> Any:
    try:
        return _values[name]
    except KeyError:
        value = _values[name] = getattr(settings, name, default)
        return value


def _clear(**kwargs: Any) -> None:
    _values.clear()


setting_changed.connect(_clear, dispatch_uid="gateway-knobs")

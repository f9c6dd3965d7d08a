"""The console's system checks."""

from __future__ import annotations

from typing import Any

from console.checks import check_console_settings


def ids(settings: Any) -> list[str | None]:
    return [m.id for m in check_console_settings(None)]


def test_good_settings_pass(settings: Any) -> None:
    settings.CONSOLE_GATEWAY_URL = "https://gw.example.com/gateway"
    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com", "http://10.1.2.3:8080"]
    assert ids(settings) == []


def test_bad_settings_are_named(settings: Any) -> None:
    settings.CONSOLE_ALLOWED_ORIGINS = ["api.example.com", "https://u@h.example", "https://h/x"]
    settings.CONSOLE_GATEWAY_URL = "ftp://gw"
    assert ids(settings) == ["console.E001"] * 3 + ["console.E002"]
    settings.CONSOLE_ALLOWED_ORIGINS = []
    settings.CONSOLE_GATEWAY_URL = ""
    assert ids(settings) == ["console.W001"]

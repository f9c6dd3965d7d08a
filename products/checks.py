"""Configuration mistakes in the products app, as system checks."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def check_key_encryption(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    for position, value in enumerate(getattr(settings, "PRODUCTS_KEY_ENCRYPTION_KEYS", [])):
        try:
            Fernet(value)
        except (ValueError, TypeError):
            problems.append(
                Error(
                    f"PRODUCTS_KEY_ENCRYPTION_KEYS item {position + 1} is not a Fernet key.",
                    hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="products.E001",
                )
            )
    return problems


@register(deploy=True)
def check_key_encryption_deploy(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "PRODUCTS_KEY_ENCRYPTION_KEYS", []):
        return []
    return [
        Warning(
            "PRODUCTS_KEY_ENCRYPTION_KEYS is not set: subscription keys are encrypted with a key "
            "derived from SECRET_KEY, so rotating SECRET_KEY makes them unreadable.",
            hint="Set PRODUCTS_KEY_ENCRYPTION_KEYS to one or more Fernet keys, newest first.",
            id="products.W001",
        )
    ]

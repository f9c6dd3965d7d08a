"""System checks for configuration mistakes that Django's own checks do not see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_secret_key_from_environment(app_configs: Any, **kwargs: Any) -> list[Error]:
    if getattr(settings, "SECRET_KEY_FROM_ENV", True):
        return []
    return [
        Error(
            "SECRET_KEY is not set in the environment.",
            hint="The generated development key in .secret_key is not for production; "
            "set SECRET_KEY to a long random value.",
            id="portal.E001",
        )
    ]

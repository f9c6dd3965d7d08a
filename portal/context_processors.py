from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    """The portal's name and logo, configurable from the environment."""
    return {"site_name": settings.SITE_NAME, "site_logo_url": settings.SITE_LOGO_URL}

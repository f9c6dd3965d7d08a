"""The gateway as its own process: `granian --interface asgi gateway.asgi:application`.

Production scales this out apart from the portal; `python manage.py serve` mounts the same
application under /gateway/ in the default run.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from gateway.app import Gateway  # noqa: E402  (needs the settings loaded)

application = Gateway()

"""The gateway as an ASGI application: `python -m gateway` serves it on the gateway's own server
(gateway/server.py); any ASGI server can (`granian --interface asgi gateway.asgi:application`).

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

from portal.startup import freeze_startup_objects  # noqa: E402

freeze_startup_objects()

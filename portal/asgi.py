"""One ASGI application for the default run: the gateway under /gateway/, Django elsewhere.

The gateway keeps its own hot path (gateway/app.py) even here: requests under /gateway/ never
enter Django's request machinery. Static files are served by granian itself (see the `serve`
command). Production can run `gateway.asgi:application` as its own scaled-out process.
"""

from __future__ import annotations

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

from portal.asgi_handler import OneHopASGIHandler  # noqa: E402

django_application = OneHopASGIHandler()

from portal.startup import (  # noqa: E402
    freeze_startup_objects,
    require_production_secrets,
    stop_with_supervisor,
    warm_up,
)

require_production_secrets()
stop_with_supervisor()

from gateway.app import Gateway  # noqa: E402  (needs the settings loaded)

gateway_application = Gateway()
GATEWAY_PREFIX = "/gateway"
warm_up()
freeze_startup_objects()


async def application(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await gateway_application(scope, receive, send)
        return
    path: str = scope.get("path", "")
    if path == GATEWAY_PREFIX or path.startswith(GATEWAY_PREFIX + "/"):
        sub = dict(scope)
        sub["path"] = path[len(GATEWAY_PREFIX) :] or "/"
        # raw_path stays the full original path (ASGI); the gateway strips root_path from it.
        sub["root_path"] = scope.get("root_path", "") + GATEWAY_PREFIX
        await gateway_application(sub, receive, send)
        return
    await django_application(scope, receive, send)

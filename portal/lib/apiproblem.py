"""Problem answers (RFC 9457) for the JSON API under /api/v1/ (onboarding/).

The API's own views answer problem+json; this module lets the parts of the portal that answer
before or after them (the NUL check, the 400 for a host not served, the 404 and 500 handlers)
answer the same way for an API path, where they would send a text or HTML page to a terminal.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse

PREFIX = "/api/v1"


def is_api(request: HttpRequest) -> bool:
    path = request.path_info
    return path == PREFIX or path.startswith(PREFIX + "/")


def problem(status: int, detail: str, **extra: Any) -> HttpResponse:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body.update(detail=detail, **extra)
    response = HttpResponse(
        orjson.dumps(body), status=status, content_type="application/problem+json"
    )
    response["Cache-Control"] = "no-store"
    return response

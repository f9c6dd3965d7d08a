"""The portal's own middleware: health probes, the real client address, request ids and
one log line per request, and the idle session timeout."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from portal import views
from portal.lib import proxies

logger = logging.getLogger(__name__)

Handler = Callable[[HttpRequest], HttpResponse]

HEALTH_VIEWS: dict[str, Handler] = {
    "/health/": views.health_ready,
    "/health/live": views.health_live,
    "/health/ready": views.health_ready,
}


class HealthMiddleware:
    """Answers the health endpoints first, before anything that could refuse a probe.

    A load balancer probes each process by IP address over plain HTTP: Host 10.1.2.3:8000
    fails ALLOWED_HOSTS (400) and SECURE_SSL_REDIRECT answers 301, so the probe must not
    reach SecurityMiddleware or CommonMiddleware. Never an HTML error page either: an
    unexpected failure is a JSON 503.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = HEALTH_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        try:
            return view(request)
        except Exception:
            logger.exception("health endpoint %s failed", request.path_info)
            return JsonResponse({"status": "unavailable"}, status=503)


@lru_cache(maxsize=4)
def _trusted(values: tuple[str, ...]) -> tuple[proxies.Network, ...]:
    return proxies.parse_networks(values)


class TrustedProxyMiddleware:
    """REMOTE_ADDR becomes the real client, and X-Forwarded-Proto is kept only from a proxy
    in TRUSTED_PROXIES (SECURITY.md case 81).

    Everything downstream (login limits, logs, SECURE_PROXY_SSL_HEADER) then reads the
    ordinary META keys: a header sent straight from an untrusted address changes nothing.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        trusted = _trusted(tuple(settings.TRUSTED_PROXIES))
        if trusted:
            peer = str(meta.get("REMOTE_ADDR", ""))
            meta["REMOTE_ADDR"] = proxies.client_address(
                peer, meta.get("HTTP_X_FORWARDED_FOR"), trusted
            )
            scheme = proxies.forwarded_scheme(peer, meta.get("HTTP_X_FORWARDED_PROTO"), trusted)
            if scheme:
                meta["HTTP_X_FORWARDED_PROTO"] = scheme
            else:
                meta.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)
